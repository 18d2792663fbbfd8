using System.Diagnostics;
using System.Globalization;
using Glass.Kernels.Device;
using Glass.Kernels.Sinkhorn;

namespace Glass.Models.Gw;

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
public static partial class GwAligner
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
        var (candidates, bestPlan, bestLoss, bestName) = SelectLowestLoss(jobs);
        var ts = Stopwatch.StartNew();
        var (plan, loss, smoothing) = o.Discrepancy > 1 ? Smooth(dx, dy, n, m, bestPlan, bestLoss, o.Discrepancy) : (bestPlan, bestLoss, "none");
        progress?.Invoke(string.Create(CultureInfo.InvariantCulture, $"selected {bestName} (GW loss {bestLoss:G6}); smoothing {smoothing}: GW loss {loss:G6} ({ts.Elapsed.TotalSeconds:F1} s)"));
        return new GwSolution(plan, n, m, loss, bestName, bestPlan, bestLoss, smoothing, candidates, dx, dy, sw.Elapsed.TotalSeconds);
    }

    /// <summary>Waits for the candidates in their queued order (so the result does not depend on timing) and keeps the lowest GW loss (the first on ties).</summary>
    private static (List<GwCandidate> Candidates, double[] Plan, double Loss, string Name) SelectLowestLoss(
        List<(string Name, Task<(ExactGwResult R, double Seconds)> Run)> jobs)
    {
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
        return (candidates, bestPlan!, bestLoss, bestName);
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
}
