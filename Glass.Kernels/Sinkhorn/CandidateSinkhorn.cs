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
        if (device.IsAccelerated) return OnAccelerator(device, geometry, aa, bb, options, f, g, set.Entries, sparseIt, tSparse, sw);

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
                // terms go stale): finish with the dense solver loop from the best potentials seen.
                f = bestF!; g = bestG!;
                var t2 = sw.Elapsed.TotalSeconds;
                var rest = SinkhornSolver.Run(new DenseSinkhornCpu.DenseLogIterate(geometry, aa, bb, options.Gamma, f, g),
                    options with { MaxIter = Math.Max(1, options.MaxIter - passes) });
                passes += rest.Iterations; err = rest.MarginalError; converged = rest.Converged;
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

    // Accelerator: dense sweeps warm-started from the sparse phase. Non-finite potentials (zero-mass rows/columns, or a
    // drifted sparse phase) restart at 0; the dense solver sets −∞ again where the marginal is 0.
    private static CandidateSinkhornResult OnAccelerator(ComputeDevice device, DenseGeometry geometry, double[] aa, double[] bb,
        SinkhornOptions options, double[] f, double[] g, long entries, int sparseIt, double tSparse, Stopwatch sw)
    {
        var rd = DenseSinkhorn.Solve(device, geometry, aa, bb, options,
            Array.ConvertAll(f, v => double.IsFinite(v) ? v : 0), Array.ConvertAll(g, v => double.IsFinite(v) ? v : 0));
        return new CandidateSinkhornResult(rd, entries, sparseIt, tSparse, sw.Elapsed.TotalSeconds - tSparse);
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
                logRow[i] = SafeRange.Contains(s) ? Math.Log(s) : DenseSinkhornCpu.ExactLogSum(row, g, f[i], invG);
            }
        });
        var bad = new List<int>();
        for (int j = 0; j < m; j++)
        {
            double s = 0;
            for (int k = 0; k < blocks; k++) s += partial[k][j];
            if (SafeRange.Contains(s)) logCol[j] = Math.Log(s);
            else if (double.IsNegativeInfinity(g[j])) logCol[j] = double.NegativeInfinity;
            else bad.Add(j);
        }
        if (bad.Count > 0) Parallel.ForEach(bad, j => logCol[j] = DenseSinkhornCpu.ExactLogSumColumn(geom, f, g[j], j, invG));
    }
}
