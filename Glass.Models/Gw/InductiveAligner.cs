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
public sealed record InductiveAlignment(int N, int M, int[] Matches, int TopK, int[] TopKIndex, double[] TopKValue,
    double[] ProjectionEmbedding, double[]? ProjectionTarget, int TargetDim, double Gamma, int Iterations, bool Converged,
    double MarginalError, double Seconds, int CandidateIterations = 0, double CandidateSeconds = 0);

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
        var (matches, ti, tv, pe, pt) = RowsFromPotentials(geom, r.F, r.G, gamma, zy, d, targetY, targetDim, o.TopK);
        return new InductiveAlignment(n, m, matches, o.TopK, ti, tv, pe, pt, targetY is null ? 0 : targetDim, gamma, r.Iterations, r.Converged,
            r.MarginalError, sw.Elapsed.TotalSeconds, candIt, candSec);
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

    /// <summary>p_j = exp((fi + g_j − c_j)·invG), SIMD.</summary>
    private static void ExpRow(ReadOnlySpan<double> c, double[] g, double fi, double invG, double[] p)
    {
        int m = c.Length, j = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated && m >= System.Numerics.Vector<double>.Count)
        {
            var cv = System.Runtime.InteropServices.MemoryMarshal.Cast<double, System.Numerics.Vector<double>>(c);
            var gv = System.Runtime.InteropServices.MemoryMarshal.Cast<double, System.Numerics.Vector<double>>(g.AsSpan(0, m));
            var pv = System.Runtime.InteropServices.MemoryMarshal.Cast<double, System.Numerics.Vector<double>>(p.AsSpan(0, m));
            var vf = new System.Numerics.Vector<double>(fi);
            var vi = new System.Numerics.Vector<double>(invG);
            for (int q = 0; q < cv.Length; q++) pv[q] = System.Numerics.Vector.Exp((vf + gv[q] - cv[q]) * vi);
            j = cv.Length * System.Numerics.Vector<double>.Count;
        }
        for (; j < m; j++) p[j] = Math.Exp((fi + g[j] - c[j]) * invG);
    }

    private static (int[], int[], double[], double[], double[]?) RowsFromPotentials(DenseGeometry geom, double[] f, double[] g, double gamma,
        double[] zy, int d, double[]? target, int td, int k)
    {
        int n = geom.N, m = geom.M;
        var matches = new int[n];
        var ti = new int[(long)n * k];
        var tv = new double[(long)n * k];
        var pe = new double[(long)n * d];
        var pt = target is null ? null : new double[(long)n * td];
        double invG = 1 / gamma;
        int chunks = Math.Max(1, Math.Min(n, Environment.ProcessorCount * 8));
        Parallel.For(0, chunks, ch =>
        {
            var scratch = new double[m];
            var p = new double[m];
            int i0 = (int)((long)n * ch / chunks), i1 = (int)((long)n * (ch + 1) / chunks);
            var topI = new int[k];
            var topV = new double[k];
            for (int i = i0; i < i1; i++)
            {
                var row = geom.Row(i, scratch);
                double sum = 0;
                int arg = 0;
                double best = double.NegativeInfinity;
                int filled = 0;
                ExpRow(row, g, f[i], invG, p);
                for (int j = 0; j < m; j++)
                {
                    double v = p[j];
                    sum += v;
                    if (v > best) { best = v; arg = j; }
                    // Insertion into the descending top-k (ties keep the lower index first).
                    if (filled < k || v > topV[k - 1])
                    {
                        int pos = filled < k ? filled++ : k - 1;
                        while (pos > 0 && topV[pos - 1] < v) { topV[pos] = topV[pos - 1]; topI[pos] = topI[pos - 1]; pos--; }
                        topV[pos] = v; topI[pos] = j;
                    }
                }
                matches[i] = arg;
                Array.Copy(topI, 0, ti, (long)i * k, k);
                Array.Copy(topV, 0, tv, (long)i * k, k);
                double inv = sum > 0 ? 1 / sum : 0;
                // Entries below 1e-16 of the row's largest are skipped: together < m·1e-16 of the row's mass.
                double floor = best * 1e-16;
                var e = pe.AsSpan((int)((long)i * d), d);
                for (int j = 0; j < m; j++)
                {
                    if (p[j] <= floor) continue;
                    double w = p[j] * inv;
                    for (int c = 0; c < d; c++) e[c] += w * zy[(long)j * d + c];
                    if (pt is not null) for (int c = 0; c < td; c++) pt[(long)i * td + c] += w * target![(long)j * td + c];
                }
            }
        });
        return (matches, ti, tv, pe, pt);
    }
}
