using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Glass.Kernels.Device;
using Glass.Models.Experiments;
using Glass.Models.Metrics;

namespace Glass.Models.Gw;

/// <summary>
/// Learned GW as an <see cref="IExperiment"/> (Kind "gw") for the runner: one <see cref="Step"/> = one
/// training step; FOSCTTM (when the rows are in true correspondence) is evaluated every
/// <c>evalEvery</c> steps and NaN otherwise. Checkpoints hold parameters, Adam moments and the step
/// (batches derive from (seed, step)), so a resumed run is bit-identical on the CPU path.
/// <para>
/// With restarts (<see cref="LearnedGwRestartOptions.Restarts"/> &gt; 1) the first <see cref="Step"/> runs the whole
/// label-free selection of <see cref="LearnedGwRestarts.Select"/> (R restarts of <c>RestartSteps</c> steps each, scored,
/// reported through <see cref="Report"/>); the selected restart's own steps are then returned as steps 1…S, one per call
/// (their FOSCTTM was evaluated during the selection, for information), and training continues from S + 1. The metrics
/// rows are thus exactly those of the selected restart, and <c>runtime_sec</c> is its own training time. A checkpoint
/// taken after step 1 holds the selected trainer, the selection (seeds, scores) and the rows still to be returned, so a
/// resumed run neither repeats the selection nor differs from an uninterrupted one; a run stopped during the selection
/// has no checkpoint beyond step 0 and repeats it (same seeds) on resume.
/// </para>
/// </summary>
public sealed class GwExperiment : IExperiment, IExperimentReport
{
    private static readonly string[] Columns = { "step", "loss", "main_loss", "spectral", "epsilon", "gamma", "runtime_sec", "sinkhorn_iter", "foscttm" };
    private const string SelectionFile = "restart_selection.json";
    private LearnedGwTrainer _trainer;
    private readonly LearnedGwOptions _options;
    private readonly LearnedGwRestartOptions _restarts;
    private readonly ComputeDevice _device;
    private readonly double[] _x, _y;
    private readonly int _n, _m, _dX, _dY, _evalEvery;
    private readonly int[]? _labelsX, _labelsY;
    private readonly bool _paired;
    private double _lastLoss = double.NaN;
    private LearnedGwRestartResult? _selection;
    private readonly Queue<double[]> _replay = new();

    private GwExperiment(double[] x, int n, int dX, double[] y, int m, int dY, LearnedGwOptions options, LearnedGwRestartOptions? restarts,
        int[]? labelsX, int[]? labelsY, bool paired, int evalEvery, ComputeDevice? device)
    {
        if (labelsX is not null && labelsX.Length != n) throw new ArgumentException($"labels of X: {labelsX.Length} labels for {n} rows of X.", nameof(labelsX));
        if (labelsY is not null && labelsY.Length != m) throw new ArgumentException($"labels of Y: {labelsY.Length} labels for {m} rows of Y.", nameof(labelsY));
        if (paired && n != m) throw new ArgumentException($"paired = true needs equal row counts; X has {n}, Y has {m}.", nameof(paired));
        if (evalEvery < 0) throw new ArgumentException($"evalEvery = {evalEvery}; expected ≥ 0 (0 = only at the end).", nameof(evalEvery));
        ArgumentNullException.ThrowIfNull(options);
        _restarts = restarts ?? new LearnedGwRestartOptions();
        _restarts.Validate(options.Steps);
        LearnedGwRestarts.CheckSize(n, m, _restarts.Restarts);
        _device = device ?? ComputeDevice.Cpu;
        // GwInit.Solver: the GW solution's pseudo-pairs join the options (deterministic: a resumed run computes the same ones).
        options = GwAligner.Prepare(x, n, dX, y, m, dY, options, out var solution);
        Solution = solution;
        _options = options;
        // With restarts this trainer only validates the data and options (and is the state of a step-0 checkpoint); the selection replaces it.
        _trainer = new LearnedGwTrainer(x, n, dX, y, m, dY, options, _device);
        _x = x; _y = y; _n = n; _m = m; _dX = dX; _dY = dY; _labelsX = labelsX; _labelsY = labelsY; _paired = paired; _evalEvery = evalEvery;
    }

    /// <summary>A gw experiment on arrays (row-major). <paramref name="paired"/>: row i of X corresponds to row i of Y (enables FOSCTTM).
    /// <paramref name="restarts"/>: the label-free restart protocol (null = one initialisation).</summary>
    /// <exception cref="ArgumentException">Label counts that differ from row counts, bad shapes, options or restart settings; the message names them.</exception>
    public static GwExperiment Create(double[] x, int n, int dX, double[] y, int m, int dY, LearnedGwOptions options,
        int[]? labelsX = null, int[]? labelsY = null, bool paired = false, int evalEvery = 50, ComputeDevice? device = null,
        LearnedGwRestartOptions? restarts = null) =>
        new(x, n, dX, y, m, dY, options, restarts, labelsX, labelsY, paired, evalEvery, device);

    /// <summary>The SNARE-seq experiment (ATAC → RNA, rows paired, cell-type labels) from the data directory.</summary>
    public static GwExperiment SnareSeq(string dataDirectory, LearnedGwOptions options, int evalEvery = 50, ComputeDevice? device = null,
        LearnedGwRestartOptions? restarts = null)
    {
        var d = SnareSeqData.Load(dataDirectory);
        return new GwExperiment(d.Atac, d.N, d.DimAtac, d.Rna, d.N, d.DimRna, options, restarts, d.Labels, d.Labels, true, evalEvery, device);
    }

    /// <inheritdoc />
    public string Kind => "gw";
    /// <inheritdoc />
    public int TotalSteps => _options.Steps;
    /// <inheritdoc />
    public int CompletedSteps => _trainer.CompletedSteps - _replay.Count;
    /// <inheritdoc />
    public IReadOnlyList<string> MetricColumns => Columns;
    /// <summary>The model being trained (the selected restart's once the selection has run).</summary>
    public GwModel Model => _trainer.Model;

    /// <summary>The GW solver stage (<see cref="GwInit.Solver"/>), or null with <see cref="GwInit.None"/>.</summary>
    public GwSolution? Solution { get; }

    /// <summary>The selection (null before it has run, and always with one restart).</summary>
    public LearnedGwRestartResult? Selection => _selection;

    /// <inheritdoc />
    public Action<ExperimentPhase>? Report { get; set; }

    /// <inheritdoc />
    public JsonObject? Details
    {
        get
        {
            if (_selection is null && Solution is null) return null;
            var d = new JsonObject();
            if (Solution is { } sol)
                d["solver"] = new JsonObject
                {
                    ["selected"] = sol.Selected,
                    ["selected_gw_loss"] = Num(sol.SelectedLoss),
                    ["smoothing"] = sol.Smoothing,
                    ["gw_loss"] = Num(sol.GwLoss),
                    ["pseudo_pairs"] = _options.KnownPairs?.Count ?? 0,
                    ["candidates"] = new JsonArray(sol.Candidates.Select(c => (JsonNode)new JsonObject
                    {
                        ["name"] = c.Name, ["gw_loss"] = Num(c.GwLoss), ["iterations"] = c.Iterations, ["seconds"] = c.Seconds,
                    }).ToArray()),
                    ["seconds"] = sol.Seconds,
                };
            if (_selection is { } s)
                d["restarts"] = new JsonObject
                {
                    ["restarts"] = _restarts.Restarts,
                    ["restart_steps"] = _restarts.RestartSteps,
                    ["selection"] = _restarts.SelectionName,
                    ["seeds"] = new JsonArray(s.Seeds.Select(v => (JsonNode)v).ToArray()),
                    ["scores"] = new JsonArray(s.Scores.Select(Num).ToArray()),
                    ["selected"] = s.Selected,
                    ["selected_seed"] = s.Seeds[s.Selected],
                    ["selection_seconds"] = s.Seconds,
                };
            return d;
        }
    }

    /// <inheritdoc />
    public StepMetrics Step()
    {
        if (_restarts.Restarts > 1 && _selection is null) RunSelection();
        if (_replay.Count > 0)
        {
            var row = _replay.Dequeue();
            _lastLoss = row[1];
            return new StepMetrics(row);
        }
        var p = _trainer.Step();
        _lastLoss = p.Loss;
        return new StepMetrics(Row(p, _trainer));
    }

    private double[] Row(LearnedGwProgress p, LearnedGwTrainer t)
    {
        double fos = double.NaN;
        if (_paired && (_evalEvery > 0 && p.Step % _evalEvery == 0 || p.Step == TotalSteps)) fos = Score(t).Foscttm;
        return new double[] { p.Step, p.Loss, p.MainLoss, p.Spectral, p.Epsilon, p.Gamma, p.Seconds, p.SinkhornIterations, fos };
    }

    private void RunSelection()
    {
        int count = _restarts.Restarts;
        int len = _restarts.RestartSteps > 0 ? _restarts.RestartSteps : TotalSteps;
        var rows = Enumerable.Range(0, count).Select(_ => new List<double[]>()).ToArray();
        Report?.Invoke(new ExperimentPhase("selection", 0, count * len, string.Create(CultureInfo.InvariantCulture,
            $"restart selection: {count} restarts × {len} steps (seeds {LearnedGwRestarts.SeedOf(_options.Seed, count, 0)}…{LearnedGwRestarts.SeedOf(_options.Seed, count, count - 1)}), scored label-free on {_restarts.SelectionName} distances")));
        int scored = 0;
        var result = LearnedGwRestarts.Select(_x, _n, _dX, _y, _m, _dY, _options, _restarts, _device,
            onRestart: (seed, score, _) =>
            {
                string label = Label(scored++, seed);
                Report?.Invoke(new ExperimentPhase(label, len, len, string.Create(CultureInfo.InvariantCulture, $"{label}: {len} steps, selection score {score:G6}")));
            },
            onStep: (r, p, t) =>
            {
                // FOSCTTM at the evaluation steps of every restart: for the metrics rows only; the selection never reads it.
                rows[r].Add(Row(p, t));
                Report?.Invoke(new ExperimentPhase(Label(r, t.Options.Seed), p.Step, len));
            });
        _trainer = result.Trainer;
        _selection = result;
        foreach (var row in rows[result.Selected]) _replay.Enqueue(row);
        Report?.Invoke(new ExperimentPhase("selection", count * len, count * len, string.Create(CultureInfo.InvariantCulture,
            $"selected restart {result.Selected + 1}/{count} (seed {result.SelectedSeed}, score {result.SelectedScore:G6}); continuing to step {TotalSteps}")));

        string Label(int r, int seed) => string.Create(CultureInfo.InvariantCulture, $"restart {r + 1}/{count} (seed {seed})");
    }

    private (double Foscttm, double LabelTransfer, InductiveAlignment Alignment) Score(LearnedGwTrainer t)
    {
        var al = InductiveAligner.Align(_device, t.Model, _x, _n, _y, _m, new InductiveOptions { RelativeTol = 1e-6 });
        var yt = t.NormalizedY;
        double fos = _paired ? AlignmentMetrics.Foscttm(al.ProjectionTarget!, yt, _n, _dY).Mean : double.NaN;
        double lt = _labelsX is not null && _labelsY is not null
            ? AlignmentMetrics.LabelTransferAccuracy(yt, _labelsY, al.ProjectionTarget!, _labelsX, _dY, 5) : double.NaN;
        return (fos, lt, al);
    }

    /// <inheritdoc />
    public void SaveState(string directory)
    {
        _trainer.Save(directory);
        if (_selection is { } r)
        {
            var state = new SavedSelection(_restarts.Restarts, _restarts.RestartSteps, _restarts.SelectionName, r.Seeds.ToArray(), r.Scores.ToArray(),
                r.Selected, r.Seconds, _replay.ToArray());
            File.WriteAllText(Path.Combine(directory, SelectionFile), JsonSerializer.Serialize(state, Json) + "\n");
        }
    }

    /// <inheritdoc />
    /// <exception cref="InvalidDataException">Also: a checkpoint past step 0 of a run with restarts but without its selection
    /// file, or a selection taken with other restart settings; the message names the file.</exception>
    public void LoadState(string directory)
    {
        string file = Path.Combine(directory, SelectionFile);
        if (_restarts.Restarts == 1)
        {
            _trainer.Load(directory);
            return;
        }
        if (!File.Exists(file))
        {
            // Only a step-0 checkpoint (taken before the selection ran) has no selection; it holds the untrained base trainer.
            InvalidDataException Missing(Exception? inner) => new(string.Create(CultureInfo.InvariantCulture,
                $"{file}: missing; a checkpoint past step 0 of a run with {_restarts.Restarts} restarts needs the restart selection beside it."), inner);
            try { _trainer.Load(directory); }
            catch (InvalidDataException e) { throw Missing(e); }
            if (_trainer.CompletedSteps > 0) throw Missing(null);
            return;
        }
        SavedSelection? st;
        try { st = JsonSerializer.Deserialize<SavedSelection>(File.ReadAllText(file), Json); }
        catch (JsonException e) { throw new InvalidDataException($"{file}: not a restart selection ({e.Message}).", e); }
        if (st is null || st.Seeds is null || st.Scores is null || st.Replay is null || st.Seeds.Length != _restarts.Restarts || st.Scores.Length != st.Seeds.Length
            || st.Selected < 0 || st.Selected >= st.Seeds.Length)
            throw new InvalidDataException($"{file}: incomplete restart selection.");
        if (st.Restarts != _restarts.Restarts || st.RestartSteps != _restarts.RestartSteps || st.Selection != _restarts.SelectionName)
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"{file}: selection of restarts {st.Restarts}, restart_steps {st.RestartSteps}, selection {st.Selection}; this run has {_restarts.Restarts}, {_restarts.RestartSteps}, {_restarts.SelectionName}."));
        var t = new LearnedGwTrainer(_x, _n, _dX, _y, _m, _dY, _options with { Seed = st.Seeds[st.Selected] }, _device);
        t.Load(directory);
        if (st.Replay.Any(row => row is null || row.Length != Columns.Length) || st.Replay.Length > t.CompletedSteps)
            throw new InvalidDataException($"{file}: {st.Replay.Length} pending metrics rows for a trainer at step {t.CompletedSteps}; expected at most that many rows of {Columns.Length} values.");
        _trainer = t;
        _replay.Clear();
        foreach (var row in st.Replay) _replay.Enqueue(row);
        _selection = new LearnedGwRestartResult(t, st.Seeds, st.Scores, st.Selected, Array.Empty<LearnedGwProgress>(), st.Seconds);
    }

    private static readonly JsonSerializerOptions Json = new()
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
    };

    private static JsonNode? Num(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;

    /// <summary>What a checkpoint keeps of the selection: settings (checked on load), seeds, scores, the selected index and the metrics rows still to be returned.</summary>
    private sealed record SavedSelection(int Restarts, int RestartSteps, string Selection, int[] Seeds, double[] Scores, int Selected, double Seconds, double[][] Replay);

    /// <inheritdoc />
    public IReadOnlyDictionary<string, double> Evaluate()
    {
        var (fos, lt, al) = Score(_trainer);
        var result = new Dictionary<string, double>
        {
            ["loss"] = _lastLoss,
            ["foscttm"] = fos,
            ["label_transfer"] = lt,
            ["sinkhorn_iter"] = al.Iterations,
            ["epsilon"] = Model.Epsilon,
        };
        // The extension terms (semi-supervised known pairs, fused features), only when one is on, so that plain runs keep their columns.
        var kp = _options.SupervisedWeight > 0 ? _options.KnownPairs : null;
        if (kp is { Count: > 0 } || _options.FusedWeight > 0)
        {
            result["known_pairs"] = kp?.Count ?? 0;
            result["supervised_weight"] = _options.SupervisedWeight;
            result["fused_weight"] = _options.FusedWeight;
        }
        if (_paired && kp is { Count: > 0 })
        {
            // FOSCTTM on the rows no known pair touches (AlignmentMetrics.UnanchoredRows); NaN when every row is anchored.
            var rows = AlignmentMetrics.UnanchoredRows(_n, kp);
            result["foscttm_unanchored"] = rows.Length == 0 ? double.NaN : AlignmentMetrics.Foscttm(al.ProjectionTarget!, _trainer.NormalizedY, _n, _dY, rows).Mean;
            result["unanchored_rows"] = rows.Length;
        }
        return result;
    }

    /// <inheritdoc />
    public void Dispose() { }

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"gw experiment {_n}×{_dX} ↔ {_m}×{_dY}, {CompletedSteps}/{TotalSteps} steps");
}
