using System.Globalization;
using Glass.Kernels.Device;
using Glass.Models.Experiments;
using Glass.Models.Glass;
using Glass.Runner.Config;

namespace Glass.Runner.Experiments;

/// <summary>
/// The GLASS experiments of paper 000 §7 with the reference implementation's YAML schema (paper 001):
/// <c>model.manifold</c> (S² point sets; <c>data</c> → <see cref="S2DataOptions"/>) and <c>model.graph</c>
/// (SBM graph pairs; <c>data</c> → <see cref="SbmDataOptions"/>). <c>ot</c> is read at the top level (as in
/// the paper's examples) or under <c>model</c>; <c>seed</c> under <c>train</c> or at the top level.
/// </summary>
internal sealed class GlassKind : IExperimentKind
{
    private readonly bool _manifold;

    private GlassKind(bool manifold) => _manifold = manifold;

    public static GlassKind Manifold { get; } = new(true);

    public static GlassKind Graph { get; } = new(false);

    public string Name => _manifold ? "manifold" : "graph";

    public string Description => _manifold
        ? "GLASS on S² point-set pairs (gated log-map projection, geodesic lifted loss)"
        : "GLASS on SBM graph pairs (Chebyshev diffusion features, spectral lifted loss)";

    public BoundExperiment Bind(ConfigSection root, ConfigSection model, string expName, ConfigOverrides overrides)
    {
        var data = root.Section("data");
        var (s2, sbm) = _manifold ? (BindS2(data), (SbmDataOptions?)null) : ((S2DataOptions?)null, BindSbm(data));
        data.Finish();

        var m = model.Section(Name);
        var (manifold, graph) = _manifold ? (BindManifold(m), (GraphProjectionOptions?)null) : ((ManifoldProjectionOptions?)null, BindGraph(m));
        m.Finish();

        var (otSec, ot) = BindOt(root, model);
        var train = BindTrain(root, overrides);

        CheckSize(data, s2, sbm, manifold, graph, train);
        CheckGamma(otSec, ot, s2?.N ?? sbm!.N);

        var options = new GlassExperimentOptions
        {
            ExpName = expName, S2 = s2, Sbm = sbm, Manifold = manifold, Graph = graph, Ot = ot, Train = train,
        };
        return new Bound(Name, options);
    }

    private static S2DataOptions BindS2(ConfigSection data)
    {
        var d = new S2DataOptions();
        return new S2DataOptions
        {
            N = data.Int("n", d.N, min: 2),
            NoiseDeg = data.Double("noise_deg", d.NoiseDeg, NumberRange.Closed(0, 180)),
            Rotation = data.Bool("rotation", d.Rotation),
        };
    }

    private static SbmDataOptions BindSbm(ConfigSection data)
    {
        var d = new SbmDataOptions();
        int n = data.Int("n", d.N, min: 2);
        return new SbmDataOptions
        {
            N = n,
            Blocks = data.Int("blocks", d.Blocks, min: 1, max: n),
            PIn = data.Double("p_in", d.PIn, NumberRange.Probability),
            POut = data.Double("p_out", d.POut, NumberRange.Probability),
            RewireProb = data.Double("rewire_prob", d.RewireProb, NumberRange.Probability),
            PlantedPerm = data.Bool("planted_perm", d.PlantedPerm),
        };
    }

    private static ManifoldProjectionOptions BindManifold(ConfigSection m)
    {
        var d = new ManifoldProjectionOptions();
        return new ManifoldProjectionOptions
        {
            K = m.Int("K", d.K, min: 1),
            ChartRadiusDeg = m.Double("chart_radius_deg", d.ChartRadiusDeg, NumberRange.Open(0, 180)),
            GateMode = m.Choice("gate_mode", GateName(d.GateMode), GateNames) switch
            {
                "fixed" => GateMode.Fixed,
                "tie" => GateMode.Tie,
                _ => GateMode.Learn,
            },
            GateCPerSqrtkDeg = m.Double("gate_c_per_sqrtk_deg", d.GateCPerSqrtkDeg, NumberRange.Positive),
            InitUScale = m.Double("init_u_scale", d.InitUScale, NumberRange.Positive),
            // Not in the reference schema: the rotation backbone of GLASS §5 (off by default, so the papers' configs mean what they meant).
            LearnRotation = m.Bool("learn_rotation", d.LearnRotation),
            RotationLr = m.Double("rotation_lr", d.RotationLr, NumberRange.Positive),
            RotationInit = m.Choice("rotation_init", RotationInitName(d.RotationInit), RotationInitNames) == "identity" ? RotationInit.Identity : RotationInit.Moments,
            // Not in the reference schema: the reading of the chart radius (docs/notation.md).
            Chart = m.Choice("chart", "clamp", ChartNames) == "mask" ? ChartMode.Mask : ChartMode.Clamp,
        };
    }

    private static GraphProjectionOptions BindGraph(ConfigSection m)
    {
        var d = new GraphProjectionOptions();
        return new GraphProjectionOptions
        {
            Tau = m.Double("tau", d.Tau, NumberRange.Positive),
            ChebyDegree = m.Int("cheby_degree", d.ChebyDegree, min: 1),
            FeatDim = m.Int("feat_dim", d.FeatDim, min: 1),
            // Not in the reference schema: how ψ_τ is built (docs/notation.md).
            Features = m.Choice("features", "structural", FeatureNames) switch
            {
                "spectral" => GraphFeatureMode.Spectral,
                "probes" => GraphFeatureMode.Probes,
                _ => GraphFeatureMode.Structural,
            },
        };
    }

    /// <summary><c>ot</c>: top level in the paper's examples; accepted under model too (their flattened text allows both readings).</summary>
    private static (ConfigSection Section, OtOptions Ot) BindOt(ConfigSection root, ConfigSection model)
    {
        if (root.Has("ot") && model.Has("ot"))
            throw model.ErrorAt("ot", "given both at the top level and under model; expected it once");
        model.Declare("ot");
        var otSec = model.Has("ot") ? model.Section("ot", attach: false) : root.Section("ot", attach: false);
        root.Declare("ot");
        root.Resolved["ot"] = otSec.Resolved;
        var od = new OtOptions();
        var ot = new OtOptions
        {
            UseBanded = otSec.Bool("use_banded", od.UseBanded),
            BandEps = otSec.Double("band_eps", od.BandEps, NumberRange.Open(0, 1)),
            Gamma = otSec.Double("gamma", od.Gamma, NumberRange.Positive),
            MaxIter = otSec.Int("max_iter", od.MaxIter, min: 1),
            Tol = otSec.Double("tol", od.Tol, NumberRange.Positive),
            RankCap = otSec.Int("rank_cap", od.RankCap, min: 0),
        };
        otSec.Finish();
        return (otSec, ot);
    }

    /// <summary><c>train</c>; <c>seed</c> under train (the paper's examples) or at the top level; the command line wins.</summary>
    private static TrainOptions BindTrain(ConfigSection root, ConfigOverrides overrides)
    {
        var tr = root.Section("train");
        root.Declare("seed");
        if (root.Has("seed") && tr.Has("seed"))
            throw root.ErrorAt("seed", "given both at the top level and under train; expected it once");
        int? seedOverride = overrides.Seed;
        if (root.Has("seed"))
        {
            // Checked with the file's line and column, then reported once, under train.seed, in the resolved config.
            int topSeed = root.Int("seed", 0, min: 0);
            root.Resolved.Remove("seed");
            seedOverride ??= topSeed;
        }
        var td = new TrainOptions();
        var train = new TrainOptions
        {
            Lr = tr.Double("lr", td.Lr, NumberRange.LeftOpen(0, GwKind.MaxScalar)),
            Steps = tr.Int("steps", td.Steps, min: 1, overrideValue: overrides.Steps),
            Slices = tr.Int("slices", td.Slices, min: 1),
            AnnealGamma = tr.Bool("anneal_gamma", td.AnnealGamma),
            GammaDecay = tr.Double("gamma_decay", td.GammaDecay, NumberRange.LeftOpen(0, 1)),
            GammaMin = tr.Double("gamma_min", td.GammaMin, NumberRange.Positive),
            Seed = tr.Int("seed", td.Seed, min: 0, overrideValue: seedOverride),
            // Glass's extensions: γ back-off on unconverged solves, warm starts, and the stopping rule.
            GammaBackoff = tr.Bool("gamma_backoff", td.GammaBackoff),
            GammaBackoffMax = tr.Double("gamma_backoff_max", td.GammaBackoffMax, NumberRange.Closed(1, 1e6)),
            WarmStart = tr.Bool("warm_start", td.WarmStart),
            StopRelChange = tr.Double("stop_rel_change", td.StopRelChange, NumberRange.NonNegative),
            StopWindow = tr.Int("stop_window", td.StopWindow, min: 1),
        };
        tr.Finish();
        return train;
    }

    /// <summary>
    /// Largest value allowed for the quantities derived from <c>ot.gamma</c>: the squared band radius
    /// γ·(−ln band_eps) (compared against squared score distances in the banded kernels) and the potential
    /// scale γ·ln(n²) (the Sinkhorn potentials are of that size). Well inside double range, so sums of a few stay finite.
    /// </summary>
    internal const double MaxGammaScale = 1e300;

    /// <summary>
    /// Refuses an <c>ot.gamma</c> whose derived quantities overflow (see <see cref="MaxGammaScale"/>): otherwise the band radius
    /// and the potentials become ∞ and the run dies with NaN after its folder was created.
    /// </summary>
    private static void CheckGamma(ConfigSection otSec, OtOptions ot, int n)
    {
        double factor = Math.Max(1, Math.Max(-Math.Log(ot.BandEps), 2 * Math.Log(n)));
        double maxGamma = MaxGammaScale / factor;
        if (!(ot.Gamma <= maxGamma))
            throw otSec.ErrorAt("gamma", string.Create(CultureInfo.InvariantCulture,
                $"got {ot.Gamma:R}; expected a number in (0, {maxGamma:G3}] (the band radius² gamma·(−ln band_eps) and the potential scale gamma·ln(n²) must stay ≤ {MaxGammaScale:G3})"));
    }

    /// <summary>
    /// A lower bound on the bytes a run needs, from the size keys (kept simple; the dominant arrays only):
    /// manifold: two point sets of n × 3 doubles and their n × K projections for each slice,
    /// 8 · 2 · n · (3 + K · slices); graph: two SBM graphs with the expected edge count
    /// E = n(n−1)/2 · (p_in/blocks + p_out·(1 − 1/blocks)) stored both ways in CSR (12 bytes an entry) plus the
    /// n × feat_dim diffusion features, 2 · (24 · E + 8 · n · feat_dim). Computed in doubles (no overflow).
    /// </summary>
    internal static double EstimateBytes(S2DataOptions? s2, SbmDataOptions? sbm, ManifoldProjectionOptions? manifold, GraphProjectionOptions? graph, TrainOptions train)
    {
        if (s2 is not null)
            return 8.0 * 2 * s2.N * (3 + (double)manifold!.K * train.Slices);
        double n = sbm!.N, b = sbm.Blocks;
        double edges = n * (n - 1) / 2 * (sbm.PIn / b + sbm.POut * (1 - 1 / b));
        return 2 * (24 * edges + 8 * n * graph!.FeatDim);
    }

    /// <summary>Refuses a size whose <see cref="EstimateBytes"/> exceeds the memory this process may use.</summary>
    private static void CheckSize(ConfigSection data, S2DataOptions? s2, SbmDataOptions? sbm, ManifoldProjectionOptions? manifold, GraphProjectionOptions? graph, TrainOptions train)
    {
        double need = EstimateBytes(s2, sbm, manifold, graph, train);
        long avail = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (need > avail)
        {
            int n = s2?.N ?? sbm!.N;
            string how = s2 is not null ? "8·2·n·(3 + K·slices)" : "2·(24·E + 8·n·feat_dim), E the expected edges";
            throw data.ErrorAt("n", string.Create(CultureInfo.InvariantCulture,
                $"got {n}; the run needs at least {Gib(need)} ({how}) but {Gib(avail)} of memory is available; expected a smaller n"));
        }
    }

    private static string Gib(double bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1L << 30):0.##} GiB");

    private static readonly string[] GateNames = { "fixed", "tie", "learn" };

    private static readonly string[] RotationInitNames = { "moments", "identity" };

    private static readonly string[] ChartNames = { "clamp", "mask" };

    private static readonly string[] FeatureNames = { "structural", "spectral", "probes" };

    private static string RotationInitName(RotationInit r) => r == RotationInit.Identity ? "identity" : "moments";

    private static string GateName(GateMode g) => g switch
    {
        GateMode.Fixed => "fixed",
        GateMode.Tie => "tie",
        _ => "learn",
    };

    private sealed class Bound(string kind, GlassExperimentOptions options) : BoundExperiment
    {
        public override string Kind => kind;

        public override int Seed => options.Train.Seed;

        public override int Steps => options.Train.Steps;

        public override StoppingRule? Stopping => StoppingRule.From(options.Train);

        public override object Options => options;

        public override IExperiment Create(ComputeDevice device) => GlassExperiments.Create(options, device);
    }
}
