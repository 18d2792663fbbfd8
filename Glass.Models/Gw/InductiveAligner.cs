using System.Diagnostics;
using Glass.Kernels.Device;
using Glass.Kernels.Sinkhorn;

namespace Glass.Models.Gw;

/// <summary>Options of inductive alignment (one Sinkhorn solve on embeddings).</summary>
public sealed record InductiveOptions
{
    /// <summary>Relative ε (γ = ε·c̄); null = the model's final training ε.</summary>
    public double? Epsilon { get; init; }
    /// <summary>Sinkhorn iteration cap.</summary>
    public int MaxIter { get; init; } = 2000;
    /// <summary>Stop when the marginal error ≤ RelativeTol·sqrt(1/n + 1/m) (i.e. relative to ‖(a, b)‖₂ for uniform marginals).</summary>
    public double RelativeTol { get; init; } = 1e-4;
    /// <summary>Entries of the sparse top-k plan kept per row.</summary>
    public int TopK { get; init; } = 5;
    /// <summary>
    /// Nearest neighbours per row and per column of the sparse warm start (<see cref="CandidateSinkhorn"/>): Sinkhorn is
    /// first solved on those candidates, then polished by exact dense sweeps to the same tolerance — the answer is the
    /// dense solution, only faster. 0 = cold dense Sinkhorn from zero potentials.
    /// </summary>
    public int Neighbors { get; init; } = 32;
}

/// <summary>Result of an inductive alignment; nothing of size n×m is stored.</summary>
/// <param name="N">Rows (new X).</param>
/// <param name="M">Columns (new Y).</param>
/// <param name="Matches">Hard match of each row, argmax_j Π_ij (length n).</param>
/// <param name="TopK">k of the sparse plan.</param>
/// <param name="TopKIndex">n×k column indices of the k largest Π_ij per row, descending.</param>
/// <param name="TopKValue">n×k values Π_ij (un-normalised plan entries; each row of Π sums to 1/n).</param>
/// <param name="ProjectionEmbedding">Barycentric projection of f(X) onto g(Y): x̂_i = Σ_j Π_ij g(y_j) / Σ_j Π_ij, n×EmbedDim.</param>
/// <param name="ProjectionTarget">Barycentric projection of X onto the target coordinates of Y (default: Y's normalised features), n×TargetDim; null if none.</param>
/// <param name="TargetDim">Columns of <see cref="ProjectionTarget"/>.</param>
/// <param name="Gamma">Absolute γ used.</param>
/// <param name="Iterations">Exact dense Sinkhorn sweeps (after the sparse warm start, if any).</param>
/// <param name="Converged">Tolerance reached.</param>
/// <param name="MarginalError">Final marginal error.</param>
/// <param name="Seconds">Wall time (solve and post-processing, excluding the embeddings).</param>
/// <param name="CandidateIterations">Iterations of the sparse warm start on nearest-neighbour candidates (0 if off).</param>
/// <param name="CandidateSeconds">Wall time of the candidate search and the sparse warm start.</param>
/// <param name="ReadOutSeconds">Wall time of the read-out from the potentials (matches, top-k, projections: <see cref="PlanRows"/>).</param>
/// <param name="F">Row potentials of the solve, P_ij = exp((f_i + g_j − C_ij)/γ) (null when the plan did not come from a Sinkhorn solve on the embeddings).</param>
/// <param name="G">Column potentials of the solve (the reference of the entropic map, <see cref="GwReference"/>), or null.</param>
public sealed record InductiveAlignment(int N, int M, int[] Matches, int TopK, int[] TopKIndex, double[] TopKValue,
    double[] ProjectionEmbedding, double[]? ProjectionTarget, int TargetDim, double Gamma, int Iterations, bool Converged,
    double MarginalError, double Seconds, int CandidateIterations = 0, double CandidateSeconds = 0, double ReadOutSeconds = 0,
    double[]? F = null, double[]? G = null);

/// <summary>
/// Inductive inference of learned GW (paper §3: "we simply need to solve an entropic OT problem on the
/// embeddings"): embed X′ and Y′ with the trained f, g and solve one Sinkhorn problem whose cost is
/// computed on the fly from the embeddings in row tiles (<see cref="DenseGeometry.FromPoints"/>); hard
/// matches, top-k plan rows and the barycentric projection (paper Appendix) are accumulated tile by tile
/// from the potentials. Memory O((n + m)·d); the n×m cost or plan is never stored.
/// </summary>
public static class InductiveAligner
{
    /// <summary>Aligns raw new data with a trained model.</summary>
    /// <param name="device">Where the Sinkhorn solve runs (managed CPU or ILGPU); post-processing is on the CPU.</param>
    /// <param name="model">Trained model.</param>
    /// <param name="x">X′, n×DimX row-major.</param>
    /// <param name="n">Rows of X′.</param>
    /// <param name="y">Y′, m×DimY row-major.</param>
    /// <param name="m">Rows of Y′.</param>
    /// <param name="options">Solver options (null = defaults).</param>
    /// <param name="nameX">Name of X′ in errors (e.g. its file).</param>
    /// <param name="nameY">Name of Y′ in errors.</param>
    /// <exception cref="ArgumentException">A feature count that differs from the model's (names the input and both dimensions), NaN/Inf.</exception>
    public static InductiveAlignment Align(ComputeDevice device, GwModel model, double[] x, int n, double[] y, int m,
        InductiveOptions? options = null, string nameX = "x", string nameY = "y")
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        CheckDim(x, n, model.DimX, nameX);
        CheckDim(y, m, model.DimY, nameY);
        var zx = model.EmbedX(x, n, nameX);
        var zy = model.EmbedY(y, m, nameY);
        var target = model.NormalizationY.Apply(y, m, model.DimY, nameY);
        return AlignEmbeddings(device, zx, zy, n, m, model.EmbedDim, options?.Epsilon ?? model.Epsilon, options, target, model.DimY);
    }

    private static void CheckDim(double[] x, int n, int dim, string name)
    {
        if (n < 1) throw new ArgumentException($"{name}: {n} rows; expected ≥ 1.");
        if (x.Length != (long)n * dim)
        {
            string got = x.Length % n == 0 ? $"{x.Length / n} features per row" : $"{x.Length} values for {n} rows";
            throw new ArgumentException($"{name}: {got}, but the model was trained on {dim} features.");
        }
    }

    /// <summary>Aligns given embeddings (n×d and m×d) with relative ε; optional target coordinates of Y (m×targetDim) for the barycentric projection.</summary>
    public static InductiveAlignment AlignEmbeddings(ComputeDevice device, double[] zx, double[] zy, int n, int m, int d, double epsilon,
        InductiveOptions? options = null, double[]? targetY = null, int targetDim = 0)
    {
        ArgumentNullException.ThrowIfNull(device);
        var o = options ?? new InductiveOptions();
        if (o.TopK < 1 || o.TopK > m) throw new ArgumentException($"TopK = {o.TopK}; expected 1 ≤ k ≤ m = {m}.", nameof(options));
        if (o.Neighbors < 0) throw new ArgumentException($"Neighbors = {o.Neighbors}; expected ≥ 0 (0 = no sparse warm start).", nameof(options));
        if (targetY is not null && (targetDim < 1 || targetY.Length != (long)m * targetDim))
            throw new ArgumentException($"targetY has {targetY.Length} values; expected m×targetDim = {m}×{targetDim}.", nameof(targetY));
        var sw = Stopwatch.StartNew();
        double cbar = MeanSqDistance(zx, zy, n, m, d);
        double gamma = epsilon * cbar;
        var geom = DenseGeometry.FromPoints(zx, zy, d);
        var sopt = new SinkhornOptions { Gamma = gamma, MaxIter = o.MaxIter, Tol = o.RelativeTol * Math.Sqrt(1.0 / n + 1.0 / m) };
        DenseSinkhornResult r;
        int candIt = 0;
        double candSec = 0;
        if (o.Neighbors > 0)
        {
            // After a warm start the error is checked every sweep on the CPU (free there: the column sums are computed
            // anyway); on an accelerator a check costs one extra pass, so every 5.
            var c = CandidateSinkhorn.Solve(device, geom, null, null, sopt with { CheckEvery = device.IsAccelerated ? 5 : 1 },
                new CandidateOptions { Neighbors = o.Neighbors });
            r = c.Result; candIt = c.CandidateIterations; candSec = c.CandidateSeconds;
        }
        else r = DenseSinkhorn.Solve(device, geom, null, null, sopt);
        double t0 = sw.Elapsed.TotalSeconds;
        var (matches, ti, tv, pe, pt) = ReadOut(device, geom, r.F, r.G, gamma, zy, d, targetY, targetDim, o.TopK);
        double readOut = sw.Elapsed.TotalSeconds - t0;
        return new InductiveAlignment(n, m, matches, o.TopK, ti, tv, pe, pt, targetY is null ? 0 : targetDim, gamma, r.Iterations, r.Converged,
            r.MarginalError, sw.Elapsed.TotalSeconds, candIt, candSec, readOut, r.F, r.G);
    }

    /// <summary>mean_ij ‖x_i − y_j‖² in O((n + m)d): mean‖x‖² + mean‖y‖² − 2⟨x̄, ȳ⟩.</summary>
    internal static double MeanSqDistance(double[] zx, double[] zy, int n, int m, int d)
    {
        double sx = 0, sy = 0;
        var mx = new double[d];
        var my = new double[d];
        for (int i = 0; i < n; i++) for (int k = 0; k < d; k++) { double v = zx[i * d + k]; sx += v * v; mx[k] += v; }
        for (int j = 0; j < m; j++) for (int k = 0; k < d; k++) { double v = zy[j * d + k]; sy += v * v; my[k] += v; }
        double dot = 0;
        for (int k = 0; k < d; k++) dot += mx[k] / n * (my[k] / m);
        double c = sx / n + sy / m - 2 * dot;
        return c > 1e-300 ? c : 1.0;
    }

    /// <summary>
    /// Hard matches, top-k plan and the barycentric projections of g(Y) and of Y's target coordinates, by one
    /// <see cref="PlanRows.Summarize"/> pass (on the device when there is one) over Z = [g(Y) | target].
    /// </summary>
    private static (int[], int[], double[], double[], double[]?) ReadOut(ComputeDevice device, DenseGeometry geom, double[] f, double[] g, double gamma,
        double[] zy, int d, double[]? target, int td, int k)
    {
        int n = geom.N, m = geom.M, q = d + (target is null ? 0 : td);
        var z = zy;
        if (target is not null)
        {
            z = new double[(long)m * q];
            for (int j = 0; j < m; j++)
            {
                Array.Copy(zy, (long)j * d, z, (long)j * q, d);
                Array.Copy(target, (long)j * td, z, (long)j * q + d, td);
            }
        }
        var rows = PlanRows.Summarize(device, geom, f, g, gamma, k, z, q);
        var matches = new int[n];
        var pe = new double[(long)n * d];
        var pt = target is null ? null : new double[(long)n * td];
        for (int i = 0; i < n; i++)
        {
            matches[i] = rows.Match(i);
            Array.Copy(rows.Projection, (long)i * q, pe, (long)i * d, d);
            if (pt is not null) Array.Copy(rows.Projection, (long)i * q + d, pt, (long)i * td, td);
        }
        return (matches, rows.TopKIndex, rows.TopKValue, pe, pt);
    }
}
