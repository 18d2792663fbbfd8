using System.Text.Json;
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
    public void GwConfig_DefaultsAreTheSnareSeqDefaults()
    {
        var spec = (GwExperimentSpec)RunConfig.Parse("data: {snareseq: d}\nmodel:\n  gw: {}\n", Path.Combine(_dir, "s.yaml")).Experiment.Options;
        Assert.That(spec.Options, Is.EqualTo(SnareSeqExperiment.DefaultOptions(0)));
        Assert.That(spec.Data.Paired, Is.True);
        Assert.That(spec.Data.SnareSeq, Is.EqualTo(Path.Combine(_dir, "d")));
    }

    [TestCase("data: {x: a.npy, y: b.npy}\nmodel:\n  gw:\n    hiden: 3\n", "bad.yaml:4:5", "model.gw.hiden", "did you mean 'hidden'")]
    [TestCase("data: {x: a.npy, y: b.npy}\nmodel:\n  gw: {}\ntrain:\n  epsilon_decay: 1.5\n", "bad.yaml:5:18", "train.epsilon_decay", "(0, 1]")]
    [TestCase("data: {x: a.npy, y: b.npy}\nmodel:\n  gw: {loss: ranks}\n", "bad.yaml:3", "model.gw.loss", "did you mean 'rank'")]
    [TestCase("data: {x: a.npy, y: b.npy}\nmodel:\n  gw:\n    distance: {metric: geodesic, k: 0}\n", "bad.yaml:4", "model.gw.distance.k", "≥ 1")]
    [TestCase("data: {x: a.npy, y: b.npy}\nmodel:\n  gw: {}\ntrain: {batch_size: 1}\n", "bad.yaml:4", "train.batch_size", "0 (full batch) or an integer ≥ 2")]
    [TestCase("data: {x: a.npy}\nmodel:\n  gw: {}\n", "bad.yaml:1", "data", "y: Y.npy")]
    [TestCase("data: {snareseq: d, x: a.npy}\nmodel:\n  gw: {}\n", "bad.yaml:1", "data.x", "either snareseq")]
    [TestCase("data: {x: a.npy, y: b.npy, paird: true}\nmodel:\n  gw: {}\n", "bad.yaml:1", "data.paird", "did you mean 'paired'")]
    public void GwConfig_BadInput_IsNamed(string yaml, string where, string key, string expected)
    {
        var e = Bad(yaml);
        Assert.That(e.Message, Does.StartWith(where));
        Assert.That(e.Message, Does.Contain(key));
        Assert.That(e.Message, Does.Contain(expected));
    }

    [TestCase("gw_rank.yaml")]
    [TestCase("gw_distance.yaml")]
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
        Assert.That(File.Exists(Path.Combine(run, "plots", "loss.png")), Is.True);
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
        foreach (var k in new[] { "seconds", "peak_bytes", "accuracy", "exact_accuracy", "allocated_bytes", "n", "train_seconds", "candidate_iterations" })
            Assert.That(d.TryGetProperty(k, out _), Is.True, k);
        // accuracy is the class accuracy (the paper's measure); an exact match is also a class match.
        Assert.That(d.GetProperty("accuracy").GetDouble(), Is.InRange(0.0, 1.0));
        Assert.That(d.GetProperty("accuracy").GetDouble(), Is.GreaterThanOrEqualTo(d.GetProperty("exact_accuracy").GetDouble()));
        Assert.That(d.GetProperty("peak_bytes").GetInt64(), Is.GreaterThanOrEqualTo(0));
        Assert.That(d.GetProperty("allocated_bytes").GetInt64(), Is.GreaterThan(0));
    }
}
