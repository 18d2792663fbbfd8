using System.Numerics;
using System.Runtime.InteropServices;

namespace Glass.Kernels.Sinkhorn;

/// <summary>
/// Managed log-domain Sinkhorn (the reference for the dense kernels). Each half-iteration streams C
/// once: g_j ← g_j + ω·γ·(log b_j − log Σ_i exp((f_i + g_j − C_ij)/γ)), then the same for f over rows.
/// The current potentials stabilise the sums (terms are plan entries ≤ 1), with an exact two-pass
/// log-sum-exp fallback for any sum that under- or overflows. Rows run in parallel, SIMD over columns.
/// </summary>
internal static class DenseSinkhornCpu
{
    /// <summary>Solves from the initial potentials <paramref name="f"/>, <paramref name="g"/> (−∞ where the marginal is 0), updated in place and returned.</summary>
    public static DenseSinkhornResult Solve(DenseGeometry geom, double[] a, double[] b, SinkhornOptions o, double[] f, double[] g)
    {
        SinkhornLoopResult r;
        if (UsesStoredKernel(geom, o))
        {
            var stored = new StoredKernelIterate(geom, a, b, o.Gamma, f, g);
            r = SinkhornSolver.Run(stored, o);
            stored.Potentials();
        }
        else r = SinkhornSolver.Run(new DenseLogIterate(geom, a, b, o.Gamma, f, g), o);
        var (cost, entropy, plan) = Finish(geom, f, g, 1.0 / o.Gamma, o.ReturnPlan);
        return new DenseSinkhornResult(f, g, plan, r.Iterations, r.MarginalError, r.Converged, cost, entropy);
    }

    /// <summary>Whether <see cref="DenseKernel"/> resolves to the stored kernel for this geometry.</summary>
    internal static bool UsesStoredKernel(DenseGeometry geom, SinkhornOptions o) => o.Kernel switch
    {
        DenseKernel.Stored => true,
        DenseKernel.Auto => (long)geom.N * geom.M <= SinkhornOptions.StoredKernelMaxEntries,
        _ => false,
    };

    /// <summary>
    /// The log-domain iterate on a dense geometry: each half-update streams C once (rows in parallel, SIMD over
    /// columns); the row marginal after an f-update is known in closed form (a^ω·r^(1−ω)), the column sums are
    /// computed at a check and reused by the next g-update.
    /// </summary>
    internal sealed class DenseLogIterate : ISinkhornIterate
    {
        private readonly DenseGeometry _geom;
        private readonly double[] _a, _b, _f, _g, _logA, _logB, _logCol, _logRow, _rowMarg;
        private readonly double[][] _partial;
        private readonly double _gamma, _invG;
        private bool _colValid;

        public DenseLogIterate(DenseGeometry geom, double[] a, double[] b, double gamma, double[] f, double[] g)
        {
            _geom = geom; _a = a; _b = b; _f = f; _g = g; _gamma = gamma; _invG = 1.0 / gamma;
            _logA = Array.ConvertAll(a, Math.Log);
            _logB = Array.ConvertAll(b, Math.Log);
            _logCol = new double[geom.M];
            _logRow = new double[geom.N];
            _rowMarg = new double[geom.N];
            int blocks = Math.Max(1, Math.Min(Environment.ProcessorCount * 2, geom.N));
            _partial = new double[blocks][];
            for (int k = 0; k < blocks; k++) _partial[k] = new double[geom.M];
        }

        public double MarginalError()
        {
            Columns();
            return DenseSinkhornCpu.MarginalError(_logCol, _b, _rowMarg, _a);
        }

        private void Columns()
        {
            if (!_colValid) LogColumnSums(_geom, _f, _g, _invG, _logCol, _partial);
            _colValid = true;
        }

        public bool UpdateG(double w)
        {
            Columns();
            for (int j = 0; j < _g.Length; j++)
                if (_b[j] > 0) _g[j] += w * _gamma * (_logB[j] - _logCol[j]);
            _colValid = false;
            return true;
        }

        public bool UpdateF(double w)
        {
            LogRowSums(_geom, _f, _g, _invG, _logRow);
            for (int i = 0; i < _f.Length; i++)
            {
                if (_a[i] == 0) { _rowMarg[i] = 0; continue; }
                double step = _logA[i] - _logRow[i];
                _f[i] += w * _gamma * step;
                // Row marginal after the update, exactly: a^ω · r^(1−ω).
                _rowMarg[i] = Math.Exp(_logRow[i] + w * step);
            }
            _colValid = false;
            return true;
        }
    }

    internal static double MarginalError(double[] logCol, double[] b, double[] rowMarg, double[] a)
    {
        double e = 0;
        for (int j = 0; j < b.Length; j++) { double d = Math.Exp(logCol[j]) - b[j]; e += d * d; }
        for (int i = 0; i < a.Length; i++) { double d = rowMarg[i] - a[i]; e += d * d; }
        return Math.Sqrt(e);
    }

    /// <summary>logCol_j = log Σ_i exp((f_i + g_j − C_ij)/γ).</summary>
    internal static void LogColumnSums(DenseGeometry geom, double[] f, double[] g, double invG, double[] logCol, double[][] partial)
    {
        int n = geom.N, m = geom.M, blocks = partial.Length;
        Parallel.For(0, blocks, k =>
        {
            var acc = partial[k];
            Array.Clear(acc);
            using var rowReader = new RowReader(geom);
            int i0 = (int)((long)n * k / blocks), i1 = (int)((long)n * (k + 1) / blocks);
            for (int i = i0; i < i1; i++)
            {
                if (double.IsNegativeInfinity(f[i])) continue;
                ExpAccumulate(rowReader.Row(i), g, f[i], invG, acc);
            }
        });
        var bad = new List<int>();
        for (int j = 0; j < m; j++)
        {
            double s = 0;
            for (int k = 0; k < blocks; k++) s += partial[k][j];
            if (SafeRange.Contains(s)) logCol[j] = Math.Log(s);
            else if (!double.IsNegativeInfinity(g[j])) bad.Add(j);
            else logCol[j] = double.NegativeInfinity;
        }
        if (bad.Count > 0)
            Parallel.ForEach(bad, j => logCol[j] = ExactLogSumColumn(geom, f, g[j], j, invG));
    }

    /// <summary>logRow_i = log Σ_j exp((f_i + g_j − C_ij)/γ).</summary>
    internal static void LogRowSums(DenseGeometry geom, double[] f, double[] g, double invG, double[] logRow)
    {
        int n = geom.N, m = geom.M;
        int chunks = Math.Max(1, Math.Min(n, Environment.ProcessorCount * 8));
        Parallel.For(0, chunks, k =>
        {
            using var rowReader = new RowReader(geom);
            int i0 = (int)((long)n * k / chunks), i1 = (int)((long)n * (k + 1) / chunks);
            for (int i = i0; i < i1; i++)
            {
                if (double.IsNegativeInfinity(f[i])) { logRow[i] = double.NegativeInfinity; continue; }
                var row = rowReader.Row(i);
                double s = ExpSum(row, g, f[i], invG);
                logRow[i] = SafeRange.Contains(s) ? Math.Log(s) : ExactLogSum(row, g, f[i], invG);
            }
        });
    }

    /// <summary>Σ_j exp((fi + g_j − c_j)·invG), SIMD.</summary>
    internal static double ExpSum(ReadOnlySpan<double> c, ReadOnlySpan<double> g, double fi, double invG)
    {
        int m = c.Length, j = 0;
        double s = 0;
        if (Vector.IsHardwareAccelerated && m >= Vector<double>.Count)
        {
            var vf = new Vector<double>(fi);
            var vi = new Vector<double>(invG);
            var acc = Vector<double>.Zero;
            var cv = MemoryMarshal.Cast<double, Vector<double>>(c);
            var gv = MemoryMarshal.Cast<double, Vector<double>>(g[..m]);
            for (int k = 0; k < cv.Length; k++)
                acc += Vector.Exp((vf + gv[k] - cv[k]) * vi);
            s = Vector.Sum(acc);
            j = cv.Length * Vector<double>.Count;
        }
        for (; j < m; j++) s += Math.Exp((fi + g[j] - c[j]) * invG);
        return s;
    }

    /// <summary>acc_j += exp((fi + g_j − c_j)·invG); returns Σ_j of those terms (summed as <see cref="ExpRowSum"/> does). SIMD.</summary>
    internal static double ExpAccumulate(ReadOnlySpan<double> c, ReadOnlySpan<double> g, double fi, double invG, Span<double> acc)
    {
        int m = c.Length, j = 0;
        double s = 0;
        if (Vector.IsHardwareAccelerated && m >= Vector<double>.Count)
        {
            var vf = new Vector<double>(fi);
            var vi = new Vector<double>(invG);
            var cv = MemoryMarshal.Cast<double, Vector<double>>(c);
            var gv = MemoryMarshal.Cast<double, Vector<double>>(g[..m]);
            var av = MemoryMarshal.Cast<double, Vector<double>>(acc[..m]);
            var sv = Vector<double>.Zero;
            for (int k = 0; k < cv.Length; k++)
            {
                var e = Vector.Exp((vf + gv[k] - cv[k]) * vi);
                av[k] += e;
                sv += e;
            }
            s = Vector.Sum(sv);
            j = cv.Length * Vector<double>.Count;
        }
        for (; j < m; j++) { double e = Math.Exp((fi + g[j] - c[j]) * invG); acc[j] += e; s += e; }
        return s;
    }

    /// <summary>p_j = exp((fi + g_j − c_j)·invG); returns Σ_j p_j. SIMD.</summary>
    internal static double ExpRowSum(ReadOnlySpan<double> c, ReadOnlySpan<double> g, double fi, double invG, Span<double> p)
    {
        int m = c.Length, j = 0;
        double s = 0;
        if (Vector.IsHardwareAccelerated && m >= Vector<double>.Count)
        {
            var vf = new Vector<double>(fi);
            var vi = new Vector<double>(invG);
            var cv = MemoryMarshal.Cast<double, Vector<double>>(c);
            var gv = MemoryMarshal.Cast<double, Vector<double>>(g[..m]);
            var pv = MemoryMarshal.Cast<double, Vector<double>>(p[..m]);
            var sv = Vector<double>.Zero;
            for (int k = 0; k < cv.Length; k++)
            {
                var e = Vector.Exp((vf + gv[k] - cv[k]) * vi);
                pv[k] = e;
                sv += e;
            }
            s = Vector.Sum(sv);
            j = cv.Length * Vector<double>.Count;
        }
        for (; j < m; j++) { double e = Math.Exp((fi + g[j] - c[j]) * invG); p[j] = e; s += e; }
        return s;
    }

    /// <summary>acc_j += w·p_j, SIMD.</summary>
    internal static void AddScaled(ReadOnlySpan<double> p, double w, Span<double> acc)
    {
        int m = p.Length, j = 0;
        if (Vector.IsHardwareAccelerated && m >= Vector<double>.Count)
        {
            var vw = new Vector<double>(w);
            var pv = MemoryMarshal.Cast<double, Vector<double>>(p);
            var av = MemoryMarshal.Cast<double, Vector<double>>(acc[..m]);
            for (int k = 0; k < pv.Length; k++) av[k] += vw * pv[k];
            j = pv.Length * Vector<double>.Count;
        }
        for (; j < m; j++) acc[j] += w * p[j];
    }

    internal static double ExactLogSum(ReadOnlySpan<double> c, ReadOnlySpan<double> g, double fi, double invG)
    {
        double mx = double.NegativeInfinity;
        for (int j = 0; j < c.Length; j++) mx = Math.Max(mx, (fi + g[j] - c[j]) * invG);
        if (double.IsNegativeInfinity(mx)) return mx;
        double s = 0;
        for (int j = 0; j < c.Length; j++) s += Math.Exp((fi + g[j] - c[j]) * invG - mx);
        return mx + Math.Log(s);
    }

    internal static double ExactLogSumColumn(DenseGeometry geom, double[] f, double gj, int j, double invG)
    {
        double mx = double.NegativeInfinity;
        for (int i = 0; i < geom.N; i++) mx = Math.Max(mx, (f[i] + gj - geom.Entry(i, j)) * invG);
        if (double.IsNegativeInfinity(mx)) return mx;
        double s = 0;
        for (int i = 0; i < geom.N; i++) s += Math.Exp((f[i] + gj - geom.Entry(i, j)) * invG - mx);
        return mx + Math.Log(s);
    }

    /// <summary>⟨P, C⟩, H(P) and (optionally) the plan, from the final potentials.</summary>
    internal static (double Cost, double Entropy, double[]? Plan) Finish(DenseGeometry geom, double[] f, double[] g, double invG, bool returnPlan)
    {
        int n = geom.N, m = geom.M;
        double[]? plan = returnPlan ? new double[(long)n * m] : null;
        // Per-row partials summed in a fixed order: results are bit-reproducible run to run.
        var rowCost = new double[n];
        var rowEnt = new double[n];
        int chunks = Math.Max(1, Math.Min(n, Environment.ProcessorCount * 8));
        Parallel.For(0, chunks, k =>
        {
            using var rowReader = new RowReader(geom);
            int i0 = (int)((long)n * k / chunks), i1 = (int)((long)n * (k + 1) / chunks);
            int vw = Vector<double>.Count, mv = Vector.IsHardwareAccelerated ? m - m % vw : 0;
            var gv = MemoryMarshal.Cast<double, Vector<double>>(g.AsSpan(0, mv));
            var vi = new Vector<double>(invG);
            for (int i = i0; i < i1; i++)
            {
                var row = rowReader.Row(i);
                double c = 0, h = 0;
                if (double.IsNegativeInfinity(f[i]))
                {
                    if (plan is not null) Array.Clear(plan, (int)((long)i * m), m);
                    rowCost[i] = 0; rowEnt[i] = 0;
                    continue;
                }
                int j = 0;
                if (plan is null && mv > 0)
                {
                    // SIMD over columns; p·s is taken as 0 where p = 0 (s = −∞ for a zero-mass column).
                    var rv = MemoryMarshal.Cast<double, Vector<double>>(row[..mv]);
                    var vf = new Vector<double>(f[i]);
                    Vector<double> vc = Vector<double>.Zero, vh = Vector<double>.Zero;
                    for (int q = 0; q < rv.Length; q++)
                    {
                        var sv = (vf + gv[q] - rv[q]) * vi;
                        var pv = Vector.Exp(sv);
                        var live = Vector.GreaterThan(pv, Vector<double>.Zero);
                        vc += Vector.ConditionalSelect(live, pv * rv[q], Vector<double>.Zero);
                        vh -= Vector.ConditionalSelect(live, pv * sv, Vector<double>.Zero);
                    }
                    c = Vector.Sum(vc); h = Vector.Sum(vh);
                    j = mv;
                }
                for (; j < m; j++)
                {
                    double s = (f[i] + g[j] - row[j]) * invG;
                    double p = Math.Exp(s);
                    if (plan is not null) plan[(long)i * m + j] = p;
                    if (p > 0) { c += p * row[j]; h -= p * s; }
                }
                rowCost[i] = c;
                rowEnt[i] = h;
            }
        });
        double cost = 0, ent = 0;
        for (int i = 0; i < n; i++) { cost += rowCost[i]; ent += rowEnt[i]; }
        return (cost, ent, plan);
    }
}
