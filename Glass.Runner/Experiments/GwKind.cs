using System.Globalization;
using Glass.Kernels.Device;
using Glass.Models.Data;
using Glass.Models.Experiments;
using Glass.Models.Gw;
using Glass.Runner.Config;

namespace Glass.Runner.Experiments;

/// <summary>Where a gw experiment's data comes from: two point-set files (+ labels) or the SNARE-seq folder.</summary>
/// <param name="X">Point set X (.npy or CSV), absolute path; null with <paramref name="SnareSeq"/>.</param>
/// <param name="Y">Point set Y, absolute path; null with <paramref name="SnareSeq"/>.</param>
/// <param name="LabelsX">One integer label per row of X, or null.</param>
/// <param name="LabelsY">One integer label per row of Y, or null.</param>
/// <param name="Paired">Row i of X corresponds to row i of Y (enables FOSCTTM).</param>
/// <param name="SnareSeq">The SNARE-seq data folder (SCOT's files), or null.</param>
internal sealed record GwDataSpec(string? X, string? Y, string? LabelsX, string? LabelsY, bool Paired, string? SnareSeq);

/// <summary>The validated options of one gw run: data, learned-GW options, restart protocol, FOSCTTM period, and the
/// extension terms' files (read when the experiment is created; <see cref="Options"/> holds neither pairs nor features yet).</summary>
internal sealed record GwExperimentSpec(string ExpName, GwDataSpec Data, LearnedGwOptions Options, LearnedGwRestartOptions Restarts, int EvalEvery,
    GwExtensionFiles Extensions);

/// <summary>
/// The learned Gromov–Wasserstein aligner (issue #5; <c>shared/papers/003_…</c>) as a <c>glass run</c> kind:
/// <c>data: {x, y, labels_x, labels_y, paired}</c> or <c>data: {snareseq: DIR}</c> (paths relative to the YAML
/// file's folder), <c>model: gw: {…}</c> and <c>train: {…}</c> — the snake_case names of
/// <see cref="LearnedGwOptions"/>' properties, every key range-checked. Defaults are
/// <see cref="SnareSeqExperiment.DefaultOptions"/> (the label-free SNARE-seq settings). <c>train.restarts</c>,
/// <c>train.restart_steps</c> and <c>train.selection</c> set the label-free restart protocol
/// (<see cref="LearnedGwRestartOptions"/>, <see cref="LearnedGwRestarts"/>; default one initialisation).
/// <c>model.gw.supervised {pairs, weight}</c> and <c>model.gw.fused {x, y, weight}</c> turn on the semi-supervised and
/// fused terms (<see cref="GwExtensionFiles"/>; files relative to the YAML file, read before the run folder is created).
/// </summary>
internal sealed class GwKind : IExperimentKind
{
    public static GwKind Instance { get; } = new();

    public string Name => "gw";

    public string Description => "learned Gromov–Wasserstein alignment of two point sets (MLP embeddings, entropic OT, ε annealing)";

    public BoundExperiment Bind(ConfigSection root, ConfigSection model, string expName, ConfigOverrides overrides)
    {
        var data = BindData(root.Section("data"), root.File);
        var (options, restarts, evalEvery, ext) = BindOptions(model.Section(Name), root.Section("train"), overrides);
        return new Bound(new GwExperimentSpec(expName, data, options, restarts, evalEvery, ext));
    }

    private static readonly string[] DataFileKeys = { "x", "y", "labels_x", "labels_y" };

    private static GwDataSpec BindData(ConfigSection data, string file)
    {
        string baseDir = Path.GetDirectoryName(Path.GetFullPath(file)) ?? ".";
        string? Resolve(string key)
        {
            if (!data.Has(key)) { data.Declare(key); return null; }
            string v = data.String(key, "", s => s.Trim().Length > 0 ? null : "a file path (relative to the config's folder)");
            string full = Path.GetFullPath(Path.Combine(baseDir, v));
            data.Resolved[key] = full; // absolute in config.json, so --resume finds the data from the run folder
            return full;
        }
        string? snare = Resolve("snareseq");
        var files = DataFileKeys.Select(Resolve).ToArray();
        bool paired;
        if (snare is not null)
        {
            foreach (var k in DataFileKeys.Append("paired"))
                if (data.Has(k)) throw data.ErrorAt(k, "given together with snareseq; expected either snareseq: DIR or x/y files");
            data.Declare("paired");
            paired = true;
        }
        else
        {
            if (files[0] is null || files[1] is null)
                throw data.Error(null, data.Path.Length == 0 ? "data" : data.Path,
                    "missing; expected data: {x: X.npy, y: Y.npy} (optional labels_x, labels_y, paired) or data: {snareseq: DIR}");
            paired = data.Bool("paired", false);
        }
        data.Finish();
        return new GwDataSpec(files[0], files[1], files[2], files[3], paired, snare);
    }

    private static readonly string[] Activations = { "relu", "tanh", "gelu", "leaky_relu" };
    private static readonly string[] Costs = { "cosine", "sqeuclidean" };
    private static readonly string[] Losses = { "rank", "distance" };
    private static readonly string[] Metrics = { "geodesic", "euclidean", "sqeuclidean", "cosine", "correlation" };
    private static readonly string[] Weights = { "connectivity", "distance" };
    private static readonly string[] Disconnected = { "replace_by_max", "fail" };
    private static readonly string[] Selections = { "euclidean", "training" };
    private static readonly string[] Inits = { "solver", "none" };

    /// <summary>
    /// Binds <c>model.gw</c> and <c>train</c> onto <see cref="LearnedGwOptions"/> (defaults:
    /// <see cref="SnareSeqExperiment.DefaultOptions"/>) and the restart keys onto <see cref="LearnedGwRestartOptions"/>
    /// (<c>restarts</c> ≥ 1, default 1; <c>restart_steps</c> in 0 … steps, default 0 = every restart to the end;
    /// <c>selection: euclidean | training</c>, default euclidean) and the extension terms' files and weights
    /// (<c>supervised</c>, <c>fused</c>: <see cref="GwExtensionFiles.Bind"/>); also used by <c>glass align --config</c>.
    /// </summary>
    internal static (LearnedGwOptions Options, LearnedGwRestartOptions Restarts, int EvalEvery, GwExtensionFiles Extensions) BindOptions(ConfigSection m, ConfigSection tr, ConfigOverrides overrides)
    {
        // train.init decides the defaults: solver → LearnedGwOptions' (the solver-started aligner); none → the paper's SNARE-seq protocol.
        string initName = tr.Choice("init", "solver", Inits);
        if (overrides.Init is { } io) tr.Resolved["init"] = initName = io;
        bool solver = initName == "solver";
        var d = solver ? new LearnedGwOptions() : SnareSeqExperiment.DefaultOptions(0);
        var solverOptions = solver ? BindSolver(m.Section("solver"), d.Solver) : d.Solver;
        if (!solver && m.Has("solver")) throw m.ErrorAt("solver", "given with train.init: none; expected the solver settings only with init: solver");
        int depth = m.Int("depth", d.Depth, min: 1);
        int hidden = m.Int("hidden", d.Hidden, min: 1);
        int embed = m.Int("embed_dim", d.EmbedDim, min: 1);
        bool skip = m.Bool("skip", d.Skip);
        var act = m.Choice("activation", ActivationName(d.Activation), Activations) switch
        {
            "relu" => GwActivation.Relu,
            "tanh" => GwActivation.Tanh,
            "gelu" => GwActivation.Gelu,
            _ => GwActivation.LeakyRelu,
        };
        var cost = m.Choice("cost", d.Cost == GwCost.Cosine ? "cosine" : "sqeuclidean", Costs) == "cosine" ? GwCost.Cosine : GwCost.SqEuclidean;
        var loss = m.Choice("loss", d.Loss == GwLossKind.Rank ? "rank" : "distance", Losses) == "rank" ? GwLossKind.Rank : GwLossKind.Distance;
        double rankDelta = m.Double("rank_delta", d.RankDelta, NumberRange.LeftOpen(0, MaxScalar));
        var dist = BindDistance(m.Section("distance"), d.DistancesX);
        var pre = BindPreprocess(m.Section("preprocess"), d.PreprocessX, solver);
        double spectralWeight = m.Double("spectral_weight", d.SpectralWeight, NumberRange.Closed(0, MaxScalar));
        int spectralK = m.Int("spectral_k", d.SpectralK, min: 1);
        int sinkMax = m.Int("sinkhorn_max_iter", d.SinkhornMaxIter, min: 1);
        double sinkTol = m.Double("sinkhorn_tol", d.SinkhornTol, NumberRange.LeftOpen(0, MaxSinkhornTol));
        var ext = GwExtensionFiles.Bind(m);
        if (solver && ext.Any)
            throw m.ErrorAt(ext.Pairs is not null ? "supervised" : "fused",
                "is a training term of train.init: none (the paper's training); init: solver trains on the GW solution's pseudo-pairs — expected init: none with known pairs or shared features");
        m.Finish();

        CheckModelSize(m, depth, hidden, embed);
        double lr = tr.Double("lr", d.LearningRate, NumberRange.LeftOpen(0, MaxScalar));
        int steps = tr.Int("steps", d.Steps, min: 1, overrideValue: overrides.Steps);
        int batch = tr.Int("batch_size", d.BatchSize, min: 0);
        if (batch == 1) throw tr.ErrorAt("batch_size", "got 1; expected 0 (full batch) or an integer ≥ 2");
        double eps0 = tr.Double("epsilon_start", d.EpsilonStart, NumberRange.LeftOpen(0, MaxScalar));
        double epsMin = tr.Double("epsilon_min", d.EpsilonMin, NumberRange.LeftOpen(0, MaxScalar));
        double decay = tr.Double("epsilon_decay", d.EpsilonDecay, NumberRange.LeftOpen(0, 1));
        double clip = tr.Double("clip_norm", d.ClipNorm ?? 0, NumberRange.NonNegative);
        int evalEvery = tr.Int("eval_every", 50, min: 0);
        int seed = tr.Int("seed", d.Seed, min: 0, overrideValue: overrides.Seed);
        int restarts = tr.Int("restarts", 1, min: 1);
        if (solver && restarts > 1)
            throw tr.ErrorAt("restarts", string.Create(CultureInfo.InvariantCulture,
                $"got {restarts}; restarts are the remedy of init: none (training from random MLPs) — init: solver solves GW first; expected 1, or init: none"));
        int restartSteps = tr.Int("restart_steps", 0, min: 0);
        if (restartSteps > steps)
            throw tr.ErrorAt("restart_steps", string.Create(CultureInfo.InvariantCulture,
                $"got {restartSteps}; expected 0 (every restart trains to the end) or an integer in [1, {steps}] (at most train.steps = {steps}{(overrides.Steps is null ? "" : ", set by --steps")})"));
        bool training = tr.Choice("selection", "euclidean", Selections) == "training";
        if ((long)seed * restarts + restarts - 1 > int.MaxValue)
            throw tr.ErrorAt("seed", string.Create(CultureInfo.InvariantCulture, $"got {seed}; with restarts {restarts} the restart seeds seed·restarts + r exceed {int.MaxValue}; expected a smaller seed"));
        tr.Finish();
        if (restarts == 1)
        {
            // One initialisation: restart_steps and selection have no effect, so the three keys stay out of the resolved
            // config (as an absent extension term does) — a run folder from before the restart keys existed keeps its
            // config hash, so --resume and glass sweep still recognise it.
            tr.Resolved.Remove("restarts");
            tr.Resolved.Remove("restart_steps");
            tr.Resolved.Remove("selection");
        }

        var o = d with
        {
            Solver = solverOptions,
            Depth = depth, Hidden = hidden, EmbedDim = embed, Skip = skip, Activation = act, Cost = cost, Loss = loss, RankDelta = rankDelta,
            DistancesX = dist, DistancesY = dist, PreprocessX = pre, PreprocessY = pre,
            SpectralWeight = spectralWeight, SpectralK = spectralK, SinkhornMaxIter = sinkMax, SinkhornTol = sinkTol,
            LearningRate = lr, Steps = steps, BatchSize = batch, EpsilonStart = eps0, EpsilonMin = epsMin, EpsilonDecay = decay,
            ClipNorm = clip > 0 ? clip : null, Seed = seed,
        };
        return (o, new LearnedGwRestartOptions { Restarts = restarts, RestartSteps = restartSteps, SelectOnTrainingDistances = training }, evalEvery, ext);
    }

    /// <summary>
    /// Upper bound of the gw scalars that scale the model or the loss (<c>train.lr</c>, <c>train.epsilon_start</c>,
    /// <c>train.epsilon_min</c>, <c>model.gw.rank_delta</c>, <c>model.gw.spectral_weight</c>). The ε's are relative to
    /// the mean cost, so beyond 1e6 the plan is uniform to within ~1e−5 and γ = ε·mean cost can overflow; a learning rate
    /// or loss weight beyond it sends the weights (and, through the layers, the embeddings) past double range within a few
    /// Adam steps, which surfaced as a NaN deep inside Sinkhorn after the run folder was created.
    /// </summary>
    internal const double MaxScalar = 1e6;

    /// <summary>Largest <c>model.gw.sinkhorn_tol</c>: the marginal error of two probability vectors is at most 2, so a
    /// tolerance above 1 would stop Sinkhorn before its first check means anything.</summary>
    internal const double MaxSinkhornTol = 1;

    /// <summary>
    /// A lower bound on the bytes of the two networks f, g (<c>model.gw.depth</c>, <c>hidden</c>, <c>embed_dim</c>): the
    /// weights of a network with at least one input feature, hidden + (depth − 1)·hidden² + hidden·embed_dim, twice, each
    /// weight held four times (value, gradient, Adam's two moments) in doubles: 8·4·2·(hidden + (depth − 1)·hidden² +
    /// hidden·embed_dim). Computed in doubles (no overflow). The data's own size is checked when the files are read.
    /// </summary>
    internal static double EstimateModelBytes(int depth, int hidden, int embed) =>
        8.0 * 4 * 2 * (hidden + (depth - 1.0) * hidden * (double)hidden + hidden * (double)embed);

    /// <summary>Refuses a network whose <see cref="EstimateModelBytes"/> exceeds the memory this process may use.</summary>
    private static void CheckModelSize(ConfigSection m, int depth, int hidden, int embed)
    {
        double need = EstimateModelBytes(depth, hidden, embed);
        long avail = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (need <= avail) return;
        // Name the key that drives the estimate (and is in the file when the user set it).
        double hiddenTerm = (depth - 1.0) * hidden * (double)hidden, embedTerm = hidden * (double)embed;
        string key = embedTerm > hiddenTerm ? (m.Has("embed_dim") ? "embed_dim" : "hidden") : depth > hidden && m.Has("depth") ? "depth" : "hidden";
        throw m.ErrorAt(key, string.Create(CultureInfo.InvariantCulture,
            $"depth {depth}, hidden {hidden}, embed_dim {embed}: the two networks need at least {need / (1L << 30):0.##} GiB (8·4·2·(hidden + (depth − 1)·hidden² + hidden·embed_dim): value, gradient and two Adam moments of every weight) but {avail / (1L << 30):0.##} GiB of memory is available; expected a smaller network"));
    }

    private static DistanceOptions BindDistance(ConfigSection s, DistanceOptions d)
    {
        var r = new DistanceOptions
        {
            Metric = ParseMetric(s.Choice("metric", MetricName(d.Metric), Metrics)),
            K = s.Int("k", d.K, min: 1),
            KnnMetric = ParseMetric(s.Choice("knn_metric", MetricName(d.KnnMetric), Metrics.Skip(1).ToArray())),
            Weights = s.Choice("weights", d.Weights == KnnWeights.Connectivity ? "connectivity" : "distance", Weights) == "connectivity" ? KnnWeights.Connectivity : KnnWeights.Distance,
            NormalizeByMax = s.Bool("normalize_by_max", d.NormalizeByMax),
            Disconnected = s.Choice("disconnected", d.Disconnected == DisconnectedPolicy.Fail ? "fail" : "replace_by_max", Disconnected) == "fail" ? DisconnectedPolicy.Fail : DisconnectedPolicy.ReplaceByMax,
        };
        s.Finish();
        return r;
    }

    private static GwPreprocessing BindPreprocess(ConfigSection s, GwPreprocessing d, bool solver)
    {
        var r = new GwPreprocessing
        {
            L2NormalizeRows = s.Bool("l2_normalize_rows", d.L2NormalizeRows),
            Standardize = s.Bool("standardize", d.Standardize),
            CenterScale = s.Bool("center_scale", d.CenterScale),
        };
        s.Finish();
        return r;
    }

    /// <summary><c>model.gw.solver</c>: the GW solver stage of <c>init: solver</c> (<see cref="GwSolverOptions"/>).</summary>
    private static GwSolverOptions BindSolver(ConfigSection s, GwSolverOptions d)
    {
        var r = new GwSolverOptions
        {
            Epsilons = s.DoubleList("epsilons", d.Epsilons, NumberRange.Positive),
            CoarseSize = s.Int("coarse_size", d.CoarseSize, min: 2),
            Discrepancy = s.Double("discrepancy", d.Discrepancy, NumberRange.Closed(1, 1e6)),
            PseudoPairWeight = s.Double("pseudo_pair_weight", d.PseudoPairWeight, NumberRange.Positive),
            Exact = d.Exact with { MaxIter = s.Int("max_iter", d.Exact.MaxIter, min: 1) },
        };
        s.Finish();
        return r;
    }

    private static DistanceMetric ParseMetric(string s) => s switch
    {
        "geodesic" => DistanceMetric.Geodesic,
        "euclidean" => DistanceMetric.Euclidean,
        "sqeuclidean" => DistanceMetric.SqEuclidean,
        "cosine" => DistanceMetric.Cosine,
        _ => DistanceMetric.Correlation,
    };

    private static string MetricName(DistanceMetric m) => m.ToString().ToLowerInvariant();

    private static string ActivationName(GwActivation a) => a switch
    {
        GwActivation.Relu => "relu",
        GwActivation.Tanh => "tanh",
        GwActivation.Gelu => "gelu",
        _ => "leaky_relu",
    };

    /// <summary>Reads X, Y and the labels of <paramref name="data"/>, checking counts; errors name the file.</summary>
    internal static (PointSet X, PointSet Y, int[]? LabelsX, int[]? LabelsY) ReadData(GwDataSpec data)
    {
        var x = PointSetReader.Read(data.X!);
        var y = PointSetReader.Read(data.Y!);
        var lx = data.LabelsX is null ? null : ReadLabels(data.LabelsX, x.Rows, data.X!);
        var ly = data.LabelsY is null ? null : ReadLabels(data.LabelsY, y.Rows, data.Y!);
        if (data.Paired && x.Rows != y.Rows)
            throw new ArgumentException($"{data.Y}: {y.Rows} rows, but {data.X} has {x.Rows}; paired data needs equal row counts (row i of X ↔ row i of Y).");
        return (x, y, lx, ly);
    }

    /// <summary>One integer label per line; the count must equal the rows of <paramref name="pointsFile"/>.</summary>
    internal static int[] ReadLabels(string path, int rows, string pointsFile)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: label file not found.", path);
        var labels = SnareSeqData.ReadLabels(path);
        if (labels.Length != rows)
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{path}: {labels.Length} labels, but {pointsFile} has {rows} rows; expected one label per row."));
        return labels;
    }

    private sealed class Bound(GwExperimentSpec spec) : BoundExperiment
    {
        public override string Kind => "gw";

        public override int Seed => spec.Options.Seed;

        public override int Steps => spec.Options.Steps;

        public override object Options => spec;

        public override IExperiment Create(ComputeDevice device)
        {
            if (spec.Data.SnareSeq is { } dir)
            {
                if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"data.snareseq: {dir} not found; expected SCOT's SNARE-seq folder (shared/data/snareseq).");
                if (!spec.Extensions.Any) return GwExperiment.SnareSeq(dir, spec.Options, spec.EvalEvery, device, spec.Restarts);
                // As GwExperiment.SnareSeq (ATAC → RNA, rows paired, cell-type labels), with the extension terms' files read against its rows.
                var sd = SnareSeqData.Load(dir);
                var so = spec.Extensions.Apply(spec.Options, sd.N, sd.N, "the SNARE-seq ATAC data", "the SNARE-seq RNA data");
                return GwExperiment.Create(sd.Atac, sd.N, sd.DimAtac, sd.Rna, sd.N, sd.DimRna, so, sd.Labels, sd.Labels, true, spec.EvalEvery, device, spec.Restarts);
            }
            var (x, y, lx, ly) = ReadData(spec.Data);
            var o = spec.Extensions.Apply(spec.Options, x.Rows, y.Rows, spec.Data.X!, spec.Data.Y!);
            return GwExperiment.Create(x.Data, x.Rows, x.Cols, y.Data, y.Rows, y.Cols, o, lx, ly, spec.Data.Paired, spec.EvalEvery, device, spec.Restarts);
        }
    }
}
