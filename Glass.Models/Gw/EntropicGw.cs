using System.Diagnostics;
using System.Globalization;
using Glass.Kernels.Device;
using Glass.Kernels.Gw;
using Glass.Kernels.Sinkhorn;

namespace Glass.Models.Gw;

/// <summary>Options of the entropic GW baseline (POT 0.8.2 <c>ot.gromov.entropic_gromov_wasserstein</c> defaults).</summary>
public sealed record EntropicGwOptions
{
    /// <summary>Entropic regularisation ε &gt; 0 of every inner Sinkhorn problem (POT <c>epsilon</c>).</summary>
    public required double Epsilon { get; init; }
    /// <summary>Outer (linearisation) iterations at most (POT <c>max_iter</c>).</summary>
    public int MaxIter { get; init; } = 1000;
    /// <summary>Stop when ‖Π_k − Π_{k−1}‖_F ≤ tol, checked at outer iterations 0, 10, 20, … (POT <c>tol</c>).</summary>
    public double Tol { get; init; } = 1e-9;
    /// <summary>Inner Sinkhorn iterations at most (POT's <c>ot.sinkhorn</c> default 1000).</summary>
    public int InnerMaxIter { get; init; } = 1000;
    /// <summary>Inner Sinkhorn stopping threshold on ‖Πᵀ1 − b‖₂ (POT default 1e-9).</summary>
    public double InnerTol { get; init; } = 1e-9;
    /// <summary>Start each inner Sinkhorn from the previous outer iteration's scalings (managed CPU path). Same fixed
    /// points as POT, many fewer inner iterations once the plan settles; off by default so the iterates are POT's.</summary>
    public bool WarmStart { get; init; }

    internal void Validate()
    {
        if (!(Epsilon > 0) || !double.IsFinite(Epsilon)) throw new ArgumentException($"Epsilon = {Epsilon.ToString(CultureInfo.InvariantCulture)}; expected a finite value > 0.", nameof(Epsilon));
        if (MaxIter < 1) throw new ArgumentException($"MaxIter = {MaxIter}; expected ≥ 1.", nameof(MaxIter));
        if (InnerMaxIter < 1) throw new ArgumentException($"InnerMaxIter = {InnerMaxIter}; expected ≥ 1.", nameof(InnerMaxIter));
        if (!(Tol >= 0)) throw new ArgumentException($"Tol = {Tol}; expected ≥ 0.", nameof(Tol));
        if (!(InnerTol >= 0)) throw new ArgumentException($"InnerTol = {InnerTol}; expected ≥ 0.", nameof(InnerTol));
    }
}

/// <summary>Result of <see cref="EntropicGw.Solve"/>.</summary>
/// <param name="Plan">Π, n×m row-major.</param>
/// <param name="N">Rows.</param>
/// <param name="M">Columns.</param>
/// <param name="GwLoss">Σ_ijkl (D_X,ik − D_Y,jl)² Π_ij Π_kl (POT's <c>gw_dist</c> for square loss).</param>
/// <param name="Iterations">Outer iterations performed.</param>
/// <param name="Converged">‖Π_k − Π_{k−1}‖_F ≤ tol reached within MaxIter.</param>
/// <param name="LastChange">‖Π_k − Π_{k−1}‖_F at the last check.</param>
/// <param name="InnerIterations">Sinkhorn iterations summed over outer iterations.</param>
/// <param name="LogDomainFallbacks">Inner solves where the exp-domain iteration broke down (zero or non-finite scaling) and the log-domain solver was used instead (CPU only).</param>
/// <param name="Seconds">Wall time of the solve.</param>
public sealed record EntropicGwResult(double[] Plan, int N, int M, double GwLoss, int Iterations, bool Converged, double LastChange,
    long InnerIterations, int LogDomainFallbacks, double Seconds);

/// <summary>
/// Entropic Gromov–Wasserstein by mirror descent / Gold–Rangarajan linearisation (learned-GW paper,
/// Appendix; Peyré, Cuturi, Solomon 2016): Π_0 = abᵀ, Π_{k+1} = Sinkhorn_ε(C_{k+1}) with
/// C_{k+1} = 2·(constC − 2·D_X Π_k D_Y) — exactly POT 0.8.2's <c>entropic_gromov_wasserstein(…, 'square_loss', ε)</c>.
/// The managed CPU path runs POT's exp-domain Sinkhorn (same iterates) with double GEMMs; an ILGPU
/// device runs the float32 GEMM kernels and the dense log-domain Sinkhorn kernels (same fixed point, float32 costs),
/// with the plan and the linearised cost kept on the device for the whole loop (the plan is downloaded once).
/// Memory O(n·m + n² + m²).
/// </summary>
public static class EntropicGw
{
    /// <summary>Solves entropic GW between metric-measure spaces (D_X, a) and (D_Y, b).</summary>
    /// <param name="device">Managed CPU or an ILGPU accelerator.</param>
    /// <param name="dx">D_X, n×n row-major, symmetric, finite.</param>
    /// <param name="dy">D_Y, m×m row-major.</param>
    /// <param name="n">Points of X.</param>
    /// <param name="m">Points of Y.</param>
    /// <param name="a">Marginal on X (null = uniform).</param>
    /// <param name="b">Marginal on Y (null = uniform).</param>
    /// <param name="options">ε and stopping rules.</param>
    /// <exception cref="ArgumentException">Shapes, non-finite entries, marginals or options; the message names the argument.</exception>
    public static EntropicGwResult Solve(ComputeDevice device, double[] dx, double[] dy, int n, int m, double[]? a, double[]? b, EntropicGwOptions options) =>
        SolveCounted(device, dx, dy, n, m, a, b, options, out _);

    /// <summary><see cref="Solve"/>, also
    /// reporting the host ↔ device copies of n×m arrays it made (2 on an accelerator: Π_0 up, Π down; 0 on the managed CPU).</summary>
    internal static EntropicGwResult SolveCounted(ComputeDevice device, double[] dx, double[] dy, int n, int m, double[]? a, double[]? b, EntropicGwOptions options,
        out int planSizedTransfers)
    {
        planSizedTransfers = 0;
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(dx);
        ArgumentNullException.ThrowIfNull(dy);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        CheckSquare(dx, n, nameof(dx));
        CheckSquare(dy, m, nameof(dy));
        var aa = Marginals.Resolve(a, n, nameof(a));
        var bb = Marginals.Resolve(b, m, nameof(b));
        var sw = Stopwatch.StartNew();

        var T = new double[(long)n * m];
        for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) T[(long)i * m + j] = aa[i] * bb[j];
        using var lin = new GwLinearization(device, dx, dy, n, m, aa, bb);
        var sopt = new SinkhornOptions { Gamma = options.Epsilon, MaxIter = options.InnerMaxIter, Tol = options.InnerTol, Overrelax = false, CheckEvery = 10, ReturnPlan = true };
        if (device.IsAccelerated) return SolveOnDevice(device, lin, T, aa, bb, options, sopt, sw, out planSizedTransfers);

        var prev = new double[T.Length];
        var tens = new double[T.Length];
        var scaling = new ScalingSinkhornCpu(n, m);
        double err = 1;
        int cpt = 0, fallbacks = 0;
        long inner = 0;
        while (err > options.Tol && cpt < options.MaxIter)
        {
            (prev, T) = (T, prev);
            lin.Tens(prev, tens);
            scaling.Solve(tens, aa, bb, options.Epsilon, options.InnerMaxIter, options.InnerTol, T, options.WarmStart);
            inner += scaling.Iterations;
            if (scaling.Numerical)
            {
                fallbacks++;
                var r = DenseSinkhorn.Solve(ComputeDevice.Cpu, DenseGeometry.FromCostMatrix(tens, n, m), aa, bb, sopt);
                Array.Copy(r.Plan!, T, T.Length);
                inner += r.Iterations;
            }
            if (cpt % 10 == 0)
            {
                double s = 0;
                for (long k = 0; k < T.Length; k++) { double d = T[k] - prev[k]; s += d * d; }
                err = Math.Sqrt(s);
            }
            cpt++;
        }
        lin.Tens(T, tens);
        double loss = 0;
        for (long k = 0; k < T.Length; k++) loss += 0.5 * tens[k] * T[k];
        return new EntropicGwResult(T, n, m, loss, cpt, err <= options.Tol, err, inner, fallbacks, sw.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// The outer loop on an accelerator with Π, tens(Π) and the Sinkhorn potentials resident on the device
    /// (<see cref="GwDeviceLoop"/>): no n×m array crosses to the host inside the loop. The change ‖Π_k − Π_{k−1}‖_F
    /// (every 10 outer iterations, as POT) is a device reduction by rows (n doubles read back); the plan comes back once.
    /// </summary>
    private static EntropicGwResult SolveOnDevice(ComputeDevice device, GwLinearization lin, double[] plan0, double[] a, double[] b,
        EntropicGwOptions options, SinkhornOptions sopt, Stopwatch sw, out int planSizedTransfers)
    {
        using var loop = new GwDeviceLoop(device, lin, a, b, plan0);
        double err = 1;
        int cpt = 0;
        while (err > options.Tol && cpt < options.MaxIter)
        {
            loop.Step(sopt);
            if (cpt % 10 == 0) err = loop.Change();
            cpt++;
        }
        var (plan, loss) = loop.Finish();
        planSizedTransfers = loop.PlanSizedTransfers;
        return new EntropicGwResult(plan, a.Length, b.Length, loss, cpt, err <= options.Tol, err, loop.InnerIterations, 0, sw.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// Label-free self-tuning of single-cell tools (SCOT, Demetci et al. 2022; learned-GW paper §5):
    /// for every k in <see cref="GwTuningOptions.Ks"/> build geodesic D_X, D_Y, for every ε solve, and
    /// keep the run with the lowest GW loss. No labels or correspondences are used.
    /// </summary>
    /// <param name="device">Where the solves run.</param>
    /// <param name="x">X, n×dX row-major.</param>
    /// <param name="n">Rows of X.</param>
    /// <param name="dX">Columns of X.</param>
    /// <param name="y">Y, m×dY row-major.</param>
    /// <param name="m">Rows of Y.</param>
    /// <param name="dY">Columns of Y.</param>
    /// <param name="options">The grid and the solver settings.</param>
    /// <param name="progress">Called after every grid point (in grid order), or null.</param>
    /// <exception cref="InvalidOperationException">No grid point produced a finite GW loss.</exception>
    public static GwTuningResult Tune(ComputeDevice device, double[] x, int n, int dX, double[] y, int m, int dY, GwTuningOptions options,
        Action<GwTuningTrial>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Epsilons.Count == 0 || options.Ks.Count == 0) throw new ArgumentException("Tune: the ε grid and the k grid must be non-empty.", nameof(options));
        var trials = new List<GwTuningTrial>();
        EntropicGwResult? best = null;
        double bestEps = 0; int bestK = 0;
        foreach (int k in options.Ks)
        {
            var dopt = options.Distances with { K = k };
            var DX = Distances.Compute(x, n, dX, dopt, "x");
            var DY = Distances.Compute(y, m, dY, dopt, "y");
            foreach (double eps in options.Epsilons)
            {
                var r = Solve(device, DX.Values, DY.Values, n, m, null, null, options.Solver with { Epsilon = eps });
                bool ok = double.IsFinite(r.GwLoss) && r.Plan.All(double.IsFinite);
                var trial = new GwTuningTrial(eps, k, r.GwLoss, r.Converged, ok, r.Seconds)
                {
                    Iterations = r.Iterations, InnerIterations = r.InnerIterations, LogDomainFallbacks = r.LogDomainFallbacks, Plan = options.KeepPlans ? r.Plan : null,
                };
                trials.Add(trial);
                progress?.Invoke(trial);
                if (ok && (best is null || r.GwLoss < best.GwLoss)) { best = r; bestEps = eps; bestK = k; }
            }
        }
        if (best is null) throw new InvalidOperationException("Tune: no (ε, k) grid point gave a finite GW loss.");
        return new GwTuningResult(best, bestEps, bestK, trials);
    }

    private static void CheckSquare(double[] d, int n, string name)
    {
        if (n < 1) throw new ArgumentException($"{name}: size {n}; expected ≥ 1.", name);
        if ((long)n * n != d.Length) throw new ArgumentException($"{name} has {d.Length} entries; expected {n}×{n} = {(long)n * n}.", name);
        for (int k = 0; k < d.Length; k++)
            if (!double.IsFinite(d[k])) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{name}[{k / n}, {k % n}] = {d[k]}; expected finite distances."), name);
    }
}

/// <summary>The grid of <see cref="EntropicGw.Tune"/>.</summary>
public sealed record GwTuningOptions
{
    /// <summary>ε values tried (SCOT's grid spans 5e-4 … 1e-2; 5e-4 is dropped: on SNARE-seq it needs the log-domain fallback and minutes per solve).</summary>
    public IReadOnlyList<double> Epsilons { get; init; } = new[] { 1e-3, 2e-3, 5e-3, 1e-2 };
    /// <summary>kNN sizes tried for the geodesic distances.</summary>
    public IReadOnlyList<int> Ks { get; init; } = new[] { 20, 50 };
    /// <summary>Distance settings (metric geodesic; K is overridden by the grid).</summary>
    public DistanceOptions Distances { get; init; } = new();
    /// <summary>Keep every grid point's plan in <see cref="GwTuningTrial.Plan"/> (for scoring the whole grid; memory n·m per point).</summary>
    public bool KeepPlans { get; init; }
    /// <summary>Solver settings (Epsilon is overridden by the grid).</summary>
    /// <remarks>Tuning defaults trade POT's bit-for-bit iterates for speed (SNARE-seq, n = 1047: a grid point in 10–60 s instead of
    /// minutes): outer and inner tolerance 1e-7 instead of 1e-9, at most 500 outer iterations, inner Sinkhorn warm-started.
    /// At ε = 1e-3, k = 50 the GW loss moves in the 4th significant digit (0.036755 vs 0.036743 after 20 POT-tolerance iterations).</remarks>
    public EntropicGwOptions Solver { get; init; } = new() { Epsilon = 1e-3, Tol = 1e-7, InnerTol = 1e-7, MaxIter = 500, WarmStart = true };
}

/// <summary>One grid point of <see cref="EntropicGw.Tune"/>.</summary>
/// <param name="Epsilon">ε.</param>
/// <param name="K">kNN size.</param>
/// <param name="GwLoss">GW loss of the plan (selection criterion).</param>
/// <param name="Converged">The outer loop converged.</param>
/// <param name="Valid">Finite loss and plan.</param>
/// <param name="Seconds">Solve time.</param>
public sealed record GwTuningTrial(double Epsilon, int K, double GwLoss, bool Converged, bool Valid, double Seconds)
{
    /// <summary>Outer iterations of the solve.</summary>
    public int Iterations { get; init; }
    /// <summary>Inner Sinkhorn iterations summed over the outer loop.</summary>
    public long InnerIterations { get; init; }
    /// <summary>Inner solves that fell back to the log domain.</summary>
    public int LogDomainFallbacks { get; init; }
    /// <summary>The plan (n×m row-major) when <see cref="GwTuningOptions.KeepPlans"/> is set, else null.</summary>
    public double[]? Plan { get; init; }
}

/// <summary>Result of <see cref="EntropicGw.Tune"/>.</summary>
/// <param name="Best">The lowest-GW-loss solve.</param>
/// <param name="Epsilon">Its ε.</param>
/// <param name="K">Its k.</param>
/// <param name="Trials">Every grid point, in grid order.</param>
public sealed record GwTuningResult(EntropicGwResult Best, double Epsilon, int K, IReadOnlyList<GwTuningTrial> Trials);
