using System.Globalization;
using Glass.Kernels.Validation;

namespace Glass.Kernels.Exact;

/// <summary>
/// An exact (unregularised) optimal transport plan, stored sparse: a basic solution has at most n + m − 1 non-zeros.
/// </summary>
/// <param name="N">Rows.</param>
/// <param name="M">Columns.</param>
/// <param name="Rows">Row of each non-zero (ascending, then by column).</param>
/// <param name="Cols">Column of each non-zero.</param>
/// <param name="Mass">P_ij of each non-zero (&gt; 0).</param>
/// <param name="Cost">⟨C, P⟩.</param>
/// <param name="U">Row duals u with C_ij − u_i − v_j ≥ 0 and = 0 on the support (POT's <c>log['u']</c> up to a constant shift between u and v).</param>
/// <param name="V">Column duals v.</param>
/// <param name="Pivots">Network-simplex pivots.</param>
public sealed record ExactTransportResult(int N, int M, int[] Rows, int[] Cols, double[] Mass, double Cost, double[] U, double[] V,
    long Pivots)
{
    /// <summary>Non-zeros of the plan.</summary>
    public int Nnz => Rows.Length;

    /// <summary>The dense n×m plan, row-major.</summary>
    public double[] ToDense()
    {
        var p = new double[(long)N * M];
        for (int k = 0; k < Rows.Length; k++) p[(long)Rows[k] * M + Cols[k]] += Mass[k];
        return p;
    }

    /// <summary>For each row, the column holding most of its mass (the first on ties); −1 for a row without mass.</summary>
    public int[] RowArgmax()
    {
        var best = new int[N];
        var mass = new double[N];
        Array.Fill(best, -1);
        for (int k = 0; k < Rows.Length; k++)
            if (Mass[k] > mass[Rows[k]]) { mass[Rows[k]] = Mass[k]; best[Rows[k]] = Cols[k]; }
        return best;
    }
}

/// <summary>
/// Exact optimal transport (Kantorovich): min ⟨C, P⟩ over P ≥ 0 with P1 = a, Pᵀ1 = b — POT's <c>ot.emd</c>, by the
/// network simplex (<see cref="NetworkSimplex"/>, the algorithm POT wraps). Uniform marginals are solved in exact integer
/// units (a_i = m/g, b_j = n/g, g = gcd(n, m)), so the masses are exact and n = m gives a permutation divided by n.
/// <see cref="Assignment"/> solves the linear assignment problem itself (shortest augmenting paths, SciPy's algorithm).
/// Managed CPU (both algorithms are sequential); memory O(n·m) bytes beyond the cost.
/// </summary>
public static class ExactTransport
{
    /// <summary>Largest n·m accepted (the dense cost and the simplex's arc flags).</summary>
    public const long MaxEntries = 1L << 30;

    /// <summary>Solves the exact OT problem for the dense cost (n×m row-major).</summary>
    /// <param name="cost">C, n×m row-major, finite.</param>
    /// <param name="n">Rows (≥ 1).</param>
    /// <param name="m">Columns (≥ 1).</param>
    /// <param name="a">Row marginal (null = uniform 1/n): non-negative, finite.</param>
    /// <param name="b">Column marginal (null = uniform 1/m): non-negative, its sum equal to a's (relative 1e−9).</param>
    /// <exception cref="ArgumentException">Shapes, non-finite costs, negative or unbalanced marginals; the message names the argument.</exception>
    public static ExactTransportResult Solve(double[] cost, int n, int m, double[]? a = null, double[]? b = null)
    {
        ArgumentNullException.ThrowIfNull(cost);
        Guard.Positive(n, nameof(n));
        Guard.Positive(m, nameof(m));
        if ((long)n * m > MaxEntries)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{n}×{m} = {(long)n * m} entries; expected at most {MaxEntries} for an exact solve."), nameof(cost));
        Guard.Length<double>(cost, n * m, nameof(cost), "n×m");
        Guard.Finite(cost, nameof(cost));
        var (aa, bb, unit) = Units(n, m, a, b);
        return SolveNetwork(cost, n, m, aa, bb, unit);
    }

    /// <summary>
    /// The linear assignment problem: σ minimising Σ_i C[i, σ(i)] over injective σ (n ≤ m) — SciPy's
    /// <c>linear_sum_assignment</c>. Returns σ (the column of every row).
    /// </summary>
    /// <exception cref="ArgumentException">Shapes, n &gt; m, or non-finite costs.</exception>
    public static int[] Assignment(double[] cost, int n, int m)
    {
        ArgumentNullException.ThrowIfNull(cost);
        Guard.Positive(n, nameof(n));
        Guard.Positive(m, nameof(m));
        if (n > m) throw new ArgumentException($"n = {n} rows > m = {m} columns; expected n ≤ m (transpose the cost).", nameof(n));
        Guard.Length<double>(cost, n * m, nameof(cost), "n×m");
        Guard.Finite(cost, nameof(cost));
        return LinearAssignment.Solve(cost, n, m).ColOfRow;
    }

    /// <summary>The marginals the simplex runs on: integer units (m/g per row, n/g per column) for uniform ones, with the mass of one unit.</summary>
    internal static (double[] A, double[] B, double Unit) Units(int n, int m, double[]? a, double[]? b)
    {
        if (IsUniform(a, n, nameof(a)) && IsUniform(b, m, nameof(b)))
        {
            long g = Gcd(n, m);
            return (Fill(n, m / g), Fill(m, n / g), (double)g / ((double)n * m));
        }
        var aa = a is null ? Fill(n, 1.0 / n) : a;
        var bb = b is null ? Fill(m, 1.0 / m) : b;
        double sa = aa.Sum(), sb = bb.Sum();
        if (!(sa > 0)) throw new ArgumentException($"{nameof(a)} sums to {sa.ToString("R", CultureInfo.InvariantCulture)}; expected a positive total mass.", nameof(a));
        if (Math.Abs(sa - sb) > 1e-9 * Math.Max(sa, sb))
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"a sums to {sa:R} and b to {sb:R}; expected equal total masses (relative 1e-9)."), nameof(b));
        // Put b on a's total exactly, so the network is balanced.
        if (sa != sb) { double f = sa / sb; bb = bb.Select(v => v * f).ToArray(); }
        return (aa, bb, 1);
    }

    private static ExactTransportResult SolveNetwork(double[] cost, int n, int m, double[] a, double[] b, double unit)
    {
        // Rows and columns without mass take no part (a zero-flow arc would break the strongly feasible start).
        var rowsUsed = Enumerable.Range(0, n).Where(i => a[i] > 0).ToArray();
        var colsUsed = Enumerable.Range(0, m).Where(j => b[j] > 0).ToArray();
        int nr = rowsUsed.Length, mc = colsUsed.Length;
        double[] c = cost;
        if (nr != n || mc != m)
        {
            c = new double[(long)nr * mc];
            for (int r = 0; r < nr; r++) for (int k = 0; k < mc; k++) c[(long)r * mc + k] = cost[(long)rowsUsed[r] * m + colsUsed[k]];
        }
        var ns = new NetworkSimplex(c, nr, mc, rowsUsed.Select(i => a[i]).ToArray(), colsUsed.Select(j => b[j]).ToArray());
        if (!ns.Run(long.MaxValue))
            throw new InvalidOperationException("ExactTransport: the network simplex stopped before optimality (internal error).");
        return Collect(ns, cost, n, m, rowsUsed, colsUsed, unit, ns.Pivots);
    }

    /// <summary>The simplex's flows and duals in the caller's indices (rows/cols used → original), masses in units of <paramref name="unit"/>.</summary>
    internal static ExactTransportResult Collect(NetworkSimplex ns, double[] cost, int n, int m, int[] rowsUsed, int[] colsUsed, double unit, long pivots)
    {
        var (r0, c0, w0) = ns.Flows();
        var rows = new int[r0.Length];
        var cols = new int[r0.Length];
        var mass = new double[r0.Length];
        double total = 0;
        for (int k = 0; k < r0.Length; k++)
        {
            rows[k] = rowsUsed[r0[k]]; cols[k] = colsUsed[c0[k]]; mass[k] = w0[k] * unit;
            total += mass[k] * cost[(long)rows[k] * m + cols[k]];
        }
        var (du, dv) = ns.Duals();
        var u = new double[n];
        var v = new double[m];
        for (int r = 0; r < rowsUsed.Length; r++) u[rowsUsed[r]] = du[r];
        for (int k = 0; k < colsUsed.Length; k++) v[colsUsed[k]] = dv[k];
        return new ExactTransportResult(n, m, rows, cols, mass, total, u, v, pivots);
    }

    private static bool IsUniform(double[]? w, int len, string name)
    {
        if (w is null) return true;
        Guard.Length<double>(w, len, name, "one weight per point");
        for (int k = 0; k < w.Length; k++)
            if (!double.IsFinite(w[k]) || w[k] < 0)
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{name}[{k}] = {w[k]:R}; expected a finite weight ≥ 0."), name);
        double first = w[0];
        foreach (var v in w) if (v != first) return false;
        return first > 0 && Math.Abs(first * len - 1) < 1e-12;
    }

    private static double[] Fill(int n, double v) { var x = new double[n]; Array.Fill(x, v); return x; }

    private static long Gcd(long p, long q) { while (q != 0) (p, q) = (q, p % q); return p; }
}

/// <summary>
/// Solves a sequence of exact OT problems with the same marginals and changing costs (the linear programs of a
/// conditional-gradient loop, <c>ExactGw</c>): each solve starts the network simplex from the previous optimal basis —
/// still primal feasible, since only the costs change — so a cost that moved little needs few pivots. The first solve is
/// a cold <see cref="ExactTransport.Solve"/>. Not thread-safe; one instance per loop.
/// </summary>
public sealed class ExactTransportSolver
{
    private readonly int _n, _m;
    private readonly double[] _a, _b;
    private readonly double _unit;
    private NetworkSimplex? _ns;

    /// <summary>Marginals a (n) and b (m); null = uniform (solved in exact integer units).</summary>
    /// <exception cref="ArgumentException">Sizes, negative or unbalanced marginals, or zero-mass entries (drop those points first).</exception>
    public ExactTransportSolver(int n, int m, double[]? a = null, double[]? b = null)
    {
        Guard.Positive(n, nameof(n));
        Guard.Positive(m, nameof(m));
        if ((long)n * m > ExactTransport.MaxEntries)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{n}×{m} = {(long)n * m} entries; expected at most {ExactTransport.MaxEntries} for an exact solve."), nameof(n));
        _n = n; _m = m;
        (_a, _b, _unit) = ExactTransport.Units(n, m, a, b);
        if (_a.Any(v => !(v > 0)) || _b.Any(v => !(v > 0)))
            throw new ArgumentException("ExactTransportSolver: a marginal has a zero entry; expected positive masses (drop those points).", a is null ? nameof(b) : nameof(a));
    }

    /// <summary>Pivots of the last solve.</summary>
    public long LastPivots { get; private set; }

    /// <summary>The optimal plan for <paramref name="cost"/> (n×m row-major, finite), warm-started from the previous solve.</summary>
    public ExactTransportResult Solve(double[] cost)
    {
        ArgumentNullException.ThrowIfNull(cost);
        Guard.Length<double>(cost, _n * _m, nameof(cost), "n×m");
        Guard.Finite(cost, nameof(cost));
        long before;
        if (_ns is null) { _ns = new NetworkSimplex(cost, _n, _m, _a, _b); before = 0; }
        else { _ns.Reprice(cost); before = _ns.Pivots; }
        if (!_ns.Run(long.MaxValue))
            throw new InvalidOperationException("ExactTransportSolver: the network simplex stopped before optimality (internal error).");
        LastPivots = _ns.Pivots - before;
        return ExactTransport.Collect(_ns, cost, _n, _m, Enumerable.Range(0, _n).ToArray(), Enumerable.Range(0, _m).ToArray(), _unit, LastPivots);
    }
}
