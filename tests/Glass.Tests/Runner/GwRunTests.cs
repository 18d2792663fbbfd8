using System.Text.Json;
using System.Text.Json.Nodes;
using Glass.Models.Data;
using Glass.Models.Gw;
using Glass.Runner.Commands;
using Glass.Runner.Config;
using Glass.Runner.Experiments;
using NUnit.Framework;
using static Glass.Tests.Runner.RunnerTestSupport;

namespace Glass.Tests.Runner;

/// <summary>The gw experiment kind (config binding and a smoke `glass run`) and `glass bench gw | inductive`.</summary>
[NonParallelizable]
public class GwRunTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = TempDir();

    [TearDown]
    public void TearDown()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private static ConfigException Bad(string yaml) => Assert.Throws<ConfigException>(() => RunConfig.Parse(yaml, "bad.yaml"))!;

    [Test]
    public void GwConfig_BindsEveryKey_PathsRelativeToTheFile()
    {
        string yaml = """
            exp_name: g
            data:
              x: sub/a.npy
              y: /abs/b.csv
              labels_x: la.txt
              paired: true
            model:
              gw:
                depth: 4
                hidden: 32
                embed_dim: 8
                activation: tanh
                cost: sqeuclidean
                loss: distance
                rank_delta: 0.1
                distance: {metric: geodesic, k: 7, knn_metric: euclidean, weights: distance, normalize_by_max: false, disconnected: fail}
                preprocess: {l2_normalize_rows: true, standardize: false}
                spectral_weight: 0.3
                spectral_k: 6
            train: {lr: 0.01, steps: 12, batch_size: 64, epsilon_start: 0.4, epsilon_min: 0.03, epsilon_decay: 0.95, clip_norm: 0, seed: 2}
            """;
        string file = Path.Combine(_dir, "cfgs", "g.yaml");
        var cfg = RunConfig.Parse(yaml, file);
        Assert.That(cfg.Kind, Is.EqualTo("gw"));
        var spec = (GwExperimentSpec)cfg.Experiment.Options;
        Assert.That(spec.Data.X, Is.EqualTo(Path.GetFullPath(Path.Combine(_dir, "cfgs", "sub", "a.npy"))));
        Assert.That(spec.Data.Y, Is.EqualTo(Path.GetFullPath("/abs/b.csv")));
        Assert.That(spec.Data.LabelsX, Is.EqualTo(Path.Combine(_dir, "cfgs", "la.txt")));
        Assert.That(spec.Data.LabelsY, Is.Null);
        Assert.That(spec.Data.Paired, Is.True);
        var o = spec.Options;
        Assert.That((o.Depth, o.Hidden, o.EmbedDim, o.Activation, o.Cost, o.Loss), Is.EqualTo((4, 32, 8, GwActivation.Tanh, GwCost.SqEuclidean, GwLossKind.Distance)));
        Assert.That(o.DistancesX, Is.EqualTo(new DistanceOptions { Metric = DistanceMetric.Geodesic, K = 7, KnnMetric = DistanceMetric.Euclidean, Weights = KnnWeights.Distance, NormalizeByMax = false, Disconnected = DisconnectedPolicy.Fail }));
        Assert.That(o.DistancesY, Is.EqualTo(o.DistancesX));
        Assert.That(o.PreprocessX, Is.EqualTo(new GwPreprocessing { L2NormalizeRows = true, Standardize = false }));
        Assert.That((o.RankDelta, o.SpectralWeight, o.SpectralK), Is.EqualTo((0.1, 0.3, 6)));
        Assert.That((o.LearningRate, o.Steps, o.BatchSize, o.EpsilonStart, o.EpsilonMin, o.EpsilonDecay, o.Seed), Is.EqualTo((0.01, 12, 64, 0.4, 0.03, 0.95, 2)));
        Assert.That(o.ClipNorm, Is.Null, "clip_norm 0 = no clipping");
        Assert.That(cfg.Resolved["data"]!["x"]!.GetValue<string>(), Is.EqualTo(spec.Data.X), "config.json holds absolute paths (for --resume)");
        Assert.That(RunConfig.Parse(yaml, file, new ConfigOverrides { Seed = 9, Steps = 3 }).Experiment.Options, Is.InstanceOf<GwExperimentSpec>()
            .And.Property("Options").Property("Seed").EqualTo(9));
    }

    [Test]
    public void GwConfig_DefaultsAreTheSolverDefaults_AndWithInitNoneTheSnareSeqProtocol()
    {
        var cfg = RunConfig.Parse("data: {snareseq: d}\nmodel:\n  gw: {}\n", Path.Combine(_dir, "s.yaml"));
        var solver = (GwExperimentSpec)cfg.Experiment.Options;
        Assert.That(solver.Options, Is.EqualTo(new LearnedGwOptions()), "train.init defaults to solver, with the library's defaults");
        Assert.That(cfg.Resolved["train"]!["init"]!.GetValue<string>(), Is.EqualTo("solver"));
        Assert.That(cfg.Resolved["model"]!["gw"]!["solver"]!["epsilons"]!.AsArray().Select(v => v!.GetValue<double>()), Is.EqualTo(new[] { 5e-3, 1e-2 }));
        var noneCfg = RunConfig.Parse("data: {snareseq: d}\nmodel:\n  gw: {}\ntrain: {init: none}\n", Path.Combine(_dir, "s.yaml"));
        var spec = (GwExperimentSpec)noneCfg.Experiment.Options;
        Assert.That(spec.Options, Is.EqualTo(SnareSeqExperiment.DefaultOptions(0)));
        Assert.That(noneCfg.Resolved["train"]!["init"]!.GetValue<string>(), Is.EqualTo("none"), "config.json records the init, so --resume rebuilds the same run");
        Assert.That(noneCfg.Hash, Is.Not.EqualTo(cfg.Hash));
        Assert.That(spec.Data.Paired, Is.True);
        Assert.That(spec.Data.SnareSeq, Is.EqualTo(Path.Combine(_dir, "d")));
        Assert.That(spec.Restarts, Is.EqualTo(new LearnedGwRestartOptions()), "one initialisation unless train.restarts says otherwise");
    }

    [Test]
    public void GwConfig_RestartKeys_Bind_AndAreResolved()
    {
        var cfg = RunConfig.Parse("data: {x: a.npy, y: b.npy}\nmodel:\n  gw: {}\ntrain: {init: none, steps: 12, restarts: 3, restart_steps: 12, selection: training}\n", Path.Combine(_dir, "r.yaml"));
        var spec = (GwExperimentSpec)cfg.Experiment.Options;
        Assert.That(spec.Restarts, Is.EqualTo(new LearnedGwRestartOptions { Restarts = 3, RestartSteps = 12, SelectOnTrainingDistances = true }));
        var train = cfg.Resolved["train"]!;
        Assert.That((train["restarts"]!.GetValue<int>(), train["restart_steps"]!.GetValue<int>(), train["selection"]!.GetValue<string>()), Is.EqualTo((3, 12, "training")));
        // One initialisation: the restart keys have no effect and stay out of the resolved config, so the hash is that of
        // a config written before the keys existed (old run folders still resume and are still skipped by glass sweep).
        var plain = RunConfig.Parse("data: {x: a.npy, y: b.npy}\nmodel:\n  gw: {}\ntrain: {init: none}\n", Path.Combine(_dir, "d.yaml"));
        var one = RunConfig.Parse("data: {x: a.npy, y: b.npy}\nmodel:\n  gw: {}\ntrain: {init: none, restarts: 1, restart_steps: 12, selection: training}\n", Path.Combine(_dir, "d.yaml"));
        Assert.That(((GwExperimentSpec)plain.Experiment.Options).Restarts, Is.EqualTo(new LearnedGwRestartOptions()));
        foreach (var key in new[] { "restarts", "restart_steps", "selection" })
            Assert.That(plain.Resolved["train"]!.AsObject().ContainsKey(key) || one.Resolved["train"]!.AsObject().ContainsKey(key), Is.False, key);
        Assert.That(one.Hash, Is.EqualTo(plain.Hash));
        Assert.That(cfg.Hash, Is.Not.EqualTo(RunConfig.Parse("data: {x: a.npy, y: b.npy}\nmodel:\n  gw: {}\ntrain: {init: none, steps: 12}\n", Path.Combine(_dir, "r.yaml")).Hash));
        // restart_steps is checked against the steps in force, --steps included.
        var e = Assert.Throws<ConfigException>(() => RunConfig.Parse("data: {x: a.npy, y: b.npy}\nmodel:\n  gw: {}\ntrain: {init: none, restarts: 2, restart_steps: 60}\n",
            Path.Combine(_dir, "o.yaml"), new ConfigOverrides { Steps = 50 }))!;
        Assert.That(e.Message, Does.Contain("train.restart_steps").And.Contain("[1, 50]").And.Contain("--steps"));
    }

    [TestCase("data: {x: a.npy, y: b.npy}\nmodel:\n  gw:\n    hiden: 3\n", "bad.yaml:4:5", "model.gw.hiden", "did you mean 'hidden'")]
    [TestCase("data: {x: a.npy, y: b.npy}\nmodel:\n  gw: {}\ntrain:\n  epsilon_decay: 1.5\n", "bad.yaml:5:18", "train.epsilon_decay", "(0, 1]")]
    [TestCase("data: {x: a.npy, y: b.npy}\nmodel:\n  gw: {loss: ranks}\n", "bad.yaml:3", "model.gw.loss", "did you mean 'rank'")]
    [TestCase("data: {x: a.npy, y: b.npy}\nmodel:\n  gw:\n    distance: {metric: geodesic, k: 0}\n", "bad.yaml:4", "model.gw.distance.k", "≥ 1")]
    [TestCase("data: {x: a.npy, y: b.npy}\nmodel:\n  gw: {}\ntrain: {batch_size: 1}\n", "bad.yaml:4", "train.batch_size", "0 (full batch) or an integer ≥ 2")]
    [TestCase("data: {x: a.npy}\nmodel:\n  gw: {}\n", "bad.yaml:1", "data", "y: Y.npy")]
    [TestCase("data: {snareseq: d, x: a.npy}\nmodel:\n  gw: {}\n", "bad.yaml:1", "data.x", "either snareseq")]
    [TestCase("data: {x: a.npy, y: b.npy, paird: true}\nmodel:\n  gw: {}\n", "bad.yaml:1", "data.paird", "did you mean 'paired'")]
    [TestCase("data: {x: a.npy, y: b.npy}\nmodel:\n  gw: {}\ntrain:\n  restarts: 0\n", "bad.yaml:5:13", "train.restarts", "an integer ≥ 1")]
    [TestCase("data: {x: a.npy, y: b.npy}\nmodel:\n  gw: {}\ntrain:\n  restarts: 3\n", "bad.yaml:5", "train.restarts", "init: solver solves GW first")]
    [TestCase("data: {x: a.npy, y: b.npy}\nmodel:\n  gw: {}\ntrain:\n  init: random\n", "bad.yaml:5", "train.init", "one of solver | none")]
    [TestCase("data: {x: a.npy, y: b.npy}\nmodel:\n  gw:\n    solver: {epsilons: 0.01}\n", "bad.yaml:4", "model.gw.solver.epsilons", "a list of numbers")]
    [TestCase("data: {x: a.npy, y: b.npy}\nmodel:\n  gw:\n    solver: {epsilons: [0.01, -2]}\n", "bad.yaml:4", "model.gw.solver.epsilons", "'-2'")]
    [TestCase("data: {x: a.npy, y: b.npy}\nmodel:\n  gw:\n    solver: {discrepancy: 0.9}\n", "bad.yaml:4", "model.gw.solver.discrepancy", "[1, 1000000]")]
    [TestCase("data: {x: a.npy, y: b.npy}\nmodel:\n  gw:\n    solver: {coarse: 10}\n", "bad.yaml:4", "model.gw.solver.coarse", "did you mean 'coarse_size'")]
    [TestCase("data: {x: a.npy, y: b.npy}\nmodel:\n  gw:\n    solver: {coarse_size: 10}\ntrain: {init: none}\n", "bad.yaml:4", "model.gw.solver", "init: none")]
    [TestCase("data: {x: a.npy, y: b.npy}\nmodel:\n  gw: {}\ntrain:\n  steps: 12\n  restart_steps: 13\n", "bad.yaml:6:3", "train.restart_steps", "0 (every restart trains to the end) or an integer in [1, 12]")]
    [TestCase("data: {x: a.npy, y: b.npy}\nmodel:\n  gw: {}\ntrain:\n  restart_steps: -1\n", "bad.yaml:5", "train.restart_steps", "≥ 0")]
    [TestCase("data: {x: a.npy, y: b.npy}\nmodel:\n  gw: {}\ntrain:\n  selection: foo\n", "bad.yaml:5:14", "train.selection", "one of euclidean | training")]
    [TestCase("data: {x: a.npy, y: b.npy}\nmodel:\n  gw: {}\ntrain:\n  restart: 2\n", "bad.yaml:5", "train.restart", "did you mean 'restarts'")]
    [TestCase("data: {x: a.npy, y: b.npy}\nmodel:\n  gw: {hidden: 1000000000}\n", "bad.yaml:3", "model.gw.hidden", "GiB (8·4·2·(hidden")]
    [TestCase("data: {x: a.npy, y: b.npy}\nmodel:\n  gw: {embed_dim: 1000000000, hidden: 100000}\n", "bad.yaml:3", "model.gw.embed_dim", "expected a smaller network")]
    [TestCase("data: {x: a.npy, y: b.npy}\nmodel:\n  gw: {depth: 100000000}\n", "bad.yaml:3", "model.gw.depth", "depth 100000000")]
    [TestCase("data: {x: a.npy, y: b.npy}\nmodel:\n  gw: {}\ntrain: {lr: 1e308}\n", "bad.yaml:4", "train.lr", "(0, 1000000]")]
    [TestCase("data: {x: a.npy, y: b.npy}\nmodel:\n  gw: {}\ntrain: {init: none, epsilon_start: 1e308}\n", "bad.yaml:4", "train.epsilon_start", "(0, 1000000]")]
    [TestCase("data: {x: a.npy, y: b.npy}\nmodel:\n  gw: {}\ntrain: {epsilon_min: 1e7}\n", "bad.yaml:4", "train.epsilon_min", "(0, 1000000]")]
    [TestCase("data: {x: a.npy, y: b.npy}\nmodel:\n  gw: {rank_delta: 1e300}\n", "bad.yaml:3", "model.gw.rank_delta", "(0, 1000000]")]
    [TestCase("data: {x: a.npy, y: b.npy}\nmodel:\n  gw: {spectral_weight: 1e300}\n", "bad.yaml:3", "model.gw.spectral_weight", "[0, 1000000]")]
    [TestCase("data: {x: a.npy, y: b.npy}\nmodel:\n  gw: {sinkhorn_tol: 2}\n", "bad.yaml:3", "model.gw.sinkhorn_tol", "(0, 1]")]
    public void GwConfig_BadInput_IsNamed(string yaml, string where, string key, string expected)
    {
        var e = Bad(yaml);
        Assert.That(e.Message, Does.StartWith(where));
        Assert.That(e.Message, Does.Contain(key));
        Assert.That(e.Message, Does.Contain(expected));
    }

    [Test]
    public void GwConfig_ExtensionKeys_Bind_PathsRelativeToTheFile_AbsoluteInConfigJson()
    {
        string yaml = """
            data: {x: a.npy, y: b.npy}
            model:
              gw:
                supervised: {pairs: anchors/pairs.csv, weight: 0.5}
                fused: {x: fx.npy, y: /abs/fy.csv}
            train: {init: none}
            """;
        string file = Path.Combine(_dir, "cfgs", "e.yaml");
        var cfg = RunConfig.Parse(yaml, file);
        var ext = ((GwExperimentSpec)cfg.Experiment.Options).Extensions;
        Assert.That(ext, Is.EqualTo(new GwExtensionFiles(Path.Combine(_dir, "cfgs", "anchors", "pairs.csv"), 0.5, Path.Combine(_dir, "cfgs", "fx.npy"),
            Path.GetFullPath("/abs/fy.csv"), GwExtensionFiles.DefaultWeight)));
        var gw = cfg.Resolved["model"]!["gw"]!;
        Assert.That(gw["supervised"]!["pairs"]!.GetValue<string>(), Is.EqualTo(ext.Pairs), "config.json holds absolute paths (for --resume)");
        Assert.That(gw["fused"]!["weight"]!.GetValue<double>(), Is.EqualTo(1.0), "the default weight is resolved");
        var plain = RunConfig.Parse("data: {x: a.npy, y: b.npy}\nmodel:\n  gw: {}\n", file);
        Assert.That(((GwExperimentSpec)plain.Experiment.Options).Extensions, Is.EqualTo(GwExtensionFiles.None));
        Assert.That(plain.Resolved["model"]!["gw"]!.AsObject().ContainsKey("supervised"), Is.False, "an absent term stays absent");
    }

    [TestCase("data: {x: a.npy, y: b.npy}\nmodel:\n  gw:\n    supervised: {weight: 2}\n", "bad.yaml:4", "model.gw.supervised.pairs", "missing; expected a known-pairs file")]
    [TestCase("data: {x: a.npy, y: b.npy}\nmodel:\n  gw:\n    supervised:\n      pairs: p.txt\n      weight: 0\n", "bad.yaml:6:15", "model.gw.supervised.weight", "> 0")]
    [TestCase("data: {x: a.npy, y: b.npy}\nmodel:\n  gw:\n    supervised:\n      pair: p.txt\n", "bad.yaml:5", "model.gw.supervised.pairs", "missing")]
    [TestCase("data: {x: a.npy, y: b.npy}\nmodel:\n  gw:\n    supervised:\n      pairs: p.txt\n      wieght: 2\n", "bad.yaml:6", "model.gw.supervised.wieght", "did you mean 'weight'")]
    [TestCase("data: {x: a.npy, y: b.npy}\nmodel:\n  gw:\n    fused: {x: f.npy, weight: 1}\n", "bad.yaml:4", "model.gw.fused.y", "missing; expected the shared features of Y")]
    [TestCase("data: {x: a.npy, y: b.npy}\nmodel:\n  gw:\n    fused: {x: f.npy, y: g.npy, weight: -1}\n", "bad.yaml:4", "model.gw.fused.weight", "> 0")]
    [TestCase("data: {x: a.npy, y: b.npy}\nmodel:\n  gw:\n    fused: f.npy\n", "bad.yaml:4", "model.gw.fused", "expected a mapping")]
    [TestCase("data: {x: a.npy, y: b.npy}\nmodel:\n  gw:\n    supervise: {pairs: p.txt}\n", "bad.yaml:4", "model.gw.supervise", "did you mean 'supervised'")]
    [TestCase("data: {x: a.npy, y: b.npy}\nmodel:\n  gw:\n    supervised: {pairs: p.txt}\n", "bad.yaml:4", "model.gw.supervised", "init: none")]
    public void GwConfig_BadExtensionKeys_AreNamed(string yaml, string where, string key, string expected) => GwConfig_BadInput_IsNamed(yaml, where, key, expected);

    [Test]
    public void GlassRun_WithKnownPairs_ReportsThemAndFoscttmUnanchored_BadPairsWriteNoRunFolder()
    {
        var (x, y, _, _, _) = AlignCliTests.WritePair(_dir, 40, 5); // also writes labels.txt
        File.Move(x, Path.Combine(_dir, "pair_x.npy"));
        File.Move(y, Path.Combine(_dir, "pair_y.npy"));
        File.WriteAllText(Path.Combine(_dir, "pairs.csv"), "x,y\n0,0\n5,5\n10,10\n15,15\n");
        string smoke = File.ReadAllText(Path.Combine(RepoRoot(), "configs", "smoke", "gw_rank.yaml"));
        string yaml = smoke.Replace("    spectral_weight: 0.1", "    supervised: {pairs: pairs.csv, weight: 1}\n    fused: {x: pair_x.npy, y: pair_x.npy, weight: 0.5}\n    spectral_weight: 0.1")
            .Replace("  restarts: 2", "  restarts: 1");
        Assert.That(yaml, Does.Contain("init: none"), "known pairs are a term of the paper's training");
        Assert.That(yaml, Does.Contain("supervised:").And.Contain("restarts: 1"));
        string cfg = Path.Combine(_dir, "anchored.yaml");
        File.WriteAllText(cfg, yaml);
        string runs = Path.Combine(_dir, "runs");
        var (code, stdout, stderr) = GlassCli(null, null, "run", cfg, "--device", "cpu", "--out", runs, "--quiet");
        Assert.That(code, Is.EqualTo(0), stderr + stdout);
        var run = RunDirs(runs).Single();
        using (var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "summary.json"))))
        {
            var ev = summary.RootElement.GetProperty("eval");
            Assert.That(ev.GetProperty("known_pairs").GetDouble(), Is.EqualTo(4));
            Assert.That(ev.GetProperty("supervised_weight").GetDouble(), Is.EqualTo(1));
            Assert.That(ev.GetProperty("fused_weight").GetDouble(), Is.EqualTo(0.5));
            Assert.That(ev.GetProperty("unanchored_rows").GetDouble(), Is.EqualTo(36));
            Assert.That(ev.GetProperty("foscttm_unanchored").GetDouble(), Is.InRange(0.0, 1.0));
        }
        using (var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "config.json"))))
            Assert.That(config.RootElement.GetProperty("model").GetProperty("gw").GetProperty("supervised").GetProperty("pairs").GetString(),
                Is.EqualTo(Path.Combine(_dir, "pairs.csv")));

        // A pair out of range: the error names the file, line and range; no run folder is created.
        File.WriteAllText(Path.Combine(_dir, "pairs.csv"), "x,y\n0,0\n40,1\n");
        string runs2 = Path.Combine(_dir, "runs2");
        (code, _, stderr) = GlassCli(null, null, "run", cfg, "--device", "cpu", "--out", runs2, "--quiet");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain("pairs.csv:3:").And.Contain("row index 40").And.Contain("0 ≤ i ≤ 39"));
        Assert.That(Directory.Exists(runs2) && Directory.EnumerateFileSystemEntries(runs2).Any(), Is.False, "no run folder after a failure");
    }

    [TestCase("gw_rank.yaml")]
    [TestCase("gw_distance.yaml")]
    [TestCase("gw_solver.yaml")]
    public void SmokeConfig_RunsEndToEnd(string smoke)
    {
        // The smoke twin next to its tiny synthetic pair (paths in the file are relative to it).
        var (x, y, _, _, _) = AlignCliTests.WritePair(_dir, 40, 5); // also writes labels.txt
        File.Move(x, Path.Combine(_dir, "pair_x.npy"));
        File.Move(y, Path.Combine(_dir, "pair_y.npy"));
        string cfg = Path.Combine(_dir, smoke);
        File.Copy(Path.Combine(RepoRoot(), "configs", "smoke", smoke), cfg);
        string runs = Path.Combine(_dir, "runs");
        var (code, stdout, stderr) = GlassCli(null, null, "run", cfg, "--device", "cpu", "--out", runs, "--quiet");
        Assert.That(code, Is.EqualTo(0), stderr + stdout);
        var run = RunDirs(runs).Single();
        var lines = File.ReadAllLines(Path.Combine(run, "metrics.csv"));
        Assert.That(lines[0], Does.StartWith("step,loss,"));
        Assert.That(lines, Has.Length.EqualTo(11));
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "summary.json")));
        string text = summary.RootElement.ToString();
        Assert.That(text, Does.Contain("foscttm"));
        if (smoke == "gw_solver.yaml")
        {
            // init: solver — the GW solution (its candidates and selection) is in summary.json; no restarts.
            var sol = summary.RootElement.GetProperty("solver");
            var cands = sol.GetProperty("candidates").EnumerateArray().Select(c => (c.GetProperty("name").GetString(), c.GetProperty("gw_loss").GetDouble())).ToArray();
            Assert.That(cands.Select(c => c.Item1).Take(3), Is.EqualTo(new[] { "product", "entropic(0.005)", "entropic(0.01)" }));
            Assert.That(cands.Select(c => c.Item1).Skip(3), Has.All.StartsWith("multiscale("));
            Assert.That(sol.GetProperty("selected_gw_loss").GetDouble(), Is.EqualTo(cands.Min(c => c.Item2)));
            Assert.That(sol.GetProperty("selected_gw_loss").GetDouble(), Is.LessThan(1e-12), "the isometric pair is solved exactly");
            Assert.That(sol.GetProperty("pseudo_pairs").GetInt32(), Is.EqualTo(40));
            Assert.That(summary.RootElement.TryGetProperty("restarts", out _), Is.False);
        }
        else
            Assert.That(summary.RootElement.GetProperty("restarts").GetProperty("seeds").GetArrayLength(), Is.EqualTo(2), "the smoke twins run 2 restarts");
        Assert.That(File.Exists(Path.Combine(run, "plots", "loss.png")), Is.True);
    }

    /// <summary>Status lines of a run; cancels <see cref="Cts"/> (a Ctrl-C) when a line contains the trigger.</summary>
    private sealed class StatusLines(string? trigger) : StringWriter
    {
        public CancellationTokenSource Cts { get; } = new();

        public override void WriteLine(string? value)
        {
            base.WriteLine(value);
            if (trigger is not null && value is not null && value.Contains(trigger)) Cts.Cancel();
        }
    }

    private static RunSettings Settings(StatusLines console) => new()
    {
        Device = "cpu", Progress = false, Plots = false, Out = console, Err = TextWriter.Null, Cancel = console.Cts.Token,
    };

    private const string RestartYaml = """
        exp_name: gw_restarts
        log: {save_every: 2}
        data: {x: pair_x.npy, y: pair_y.npy, labels_x: labels.txt, labels_y: labels.txt, paired: true}
        model:
          gw: {depth: 2, hidden: 16, embed_dim: 4, cost: sqeuclidean, loss: distance, distance: {metric: euclidean}}
        train: {init: none, lr: 1.0e-2, steps: 9, batch_size: 0, epsilon_min: 0.05, epsilon_decay: 0.9, eval_every: 3, seed: 1,
                restarts: 3, restart_steps: 4, selection: euclidean}
        """;

    [Test]
    public void GlassRun_WithRestarts_RecordsTheSelection_AndResumesFromInsideIt()
    {
        var (x, y, _, _, _) = AlignCliTests.WritePair(_dir, 30, 5);
        File.Move(x, Path.Combine(_dir, "pair_x.npy"));
        File.Move(y, Path.Combine(_dir, "pair_y.npy"));
        string file = Path.Combine(_dir, "restarts.yaml");
        File.WriteAllText(file, RestartYaml);

        // Uninterrupted reference.
        var refOut = new StatusLines(null);
        var reference = RunDriver.Start(RunConfig.Parse(RestartYaml, file, new ConfigOverrides { OutDir = Path.Combine(_dir, "ref") }), Settings(refOut));
        Assert.That(reference.Completed, Is.True);
        string log = refOut.ToString();
        Assert.That(log, Does.Contain("restart selection: 3 restarts × 4 steps (seeds 3…5), scored label-free on euclidean distances"));
        Assert.That(log, Does.Contain("restart 1/3 (seed 3): 4 steps, selection score").And.Contain("restart 3/3 (seed 5)"));
        var refRows = File.ReadAllLines(Path.Combine(reference.RunDir, "metrics.csv"));
        Assert.That(refRows.Skip(1).Select(r => r.Split(',')[0]), Is.EqualTo(Enumerable.Range(1, 9).Select(i => i.ToString())), "one row per step of the selected restart");
        using (var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(reference.RunDir, "summary.json"))))
        {
            var rs = summary.RootElement.GetProperty("restarts");
            Assert.That(rs.GetProperty("seeds").EnumerateArray().Select(e => e.GetInt32()), Is.EqualTo(new[] { 3, 4, 5 }), "seed·R + r");
            var scores = rs.GetProperty("scores").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            int best = Array.IndexOf(scores, scores.Min());
            Assert.That(rs.GetProperty("selected").GetInt32(), Is.EqualTo(best));
            Assert.That(rs.GetProperty("selected_seed").GetInt32(), Is.EqualTo(3 + best));
            Assert.That((rs.GetProperty("restarts").GetInt32(), rs.GetProperty("restart_steps").GetInt32(), rs.GetProperty("selection").GetString()), Is.EqualTo((3, 4, "euclidean")));
            Assert.That(log, Does.Contain($"selected restart {best + 1}/3 (seed {3 + best}"));
        }
        Assert.That(File.Exists(Path.Combine(reference.RunDir, "checkpoints", "ckpt_step000002", "restart_selection.json")), Is.True,
            "a checkpoint inside the selected restart's first steps keeps the selection");

        // Ctrl-C during the selection: honoured after it (step 1), checkpoint written; the resume does not repeat it.
        var stop = new StatusLines("selected restart");
        var cut = RunDriver.Start(RunConfig.Parse(RestartYaml, file, new ConfigOverrides { OutDir = Path.Combine(_dir, "cut") }), Settings(stop));
        Assert.That((cut.Interrupted, cut.StepsDone), Is.EqualTo((true, 1)));
        var again = new StatusLines(null);
        var resumed = RunDriver.Resume(cut.RunDir, Settings(again));
        Assert.That((resumed.Completed, resumed.StepsThisSession), Is.EqualTo((true, 8)));
        Assert.That(again.ToString(), Does.Not.Contain("restart selection"), "the selection is restored, not rerun");
        static IEnumerable<string> NoRuntime(IEnumerable<string> rows) => rows.Select(r => string.Join(",", r.Split(',').Where((_, j) => j != 6)));
        Assert.That(NoRuntime(File.ReadAllLines(Path.Combine(cut.RunDir, "metrics.csv"))), Is.EqualTo(NoRuntime(refRows)),
            "the same rows as the uninterrupted run (runtime_sec aside)");
        var a = JsonNode.Parse(File.ReadAllText(Path.Combine(reference.RunDir, "summary.json")))!["restarts"]!;
        var b = JsonNode.Parse(File.ReadAllText(Path.Combine(cut.RunDir, "summary.json")))!["restarts"]!;
        Assert.That(b["scores"]!.ToJsonString(), Is.EqualTo(a["scores"]!.ToJsonString()));
        Assert.That(b["selected_seed"]!.GetValue<int>(), Is.EqualTo(a["selected_seed"]!.GetValue<int>()));

        // A checkpoint of a run with restarts that lost its selection file is refused, naming the file.
        string ck = Path.Combine(cut.RunDir, "checkpoints", "ckpt_step000002");
        using var exp = ((GwExperimentSpec)RunConfig.Parse(RestartYaml, file).Experiment.Options) is var spec
            ? GwExperiment.Create(Npy.Read(Path.Combine(_dir, "pair_x.npy")).Data, 30, 5, Npy.Read(Path.Combine(_dir, "pair_y.npy")).Data, 30, 5, spec.Options,
                restarts: spec.Restarts) : null!;
        File.Delete(Path.Combine(ck, "restart_selection.json"));
        var err = Assert.Throws<InvalidDataException>(() => exp.LoadState(ck))!;
        Assert.That(err.Message, Does.Contain("restart_selection.json").And.Contain("3 restarts"));
    }

    private static (int Code, string Out, string Err) Bench(params string[] args)
    {
        var oldOut = Console.Out;
        var o = new StringWriter();
        var e = new StringWriter();
        Console.SetOut(o);
        try { return (Cli.Run(new[] { "bench" }.Concat(args).ToArray(), o, e), o.ToString(), e.ToString()); }
        finally { Console.SetOut(oldOut); }
    }

    [Test]
    public void BenchGw_Json_MatchesTheLibrarySolve()
    {
        var rng = new Random(4);
        var x = Enumerable.Range(0, 30 * 3).Select(_ => rng.NextDouble()).ToArray();
        var y = Enumerable.Range(0, 24 * 2).Select(_ => rng.NextDouble()).ToArray();
        string fx = Path.Combine(_dir, "x.npy"), fy = Path.Combine(_dir, "y.npy");
        Npy.Write(fx, x, 3);
        Npy.Write(fy, y, 2);
        var (code, stdout, stderr) = Bench("gw", "--x", fx, "--y", fy, "--epsilon", "0.05", "--device", "cpu", "--json");
        Assert.That(code, Is.EqualTo(0), stderr);
        var d = JsonDocument.Parse(stdout.Trim()).RootElement;
        foreach (var k in new[] { "seconds", "gw_loss", "iterations", "n", "m", "epsilon", "converged" })
            Assert.That(d.TryGetProperty(k, out _), Is.True, k);
        Assert.That((d.GetProperty("n").GetInt32(), d.GetProperty("m").GetInt32()), Is.EqualTo((30, 24)));
        var sq = new DistanceOptions { Metric = DistanceMetric.SqEuclidean, NormalizeByMax = true };
        var r = EntropicGw.Solve(Glass.Kernels.Device.ComputeDevice.Cpu, Distances.Compute(x, 30, 3, sq).Values, Distances.Compute(y, 24, 2, sq).Values,
            30, 24, null, null, new EntropicGwOptions { Epsilon = 0.05 });
        Assert.That(d.GetProperty("gw_loss").GetDouble(), Is.EqualTo(r.GwLoss));
        Assert.That(d.GetProperty("iterations").GetInt32(), Is.EqualTo(r.Iterations));

        var raw = JsonDocument.Parse(Bench("gw", "--x", fx, "--y", fy, "--epsilon", "0.05", "--no-normalize", "--device", "cpu", "--json").Out.Trim()).RootElement;
        var sqRaw = sq with { NormalizeByMax = false };
        var r2 = EntropicGw.Solve(Glass.Kernels.Device.ComputeDevice.Cpu, Distances.Compute(x, 30, 3, sqRaw).Values, Distances.Compute(y, 24, 2, sqRaw).Values,
            30, 24, null, null, new EntropicGwOptions { Epsilon = 0.05 });
        Assert.That(raw.GetProperty("gw_loss").GetDouble(), Is.EqualTo(r2.GwLoss));
        Assert.That(raw.GetProperty("normalized").GetBoolean(), Is.False);

        var bad = Bench("gw", "--x", fx, "--y", fy, "--epsilon", "0", "--device", "cpu");
        Assert.That(bad.Code, Is.EqualTo(2));
        Assert.That(bad.Err, Does.Contain("--epsilon"));
    }

    [Test]
    public void BenchInductive_Json_HasTheKeys()
    {
        var (code, stdout, stderr) = Bench("inductive", "--n", "40,60", "--dim", "8", "--train-n", "30", "--train-steps", "5", "--device", "cpu", "--json");
        Assert.That(code, Is.EqualTo(0), stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(2), "one line per size");
        Assert.That(lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("n").GetInt32()), Is.EqualTo(new[] { 40, 60 }));
        var d = JsonDocument.Parse(lines[1]).RootElement;
        foreach (var k in new[] { "seconds", "peak_bytes", "accuracy", "exact_accuracy", "allocated_bytes", "n", "train_seconds", "candidate_iterations", "readout_seconds" })
            Assert.That(d.TryGetProperty(k, out _), Is.True, k);
        // accuracy is the class accuracy (the paper's measure); an exact match is also a class match.
        Assert.That(d.GetProperty("accuracy").GetDouble(), Is.InRange(0.0, 1.0));
        Assert.That(d.GetProperty("accuracy").GetDouble(), Is.GreaterThanOrEqualTo(d.GetProperty("exact_accuracy").GetDouble()));
        Assert.That(d.GetProperty("peak_bytes").GetInt64(), Is.GreaterThanOrEqualTo(0));
        Assert.That(d.GetProperty("allocated_bytes").GetInt64(), Is.GreaterThan(0));
    }
}
