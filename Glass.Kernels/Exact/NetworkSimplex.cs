namespace Glass.Kernels.Exact;

/// <summary>
/// Primal network simplex for the dense transportation problem min ⟨C, P⟩ s.t. P1 = a, Pᵀ1 = b, P ≥ 0
/// (Ahuja, Magnanti &amp; Orlin 1993, ch. 11; the method of LEMON's <c>NetworkSimplex</c>, which POT's <c>ot.emd</c> wraps).
/// <para>
/// Nodes: rows 0…n−1 (supplies a_i), columns n…n+m−1 (demands b_j) and an artificial root; arc (i, j) has id i·m + j
/// and cost C_ij; node k's artificial arc to the root (cost M = (max C − min C + 1)·(n + m), big-M start) has id n·m + k.
/// The basis is a spanning tree kept as parent pointers with depths and child lists; arcs have no upper bound, so every
/// non-tree arc carries zero flow and only tree flows are stored (one per non-root node: the flow on its arc to its
/// parent). Entering arc: block search over the n·m arcs (block √(n·m), LEMON's default rule); leaving arc: the last
/// blocking arc of the cycle in its orientation (strongly feasible trees, so degenerate pivots cannot cycle);
/// the subtree cut off by the leaving arc is re-rooted at the entering arc's end and its potentials shift by one
/// constant. Reduced costs C_ij + π_i − π_{n+j} of tree arcs are 0; the solution is optimal when no arc has one
/// below −τ, τ = 1e−12·(|C_ij| + |π_i| + |π_j|) (rounding of the potentials).
/// </para>
/// </summary>
internal sealed class NetworkSimplex
{
    private const sbyte Up = 1, Down = -1;
    private double[] _cost;
    private readonly int _n, _m, _nodes, _root;
    private readonly long _realArcs;
    private readonly double _art;
    private readonly int[] _parent, _depth, _firstChild, _nextSib, _prevSib, _stack;
    private readonly long[] _pred;
    private readonly sbyte[] _dir;
    private readonly double[] _flow, _pi;
    private readonly bool[] _inTree;
    private readonly long _block;
    private long _nextArc;

    /// <summary>Sets up the big-M starting tree. Costs are trusted finite; a (n), b (m) non-negative with equal sums.</summary>
    public NetworkSimplex(double[] cost, int n, int m, double[] a, double[] b)
    {
        _cost = cost; _n = n; _m = m;
        _nodes = n + m + 1; _root = n + m;
        _realArcs = (long)n * m;
        double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
        foreach (var c in cost) { if (c < lo) lo = c; if (c > hi) hi = c; }
        _art = (hi - lo + 1) * (n + m) + Math.Abs(hi) + Math.Abs(lo);
        _parent = new int[_nodes]; _depth = new int[_nodes];
        _firstChild = new int[_nodes]; _nextSib = new int[_nodes]; _prevSib = new int[_nodes];
        _stack = new int[_nodes];
        _pred = new long[_nodes]; _dir = new sbyte[_nodes];
        _flow = new double[_nodes]; _pi = new double[_nodes];
        _inTree = new bool[_realArcs];
        Array.Fill(_firstChild, -1);
        _parent[_root] = -1; _pred[_root] = -1;
        for (int k = 0; k < n + m; k++)
        {
            _parent[k] = _root; _depth[k] = 1; _pred[k] = _realArcs + k;
            if (k < n) { _dir[k] = Up; _flow[k] = a[k]; _pi[k] = -_art; }
            else { _dir[k] = Down; _flow[k] = b[k - n]; _pi[k] = _art; }
            AddChild(_root, k);
        }
        _block = Math.Max(10, (long)Math.Ceiling(Math.Sqrt(_realArcs)));
    }

    /// <summary>
    /// Replaces the costs and keeps the current basis (a spanning tree with feasible flows — feasibility does not depend on
    /// the costs), so the next <see cref="Run"/> starts from the previous optimum: few pivots when the costs moved little
    /// (the conditional-gradient steps of <c>ExactGw</c>). Potentials are recomputed from the tree (π_root = 0).
    /// </summary>
    public void Reprice(double[] cost)
    {
        if (cost.LongLength != _realArcs) throw new ArgumentException($"cost has {cost.LongLength} entries; expected {_realArcs}.", nameof(cost));
        _cost = cost;
        _pi[_root] = 0;
        int top = 0;
        for (int c = _firstChild[_root]; c >= 0; c = _nextSib[c]) _stack[top++] = c;
        while (top > 0)
        {
            int x = _stack[--top];
            long e = _pred[x];
            double ce = e < _realArcs ? _cost[e] : _art;
            _pi[x] = _dir[x] == Up ? _pi[_parent[x]] - ce : _pi[_parent[x]] + ce;
            for (int c = _firstChild[x]; c >= 0; c = _nextSib[c]) _stack[top++] = c;
        }
    }

    /// <summary>Pivots performed.</summary>
    public long Pivots { get; private set; }

    /// <summary>Runs the simplex to optimality (or <paramref name="maxPivots"/>); returns true when optimal.</summary>
    public bool Run(long maxPivots)
    {
        while (Pivots < maxPivots)
        {
            long e = FindEnteringArc();
            if (e < 0) return true;
            Pivot(e);
            Pivots++;
        }
        return FindEnteringArc() < 0;
    }

    /// <summary>Non-zero flows on real arcs (row, column, mass), rows ascending then columns ascending.</summary>
    public (int[] Rows, int[] Cols, double[] Mass) Flows()
    {
        var list = new List<(int, int, double)>(_n + _m);
        for (int k = 0; k < _n + _m; k++)
        {
            long e = _pred[k];
            if (e < _realArcs && _flow[k] > 0) list.Add(((int)(e / _m), (int)(e % _m), _flow[k]));
        }
        list.Sort((p, q) => p.Item1 != q.Item1 ? p.Item1.CompareTo(q.Item1) : p.Item2.CompareTo(q.Item2));
        return (list.Select(t => t.Item1).ToArray(), list.Select(t => t.Item2).ToArray(), list.Select(t => t.Item3).ToArray());
    }

    /// <summary>Flow left on artificial arcs (0 at a feasible optimum).</summary>
    public double ArtificialFlow()
    {
        double s = 0;
        for (int k = 0; k < _n + _m; k++) if (_pred[k] >= _realArcs) s += _flow[k];
        return s;
    }

    /// <summary>Dual potentials (u, v) with C_ij − u_i − v_j ≥ 0 (up to τ) and = 0 on the support.</summary>
    public (double[] U, double[] V) Duals()
    {
        var u = new double[_n];
        var v = new double[_m];
        for (int i = 0; i < _n; i++) u[i] = -_pi[i];
        for (int j = 0; j < _m; j++) v[j] = _pi[_n + j];
        return (u, v);
    }

    private long FindEnteringArc()
    {
        double best = 0;
        long bestArc = -1, cnt = _block, e = _nextArc;
        for (long t = 0; t < _realArcs; t++)
        {
            if (!_inTree[e])
            {
                int i = (int)(e / _m), j = _n + (int)(e % _m);
                double c = _cost[e], pi = _pi[i], pj = _pi[j];
                double rc = c + pi - pj;
                if (rc < best && rc < -1e-12 * (Math.Abs(c) + Math.Abs(pi) + Math.Abs(pj))) { best = rc; bestArc = e; }
            }
            if (++e == _realArcs) e = 0;
            if (--cnt == 0)
            {
                if (bestArc >= 0) { _nextArc = e; return bestArc; }
                cnt = _block;
            }
        }
        _nextArc = e;
        return bestArc;
    }

    private void Pivot(long e)
    {
        int src = (int)(e / _m), tgt = _n + (int)(e % _m);
        int join = Join(src, tgt);
        // The cycle: src → (entering arc) → tgt → … → join → … → src. Flow decreases on path arcs that point against it.
        double delta = double.PositiveInfinity;
        int uOut = -1;
        bool outOnSource = false;
        for (int u = src; u != join; u = _parent[u])
            if (_dir[u] == Up && _flow[u] < delta) { delta = _flow[u]; uOut = u; outOnSource = true; }
        for (int u = tgt; u != join; u = _parent[u])
            if (_dir[u] == Down && _flow[u] <= delta) { delta = _flow[u]; uOut = u; outOnSource = false; }
        if (uOut < 0) throw new InvalidOperationException("NetworkSimplex: unbounded cycle (internal error).");
        if (delta > 0)
        {
            for (int u = src; u != join; u = _parent[u]) _flow[u] -= _dir[u] * delta;
            for (int u = tgt; u != join; u = _parent[u]) _flow[u] += _dir[u] * delta;
        }
        double rc = _cost[e] + _pi[src] - _pi[tgt];
        int uIn = outOnSource ? src : tgt, vIn = outOnSource ? tgt : src;
        double sigma = outOnSource ? -rc : rc;
        if (_pred[uOut] < _realArcs) _inTree[_pred[uOut]] = false;
        _inTree[e] = true;
        // Re-root the cut subtree at uIn and hang it under vIn by the entering arc.
        int prev = vIn, w = uIn;
        long arc = e;
        sbyte dir = outOnSource ? Up : Down;
        double fl = delta;
        while (true)
        {
            int oldParent = _parent[w];
            long oldArc = _pred[w];
            sbyte oldDir = _dir[w];
            double oldFlow = _flow[w];
            RemoveChild(oldParent, w);
            _parent[w] = prev; _pred[w] = arc; _dir[w] = dir; _flow[w] = fl;
            AddChild(prev, w);
            if (w == uOut) break;
            prev = w; arc = oldArc; dir = (sbyte)-oldDir; fl = oldFlow; w = oldParent;
        }
        // Potentials and depths of the moved subtree.
        int top = 0;
        _stack[top++] = uIn;
        while (top > 0)
        {
            int x = _stack[--top];
            _pi[x] += sigma;
            _depth[x] = _depth[_parent[x]] + 1;
            for (int c = _firstChild[x]; c >= 0; c = _nextSib[c]) _stack[top++] = c;
        }
    }

    private int Join(int u, int v)
    {
        while (u != v)
        {
            if (_depth[u] > _depth[v]) u = _parent[u];
            else if (_depth[v] > _depth[u]) v = _parent[v];
            else { u = _parent[u]; v = _parent[v]; }
        }
        return u;
    }

    private void AddChild(int p, int w)
    {
        int f = _firstChild[p];
        _nextSib[w] = f; _prevSib[w] = -1;
        if (f >= 0) _prevSib[f] = w;
        _firstChild[p] = w;
    }

    private void RemoveChild(int p, int w)
    {
        int pr = _prevSib[w], nx = _nextSib[w];
        if (pr >= 0) _nextSib[pr] = nx; else _firstChild[p] = nx;
        if (nx >= 0) _prevSib[nx] = pr;
    }
}
