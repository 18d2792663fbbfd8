using Glass.Kernels.Device;

namespace Glass.Kernels.Sinkhorn;

/// <summary>The union of row-wise and column-wise k-nearest candidates, in CSR (rows) and CSC (columns) with costs.</summary>
internal sealed class CandidateSet
{
    private readonly int _n, _m;
    private readonly int[] _rowPtr, _col;
    private readonly double[] _cost;
    private readonly int[] _colPtr, _row;
    private readonly double[] _costT;

    private CandidateSet(int n, int m, int[] rowPtr, int[] col, double[] cost)
    {
        _n = n; _m = m; _rowPtr = rowPtr; _col = col; _cost = cost;
        // CSC by counting sort.
        _colPtr = new int[m + 1];
        foreach (int j in col) _colPtr[j + 1]++;
        for (int j = 0; j < m; j++) _colPtr[j + 1] += _colPtr[j];
        _row = new int[col.Length];
        _costT = new double[col.Length];
        var next = (int[])_colPtr.Clone();
        for (int i = 0; i < n; i++)
            for (int e = rowPtr[i]; e < rowPtr[i + 1]; e++) { int p = next[col[e]]++; _row[p] = i; _costT[p] = cost[e]; }
    }

    public long Entries => _col.Length;

    /// <summary>
    /// k nearest columns of every row (kRow) and k nearest rows of every column (kCol), merged per row. On an ILGPU
    /// accelerator the two O(n·m·d) searches of a point geometry run on the device (<see cref="PointPlanKernels"/>,
    /// k ≤ 64); otherwise the managed streaming search.
    /// </summary>
    public static CandidateSet Build(ComputeDevice device, DenseGeometry geom, int kRow, int kCol)
    {
        int n = geom.N, m = geom.M;
        int[] rowIdx, colIdx;
        double[] rowCost, colCost;
        if (device.IsAccelerated && geom is PointGeometry pg && Math.Max(kRow, kCol) <= PointPlanKernels.MaxK)
        {
            var kernels = device.GetKernels(acc => new PointPlanKernels(acc));
            (rowIdx, rowCost) = kernels.Nearest(pg.X, pg.Y, pg.D, kRow);
            (colIdx, colCost) = kernels.Nearest(pg.Y, pg.X, pg.D, kCol);
        }
        else
        {
            (rowIdx, rowCost) = Nearest(geom, kRow);
            (colIdx, colCost) = Nearest(geom.Transposed(), kCol);
        }
        // Per row: its own k plus every column that chose it; duplicates removed (same cost either way).
        var count = new int[n];
        for (int i = 0; i < n; i++) count[i] = kRow;
        for (long e = 0; e < colIdx.Length; e++) count[colIdx[e]]++;
        var ptr = new int[n + 1];
        for (int i = 0; i < n; i++) ptr[i + 1] = checked(ptr[i] + count[i]);
        var col = new int[ptr[n]];
        var cost = new double[ptr[n]];
        var fill = new int[n];
        for (int i = 0; i < n; i++)
            for (int t = 0; t < kRow; t++) { int p = ptr[i] + fill[i]++; col[p] = rowIdx[(long)i * kRow + t]; cost[p] = rowCost[(long)i * kRow + t]; }
        for (int j = 0; j < m; j++)
            for (int t = 0; t < kCol; t++)
            {
                int i = colIdx[(long)j * kCol + t];
                int p = ptr[i] + fill[i]++;
                col[p] = j; cost[p] = colCost[(long)j * kCol + t];
            }
        // Sort each row by column and drop duplicates, compacting in place.
        var outPtr = new int[n + 1];
        int w = 0;
        for (int i = 0; i < n; i++)
        {
            int s = ptr[i], e = ptr[i + 1];
            Array.Sort(col, cost, s, e - s);
            outPtr[i] = w;
            for (int p = s; p < e; p++)
            {
                if (p > s && col[p] == col[p - 1]) continue;
                col[w] = col[p]; cost[w] = cost[p]; w++;
            }
        }
        outPtr[n] = w;
        Array.Resize(ref col, w);
        Array.Resize(ref cost, w);
        return new CandidateSet(n, m, outPtr, col, cost);
    }

    /// <summary>The k smallest entries of every row of C (indices and costs, ascending), streaming one row at a time.</summary>
    internal static (int[] Idx, double[] Cost) Nearest(DenseGeometry geom, int k)
    {
        int n = geom.N, m = geom.M;
        var idx = new int[(long)n * k];
        var val = new double[(long)n * k];
        int chunks = Math.Max(1, Math.Min(n, Environment.ProcessorCount * 8));
        Parallel.For(0, chunks, ch =>
        {
            using var rowReader = new RowReader(geom);
            var hv = new double[k];
            var hi = new int[k];
            int i0 = (int)((long)n * ch / chunks), i1 = (int)((long)n * (ch + 1) / chunks);
            for (int i = i0; i < i1; i++)
            {
                var row = rowReader.Row(i);
                // Max-heap of the k smallest seen so far.
                for (int j = 0; j < k; j++) { hv[j] = row[j]; hi[j] = j; SiftUp(hv, hi, j); }
                double top = hv[0];
                for (int j = k; j < m; j++)
                {
                    double c = row[j];
                    if (c >= top) continue;
                    hv[0] = c; hi[0] = j;
                    SiftDown(hv, hi, k);
                    top = hv[0];
                }
                Array.Sort(hv, hi);
                Array.Copy(hi, 0, idx, (long)i * k, k);
                Array.Copy(hv, 0, val, (long)i * k, k);
            }
        });
        return (idx, val);
    }

    private static void SiftUp(double[] v, int[] ix, int c)
    {
        while (c > 0)
        {
            int p = (c - 1) / 2;
            if (v[p] >= v[c]) break;
            (v[p], v[c]) = (v[c], v[p]); (ix[p], ix[c]) = (ix[c], ix[p]);
            c = p;
        }
    }

    private static void SiftDown(double[] v, int[] ix, int k)
    {
        int p = 0;
        for (; ; )
        {
            int l = 2 * p + 1, r = l + 1, big = p;
            if (l < k && v[l] > v[big]) big = l;
            if (r < k && v[r] > v[big]) big = r;
            if (big == p) return;
            (v[p], v[big]) = (v[big], v[p]); (ix[p], ix[big]) = (ix[big], ix[p]);
            p = big;
        }
    }

    /// <summary>
    /// Log-domain Sinkhorn on the candidate set with ε-scaling (γ·2^stages → γ), over-relaxed in the last stage;
    /// intermediate stages stop at 1 % marginal error (or 100 iterations), the last at <paramref name="tol"/> or when the
    /// error has not halved for 200 iterations. <paramref name="outRow"/>/<paramref name="outCol"/> (null = none) add
    /// frozen mass outside the candidates: row i's sum gains exp(f_i/γ + outRow_i). Returns the iterations and the last
    /// column-marginal error (rows are exact after each f step).
    /// </summary>
    public (int Iterations, double Error) Solve(double[] a, double[] b, double gamma, int stages, int maxIter, double tol, double[] f, double[] g,
        double[]? outRow, double[]? outCol)
    {
        double last = double.PositiveInfinity;
        const int StageIterations = 100, StallIterations = 200;
        double normB = Math.Sqrt(b.Sum(v => v * v) + a.Sum(v => v * v));
        int it = 0;
        for (int s = stages; s >= 0 && it < maxIter; s--)
        {
            double gs = gamma * Math.Pow(2, s);
            // Intermediate stages only need to be roughly right (1 %, ≤ 100 iterations); the last one stops early when
            // the error stalls — the candidate set may not carry a plan with these marginals (the exact passes then
            // finish the job). Over-relaxed in the last stage only.
            var o = new SinkhornOptions
            {
                Gamma = gs, Tol = s == 0 ? tol : 1e-2 * normB, CheckEvery = 1, Overrelax = s == 0,
                MaxIter = (s == 0 ? maxIter : Math.Min(maxIter, it + StageIterations)) - it,
            };
            var r = SinkhornSolver.Run(new SparseIterate(this, a, b, gs, f, g, outRow, outCol), o, s == 0 ? StallIterations : 0);
            it += r.Iterations;
            last = r.MarginalError;
        }
        return (it, last);
    }

    /// <summary>
    /// The candidate-list geometry's iterate: log-sum-exp over each row's (column's) candidates plus its frozen outside
    /// term; the marginal error is the column error (rows are balanced by the f step).
    /// </summary>
    private sealed class SparseIterate : ISinkhornIterate
    {
        private readonly CandidateSet _set;
        private readonly double[] _a, _b, _f, _g, _logA, _logB, _logCol, _logRow;
        private readonly double[]? _outRow, _outCol;
        private readonly double _gamma;
        private bool _colValid;

        public SparseIterate(CandidateSet set, double[] a, double[] b, double gamma, double[] f, double[] g, double[]? outRow, double[]? outCol)
        {
            _set = set; _a = a; _b = b; _gamma = gamma; _f = f; _g = g; _outRow = outRow; _outCol = outCol;
            _logA = Array.ConvertAll(a, Math.Log);
            _logB = Array.ConvertAll(b, Math.Log);
            _logCol = new double[set._m];
            _logRow = new double[set._n];
        }

        private void Columns()
        {
            if (!_colValid) Lse(_set._colPtr, _set._row, _set._costT, _f, _g, _gamma, _outCol, _logCol);
            _colValid = true;
        }

        public double MarginalError()
        {
            Columns();
            double err = 0;
            for (int j = 0; j < _b.Length; j++) { double d = Math.Exp(_logCol[j]) - _b[j]; err += d * d; }
            return Math.Sqrt(err);
        }

        public bool UpdateG(double w)
        {
            Columns();
            for (int j = 0; j < _b.Length; j++)
                if (_b[j] > 0 && double.IsFinite(_logCol[j])) _g[j] += w * _gamma * (_logB[j] - _logCol[j]);
            _colValid = false;
            return true;
        }

        public bool UpdateF(double w)
        {
            Lse(_set._rowPtr, _set._col, _set._cost, _g, _f, _gamma, _outRow, _logRow);
            for (int i = 0; i < _a.Length; i++)
                if (_a[i] > 0 && double.IsFinite(_logRow[i])) _f[i] += w * _gamma * (_logA[i] - _logRow[i]);
            _colValid = false;
            return true;
        }
    }

    /// <summary>Log row sums (over candidates only) of the plan at γ into <paramref name="logRow"/>, log column sums into <paramref name="logCol"/>.</summary>
    public void CandidateSums(double[] f, double[] g, double gamma, double[] logRow, double[] logCol)
    {
        Lse(_rowPtr, _col, _cost, g, f, gamma, null, logRow);
        Lse(_colPtr, _row, _costT, f, g, gamma, null, logCol);
    }

    /// <summary>
    /// out_r = log Σ_{e ∈ row r} exp((own_r + other_e − c_e)/γ), parallel over rows. The terms are plan entries (≤ 1 near
    /// the fixed point), so one SIMD pass suffices; a sum that under- or overflows is redone by an exact two-pass log-sum-exp.
    /// </summary>
    private static void Lse(int[] ptr, int[] idx, double[] cost, double[] other, double[] own, double gamma, double[]? outside, double[] output)
    {
        int n = ptr.Length - 1;
        double inv = 1 / gamma;
        int chunks = Math.Max(1, Math.Min(n, Environment.ProcessorCount * 8));
        int widest = 0;
        for (int r = 0; r < n; r++) widest = Math.Max(widest, ptr[r + 1] - ptr[r]);
        Parallel.For(0, chunks, ch =>
        {
            var t = new double[widest];
            int r0 = (int)((long)n * ch / chunks), r1 = (int)((long)n * (ch + 1) / chunks);
            for (int r = r0; r < r1; r++)
            {
                int s0 = ptr[r], len = ptr[r + 1] - s0;
                double o = own[r];
                if (double.IsNegativeInfinity(o) || len == 0) { output[r] = double.NegativeInfinity; continue; }
                var span = t.AsSpan(0, len);
                for (int q = 0; q < len; q++) span[q] = (o + other[idx[s0 + q]] - cost[s0 + q]) * inv;
                double extra = outside is null ? double.NegativeInfinity : o * inv + outside[r];
                double sum = ExpSum(span) + Math.Exp(extra);
                if (SafeRange.Contains(sum)) { output[r] = Math.Log(sum); continue; }
                double mx = extra;
                foreach (var v in span) mx = Math.Max(mx, v);
                if (double.IsNegativeInfinity(mx)) { output[r] = mx; continue; }
                double z = Math.Exp(extra - mx);
                foreach (var v in span) z += Math.Exp(v - mx);
                output[r] = mx + Math.Log(z);
            }
        });
    }

    /// <summary>Σ exp(v), SIMD.</summary>
    private static double ExpSum(ReadOnlySpan<double> v)
    {
        int j = 0;
        double s = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated && v.Length >= System.Numerics.Vector<double>.Count)
        {
            var vv = System.Runtime.InteropServices.MemoryMarshal.Cast<double, System.Numerics.Vector<double>>(v);
            var acc = System.Numerics.Vector<double>.Zero;
            for (int q = 0; q < vv.Length; q++) acc += System.Numerics.Vector.Exp(vv[q]);
            s = System.Numerics.Vector.Sum(acc);
            j = vv.Length * System.Numerics.Vector<double>.Count;
        }
        for (; j < v.Length; j++) s += Math.Exp(v[j]);
        return s;
    }
}
