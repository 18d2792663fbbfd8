using System.Diagnostics;
using System.Globalization;
using Glass.Kernels.Device;
using Glass.Kernels.Sinkhorn;

namespace Glass.Models.Gw;

/// <summary>Settings of the GW solver stage of <see cref="GwAligner"/> (<see cref="LearnedGwOptions.Solver"/>); the names match the YAML keys under <c>model.gw.solver</c>.</summary>
public sealed record GwSolverOptions
{
    /// <summary>
    /// Relative ε of the entropic-GW starts (Gold–Rangarajan / mirror descent from abᵀ on the max-normalised distances):
    /// each one's plan is refined by exact conditional gradient and becomes a candidate. Empty = none.
    /// </summary>
    public IReadOnlyList<double> Epsilons { get; init; } = new[] { 5e-3, 1e-2 };
    /// <summary>
    /// Largest number of points per side the entropic starts run on. Larger inputs are subsampled (uniformly, by the seed)
    /// to this size; the coarse plan is lifted to all points through their nearest sampled point and refined by exact
    /// conditional gradient on the full data (a coarse-to-fine start).
    /// </summary>
    public int CoarseSize { get; init; } = 1000;
    /// <summary>
    /// Clusters per side of the multiscale start (0 = none): both sides are clustered by k-means; GW between the clusters
    /// (weights = sizes, distances = mean distances between members) is solved by conditional gradient from the product
    /// coupling and from <see cref="CoarseRestarts"/> random couplings — cheap at this size, so the combinatorial choice of
    /// which cluster goes where is explored widely — and the <see cref="MultiscaleStarts"/> best coarse plans, spread over
    /// their clusters' members, start conditional gradient on all points.
    /// </summary>
    public int Clusters { get; init; } = 32;
    /// <summary>Random starts of the coarse (cluster-level) problem.</summary>
    public int CoarseRestarts { get; init; } = 64;
    /// <summary>Best distinct coarse plans lifted to all points as candidates ("multiscale(r)").</summary>
    public int MultiscaleStarts { get; init; } = 2;
    /// <summary>Conditional-gradient settings of every candidate.</summary>
    public ExactGwOptions Exact { get; init; } = new();
    /// <summary>
    /// Discrepancy factor τ ≥ 1 of the final smoothing (Morozov's discrepancy principle; Engl, Hanke &amp; Neubauer 1996,
    /// §4.3): the selected exact plan Π* is replaced by the softest plan of the family below whose GW loss stays within
    /// τ·L(Π*) — the residual of the best fit is the noise level of the data, and alternatives no worse than it are not
    /// told apart by the geometry. An exact isometry (L(Π*) = 0) keeps its hard plan. 1 = no smoothing.
    /// </summary>
    public double Discrepancy { get; init; } = 1.1;
    /// <summary>Weight of the pseudo-pair term (the known-pairs loss on the selected plan's row-wise matches) in training.</summary>
    public double PseudoPairWeight { get; init; } = 0.01;

    /// <summary>Value equality, <see cref="Epsilons"/> compared element by element.</summary>
    public bool Equals(GwSolverOptions? other) =>
        other is not null && Epsilons.SequenceEqual(other.Epsilons) && CoarseSize == other.CoarseSize && Exact == other.Exact
        && Clusters == other.Clusters && CoarseRestarts == other.CoarseRestarts && MultiscaleStarts == other.MultiscaleStarts
        && Discrepancy == other.Discrepancy && PseudoPairWeight == other.PseudoPairWeight;

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Epsilons.Count, CoarseSize, Exact, Discrepancy, PseudoPairWeight);

    internal void Validate()
    {
        foreach (var e in Epsilons)
            if (!(e > 0) || !double.IsFinite(e))
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Epsilons contains {e}; expected finite values > 0."), nameof(Epsilons));
        if (!(Discrepancy >= 1) || !double.IsFinite(Discrepancy))
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Discrepancy = {Discrepancy}; expected a finite value ≥ 1."), nameof(Discrepancy));
        if (Clusters < 0 || Clusters == 1) throw new ArgumentException($"Clusters = {Clusters}; expected 0 (no multiscale start) or ≥ 2.", nameof(Clusters));
        if (CoarseRestarts < 0) throw new ArgumentException($"CoarseRestarts = {CoarseRestarts}; expected ≥ 0.", nameof(CoarseRestarts));
        if (MultiscaleStarts < 0) throw new ArgumentException($"MultiscaleStarts = {MultiscaleStarts}; expected ≥ 0.", nameof(MultiscaleStarts));
        if (CoarseSize < 2) throw new ArgumentException($"CoarseSize = {CoarseSize}; expected ≥ 2.", nameof(CoarseSize));
        if (!(PseudoPairWeight > 0) || !double.IsFinite(PseudoPairWeight))
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"PseudoPairWeight = {PseudoPairWeight}; expected a finite value > 0."), nameof(PseudoPairWeight));
        Exact.Validate();
    }
}

/// <summary>One start of <see cref="GwAligner"/> and where it ended.</summary>
/// <param name="Name">"product" (conditional gradient from abᵀ), "entropic(ε)" (from the entropic-GW plan at relative ε) or "model" (the trained model's own entropic plan).</param>
/// <param name="GwLoss">GW loss of the candidate's final plan on D_X, D_Y.</param>
/// <param name="Iterations">Conditional-gradient iterations (0 for "model").</param>
/// <param name="Seconds">Wall time of the candidate (its start included).</param>
public sealed record GwCandidate(string Name, double GwLoss, int Iterations, double Seconds);

/// <summary>What the solver stage (<see cref="GwAligner.Solve"/>) returns.</summary>
/// <param name="Plan">The solver's coupling Π (n×m row-major, marginals 1/n, 1/m): the selected candidate after smoothing.</param>
/// <param name="N">Rows.</param>
/// <param name="M">Columns.</param>
/// <param name="GwLoss">GW loss of <see cref="Plan"/> on D_X, D_Y.</param>
/// <param name="Selected">Name of the selected candidate (the lowest GW loss; the first on ties).</param>
/// <param name="SelectedPlan">The selected candidate's own plan Π* (before smoothing; a vertex of U(a, b) when the conditional gradient ended on one).</param>
/// <param name="SelectedLoss">L(Π*).</param>
/// <param name="Smoothing">How Π* was smoothed: "none", "entropic(ε)" or "mix(α, ε)" (<see cref="GwSolverOptions.Discrepancy"/>).</param>
/// <param name="Candidates">Every candidate, in the order tried.</param>
/// <param name="DistanceX">D_X (n×n) the solver used — also the training's.</param>
/// <param name="DistanceY">D_Y (m×m).</param>
/// <param name="Seconds">Wall time (distances included).</param>
public sealed record GwSolution(double[] Plan, int N, int M, double GwLoss, string Selected, double[] SelectedPlan, double SelectedLoss,
    string Smoothing, IReadOnlyList<GwCandidate> Candidates, double[] DistanceX, double[] DistanceY, double Seconds)
{
    /// <summary>The pseudo-pairs f, g are trained on: the row-wise argmax of Π* (every row of X once).</summary>
    public List<(int X, int Y)> PseudoPairs() => GwAligner.PseudoPairs(SelectedPlan, N, M);
}

/// <summary>What <see cref="GwAligner.Align"/> returns: the alignment of the given data and the trained model.</summary>
/// <param name="Plan">The coupling Π (n×m row-major): the solver's, or the model's own entropic plan when its GW loss is below the selected candidate's (before smoothing).</param>
/// <param name="GwLoss">GW loss of <see cref="Plan"/>.</param>
/// <param name="Source">"solver" or "model".</param>
/// <param name="Solution">The solver stage.</param>
/// <param name="ModelLoss">GW loss of the model's own entropic plan on the training data (the "model" candidate).</param>
/// <param name="Trainer">The trainer of f, g (its <see cref="LearnedGwTrainer.Model"/> aligns new data).</param>
/// <param name="History">Training steps of the model.</param>
/// <param name="TrainSeconds">Wall time of the training.</param>
public sealed record GwAlignment(double[] Plan, double GwLoss, string Source, GwSolution Solution, double ModelLoss, LearnedGwTrainer Trainer,
    IReadOnlyList<LearnedGwProgress> History, double TrainSeconds)
{
    /// <summary>Rows.</summary>
    public int N => Solution.N;
    /// <summary>Columns.</summary>
    public int M => Solution.M;

    /// <summary>Every candidate and the model's plan, as tried.</summary>
    public IReadOnlyList<GwCandidate> Candidates => Solution.Candidates.Append(new GwCandidate("model", ModelLoss, 0, 0)).ToList();

    /// <summary>Row-wise argmax of the plan (the first on ties).</summary>
    public int[] Matches() => GwAligner.PseudoPairs(Plan, N, M).Select(p => p.Y).ToArray();
}

/// <summary>
/// Learned GW with a solver-found start (learned-GW paper 003; the default of <see cref="LearnedGw"/>, <c>glass align</c> and
/// the gw configs, <see cref="GwInit.Solver"/>): solve Gromov–Wasserstein well first, then learn the maps.
/// <para>
/// <b>Solve</b> (<see cref="Solve"/>). Several starts — the product coupling abᵀ (whose first step matches points by their
/// mean distance: exact on an isometry whose points have distinct eccentricities), and entropic GW at each ε of
/// <see cref="GwSolverOptions.Epsilons"/> (on a subsample for large inputs, lifted to all points) — are each refined by
/// exact conditional gradient (<see cref="ExactGw"/>). The candidate with the lowest GW loss on D_X, D_Y wins: an isometry's
/// true pairing has loss 0, so lower is better, and no labels or true pairs are used. The winner Π* is then smoothed by
/// the discrepancy principle (<see cref="GwSolverOptions.Discrepancy"/>): hard where the geometry pins the partner down,
/// soft where alternatives are no worse than the data's own misfit.
/// </para>
/// <para>
/// <b>Learn</b> (<see cref="Align"/>). The MLPs f, g are trained with the GW loss plus Π*'s row-wise matches as pseudo-pairs
/// (the known-pairs term, paired minibatches), so the model carries the alignment to new data
/// (<see cref="InductiveAligner"/>); the model's own entropic plan is scored too and is returned when its GW loss is below the selected candidate's.
/// </para>
/// </summary>
public static class GwAligner
{
    /// <summary>Largest n·m (and n², m²) the solver accepts: it holds D_X, D_Y and several dense n×m plans.</summary>
    public const long MaxEntries = 16_000_000;

    /// <summary>Solves and learns: <see cref="Solve"/>, then trains f, g on the solution (<see cref="LearnedGwOptions.Steps"/> steps).</summary>
    /// <param name="x">X, row-major.</param>
    /// <param name="n">Rows of X (≥ 2).</param>
    /// <param name="dX">Features of X.</param>
    /// <param name="y">Y, row-major.</param>
    /// <param name="m">Rows of Y (≥ 2).</param>
    /// <param name="dY">Features of Y.</param>
    /// <param name="options">Model, preprocessing, distances, solver, training and seed (defaults when null; <see cref="LearnedGwOptions.Init"/> is ignored).</param>
    /// <param name="device">Where training and the model's Sinkhorn solves run (null = managed CPU); the GW solves run on the CPU.</param>
    /// <param name="progress">Called with one line per stage (may be null).</param>
    /// <exception cref="ArgumentException">Shapes, NaN/Inf, sizes above <see cref="MaxEntries"/>, bad options; the message names them.</exception>
    public static GwAlignment Align(double[] x, int n, int dX, double[] y, int m, int dY, LearnedGwOptions? options = null,
        ComputeDevice? device = null, Action<string>? progress = null)
    {
        var o = options ?? new LearnedGwOptions();
        var dev = device ?? ComputeDevice.Cpu;
        var solution = Solve(x, n, dX, y, m, dY, o, progress);
        var tt = Stopwatch.StartNew();
        var trainer = Trainer(x, n, dX, y, m, dY, o, solution, dev);
        var history = new List<LearnedGwProgress>();
        while (trainer.CompletedSteps < trainer.Options.Steps) history.Add(trainer.Step());
        double trainSeconds = tt.Elapsed.TotalSeconds;
        progress?.Invoke(string.Create(CultureInfo.InvariantCulture, $"model: {trainer.Options.Steps} training steps on {trainer.Options.KnownPairs!.Count} pseudo-pairs ({trainSeconds:F1} s)"));
        var mp = ModelPlan(dev, trainer.Model, x, n, y, m);
        double ml = ExactGw.Loss(solution.DistanceX, solution.DistanceY, mp, n, m);
        progress?.Invoke(string.Create(CultureInfo.InvariantCulture, $"candidate model: GW loss {ml:G6}"));
        // The model's plan replaces the solver's only when it beats the selected candidate itself (not its smoothing,
        // which spends up to τ·L(Π*) on purpose).
        return ml < solution.SelectedLoss
            ? new GwAlignment(mp, ml, "model", solution, ml, trainer, history, trainSeconds)
            : new GwAlignment(solution.Plan, solution.GwLoss, "solver", solution, ml, trainer, history, trainSeconds);
    }

    /// <summary>
    /// The trainer of f, g on a solution: <paramref name="options"/> with the solution's pseudo-pairs
    /// (<see cref="GwSolverOptions.PseudoPairWeight"/>, paired minibatches) and D_X, D_Y; <see cref="LearnedGwOptions.Init"/> = None.
    /// </summary>
    public static LearnedGwTrainer Trainer(double[] x, int n, int dX, double[] y, int m, int dY, LearnedGwOptions options, GwSolution solution,
        ComputeDevice? device = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(solution);
        return new LearnedGwTrainer(x, n, dX, y, m, dY, TrainingOptions(options, solution), device, solution.DistanceX, solution.DistanceY);
    }

    /// <summary>
    /// <paramref name="options"/> ready for a training loop: with <see cref="GwInit.Solver"/> the solver stage runs
    /// (<see cref="Solve"/>) and its pseudo-pairs are added (<see cref="TrainingOptions"/>); with <see cref="GwInit.None"/>
    /// the options are returned as they are and <paramref name="solution"/> is null. Deterministic, so a resumed run repeats it exactly.
    /// </summary>
    public static LearnedGwOptions Prepare(double[] x, int n, int dX, double[] y, int m, int dY, LearnedGwOptions options, out GwSolution? solution,
        Action<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        solution = null;
        if (options.Init == GwInit.None) return options;
        solution = Solve(x, n, dX, y, m, dY, options, progress);
        return TrainingOptions(options, solution);
    }

    /// <summary>The options the model trains with after the solver stage.</summary>
    /// <exception cref="ArgumentException">Known pairs or a fused term in <paramref name="options"/> (training terms of <see cref="GwInit.None"/>).</exception>
    internal static LearnedGwOptions TrainingOptions(LearnedGwOptions options, GwSolution solution) =>
        options.SupervisedWeight > 0 || options.FusedWeight > 0
            ? throw new ArgumentException("KnownPairs / FusedWeight are training terms of Init = GwInit.None; the solver start trains on the GW solution's pseudo-pairs (set Init = GwInit.None to use them).", nameof(options))
            : options with
    {
        Init = GwInit.None,
        KnownPairs = solution.PseudoPairs(),
        SupervisedWeight = options.Solver.PseudoPairWeight,
        PairedBatches = true,
    };

    /// <summary>
    /// The solver stage alone: preprocessing and D_X, D_Y as <paramref name="options"/> say, the candidates, the selection by
    /// the lowest GW loss and the discrepancy smoothing. Deterministic for given data and options (the seed draws the subsample).
    /// </summary>
    /// <inheritdoc cref="Align" path="/param"/>
    /// <inheritdoc cref="Align" path="/exception"/>
    public static GwSolution Solve(double[] x, int n, int dX, double[] y, int m, int dY, LearnedGwOptions? options = null, Action<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        var mo = options ?? new LearnedGwOptions();
        mo.Validate();
        var o = mo.Solver;
        if (n < 2 || m < 2) throw new ArgumentException($"x has {n} rows and y {m}; expected at least 2 points on each side.");
        CheckSize(n, m);
        var sw = Stopwatch.StartNew();
        var normX = GwNormalization.Fit(x, n, dX, mo.PreprocessX, "x");
        var normY = GwNormalization.Fit(y, m, dY, mo.PreprocessY, "y");
        var zx = normX.Apply(x, n, dX, "x");
        var zy = normY.Apply(y, m, dY, "y");
        var dx = Distances.Compute(zx, n, dX, mo.DistancesX, "x").Values;
        var dy = Distances.Compute(zy, m, dY, mo.DistancesY, "y").Values;
        var rng = new Random(mo.Seed);
        // Candidates run two at a time (the exact LP is sequential, the GEMMs parallel, so two lanes overlap them); each is a
        // pure function of its start, and the selection reads them in a fixed order, so the result does not depend on timing.
        // The random draws (subsample, then k-means and coarse starts) happen on this thread in a fixed order.
        var lanes = new SemaphoreSlim(Math.Clamp(Environment.ProcessorCount, 1, 2));
        var report = new object();
        var jobs = new List<(string Name, Task<(ExactGwResult R, double Seconds)> Run)>();
        void Queue(string name, Func<ExactGwResult> solve, double extraSeconds = 0) =>
            jobs.Add((name, Task.Run(async () =>
            {
                await lanes.WaitAsync().ConfigureAwait(false);
                try
                {
                    var w = Stopwatch.StartNew();
                    var r = solve();
                    double seconds = w.Elapsed.TotalSeconds + extraSeconds;
                    lock (report)
                        progress?.Invoke(string.Create(CultureInfo.InvariantCulture, $"candidate {name}: GW loss {r.GwLoss:G6} ({r.Iterations} conditional-gradient steps, {seconds:F1} s)"));
                    return (r, seconds);
                }
                finally { lanes.Release(); }
            })));

        Queue("product", () => ExactGw.Solve(dx, dy, n, m, null, o.Exact));
        if (o.Epsilons.Count > 0)
        {
            var (sx, sy) = (Sample(n, o.CoarseSize, rng), Sample(m, o.CoarseSize, rng));
            var cdx = Restrict(dx, n, sx);
            var cdy = Restrict(dy, m, sy);
            foreach (double eps in o.Epsilons)
                Queue(string.Create(CultureInfo.InvariantCulture, $"entropic({eps:G3})"), () =>
                {
                    var e = EntropicGw.Solve(ComputeDevice.Cpu, cdx, cdy, sx.Length, sy.Length, null, null,
                        new EntropicGwOptions { Epsilon = eps, Tol = 1e-7, InnerTol = 1e-7, MaxIter = 500, WarmStart = true });
                    var start = sx.Length == n && sy.Length == m ? e.Plan : Lift(e.Plan, sx, sy, dx, n, dy, m);
                    return ExactGw.Solve(dx, dy, n, m, start, o.Exact);
                });
        }
        if (o.Clusters >= 2 && o.MultiscaleStarts > 0 && Math.Min(n, m) > o.Clusters)
        {
            var t = Stopwatch.StartNew();
            var starts = Multiscale(zx, n, dX, dx, zy, m, dY, dy, o, rng);
            double coarseSeconds = t.Elapsed.TotalSeconds;
            for (int r = 0; r < starts.Count; r++)
            {
                var start = starts[r];
                Queue(string.Create(CultureInfo.InvariantCulture, $"multiscale({r + 1})"), () => ExactGw.Solve(dx, dy, n, m, start, o.Exact),
                    r == 0 ? coarseSeconds : 0);
            }
        }
        var candidates = new List<GwCandidate>();
        double[]? bestPlan = null;
        double bestLoss = double.PositiveInfinity;
        string bestName = "";
        foreach (var (name, run) in jobs)
        {
            var (r, seconds) = run.GetAwaiter().GetResult();
            candidates.Add(new GwCandidate(name, r.GwLoss, r.Iterations, seconds));
            if (r.GwLoss < bestLoss) { bestLoss = r.GwLoss; bestPlan = r.Plan; bestName = name; }
        }
        var ts = Stopwatch.StartNew();
        var (plan, loss, smoothing) = o.Discrepancy > 1 ? Smooth(dx, dy, n, m, bestPlan!, bestLoss, o.Discrepancy) : (bestPlan!, bestLoss, "none");
        progress?.Invoke(string.Create(CultureInfo.InvariantCulture, $"selected {bestName} (GW loss {bestLoss:G6}); smoothing {smoothing}: GW loss {loss:G6} ({ts.Elapsed.TotalSeconds:F1} s)"));
        return new GwSolution(plan, n, m, loss, bestName, bestPlan!, bestLoss, smoothing, candidates, dx, dy, sw.Elapsed.TotalSeconds);
    }

    /// <summary>Relative ε of the smoothing family, least soft first (each solve warm-starts the next).</summary>
    private static readonly double[] SmoothingEpsilons = { 2e-3, 5e-3, 1e-2, 2e-2 };

    /// <summary>
    /// The discrepancy-principle smoothing of an exact plan Π* with loss L*: the family P(ε) = Sinkhorn(−4·T(Π*), ε) — one
    /// mirror-descent step of entropic GW from Π* (Peyré, Cuturi &amp; Solomon 2016), soft where the linearised GW cost does
    /// not tell columns apart — for ε in <see cref="SmoothingEpsilons"/>, then the mixtures (1 − α)Π* + αP(ε_min); the
    /// softest member with L ≤ τ·L* is returned. The family is walked from the least soft member up and stops at the first
    /// that spends more than the budget (the loss grows with ε); the mixture's loss is an exact quadratic in α, read off
    /// ⟨T(Π*), Π*⟩, ⟨T(Π*), P⟩ and ⟨T(P), P⟩ (D_X, D_Y symmetric). L* = 0 returns Π*.
    /// </summary>
    internal static (double[] Plan, double Loss, string How) Smooth(double[] dx, double[] dy, int n, int m, double[] best, double bestLoss, double tau)
    {
        double budget = tau * bestLoss;
        if (!(bestLoss > 1e-12)) return (best, bestLoss, "none");
        long nm = (long)n * m;
        // On U(1/n, 1/m): L(Π) = c − 2⟨T(Π), Π⟩ with c = Σ D_X² / n² + Σ D_Y² / m².
        double constant = SumOfSquares(dx) / ((double)n * n) + SumOfSquares(dy) / ((double)m * m);
        var tb = new double[nm];
        ExactGw.Transform(dx, dy, best, n, m, tb);
        var cost = new double[nm];
        double min = double.PositiveInfinity;
        for (long k = 0; k < nm; k++) { cost[k] = -4 * tb[k]; if (cost[k] < min) min = cost[k]; }
        for (long k = 0; k < nm; k++) cost[k] -= min;
        var geom = DenseGeometry.FromCostMatrix(cost, n, m);
        var tp = new double[nm];
        // ε-scaling for the potentials (softest first, each warm-starting the next), then the members are read least soft first.
        double Tol() => 1e-4 * Math.Sqrt(1.0 / n + 1.0 / m);
        var potentials = new (double[] F, double[] G)[SmoothingEpsilons.Length];
        double[]? f = null, g = null;
        for (int i = SmoothingEpsilons.Length - 1; i >= 0; i--)
        {
            var r = DenseSinkhorn.Solve(ComputeDevice.Cpu, geom, null, null,
                new SinkhornOptions { Gamma = SmoothingEpsilons[i], MaxIter = 20000, Tol = Tol() }, f, g);
            f = r.F; g = r.G;
            potentials[i] = (r.F, r.G);
        }
        double[]? passed = null;
        double passedLoss = 0, passedEps = 0;
        for (int i = 0; i < SmoothingEpsilons.Length; i++)
        {
            double e = SmoothingEpsilons[i];
            var p = DenseSinkhorn.Solve(ComputeDevice.Cpu, geom, null, null,
                new SinkhornOptions { Gamma = e, MaxIter = 20000, Tol = Tol(), ReturnPlan = true }, potentials[i].F, potentials[i].G).Plan!;
            ExactGw.RoundToMarginals(p, n, m);
            ExactGw.Transform(dx, dy, p, n, m, tp);
            double pp = Dot(tp, p);
            double l = Math.Max(0, constant - 2 * pp);
            if (l <= budget) { (passed, passedLoss, passedEps) = (p, l, e); continue; }
            if (passed is not null) break;
            // Even the least soft member spends too much: mix it with Π*.
            double bb = Dot(tb, best), cross = Dot(tb, p);
            double qb = 4 * (bb - cross), qa = 2 * (2 * cross - bb - pp);
            double alpha = LargestRoot(qa, qb, budget - bestLoss);
            if (alpha <= 0) return (best, bestLoss, "none");
            var mix = new double[nm];
            for (long k = 0; k < nm; k++) mix[k] = (1 - alpha) * best[k] + alpha * p[k];
            return (mix, Math.Max(0, bestLoss + qb * alpha + qa * alpha * alpha), string.Create(CultureInfo.InvariantCulture, $"mix({alpha:G3}, {e:G3})"));
        }
        return (passed!, passedLoss, string.Create(CultureInfo.InvariantCulture, $"entropic({passedEps:G3})"));
    }

    private static double SumOfSquares(double[] d)
    {
        double s = 0;
        foreach (double v in d) s += v * v;
        return s;
    }

    private static double Dot(double[] u, double[] v)
    {
        double s = 0;
        for (long k = 0; k < u.Length; k++) s += u[k] * v[k];
        return s;
    }

    /// <summary>Largest α ∈ [0, 1] with a·α² + b·α ≤ c (c ≥ 0; the quadratic is 0 at α = 0).</summary>
    private static double LargestRoot(double a, double b, double c)
    {
        if (a * 1 + b <= c) return 1;
        if (Math.Abs(a) < 1e-300) return b > 0 ? Math.Clamp(c / b, 0, 1) : 1;
        double disc = b * b + 4 * a * c;
        if (disc < 0) return 0;
        double r1 = (-b + Math.Sqrt(disc)) / (2 * a), r2 = (-b - Math.Sqrt(disc)) / (2 * a);
        // The feasible set starts at α = 0; its right end is the smallest root above 0.
        double root = double.PositiveInfinity;
        foreach (var r in new[] { r1, r2 }) if (r > 0 && r < root) root = r;
        return double.IsFinite(root) ? Math.Clamp(root, 0, 1) : 0;
    }

    /// <summary>
    /// The alignment in the read-out form of <see cref="InductiveAligner"/> (what <c>glass align</c> writes): hard matches
    /// and the top-k entries of every row of <see cref="GwAlignment.Plan"/>, and the barycentric projections of X onto g(Y)
    /// and onto Y's normalised features.
    /// </summary>
    /// <param name="alignment">The result of <see cref="Align"/>.</param>
    /// <param name="y">The Y it was computed on (m×DimY, raw).</param>
    /// <param name="topK">Entries kept per row (1 ≤ k ≤ m).</param>
    /// <param name="nameY">Name of Y in errors.</param>
    public static InductiveAlignment Summarize(GwAlignment alignment, double[] y, int topK, string nameY = "y")
    {
        ArgumentNullException.ThrowIfNull(alignment);
        var sw = Stopwatch.StartNew();
        var model = alignment.Trainer.Model;
        int n = alignment.N, m = alignment.M, d = model.EmbedDim, td = model.DimY;
        if (topK < 1 || topK > m) throw new ArgumentException($"TopK = {topK}; expected 1 ≤ k ≤ m = {m}.", nameof(topK));
        var zy = model.EmbedY(y, m, nameY);
        var target = model.NormalizationY.Apply(y, m, td, nameY);
        var plan = alignment.Plan;
        var matches = new int[n];
        var ti = new int[(long)n * topK];
        var tv = new double[(long)n * topK];
        var pe = new double[(long)n * d];
        var pt = new double[(long)n * td];
        Parallel.For(0, n, i =>
        {
            long off = (long)i * m;
            var idx = Enumerable.Range(0, m).ToArray();
            var key = new double[m];
            for (int j = 0; j < m; j++) key[j] = -plan[off + j];
            Array.Sort(key, idx);
            // Ties: lower column first (Array.Sort is not stable).
            for (int s = 0; s < m;)
            {
                int e = s + 1;
                while (e < m && key[e] == key[s]) e++;
                if (e - s > 1) Array.Sort(idx, s, e - s);
                s = e;
            }
            for (int r = 0; r < topK; r++) { ti[(long)i * topK + r] = idx[r]; tv[(long)i * topK + r] = plan[off + idx[r]]; }
            matches[i] = idx[0];
            double mass = 0;
            for (int j = 0; j < m; j++)
            {
                double w = plan[off + j];
                if (w == 0) continue;
                mass += w;
                for (int k = 0; k < d; k++) pe[(long)i * d + k] += w * zy[(long)j * d + k];
                for (int k = 0; k < td; k++) pt[(long)i * td + k] += w * target[(long)j * td + k];
            }
            if (mass > 0)
            {
                for (int k = 0; k < d; k++) pe[(long)i * d + k] /= mass;
                for (int k = 0; k < td; k++) pt[(long)i * td + k] /= mass;
            }
        });
        return new InductiveAlignment(n, m, matches, topK, ti, tv, pe, pt, td, 0, 0, true, MarginalError(plan, n, m), sw.Elapsed.TotalSeconds);
    }

    private static double MarginalError(double[] plan, int n, int m)
    {
        var cs = new double[m];
        double e = 0;
        for (int i = 0; i < n; i++)
        {
            double r = 0;
            for (int j = 0; j < m; j++) { double w = plan[(long)i * m + j]; r += w; cs[j] += w; }
            e += (r - 1.0 / n) * (r - 1.0 / n);
        }
        for (int j = 0; j < m; j++) e += (cs[j] - 1.0 / m) * (cs[j] - 1.0 / m);
        return Math.Sqrt(e);
    }

    /// <summary>Throws when the dense matrices of the aligner would exceed <see cref="MaxEntries"/>.</summary>
    public static void CheckSize(int n, int m)
    {
        long need = Math.Max((long)n * m, Math.Max((long)n * n, (long)m * m));
        if (need > MaxEntries)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"{n}×{m} points: the GW solver holds dense {n}×{m} plans and the {n}×{n}, {m}×{m} distance matrices ({need} entries; limit {MaxEntries}). Align a subsample and apply the trained model to the rest (glass align --model)."));
    }

    /// <summary>Row-wise argmax pairs of a plan (every row with mass).</summary>
    internal static List<(int X, int Y)> PseudoPairs(double[] plan, int n, int m)
    {
        var pairs = new List<(int, int)>(n);
        for (int i = 0; i < n; i++)
        {
            long off = (long)i * m;
            int b = 0;
            for (int j = 1; j < m; j++) if (plan[off + j] > plan[off + b]) b = j;
            if (plan[off + b] > 0) pairs.Add((i, b));
        }
        return pairs;
    }

    /// <summary>The model's dense entropic plan (n×m, row-major) on the training data x (n rows) and y (m rows): the transductive alignment of learned GW.</summary>
    public static double[] ModelPlan(ComputeDevice device, GwModel model, double[] x, int n, double[] y, int m)
    {
        var ex = model.EmbedX(x, n);
        var ey = model.EmbedY(y, m);
        double cbar = InductiveAligner.MeanSqDistance(ex, ey, n, m, model.EmbedDim);
        var r = DenseSinkhorn.Solve(device, DenseGeometry.FromPoints(ex, ey, model.EmbedDim), null, null,
            new SinkhornOptions { Gamma = model.Epsilon * cbar, MaxIter = 20000, Tol = 1e-6 * Math.Sqrt(1.0 / n + 1.0 / m), ReturnPlan = true });
        var p = r.Plan!;
        ExactGw.RoundToMarginals(p, n, m);
        return p;
    }

    /// <summary>
    /// The multiscale starts (<see cref="GwSolverOptions.Clusters"/>): k-means clusters of both sides, the cluster-level GW
    /// problem solved from the product coupling and from random couplings, and the best distinct coarse plans spread
    /// evenly over their clusters' members (each already in U(1/n, 1/m)).
    /// </summary>
    private static List<double[]> Multiscale(double[] zx, int n, int dX, double[] dx, double[] zy, int m, int dY, double[] dy, GwSolverOptions o, Random rng)
    {
        var lx = KMeans(zx, n, dX, o.Clusters, rng);
        var ly = KMeans(zy, m, dY, o.Clusters, rng);
        var (cdx, wx) = ClusterDistances(dx, n, lx, o.Clusters);
        var (cdy, wy) = ClusterDistances(dy, m, ly, o.Clusters);
        int kx = wx.Length, ky = wy.Length;
        var coarse = new List<ExactGwResult> { ExactGw.Solve(cdx, cdy, kx, ky, wx, wy, null, o.Exact) };
        for (int r = 0; r < o.CoarseRestarts; r++)
        {
            var start = new double[kx * ky];
            for (int k = 0; k < start.Length; k++) start[k] = -Math.Log(1 - rng.NextDouble());
            for (int round = 0; round < 50; round++)
            {
                for (int a = 0; a < kx; a++) { double s = 0; for (int b = 0; b < ky; b++) s += start[a * ky + b]; for (int b = 0; b < ky; b++) start[a * ky + b] *= wx[a] / s; }
                for (int b = 0; b < ky; b++) { double s = 0; for (int a = 0; a < kx; a++) s += start[a * ky + b]; for (int a = 0; a < kx; a++) start[a * ky + b] *= wy[b] / s; }
            }
            ExactGw.RoundToMarginals(start, kx, ky, wx, wy);
            coarse.Add(ExactGw.Solve(cdx, cdy, kx, ky, wx, wy, start, o.Exact));
        }
        // The best distinct coarse plans (plans closer than 1e-9 in L1 are one solution).
        var chosen = new List<ExactGwResult>();
        foreach (var c in coarse.OrderBy(c => c.GwLoss))
        {
            if (chosen.Any(q => q.Plan.Zip(c.Plan, (u, v) => Math.Abs(u - v)).Sum() < 1e-9)) continue;
            chosen.Add(c);
            if (chosen.Count == o.MultiscaleStarts) break;
        }
        var sizeX = new int[kx];
        var sizeY = new int[ky];
        foreach (int l in lx) sizeX[l]++;
        foreach (int l in ly) sizeY[l]++;
        return chosen.Select(c =>
        {
            var p = new double[(long)n * m];
            Parallel.For(0, n, i =>
            {
                int a = lx[i];
                for (int j = 0; j < m; j++) { int b = ly[j]; p[(long)i * m + j] = c.Plan[a * ky + b] / ((double)sizeX[a] * sizeY[b]); }
            });
            return p;
        }).ToList();
    }

    /// <summary>
    /// Lloyd's k-means with k-means++ seeding (Arthur &amp; Vassilvitskii 2007), at most 50 rounds; labels 0…K−1 with every
    /// label used (empty clusters are dropped and the labels renumbered).
    /// </summary>
    internal static int[] KMeans(double[] z, int n, int d, int k, Random rng)
    {
        k = Math.Min(k, n);
        var centres = new double[k * d];
        var dist = new double[n];
        Array.Fill(dist, double.PositiveInfinity);
        int first = rng.Next(n);
        Array.Copy(z, (long)first * d, centres, 0, d);
        for (int c = 1; c <= k; c++)
        {
            // Distances to the nearest chosen centre; the next centre is drawn ∝ distance².
            int prev = c - 1;
            double total = 0;
            for (int i = 0; i < n; i++)
            {
                double s = 0;
                for (int t = 0; t < d; t++) { double e = z[(long)i * d + t] - centres[prev * d + t]; s += e * e; }
                if (s < dist[i]) dist[i] = s;
                total += dist[i];
            }
            if (c == k) break;
            double u = rng.NextDouble() * total;
            int pick = n - 1;
            for (int i = 0; i < n; i++) { u -= dist[i]; if (u <= 0) { pick = i; break; } }
            Array.Copy(z, (long)pick * d, centres, c * d, d);
        }
        var label = new int[n];
        for (int round = 0; round < 50; round++)
        {
            bool changed = false;
            Parallel.For(0, n, () => false, (i, _, ch) =>
            {
                int best = 0;
                double bd = double.PositiveInfinity;
                for (int c = 0; c < k; c++)
                {
                    double s = 0;
                    for (int t = 0; t < d; t++) { double e = z[(long)i * d + t] - centres[c * d + t]; s += e * e; }
                    if (s < bd) { bd = s; best = c; }
                }
                if (label[i] != best || round == 0) { label[i] = best; ch = true; }
                return ch;
            }, ch => { if (ch) changed = true; });
            if (!changed && round > 0) break;
            var count = new int[k];
            Array.Clear(centres);
            for (int i = 0; i < n; i++) { count[label[i]]++; for (int t = 0; t < d; t++) centres[label[i] * d + t] += z[(long)i * d + t]; }
            for (int c = 0; c < k; c++) if (count[c] > 0) for (int t = 0; t < d; t++) centres[c * d + t] /= count[c];
        }
        // Renumber the non-empty clusters 0…K'−1.
        var map = new int[k];
        Array.Fill(map, -1);
        int next = 0;
        for (int i = 0; i < n; i++) if (map[label[i]] < 0) map[label[i]] = next++;
        for (int i = 0; i < n; i++) label[i] = map[label[i]];
        return label;
    }

    /// <summary>Mean distance between the members of every two clusters (K×K) and the clusters' weights |c|/n.</summary>
    private static (double[] D, double[] W) ClusterDistances(double[] d, int n, int[] label, int k)
    {
        int kk = label.Max() + 1;
        var size = new int[kk];
        foreach (int l in label) size[l]++;
        var sum = new double[kk * kk];
        for (int i = 0; i < n; i++)
        {
            int a = label[i];
            for (int j = 0; j < n; j++) sum[a * kk + label[j]] += d[(long)i * n + j];
        }
        for (int a = 0; a < kk; a++) for (int b = 0; b < kk; b++) sum[a * kk + b] /= (double)size[a] * size[b];
        // Exact symmetry for the solver.
        for (int a = 0; a < kk; a++) for (int b = a + 1; b < kk; b++) { double v = 0.5 * (sum[a * kk + b] + sum[b * kk + a]); sum[a * kk + b] = v; sum[b * kk + a] = v; }
        var w = size.Select(c => (double)c / n).ToArray();
        double tot = w.Sum();
        for (int a = 0; a < kk; a++) w[a] /= tot;
        return (sum, w);
    }

    /// <summary>All indices when n ≤ size, else a uniform sample of size indices (sorted).</summary>
    private static int[] Sample(int n, int size, Random rng)
    {
        if (n <= size) return Enumerable.Range(0, n).ToArray();
        var idx = Enumerable.Range(0, n).ToArray();
        for (int k = 0; k < size; k++) { int r = k + rng.Next(n - k); (idx[k], idx[r]) = (idx[r], idx[k]); }
        var s = idx[..size];
        Array.Sort(s);
        return s;
    }

    private static double[] Restrict(double[] d, int n, int[] idx)
    {
        if (idx.Length == n) return d;
        int s = idx.Length;
        var r = new double[(long)s * s];
        for (int a = 0; a < s; a++) for (int b = 0; b < s; b++) r[(long)a * s + b] = d[(long)idx[a] * n + idx[b]];
        return r;
    }

    /// <summary>
    /// Lifts a coarse plan (sample sx × sample sy) to all n × m points: each point joins its nearest sampled point, the
    /// mass of a coarse entry is spread evenly over its block, and the result is scaled onto the uniform marginals.
    /// </summary>
    public static double[] Lift(double[] coarse, int[] sx, int[] sy, double[] dx, int n, double[] dy, int m)
    {
        var lx = Nearest(dx, n, sx);
        var ly = Nearest(dy, m, sy);
        var cx = new int[sx.Length];
        var cy = new int[sy.Length];
        foreach (int l in lx) cx[l]++;
        foreach (int l in ly) cy[l]++;
        int s = sy.Length;
        var p = new double[(long)n * m];
        Parallel.For(0, n, i =>
        {
            int a = lx[i];
            for (int j = 0; j < m; j++) { int b = ly[j]; p[(long)i * m + j] = coarse[(long)a * s + b] / ((double)cx[a] * cy[b]); }
        });
        // A few rounds of matrix scaling onto (1/n, 1/m), then exact rounding.
        var rs = new double[n];
        var cs = new double[m];
        for (int round = 0; round < 20; round++)
        {
            Parallel.For(0, n, i => { double t = 0; for (int j = 0; j < m; j++) t += p[(long)i * m + j]; rs[i] = t > 0 ? 1.0 / (n * t) : 0; });
            Array.Clear(cs);
            for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) { double v = p[(long)i * m + j] *= rs[i]; cs[j] += v; }
            for (int j = 0; j < m; j++) cs[j] = cs[j] > 0 ? 1.0 / (m * cs[j]) : 0;
            Parallel.For(0, n, i => { for (int j = 0; j < m; j++) p[(long)i * m + j] *= cs[j]; });
        }
        ExactGw.RoundToMarginals(p, n, m);
        return p;
    }

    /// <summary>For every point, the index (into <paramref name="sample"/>) of the nearest sampled point under d.</summary>
    private static int[] Nearest(double[] d, int n, int[] sample)
    {
        var r = new int[n];
        Parallel.For(0, n, i =>
        {
            int best = 0;
            double bd = double.PositiveInfinity;
            for (int k = 0; k < sample.Length; k++) { double v = d[(long)i * n + sample[k]]; if (v < bd) { bd = v; best = k; } }
            r[i] = best;
        });
        return r;
    }
}
