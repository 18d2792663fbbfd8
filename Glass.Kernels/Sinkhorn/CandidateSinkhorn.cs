using System.Diagnostics;
using Glass.Kernels.Device;
using Glass.Kernels.Validation;

namespace Glass.Kernels.Sinkhorn;

/// <summary>Options of <see cref="CandidateSinkhorn"/>: the sparse warm-start phase.</summary>
public sealed record CandidateOptions
{
    /// <summary>Nearest columns kept per row, and nearest rows per column (their union is the candidate set).</summary>
    public int Neighbors { get; init; } = 32;

    /// <summary>ε-scaling stages of the sparse phase: γ runs 2^Stages·γ, …, 2γ, γ (0 = solve at γ directly).</summary>
    public int Stages { get; init; } = 6;

    /// <summary>Iteration cap of the sparse phase (all stages together).</summary>
    public int MaxIterations { get; init; } = 2000;

    internal void Validate()
    {
        Guard.Positive(Neighbors, nameof(Neighbors));
        if (Stages < 0) throw new ArgumentException($"Stages = {Stages}; expected an integer ≥ 0.", nameof(Stages));
        Guard.Positive(MaxIterations, nameof(MaxIterations));
    }
}

/// <summary>Result of <see cref="CandidateSinkhorn.Solve"/>.</summary>
/// <param name="Result">The exact dense solve (potentials, marginal error, ⟨P, C⟩, H(P)); its <c>Iterations</c> are the dense sweeps only.</param>
/// <param name="CandidateEntries">Entries of the sparse candidate set (≤ 2·k·max(n, m)).</param>
/// <param name="CandidateIterations">Sparse iterations (all ε-scaling stages).</param>
/// <param name="CandidateSeconds">Wall time of the candidate search and the sparse phase.</param>
/// <param name="DenseSeconds">Wall time of the exact dense sweeps.</param>
public sealed record CandidateSinkhornResult(DenseSinkhornResult Result, long CandidateEntries, int CandidateIterations,
    double CandidateSeconds, double DenseSeconds);

/// <summary>
/// Large-n entropic OT on point clouds by a two-level Sinkhorn. At small γ almost all of the plan's mass sits on
/// each row's and each column's nearest neighbours, so:
/// (1) find the k nearest columns of every row and the k nearest rows of every column, streaming C once per
/// orientation (O(nmd) time, O((n + m)k) memory);
/// (2) solve log-domain Sinkhorn with ε-scaling on that candidate set — an iteration costs O((n + m)k), not O(nm);
/// (3) repeat until the exact marginals meet the stopping rule: one exact dense pass computes the true row and column
/// sums of the current plan (C streamed once, one exp per entry), the mass outside the candidates is frozen as one
/// term per row and per column, and sparse iterations re-balance with those terms included.
/// The stopping rule is the dense solver's, evaluated on the exact plan, so the result is the dense solution to the
/// same tolerance; the candidates only decide how many O(nm) passes it takes — the slow, global Sinkhorn modes are
/// iterated on the sparse set. On an accelerator, step 3 is replaced by dense sweeps of <see cref="DenseSinkhorn"/>
/// warm-started from step 2. With <see cref="DenseGeometry.FromPoints"/> nothing of size n×m is stored.
/// </summary>
public static class CandidateSinkhorn
{
    /// <summary>Solves entropic OT for <paramref name="geometry"/>; arguments as <see cref="DenseSinkhorn.Solve"/>.</summary>
    /// <param name="device">Where the dense passes run (managed CPU: the two-level scheme; accelerator: warm-started dense sweeps).</param>
    /// <param name="geometry">Cost (matrix or point clouds).</param>
    /// <param name="a">Row marginal; null = uniform.</param>
    /// <param name="b">Column marginal; null = uniform.</param>
    /// <param name="options">γ, the tolerance on the exact marginal error and the cap on dense passes (<see cref="SinkhornOptions.MaxIter"/>).</param>
    /// <param name="candidates">Sparse phase options (null = defaults).</param>
    /// <exception cref="ArgumentException">Invalid γ, marginals or options.</exception>
    public static CandidateSinkhornResult Solve(ComputeDevice device, DenseGeometry geometry, double[]? a, double[]? b,
        SinkhornOptions options, CandidateOptions? candidates = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(geometry);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var co = candidates ?? new CandidateOptions();
        co.Validate();
        int n = geometry.N, m = geometry.M;
        var aa = Marginals.Resolve(a, n, nameof(a));
        var bb = Marginals.Resolve(b, m, nameof(b));
        var sw = Stopwatch.StartNew();
        var set = CandidateSet.Build(device, geometry, Math.Min(co.Neighbors, m), Math.Min(co.Neighbors, n));
        var f = DenseSinkhorn.WarmStart(null, aa, nameof(a));
        var g = DenseSinkhorn.WarmStart(null, bb, nameof(b));
        var (sparseIt, sparseErr) = set.Solve(aa, bb, options.Gamma, co.Stages, co.MaxIterations, options.Tol, f, g, null, null);
        double tSparse = sw.Elapsed.TotalSeconds;
        if (!(sparseErr <= 1e-2 * Norm(aa, bb)))
        {
            // The candidates alone cannot carry these marginals (Sinkhorn on them drifts): start the exact passes from
            // zero potentials instead; with the outside terms the re-balancing problem is always feasible.
            f = DenseSinkhorn.WarmStart(null, aa, nameof(a));
            g = DenseSinkhorn.WarmStart(null, bb, nameof(b));
        }
        if (device.IsAccelerated)
        {
            // Non-finite potentials (zero-mass rows/columns, or a drifted sparse phase) restart at 0; the dense
            // solver sets −∞ again where the marginal is 0.
            var rd = DenseSinkhorn.Solve(device, geometry, aa, bb, options,
                Array.ConvertAll(f, v => double.IsFinite(v) ? v : 0), Array.ConvertAll(g, v => double.IsFinite(v) ? v : 0));
            return new CandidateSinkhornResult(rd, set.Entries, sparseIt, tSparse, sw.Elapsed.TotalSeconds - tSparse);
        }

        double invG = 1 / options.Gamma;
        var logRow = new double[n];
        var logCol = new double[m];
        var candRow = new double[n];
        var candCol = new double[m];
        var outRow = new double[n];
        var outCol = new double[m];
        double err = double.PositiveInfinity;
        bool converged = false;
        int passes = 0;
        double tDense = 0;
        double[]? bestF = null, bestG = null;
        double bestErr = double.PositiveInfinity, prevErr = double.PositiveInfinity;
        for (; passes < options.MaxIter; )
        {
            var t0 = sw.Elapsed.TotalSeconds;
            ExactSums(geometry, f, g, invG, logRow, logCol);
            passes++;
            tDense += sw.Elapsed.TotalSeconds - t0;
            err = ExactError(logRow, logCol, aa, bb);
            if (err <= options.Tol) { converged = true; break; }
            if (err < bestErr) { bestErr = err; bestF = (double[])f.Clone(); bestG = (double[])g.Clone(); }
            if (!(err < 0.5 * prevErr))
            {
                // Contracting by less than 2× per pass (much of the mass lies outside the candidates, so the frozen
                // terms go stale): finish with plain dense sweeps from the best potentials seen.
                f = bestF!; g = bestG!;
                var t2 = sw.Elapsed.TotalSeconds;
                var (more, e2, ok) = FusedSweeps(geometry, aa, bb, f, g, options.Gamma, options.Tol, Math.Max(1, options.MaxIter - passes));
                passes += more; err = e2; converged = ok;
                tDense += sw.Elapsed.TotalSeconds - t2;
                break;
            }
            prevErr = err;
            // Mass outside the candidates, per row (without e^{f_i/γ}) and per column (without e^{g_j/γ}), frozen.
            set.CandidateSums(f, g, options.Gamma, candRow, candCol);
            Outside(logRow, candRow, f, invG, outRow);
            Outside(logCol, candCol, g, invG, outCol);
            // Re-balance only as far as the frozen terms are worth: a few percent of the current exact error.
            sparseIt += set.Solve(aa, bb, options.Gamma, 0, co.MaxIterations, Math.Max(0.5 * options.Tol, 0.02 * err), f, g, outRow, outCol).Iterations;
        }
        var t1 = sw.Elapsed.TotalSeconds;
        var (cost, entropy, plan) = DenseSinkhornCpu.Finish(geometry, f, g, invG, options.ReturnPlan);
        tDense += sw.Elapsed.TotalSeconds - t1;
        var r = new DenseSinkhornResult(f, g, plan, passes, err, converged, cost, entropy);
        return new CandidateSinkhornResult(r, set.Entries, sparseIt, sw.Elapsed.TotalSeconds - tDense, tDense);
    }

    /// <summary>
    /// Sinkhorn iterations (adaptively over-relaxed, as <see cref="DenseSinkhorn"/>), each streaming C once: row i's terms
    /// p_ij = exp((f_i + g_j − C_ij)/γ) give its sum, f_i steps at once, and the same terms rescaled by the step's factor
    /// accumulate the column sums of the updated plan — one cost evaluation and one exp per entry per iteration (the
    /// two-pass solver needs two of each). Stops when sqrt(‖P1 − a‖² + ‖Pᵀ1 − b‖²) of the plan after the f step is ≤ tol,
    /// before the g step, so the returned (f, g) meet the rule.
    /// </summary>
    private static (int Passes, double Error, bool Converged) FusedSweeps(DenseGeometry geom, double[] a, double[] b, double[] f, double[] g,
        double gamma, double tol, int maxPasses)
    {
        int n = geom.N, m = geom.M;
        double invG = 1 / gamma;
        int blocks = Math.Max(1, Math.Min(Environment.ProcessorCount * 2, n));
        var partial = new double[blocks][];
        for (int k = 0; k < blocks; k++) partial[k] = new double[m];
        var logA = Array.ConvertAll(a, Math.Log);
        var logB = Array.ConvertAll(b, Math.Log);
        double err = double.PositiveInfinity;
        var relax = new Overrelaxation(true);
        var rowErr = new double[n];
        for (int pass = 1; pass <= maxPasses; pass++)
        {
            double w = relax.Omega;
            Parallel.For(0, blocks, k =>
            {
                var acc = partial[k];
                Array.Clear(acc);
                using var rowReader = new RowReader(geom);
                var p = new double[m];
                int i0 = (int)((long)n * k / blocks), i1 = (int)((long)n * (k + 1) / blocks);
                for (int i = i0; i < i1; i++)
                {
                    if (a[i] == 0) { f[i] = double.NegativeInfinity; continue; }
                    var row = rowReader.Row(i);
                    double s = DenseSinkhornCpu.ExpRowSum(row, g, f[i], invG, p);
                    if (s > 1e-280 && s < 1e280)
                    {
                        // Over-relaxed step f_i += ω·γ·log(a_i/s): the row's terms scale by (a_i/s)^ω, its sum to a_i^ω·s^(1−ω).
                        double step = logA[i] - Math.Log(s);
                        f[i] += w * gamma * step;
                        double scale = Math.Exp(w * step);
                        rowErr[i] = s * scale - a[i];
                        DenseSinkhornCpu.AddScaled(p, scale, acc);
                    }
                    else
                    {
                        // Out of the safe range: balance exactly in the log domain, then recompute the terms.
                        f[i] += gamma * (logA[i] - DenseSinkhornCpu.ExactLogSum(row, g, f[i], invG));
                        double s2 = DenseSinkhornCpu.ExpRowSum(row, g, f[i], invG, p);
                        rowErr[i] = s2 - a[i];
                        DenseSinkhornCpu.AddScaled(p, 1.0, acc);
                    }
                }
            });
            double e = 0;
            var logCol = new double[m];
            var bad = new List<int>();
            for (int j = 0; j < m; j++)
            {
                double s = 0;
                for (int k = 0; k < blocks; k++) s += partial[k][j];
                e += (s - b[j]) * (s - b[j]);
                if (s > 1e-280 && s < 1e280) logCol[j] = Math.Log(s);
                else if (b[j] > 0) bad.Add(j);
            }
            if (bad.Count > 0)
                Parallel.ForEach(bad, j => logCol[j] = DenseSinkhornCpu.ExactLogSumColumn(geom, f, g[j], j, invG));
            for (int i = 0; i < n; i++) e += rowErr[i] * rowErr[i];
            err = Math.Sqrt(e);
            if (err <= tol) return (pass, err, true);
            if (pass == maxPasses) break;
            relax.Observe(err, pass);
            w = relax.Omega;
            for (int j = 0; j < m; j++) if (b[j] > 0) g[j] += w * gamma * (logB[j] - logCol[j]);
        }
        return (maxPasses, err, false);
    }

    private static double Norm(double[] a, double[] b) => Math.Sqrt(a.Sum(v => v * v) + b.Sum(v => v * v));

    /// <summary>sqrt(‖P1 − a‖² + ‖Pᵀ1 − b‖²) from the exact log row and column sums.</summary>
    private static double ExactError(double[] logRow, double[] logCol, double[] a, double[] b)
    {
        double e = 0;
        for (int i = 0; i < a.Length; i++) { double d = Math.Exp(logRow[i]) - a[i]; e += d * d; }
        for (int j = 0; j < b.Length; j++) { double d = Math.Exp(logCol[j]) - b[j]; e += d * d; }
        return Math.Sqrt(e);
    }

    /// <summary>out_r = log(e^{total_r} − e^{cand_r}) − own_r/γ: the outside mass without its own potential (−∞ if none).</summary>
    private static void Outside(double[] logTotal, double[] logCand, double[] own, double invG, double[] output)
    {
        for (int r = 0; r < output.Length; r++)
        {
            double t = logTotal[r], c = logCand[r];
            if (!double.IsFinite(own[r]) || !(t > c)) { output[r] = double.NegativeInfinity; continue; }
            // log(e^t − e^c) = t + log(1 − e^{c−t}); a difference below 1e-12 of the total is rounding, not mass.
            double rel = -double.ExpM1(c - t);
            output[r] = rel > 1e-12 ? t + Math.Log(rel) - own[r] * invG : double.NegativeInfinity;
        }
    }

    /// <summary>
    /// Exact log row and column sums of P_ij = exp((f_i + g_j − C_ij)/γ) in one pass over the rows of C (one exp per
    /// entry; column sums accumulate in per-block partials). Sums outside the safe range are redone exactly.
    /// </summary>
    private static void ExactSums(DenseGeometry geom, double[] f, double[] g, double invG, double[] logRow, double[] logCol)
    {
        int n = geom.N, m = geom.M;
        int blocks = Math.Max(1, Math.Min(Environment.ProcessorCount * 2, n));
        var partial = new double[blocks][];
        Parallel.For(0, blocks, k =>
        {
            var acc = partial[k] = new double[m];
            using var rowReader = new RowReader(geom);
            int i0 = (int)((long)n * k / blocks), i1 = (int)((long)n * (k + 1) / blocks);
            for (int i = i0; i < i1; i++)
            {
                if (double.IsNegativeInfinity(f[i])) { logRow[i] = double.NegativeInfinity; continue; }
                var row = rowReader.Row(i);
                double s = DenseSinkhornCpu.ExpAccumulate(row, g, f[i], invG, acc);
                logRow[i] = s > 1e-280 && s < 1e280 ? Math.Log(s) : DenseSinkhornCpu.ExactLogSum(row, g, f[i], invG);
            }
        });
        var bad = new List<int>();
        for (int j = 0; j < m; j++)
        {
            double s = 0;
            for (int k = 0; k < blocks; k++) s += partial[k][j];
            if (s > 1e-280 && s < 1e280) logCol[j] = Math.Log(s);
            else if (double.IsNegativeInfinity(g[j])) logCol[j] = double.NegativeInfinity;
            else bad.Add(j);
        }
        if (bad.Count > 0) Parallel.ForEach(bad, j => logCol[j] = DenseSinkhornCpu.ExactLogSumColumn(geom, f, g[j], j, invG));
    }
}

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
        var logA = Array.ConvertAll(a, Math.Log);
        var logB = Array.ConvertAll(b, Math.Log);
        var logCol = new double[_m];
        var logRow = new double[_n];
        double normB = Math.Sqrt(b.Sum(v => v * v) + a.Sum(v => v * v));
        int it = 0;
        for (int s = stages; s >= 0 && it < maxIter; s--)
        {
            double gs = gamma * Math.Pow(2, s);
            double stageTol = s == 0 ? tol : 1e-2 * normB;
            // Intermediate stages only need to be roughly right; the last one stops early when the error stalls —
            // the candidate set may not carry a plan with these marginals (the exact passes then finish the job).
            int stageCap = s == 0 ? maxIter : Math.Min(maxIter, it + StageIterations);
            var relax = new Overrelaxation(s == 0);
            double bestErr = double.PositiveInfinity;
            int bestAt = 0;
            for (int local = 0; it < stageCap; local++, it++)
            {
                // Column sums of the current plan, then the g step (over-relaxed by ω).
                Lse(_colPtr, _row, _costT, f, g, gs, outCol, logCol);
                double err = 0;
                for (int j = 0; j < _m; j++) { double d = Math.Exp(logCol[j]) - b[j]; err += d * d; }
                err = Math.Sqrt(err);
                last = err;
                if (local > 0)
                {
                    if (err <= stageTol) break;
                    if (err < 0.5 * bestErr) { bestErr = err; bestAt = local; }
                    else if (local - bestAt > StallIterations) break;
                    relax.Observe(err, local);
                }
                double w = relax.Omega;
                for (int j = 0; j < _m; j++)
                    if (b[j] > 0 && double.IsFinite(logCol[j])) g[j] += w * gs * (logB[j] - logCol[j]);
                Lse(_rowPtr, _col, _cost, g, f, gs, outRow, logRow);
                for (int i = 0; i < _n; i++)
                    if (a[i] > 0 && double.IsFinite(logRow[i])) f[i] += w * gs * (logA[i] - logRow[i]);
            }
        }
        return (it, last);
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
                if (sum > 1e-280 && sum < 1e280) { output[r] = Math.Log(sum); continue; }
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
