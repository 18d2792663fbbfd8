using Glass.Kernels.Device;
using Glass.Kernels.Sinkhorn;
using Glass.Models.Metrics;

namespace Glass.Models.Gw;

/// <summary>
/// Label-free selection among learned-GW restarts (learned-GW paper §4: the solver is "sensitive to the
/// initialization … symmetry-induced cell-line mismappings"). Each restart is scored by the GW loss (Eq. 4)
/// of its full-data entropic plan Π = Sinkhorn(C/c̄, γ = ε), C_ij = c(f(x_i), g(y_j)), measured on
/// selection distances D_X^sel, D_Y^sel that may differ from the training distances; the lowest score wins.
/// <para>
/// Why a second distance: a kNN-geodesic D with few hop levels (SNARE-seq, k = 50: 5 levels in RNA) or with
/// disconnected components filled by one constant is nearly invariant under permuting clusters of similar
/// size, so the training D cannot rank a cell-line swap against the correct assignment; the plain Euclidean
/// distance of the inputs keeps the between-cluster geometry (docs/reproduction.md, paper-003 section).
/// </para>
/// </summary>
public static class RestartSelection
{
    /// <summary>
    /// The default selection distances (<see cref="LearnedGwRestartOptions.Selection"/> = null): Euclidean on the
    /// preprocessed rows, max-normalised — no k, and it keeps the between-cluster geometry that a kNN geodesic flattens.
    /// </summary>
    public static DistanceOptions DefaultDistances { get; } = new() { Metric = DistanceMetric.Euclidean, NormalizeByMax = true };

    /// <summary>
    /// GW loss Σ_ijkl (D_X,ik − D_Y,jl)² Π_ij Π_kl of the entropic plan between embeddings zx (n×d) and zy (m×d)
    /// with uniform marginals, cost ‖zx_i − zy_j‖² divided by its mean c̄ and γ = <paramref name="epsilon"/>
    /// (the relative ε of <see cref="LearnedGwOptions"/>). Memory O(n·m) (the plan is dense).
    /// </summary>
    /// <param name="device">Where the Sinkhorn solve runs.</param>
    /// <param name="zx">Embeddings f(X), n×d row-major.</param>
    /// <param name="zy">Embeddings g(Y), m×d row-major.</param>
    /// <param name="n">Rows of zx.</param>
    /// <param name="m">Rows of zy.</param>
    /// <param name="d">Embedding dimension.</param>
    /// <param name="dx">D_X^sel, n×n.</param>
    /// <param name="dy">D_Y^sel, m×m.</param>
    /// <param name="epsilon">Relative ε (&gt; 0).</param>
    /// <exception cref="ArgumentException">Shapes that do not agree, ε ≤ 0.</exception>
    /// <exception cref="InvalidOperationException">Sinkhorn did not converge (names ε and the marginal error).</exception>
    public static double Score(ComputeDevice device, double[] zx, double[] zy, int n, int m, int d, double[] dx, double[] dy, double epsilon)
    {
        ArgumentNullException.ThrowIfNull(zx);
        ArgumentNullException.ThrowIfNull(zy);
        ArgumentNullException.ThrowIfNull(dx);
        ArgumentNullException.ThrowIfNull(dy);
        if (zx.Length != (long)n * d || zy.Length != (long)m * d)
            throw new ArgumentException($"embeddings: {zx.Length} and {zy.Length} values; expected n·d = {n}·{d} and m·d = {m}·{d}.");
        if (dx.Length != (long)n * n || dy.Length != (long)m * m)
            throw new ArgumentException($"selection distances: {dx.Length} and {dy.Length} values; expected {n}² and {m}².");
        if (!(epsilon > 0)) throw new ArgumentException($"epsilon = {epsilon}; expected > 0.", nameof(epsilon));
        var plan = Plan(device ?? ComputeDevice.Cpu, zx, zy, n, m, d, epsilon);
        return AlignmentMetrics.GwLoss(dx, dy, plan, n, m);
    }

    private const int MaxIter = 20000, MaxRounds = 5;

    /// <summary>The dense entropic plan used by <see cref="Score"/> (n×m, uniform marginals, γ = ε·c̄ on the raw squared-Euclidean cost, marginal error ≤ 1e-6·sqrt(1/n + 1/m); at most 5 × 20,000 iterations).</summary>
    internal static double[] Plan(ComputeDevice device, double[] zx, double[] zy, int n, int m, int d, double epsilon)
    {
        var geom = DenseGeometry.FromPoints(zx, zy, d);
        double cbar = MeanCost(zx, zy, n, m, d);
        // Marginal error ≤ 1e-6·‖(a, b)‖₂ for uniform marginals (as InductiveOptions.RelativeTol).
        double tol = 1e-6 * Math.Sqrt(1.0 / n + 1.0 / m);
        var so = new SinkhornOptions { Gamma = epsilon * cbar, MaxIter = MaxIter, Tol = tol, ReturnPlan = true };
        var r = DenseSinkhorn.Solve(device, geom, null, null, so);
        // Slow but converging (tight clusters at a small ε): continue from the potentials reached, up to MaxRounds·MaxIter
        // iterations in all. A solve that converges in the first round is untouched by this.
        int iterations = r.Iterations;
        for (int round = 1; !r.Converged && round < MaxRounds; round++)
        {
            r = DenseSinkhorn.Solve(device, geom, null, null, so, r.F, r.G);
            iterations += r.Iterations;
        }
        if (!r.Converged)
            throw new InvalidOperationException($"restart selection: Sinkhorn at relative ε = {epsilon} did not converge in {iterations} iterations (marginal error {r.MarginalError:G3}, tolerance {tol:G3}).");
        return r.Plan!;
    }

    /// <summary>Mean of ‖zx_i − zy_j‖² over all pairs, in closed form: mean‖x‖² + mean‖y‖² − 2⟨x̄, ȳ⟩.</summary>
    internal static double MeanCost(double[] zx, double[] zy, int n, int m, int d)
    {
        double sx = 0, sy = 0;
        var mx = new double[d]; var my = new double[d];
        for (int i = 0; i < n; i++) for (int k = 0; k < d; k++) { double v = zx[(long)i * d + k]; sx += v * v; mx[k] += v; }
        for (int j = 0; j < m; j++) for (int k = 0; k < d; k++) { double v = zy[(long)j * d + k]; sy += v * v; my[k] += v; }
        double dot = 0;
        for (int k = 0; k < d; k++) dot += mx[k] / n * (my[k] / m);
        return Math.Max(sx / n + sy / m - 2 * dot, 1e-300);
    }
}
