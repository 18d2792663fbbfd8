using System.Diagnostics;
using System.Globalization;
using Glass.Kernels.Device;

namespace Glass.Models.Gw;

/// <summary>
/// Restart settings of <see cref="LearnedGwRestarts"/>; the names match the YAML keys under <c>train:</c>
/// (<c>restarts</c>, <c>restart_steps</c>, <c>selection: euclidean | training</c>).
/// </summary>
public sealed record LearnedGwRestartOptions
{
    /// <summary>Initialisations R tried (≥ 1). With R = 1 training is plain <see cref="LearnedGw.Train"/> (no scoring).</summary>
    public int Restarts { get; init; } = 1;

    /// <summary>
    /// Steps S each restart trains before it is scored: 0 = every restart trains to <see cref="LearnedGwOptions.Steps"/>;
    /// otherwise 1 ≤ S ≤ Steps and only the selected restart continues to Steps (R·S + Steps − S steps in all).
    /// Ignored when <see cref="Restarts"/> = 1.
    /// </summary>
    public int RestartSteps { get; init; }

    /// <summary>
    /// Distances D_X^sel, D_Y^sel of the selection score, computed once on the preprocessed rows of each domain;
    /// null = <see cref="RestartSelection.DefaultDistances"/> (Euclidean, max-normalised). Must be null when
    /// <see cref="SelectOnTrainingDistances"/> is set.
    /// </summary>
    public DistanceOptions? Selection { get; init; }

    /// <summary>Score on the training D_X, D_Y (<see cref="LearnedGwTrainer.DistanceX"/>, <see cref="LearnedGwTrainer.DistanceY"/>) instead of <see cref="Selection"/>.</summary>
    public bool SelectOnTrainingDistances { get; init; }

    /// <summary>The distances the score uses, as the YAML writes them: "training", "euclidean" (the default) or the metric of <see cref="Selection"/>.</summary>
    public string SelectionName => SelectOnTrainingDistances ? "training" : (Selection ?? RestartSelection.DefaultDistances).Metric.ToString().ToLowerInvariant();

    /// <summary>Checks the settings against <paramref name="steps"/> = <see cref="LearnedGwOptions.Steps"/>.</summary>
    /// <exception cref="ArgumentException">Restarts &lt; 1, RestartSteps outside 0…Steps, both selection choices given; the message names the property and the range.</exception>
    public void Validate(int steps)
    {
        if (Restarts < 1)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Restarts = {Restarts}; expected an integer ≥ 1."), nameof(Restarts));
        if (RestartSteps < 0 || RestartSteps > steps)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"RestartSteps = {RestartSteps}; expected 0 (every restart trains to the end) or 1 … Steps = {steps}."), nameof(RestartSteps));
        if (SelectOnTrainingDistances && Selection is not null)
            throw new ArgumentException("Selection is set together with SelectOnTrainingDistances; expected one of them.", nameof(Selection));
    }
}

/// <summary>What <see cref="LearnedGwRestarts.Train"/> (or <see cref="LearnedGwRestarts.Select"/>) returns.</summary>
/// <param name="Trainer">The selected restart's trainer: at <see cref="LearnedGwOptions.Steps"/> after Train, at its restart steps after Select.</param>
/// <param name="Seeds">Seed of every restart, in order: seed·R + r when R &gt; 1, the options' seed when R = 1.</param>
/// <param name="Scores">Selection score of every restart (<see cref="RestartSelection.Score"/>); NaN when R = 1 (nothing is scored).</param>
/// <param name="Selected">Index r of the selected restart (the first of the lowest scores; 0 when R = 1).</param>
/// <param name="History">Every step of the selected restart, its restart steps included (<see cref="LearnedGwProgress.Seconds"/> is that trainer's own time).</param>
/// <param name="Seconds">Wall time of the call (all restarts, their scoring and the continuation).</param>
public sealed record LearnedGwRestartResult(LearnedGwTrainer Trainer, IReadOnlyList<int> Seeds, IReadOnlyList<double> Scores, int Selected,
    IReadOnlyList<LearnedGwProgress> History, double Seconds)
{
    /// <summary>Seed of the selected restart (its trainer's <see cref="LearnedGwOptions.Seed"/>).</summary>
    public int SelectedSeed => Seeds[Selected];

    /// <summary>Score of the selected restart (NaN when R = 1).</summary>
    public double SelectedScore => Scores[Selected];
}

/// <summary>
/// The label-free restart protocol of learned GW (learned-GW paper §4: the solver is "sensitive to the initialization";
/// docs/reproduction.md, "Learned GW on SNARE-seq"): R initialisations with seeds seed·R + r, r = 0…R−1, each trained
/// for S = <see cref="LearnedGwRestartOptions.RestartSteps"/> steps (or to the end when S = 0), each scored by
/// <see cref="RestartSelection.Score"/> — the GW loss (Eq. 4) of its full-data entropic plan at ε_min on the selection
/// distances — and only the lowest-scoring one continues to <see cref="LearnedGwOptions.Steps"/>. Neither labels nor the
/// true pairing enter: the protocol sees X, Y and the options only. R = 1 is exactly <see cref="LearnedGw.Train"/>.
/// Used by <c>SnareSeqExperiment.RunLearned</c>, <c>glass align</c> and <c>glass run</c> (<see cref="GwExperiment"/>).
/// </summary>
public static class LearnedGwRestarts
{
    /// <summary>Largest n·m (and n², m²) for which restarts are scored (the dense plan and selection distances, 8 bytes per entry).</summary>
    public const long MaxScoreEntries = 16_000_000;

    /// <summary>Seed of restart <paramref name="r"/>: <paramref name="seed"/>·R + r when R &gt; 1, <paramref name="seed"/> when R = 1.</summary>
    /// <exception cref="ArgumentException">seed·R + r does not fit an int.</exception>
    public static int SeedOf(int seed, int restarts, int r)
    {
        if (restarts == 1) return seed;
        long s = (long)seed * restarts + r;
        if (s is < int.MinValue or > int.MaxValue)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"seed {seed} × restarts {restarts} + {r} does not fit a 32-bit seed; expected a smaller seed."), nameof(seed));
        return (int)s;
    }

    /// <summary>Throws when R &gt; 1 and the dense selection score would need more than <see cref="MaxScoreEntries"/> entries.</summary>
    /// <exception cref="ArgumentException">Names n, m, the entries needed, the limit and suggests restarts = 1.</exception>
    public static void CheckSize(int n, int m, int restarts)
    {
        if (restarts <= 1) return;
        long need = Math.Max((long)n * m, Math.Max((long)n * n, (long)m * m));
        if (need > MaxScoreEntries)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"restarts = {restarts}: the selection score needs the dense {n}×{m} plan and the {n}×{n}, {m}×{m} selection distances ({need} entries per matrix; limit {MaxScoreEntries}); use restarts = 1 for data this large."), nameof(restarts));
    }

    /// <summary>
    /// Runs the protocol on X (n×dX) and Y (m×dY), row-major, and continues the selected restart to
    /// <see cref="LearnedGwOptions.Steps"/>.
    /// </summary>
    /// <param name="x">X, row-major.</param>
    /// <param name="n">Rows of X.</param>
    /// <param name="dX">Features of X.</param>
    /// <param name="y">Y, row-major.</param>
    /// <param name="m">Rows of Y.</param>
    /// <param name="dY">Features of Y.</param>
    /// <param name="options">Training options; restart r trains with Seed = <see cref="SeedOf"/>(options.Seed, R, r).</param>
    /// <param name="restarts">Restart settings (null = one restart: plain training).</param>
    /// <param name="device">Where training and scoring run (null = managed CPU).</param>
    /// <param name="onRestart">Called once per restart right after it is scored (R &gt; 1 only), with (its seed, its score, its trainer) —
    /// for progress and diagnostics; what it computes never reaches the selection. Null = none.</param>
    /// <param name="onStep">Called after every step of every restart, continuation included, with (restart index r, the step, its trainer). Null = none.</param>
    /// <exception cref="ArgumentException">Bad shapes, options or restart settings, or data too large for the dense score (<see cref="CheckSize"/>); the message names them.</exception>
    /// <exception cref="InvalidOperationException">A scoring Sinkhorn did not converge (<see cref="RestartSelection.Score"/>).</exception>
    public static LearnedGwRestartResult Train(double[] x, int n, int dX, double[] y, int m, int dY, LearnedGwOptions options,
        LearnedGwRestartOptions? restarts = null, ComputeDevice? device = null,
        Action<int, double, LearnedGwTrainer>? onRestart = null, Action<int, LearnedGwProgress, LearnedGwTrainer>? onStep = null)
    {
        var sw = Stopwatch.StartNew();
        var s = Select(x, n, dX, y, m, dY, options, restarts, device, onRestart, onStep);
        var t = s.Trainer;
        var history = s.History.ToList();
        while (t.CompletedSteps < t.Options.Steps)
        {
            var p = t.Step();
            history.Add(p);
            onStep?.Invoke(s.Selected, p, t);
        }
        return s with { History = history, Seconds = sw.Elapsed.TotalSeconds };
    }

    /// <summary>
    /// The selection part of <see cref="Train"/>: trains and scores the restarts and returns the selected one
    /// <b>without</b> continuing it (its trainer stands at <see cref="LearnedGwRestartOptions.RestartSteps"/>, or at Steps
    /// when that is 0 or R = 1). For callers that step the continuation themselves (<see cref="GwExperiment"/>).
    /// </summary>
    /// <inheritdoc cref="Train" path="/param"/>
    /// <inheritdoc cref="Train" path="/exception"/>
    public static LearnedGwRestartResult Select(double[] x, int n, int dX, double[] y, int m, int dY, LearnedGwOptions options,
        LearnedGwRestartOptions? restarts = null, ComputeDevice? device = null,
        Action<int, double, LearnedGwTrainer>? onRestart = null, Action<int, LearnedGwProgress, LearnedGwTrainer>? onStep = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        ArgumentNullException.ThrowIfNull(options);
        var ro = restarts ?? new LearnedGwRestartOptions();
        ro.Validate(options.Steps);
        int count = ro.Restarts;
        CheckSize(n, m, count);
        // GwInit.Solver: the GW solution is computed once; every restart learns it with its own seed.
        options = GwAligner.Prepare(x, n, dX, y, m, dY, options, out _);
        var seeds = Enumerable.Range(0, count).Select(r => SeedOf(options.Seed, count, r)).ToArray();
        var dev = device ?? ComputeDevice.Cpu;
        var sw = Stopwatch.StartNew();
        int firstSteps = count > 1 && ro.RestartSteps > 0 ? ro.RestartSteps : options.Steps;
        var scores = new double[count];
        Array.Fill(scores, double.NaN);
        (double Score, int R, LearnedGwTrainer T, List<LearnedGwProgress> H)? best = null;
        double[]? selX = null, selY = null;
        for (int r = 0; r < count; r++)
        {
            var o = count == 1 ? options : options with { Seed = seeds[r] };
            var trainer = new LearnedGwTrainer(x, n, dX, y, m, dY, o, dev);
            if (count > 1 && selX is null)
            {
                // Once: the preprocessing depends on the data and options only, not on the seed.
                if (ro.SelectOnTrainingDistances) { selX = trainer.DistanceX; selY = trainer.DistanceY; }
                else
                {
                    var so = ro.Selection ?? RestartSelection.DefaultDistances;
                    selX = Distances.Compute(trainer.NormalizedX, n, dX, so, "x").Values;
                    selY = Distances.Compute(trainer.NormalizedY, m, dY, so, "y").Values;
                }
            }
            var history = new List<LearnedGwProgress>(firstSteps);
            while (trainer.CompletedSteps < firstSteps)
            {
                var p = trainer.Step();
                history.Add(p);
                onStep?.Invoke(r, p, trainer);
            }
            double score = double.NaN;
            if (count > 1)
            {
                var model = trainer.Model;
                score = RestartSelection.Score(dev, model.EmbedX(x, n), model.EmbedY(y, m), n, m, model.EmbedDim, selX!, selY!, o.EpsilonMin);
                scores[r] = score;
                onRestart?.Invoke(o.Seed, score, trainer);
            }
            // Strict "<": the first of equal scores wins; a NaN score never replaces a kept restart.
            if (best is null || score < best.Value.Score) best = (score, r, trainer, history);
        }
        var (_, sel, bt, bh) = best!.Value;
        return new LearnedGwRestartResult(bt, seeds, scores, sel, bh, sw.Elapsed.TotalSeconds);
    }
}
