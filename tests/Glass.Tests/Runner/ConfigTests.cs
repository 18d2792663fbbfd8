using System.Globalization;
using System.Text.RegularExpressions;
using Glass.Models.Glass;
using Glass.Runner.Config;
using Glass.Runner.Experiments;
using NUnit.Framework;

namespace Glass.Tests.Runner;

/// <summary>YAML configs: every file under configs/ validates; the papers' examples parse unchanged; bad input is named.</summary>
[NonParallelizable]
public class ConfigTests
{
    // The two example configs of shared/papers/001_… (the reference README), indentation restored.
    private const string S2Example = """
        data:
          n: 256
          noise_deg: 2.0
          rotation: true
        exp_name: s2_M1_tie_K8_g0.05
        log:
          out_dir: runs
          save_every: 50
        model:
          manifold:
            K: 8
            chart_radius_deg: 20.0
            gate_mode: tie # fixed | tie | learn
            gate_c_per_sqrtk_deg: 45.0
            init_u_scale: 0.2
        ot:
          use_banded: true
          band_eps: 1.0e-6
          gamma: 0.05
          max_iter: 200
          tol: 1.0e-6
        train:
          lr: 1.0e-3
          steps: 400
          slices: 2
          anneal_gamma: true
          gamma_decay: 0.98
          gamma_min: 0.01
          seed: 0
        """;

    private const string SbmExample = """
        data:
          n: 400
          blocks: 3
          p_in: 0.15
          p_out: 0.02
          rewire_prob: 0.03
          planted_perm: true
        exp_name: sbm_G1_example
        log:
          out_dir: runs
          save_every: 50
        model:
          graph:
            tau: 0.5
            cheby_degree: 12
            feat_dim: 32
        ot:
          use_banded: true
          band_eps: 1.0e-6
          gamma: 0.10
          max_iter: 200
          tol: 1.0e-6
        train:
          lr: 1.0e-3
          steps: 300
          slices: 2
          anneal_gamma: true
          gamma_decay: 0.98
          gamma_min: 0.01
          seed: 0
        """;

    private static string Configs => Path.Combine(RunnerTestSupport.RepoRoot(), "configs");

    private static IEnumerable<string> AllConfigFiles() =>
        Directory.EnumerateFiles(Path.Combine(RunnerTestSupport.RepoRoot(), "configs"), "*.yaml", SearchOption.AllDirectories).Order(StringComparer.Ordinal);

    [Test]
    public void EveryConfigFile_ParsesAndValidates_AndOpensWithAHeader()
    {
        var files = AllConfigFiles().ToList();
        Assert.That(files, Has.Count.GreaterThanOrEqualTo(50 + 9 + 4 + 2), "configs/ should hold the 48 paper configs, 2 templates, the 4 gw configs and the smoke twins");
        foreach (var f in files)
        {
            var cfg = RunConfig.Load(f);
            string name = Path.GetFileName(f);
            string kind = name.StartsWith("gw_", StringComparison.Ordinal) ? "gw"
                : name.Contains("sbm") || name.StartsWith("graph", StringComparison.Ordinal) ? "graph" : "manifold";
            Assert.That(cfg.Kind, Is.EqualTo(kind), name);
            Assert.That(File.ReadLines(f).First(), Does.StartWith("# "), $"{name} must open with a header comment saying what it reproduces");
            if (name.StartsWith("_auto_", StringComparison.Ordinal) && !f.Contains("smoke", StringComparison.Ordinal))
                Assert.That(cfg.ExpName, Is.EqualTo(name["_auto_".Length..^".yaml".Length]), name);
        }
    }

    [Test]
    public void PaperConfigList_IsComplete()
    {
        var names = Directory.GetFiles(Configs, "_auto_*.yaml").Select(Path.GetFileName).ToHashSet();
        var expected = new List<string>();
        foreach (var g in new[] { "0.05", "0.10" })
            foreach (var k in new[] { 8, 16, 32 }) expected.Add($"_auto_s2_M1_tie_K{k}_g{g}.yaml");
        expected.Add("_auto_s2_M1_tie_K8_g0.15.yaml");
        foreach (var k in new[] { 8, 16, 32 }) expected.Add($"_auto_s2_M1_K{k}_g0.10.yaml");
        foreach (var r in new[] { 10, 20, 30, 40 }) expected.Add($"_auto_s2_M2_r{r}.yaml");
        foreach (var n in new[] { 64, 128, 256, 512, 1024 }) expected.Add($"_auto_s2_M4_n{n}.yaml");
        foreach (var n in new[] { 200, 500, 1000 }) expected.Add($"_auto_sbm_G1_n{n}.yaml");
        foreach (var rw in new[] { "0.00", "0.02", "0.05", "0.10" }) expected.Add($"_auto_sbm_G1_noise_rw{rw}.yaml");
        foreach (var t in new[] { "0.2", "0.5", "1.0" })
            foreach (var q in new[] { 8, 12, 16, 24 }) expected.Add($"_auto_sbm_G2_q{q}_tau{t}.yaml");
        foreach (var t in new[] { "0.10", "0.15", "0.20", "0.25", "0.30", "0.40" }) expected.Add($"_auto_sbm_G2_tau{t}.yaml");
        foreach (var n in new[] { 500, 1000, 2000, 4000 }) expected.Add($"_auto_sbm_G3_n{n}.yaml");
        Assert.That(expected, Has.Count.EqualTo(48));
        Assert.That(names, Is.EquivalentTo(expected));
    }

    [Test]
    public void GwConfigList_IsComplete_AndAblationsDifferOnlyWhereNamed()
    {
        var names = Directory.GetFiles(Configs, "gw_*.yaml").Select(Path.GetFileName).ToHashSet();
        Assert.That(names, Is.EquivalentTo(new[]
        {
            "gw_snareseq_rank.yaml", "gw_snareseq_distance.yaml", "gw_snareseq_rank_no_anneal.yaml", "gw_snareseq_rank_spectral.yaml",
            "gw_snareseq_solver.yaml",
        }));
        Assert.That(Directory.GetFiles(Path.Combine(Configs, "smoke"), "gw_*.yaml").Select(Path.GetFileName),
            Is.EquivalentTo(new[] { "gw_rank.yaml", "gw_distance.yaml", "gw_solver.yaml" }));
        GwExperimentSpec Load(string f) => (GwExperimentSpec)RunConfig.Load(Path.Combine(Configs, f)).Experiment.Options;
        var rank = Load("gw_snareseq_rank.yaml");
        Assert.That(rank.Data.SnareSeq, Is.EqualTo(Path.GetFullPath(Path.Combine(Configs, "..", "..", "shared", "data", "snareseq"))));
        Assert.That(rank.Options.Loss, Is.EqualTo(Glass.Models.Gw.GwLossKind.Rank));
        Assert.That(rank.Options.EpsilonDecay, Is.LessThan(1));
        Assert.That(rank.Options, Is.EqualTo(Glass.Models.Gw.SnareSeqExperiment.DefaultOptions(0)), "the main config is the label-free SNARE-seq default");
        Assert.That(Load("gw_snareseq_distance.yaml").Options, Is.EqualTo(rank.Options with { Loss = Glass.Models.Gw.GwLossKind.Distance }));
        var noAnneal = Load("gw_snareseq_rank_no_anneal.yaml").Options;
        Assert.That(noAnneal, Is.EqualTo(rank.Options with { EpsilonDecay = 1, EpsilonStart = rank.Options.EpsilonMin }));
        Assert.That(noAnneal.EpsilonAt(0), Is.EqualTo(rank.Options.EpsilonMin), "without annealing ε is ε_min from the first step");
        Assert.That(Load("gw_snareseq_rank_spectral.yaml").Options, Is.EqualTo(rank.Options with { SpectralWeight = 0.01 }));

        // The main configs run the reported restart protocol; the Fig. 3 ablations are single initialisations.
        var protocol = new Glass.Models.Gw.LearnedGwRestartOptions
        {
            Restarts = Glass.Models.Gw.SnareSeqExperiment.DefaultRestarts, RestartSteps = Glass.Models.Gw.SnareSeqExperiment.DefaultRestartSteps,
        };
        Assert.That(rank.Restarts, Is.EqualTo(protocol));
        Assert.That(Load("gw_snareseq_distance.yaml").Restarts, Is.EqualTo(protocol));
        Assert.That(Load("gw_snareseq_rank_no_anneal.yaml").Restarts.Restarts, Is.EqualTo(1));
        Assert.That(Load("gw_snareseq_rank_spectral.yaml").Restarts.Restarts, Is.EqualTo(1));

        // The default aligner on SNARE-seq: the library defaults, with SCOT's row normalisation and 300 steps.
        var solver = Load("gw_snareseq_solver.yaml");
        var l2 = new Glass.Models.Gw.GwPreprocessing { L2NormalizeRows = true };
        Assert.That(solver.Options, Is.EqualTo(new Glass.Models.Gw.LearnedGwOptions { Steps = 300, PreprocessX = l2, PreprocessY = l2 }));
        Assert.That(solver.Options.Init, Is.EqualTo(Glass.Models.Gw.GwInit.Solver));
        Assert.That(solver.Data.SnareSeq, Is.EqualTo(rank.Data.SnareSeq));
    }

    [Test]
    public void FileNames_AgreeWithTheirValues()
    {
        foreach (var f in Directory.GetFiles(Configs, "_auto_*.yaml"))
        {
            string name = Path.GetFileNameWithoutExtension(f);
            var o = (GlassExperimentOptions)RunConfig.Load(f).Experiment.Options;
            Match m;
            if ((m = Regex.Match(name, @"_M1_(tie_)?K(\d+)_g([\d.]+)$")).Success)
            {
                Assert.That(o.Manifold!.GateMode, Is.EqualTo(m.Groups[1].Success ? GateMode.Tie : GateMode.Fixed), name);
                Assert.That(o.Manifold.K, Is.EqualTo(int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)), name);
                Assert.That(o.Ot.Gamma, Is.EqualTo(double.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture)), name + ": g is γ₀ = ot.gamma");
                Assert.That(o.Manifold.GateCPerSqrtkDeg, Is.EqualTo(45.0), name);
            }
            else if ((m = Regex.Match(name, @"_M2_r(\d+)$")).Success)
                Assert.That(o.Manifold!.ChartRadiusDeg, Is.EqualTo(double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)), name);
            else if ((m = Regex.Match(name, @"_(M4|G1|G3)_n(\d+)$")).Success)
                Assert.That(o.S2?.N ?? o.Sbm!.N, Is.EqualTo(int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)), name);
            else if ((m = Regex.Match(name, @"_G1_noise_rw([\d.]+)$")).Success)
                Assert.That(o.Sbm!.RewireProb, Is.EqualTo(double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)), name);
            else if ((m = Regex.Match(name, @"_G2_(?:q(\d+)_)?tau([\d.]+)$")).Success)
            {
                Assert.That(o.Graph!.ChebyDegree, Is.EqualTo(m.Groups[1].Success ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 12), name);
                Assert.That(o.Graph.Tau, Is.EqualTo(double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)), name);
            }
            else Assert.Fail($"unexpected config name {name}");
        }
    }

    [Test]
    public void BaseTemplates_AreThePapersExamples_Unchanged()
    {
        foreach (var (file, example) in new[] { ("manifold_s2_small.yaml", S2Example), ("graph_sbm_small.yaml", SbmExample) })
        {
            var body = File.ReadLines(Path.Combine(Configs, file)).Where(l => !l.StartsWith('#'));
            Assert.That(string.Join("\n", body).TrimEnd(), Is.EqualTo(example.ReplaceLineEndings("\n").TrimEnd()), file);
        }
    }

    [Test]
    public void S2Example_BindsToTheOptionsRecords()
    {
        var cfg = RunConfig.Parse(S2Example, "example.yaml");
        var o = (GlassExperimentOptions)cfg.Experiment.Options;
        Assert.That(cfg.Kind, Is.EqualTo("manifold"));
        Assert.That(cfg.ExpName, Is.EqualTo("s2_M1_tie_K8_g0.05"));
        Assert.That((cfg.OutDir, cfg.SaveEvery), Is.EqualTo(("runs", 50)));
        Assert.That(o.S2, Is.EqualTo(new S2DataOptions { N = 256, NoiseDeg = 2.0, Rotation = true }));
        Assert.That(o.Sbm, Is.Null);
        Assert.That(o.Manifold, Is.EqualTo(new ManifoldProjectionOptions { K = 8, ChartRadiusDeg = 20, GateMode = GateMode.Tie, GateCPerSqrtkDeg = 45, InitUScale = 0.2 }));
        Assert.That(o.Ot, Is.EqualTo(new OtOptions { UseBanded = true, BandEps = 1e-6, Gamma = 0.05, MaxIter = 200, Tol = 1e-6 }));
        Assert.That(o.Train, Is.EqualTo(new TrainOptions { Lr = 1e-3, Steps = 400, Slices = 2, AnnealGamma = true, GammaDecay = 0.98, GammaMin = 0.01, Seed = 0 }));
    }

    [Test]
    public void SbmExample_BindsToTheOptionsRecords()
    {
        var cfg = RunConfig.Parse(SbmExample, "example.yaml");
        var o = (GlassExperimentOptions)cfg.Experiment.Options;
        Assert.That(cfg.Kind, Is.EqualTo("graph"));
        Assert.That(o.Sbm, Is.EqualTo(new SbmDataOptions { N = 400, Blocks = 3, PIn = 0.15, POut = 0.02, RewireProb = 0.03, PlantedPerm = true }));
        Assert.That(o.Graph, Is.EqualTo(new GraphProjectionOptions { Tau = 0.5, ChebyDegree = 12, FeatDim = 32 }));
        Assert.That(o.Ot.Gamma, Is.EqualTo(0.10));
        Assert.That(o.Train.Steps, Is.EqualTo(300));
    }

    [Test]
    public void ResolvedConfig_FillsDefaults_AndLoadsBackToTheSameHash()
    {
        var cfg = RunConfig.Parse("model:\n  manifold:\n    K: 4\n", "min.yaml");
        Assert.That(cfg.Resolved["train"]!["steps"]!.GetValue<int>(), Is.EqualTo(400));
        Assert.That(cfg.Resolved["ot"]!["gamma"]!.GetValue<double>(), Is.EqualTo(0.05));
        Assert.That(cfg.Resolved["model"]!["manifold"]!["gate_mode"]!.GetValue<string>(), Is.EqualTo("tie"));
        Assert.That(cfg.ExpName, Is.EqualTo("min"), "exp_name defaults to the file's name");
        var back = RunConfig.Parse(cfg.ToJson(), "config.json");
        Assert.That(back.Hash, Is.EqualTo(cfg.Hash));
        Assert.That(back.ToJson(), Is.EqualTo(cfg.ToJson()));
        Assert.That(RunConfig.Parse("model:\n  manifold:\n    K: 5\n", "min.yaml").Hash, Is.Not.EqualTo(cfg.Hash));
    }

    [Test]
    public void LearnRotation_IsOffByDefault_AndBindsWhenGiven()
    {
        var d = (GlassExperimentOptions)RunConfig.Parse(S2Example, "example.yaml").Experiment.Options;
        Assert.That(d.Manifold!.LearnRotation, Is.False, "the papers' configs keep the reference code's meaning");
        var cfg = RunConfig.Parse("model:\n  manifold:\n    learn_rotation: true\n    rotation_lr: 0.002\n    rotation_init: identity\n", "r.yaml");
        var o = (GlassExperimentOptions)cfg.Experiment.Options;
        Assert.That((o.Manifold!.LearnRotation, o.Manifold.RotationLr, o.Manifold.RotationInit), Is.EqualTo((true, 0.002, RotationInit.Identity)));
        Assert.That(cfg.Resolved["model"]!["manifold"]!["learn_rotation"]!.GetValue<bool>(), Is.True, "written to config.json");
        Assert.That(RunConfig.Parse(cfg.ToJson(), "config.json").Hash, Is.EqualTo(cfg.Hash));
    }

    [Test]
    public void OtUnderModel_AndSeedAtTopLevel_AreAccepted()
    {
        string yaml = "exp_name: a\nmodel:\n  graph:\n    tau: 0.2\n  ot:\n    gamma: 0.3\ntrain:\n  steps: 7\nseed: 4\n";
        var cfg = RunConfig.Parse(yaml, "a.yaml");
        var o = (GlassExperimentOptions)cfg.Experiment.Options;
        Assert.That(o.Ot.Gamma, Is.EqualTo(0.3));
        Assert.That(o.Train.Seed, Is.EqualTo(4));
        Assert.That(cfg.Resolved["ot"]!["gamma"]!.GetValue<double>(), Is.EqualTo(0.3), "ot is written at the top level of config.json");
        Assert.That(cfg.Resolved["train"]!["seed"]!.GetValue<int>(), Is.EqualTo(4));
        Assert.That(RunConfig.Parse(yaml, "a.yaml", new ConfigOverrides { Seed = 9 }).Seed, Is.EqualTo(9), "--seed wins");
    }

    private static ConfigException Bad(string yaml, string file = "bad.yaml") =>
        Assert.Throws<ConfigException>(() => RunConfig.Parse(yaml, file))!;

    [TestCase("model:\n  manifold:\n    gate_mod: tie\n", "model.manifold.gate_mod", "did you mean 'gate_mode'", 3, 5)]
    [TestCase("model:\n  manifold:\n    k: 8\n", "model.manifold.k", "did you mean 'K'", 3, 5)]
    [TestCase("model:\n  manifold: {}\ntrian:\n  steps: 3\n", "trian", "did you mean 'train'", 3, 1)]
    [TestCase("model:\n  manifld:\n    K: 8\n", "model.manifld", "did you mean 'manifold'", 2, 3)]
    [TestCase("model:\n  manifold: {}\not:\n  gama: 0.1\n", "ot.gama", "did you mean 'gamma'", 4, 3)]
    public void UnknownKey_IsNamed_WithSuggestion(string yaml, string path, string hint, int line, int col)
    {
        var e = Bad(yaml);
        Assert.That(e.Message, Does.Contain("bad.yaml:" + line + ":" + col));
        Assert.That(e.Message, Does.Contain(path));
        Assert.That(e.Message, Does.Contain(hint));
    }

    [TestCase("model:\n  manifold:\n    K: eight\n", "model.manifold.K", "'eight'", "an integer ≥ 1")]
    [TestCase("model:\n  manifold:\n    K: 8.5\n", "model.manifold.K", "'8.5'", "an integer ≥ 1")]
    [TestCase("model:\n  manifold:\n    K: 0\n", "model.manifold.K", "got 0", "an integer ≥ 1")]
    [TestCase("data:\n  n: -5\nmodel:\n  manifold: {}\n", "data.n", "got -5", "an integer ≥ 2")]
    [TestCase("model:\n  manifold: {}\not:\n  gamma: 0\n", "ot.gamma", "got 0", "a number > 0")]
    [TestCase("model:\n  manifold: {}\not:\n  gamma: -0.1\n", "ot.gamma", "got -0.1", "a number > 0")]
    [TestCase("model:\n  manifold: {}\not:\n  gamma: \"0.1\"\n", "ot.gamma", "quoted string '0.1'", "a number > 0")]
    [TestCase("model:\n  manifold: {}\ntrain:\n  gamma_decay: 1.5\n", "train.gamma_decay", "got 1.5", "a number in (0, 1]")]
    [TestCase("model:\n  manifold: {}\ntrain:\n  gamma_decay: 0\n", "train.gamma_decay", "got 0", "a number in (0, 1]")]
    [TestCase("model:\n  manifold: {}\ntrain:\n  lr: 1e308\n", "train.lr", "got 1e308", "a number in (0, 1000000]")]
    [TestCase("data:\n  p_in: 1.2\nmodel:\n  graph: {}\n", "data.p_in", "got 1.2", "a number in [0, 1]")]
    [TestCase("data:\n  rewire_prob: -0.1\nmodel:\n  graph: {}\n", "data.rewire_prob", "got -0.1", "a number in [0, 1]")]
    [TestCase("data:\n  rotation: yes please\nmodel:\n  manifold: {}\n", "data.rotation", "'yes please'", "true or false")]
    [TestCase("model:\n  manifold:\n    gate_mode: tied\n", "model.manifold.gate_mode", "'tied'", "one of fixed | tie | learn")]
    [TestCase("model:\n  manifold:\n    learn_rotation: 1\n", "model.manifold.learn_rotation", "'1'", "true or false")]
    [TestCase("model:\n  manifold:\n    rotation_lr: 0\n", "model.manifold.rotation_lr", "got 0", "a number > 0")]
    [TestCase("model:\n  manifold:\n    rotation_init: pca\n", "model.manifold.rotation_init", "'pca'", "one of moments | identity")]
    [TestCase("model:\n  graph:\n    tau: 0\n", "model.graph.tau", "got 0", "a number > 0")]
    [TestCase("model:\n  manifold: {}\not:\n  band_eps: 1\n", "ot.band_eps", "got 1", "a number in (0, 1)")]
    [TestCase("model:\n  manifold: {}\not:\n  rank_cap: -1\n", "ot.rank_cap", "got -1", "an integer ≥ 0")]
    [TestCase("model:\n  manifold: {}\ndata: 5\n", "data", "scalar '5'", "a mapping")]
    [TestCase("exp_name: a/b\nmodel:\n  manifold: {}\n", "exp_name", "'a/b'", "letters, digits")]
    [TestCase("model:\n  manifold: {}\nlog:\n  save_every: -1\n", "log.save_every", "got -1", "an integer ≥ 0")]
    [TestCase("model:\n  manifold: {}\n  graph: {}\n", "model", "both 'manifold' and 'graph'", "exactly one experiment kind")]
    [TestCase("exp_name: a\n", "model", "missing", "exactly one experiment kind")]
    [TestCase("model:\n  manifold: {}\nseed: 1\ntrain:\n  seed: 2\n", "seed", "both at the top level and under train", "once")]
    [TestCase("model:\n  manifold: {}\not:\n  gamma: 1e308\n", "ot.gamma", "got 1E+308", "band radius")]
    [TestCase("model:\n  manifold: {}\not:\n  gamma: 1e299\n  band_eps: 1e-300\n", "ot.gamma", "got 1E+299", "band radius")]
    [TestCase("data:\n  n: 1000000000\nmodel:\n  manifold: {}\n", "data.n", "got 1000000000", "GiB")]
    [TestCase("data:\n  n: 2147483647\nmodel:\n  manifold: {}\n", "data.n", "got 2147483647", "GiB")]
    [TestCase("data:\n  n: 1000000000\nmodel:\n  graph: {}\n", "data.n", "got 1000000000", "GiB")]
    [TestCase("data:\n  n: 10000000\n  blocks: 1\n  p_in: 1\nmodel:\n  graph: {}\n", "data.n", "got 10000000", "expected a smaller n")]
    [TestCase("data:\n  n: 1e8\nmodel:\n  manifold: {}\n", "data.n", "'1e8'", "an integer ≥ 2")]
    public void BadValue_IsNamed_WithWhatWasExpected(string yaml, string path, string got, string expected)
    {
        var e = Bad(yaml);
        Assert.That(e.Message, Does.StartWith("bad.yaml"));
        Assert.That(e.Message, Does.Contain(path + ":"));
        Assert.That(e.Message, Does.Contain(got));
        Assert.That(e.Message, Does.Contain(expected));
    }

    [Test]
    public void ModerateGammaAndSize_StillValidate()
    {
        var cfg = RunConfig.Parse("data:\n  n: 5000\nmodel:\n  manifold: {}\not:\n  gamma: 1000\n", "ok.yaml");
        Assert.That(((GlassExperimentOptions)cfg.Experiment.Options).Ot.Gamma, Is.EqualTo(1000));
        Assert.That(RunConfig.Parse("data:\n  n: 2000\nmodel:\n  graph: {}\n", "ok.yaml").Kind, Is.EqualTo("graph"));
    }

    [Test]
    public void DeepYaml_FlowStyle_IsRefused_NamingTheLine_WithoutOverflowingTheStack()
    {
        const int depth = 100_000;
        string yaml = "exp_name: deep\nmodel:\n  manifold: " + new string('[', depth) + new string(']', depth) + "\n";
        var e = Bad(yaml);
        Assert.That(e.Message, Does.StartWith("bad.yaml:3:"));
        Assert.That(e.Message, Does.Contain("more than 64 levels deep"));
    }

    [Test]
    public void DeepYaml_BlockStyle_IsRefused_NamingTheLine_WithoutOverflowingTheStack()
    {
        const int depth = 100_000;
        string yaml = "exp_name: deep\nmodel:\n  x:\n    " + string.Concat(Enumerable.Repeat("- ", depth)) + "1\n";
        var e = Bad(yaml);
        Assert.That(e.Message, Does.StartWith("bad.yaml:4:"));
        Assert.That(e.Message, Does.Contain("more than 64 levels deep"));
    }

    [Test]
    public void Yaml_64LevelsDeep_PassesTheDepthCheck()
    {
        // Root mapping + 63 flow sequences = 64 levels: refused for its content (unknown key), not its depth.
        string yaml = "model:\n  manifold: {}\nx: " + new string('[', 63) + new string(']', 63) + "\n";
        var e = Bad(yaml);
        Assert.That(e.Message, Does.Not.Contain("levels deep"));
        Assert.That(e.Message, Does.Contain("x"));
        var e2 = Bad("model:\n  manifold: {}\nx: " + new string('[', 64) + new string(']', 64) + "\n");
        Assert.That(e2.Message, Does.StartWith("bad.yaml:3:"));
        Assert.That(e2.Message, Does.Contain("more than 64 levels deep"));
    }

    [Test]
    public void YamlSyntaxError_NamesFileAndLine()
    {
        var e = Bad("model:\n  manifold:\n    K: [8\n");
        Assert.That(e.Message, Does.StartWith("bad.yaml:"));
        Assert.That(e.Message, Does.Contain("YAML syntax error"));
    }

    [Test]
    public void DuplicateKey_IsAnError()
    {
        var e = Assert.Catch(() => RunConfig.Parse("model:\n  manifold:\n    K: 8\n    K: 9\n", "dup.yaml"))!;
        Assert.That(e.Message, Does.Contain("dup.yaml"));
    }

    [Test]
    public void MissingFile_IsNamed()
    {
        var e = Assert.Throws<FileNotFoundException>(() => RunConfig.Load("/nonexistent/dir/nope.yaml"))!;
        Assert.That(e.Message, Does.Contain("/nonexistent/dir/nope.yaml"));
    }

    [Test]
    public void Suggest_FindsCloseKeysOnly()
    {
        Assert.That(ConfigSection.Suggest("chart_radius", new[] { "K", "chart_radius_deg" }), Is.EqualTo("chart_radius_deg"));
        Assert.That(ConfigSection.Suggest("stpes", new[] { "lr", "steps", "slices" }), Is.EqualTo("steps"));
        Assert.That(ConfigSection.Suggest("banana", new[] { "lr", "steps", "slices" }), Is.Null);
    }

    [Test]
    public void RegistryKindsAreSelectedByTheModelKey()
    {
        var reg = ExperimentRegistry.Default.With(new FakeKind());
        var cfg = RunConfig.Parse(RunnerTestSupport.FakeYaml("f", "out"), "f.yaml", null, reg);
        Assert.That(cfg.Kind, Is.EqualTo("fake"));
        Assert.That(ExperimentRegistry.Default.Names, Is.EqualTo(new[] { "manifold", "graph", "gw" }));
        var e = Assert.Throws<ConfigException>(() => RunConfig.Parse(RunnerTestSupport.FakeYaml("f", "out"), "f.yaml"))!;
        Assert.That(e.Message, Does.Contain("model"));
    }
}
