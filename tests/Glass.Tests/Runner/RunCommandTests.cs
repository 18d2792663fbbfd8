using System.Globalization;
using System.Text.Json.Nodes;
using Glass.Runner.Config;
using Glass.Runner.Experiments;
using Glass.Runner.Output;
using NUnit.Framework;
using static Glass.Tests.Runner.RunnerTestSupport;

namespace Glass.Tests.Runner;

/// <summary>`glass run | sweep | compile-runs | plot` end to end with the deterministic fake experiment.</summary>
[NonParallelizable]
public class RunCommandTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = TempDir();

    [TearDown]
    public void TearDown()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private string Yaml(string name, string text)
    {
        string p = Path.Combine(_dir, name);
        File.WriteAllText(p, text);
        return p;
    }

    private static RunSettings Settings(FakeKind kind, CancellationToken cancel = default, bool plots = false) => new()
    {
        Device = "cpu", Quiet = true, Plots = plots, Out = TextWriter.Null, Err = TextWriter.Null,
        Registry = ExperimentRegistry.Default.With(kind), Cancel = cancel,
    };

    [Test]
    public void Run_WritesTheRunFolder()
    {
        string outDir = Path.Combine(_dir, "runs");
        var cfg = Yaml("a.yaml", FakeYaml("alpha", outDir, steps: 12, saveEvery: 5));
        var (code, stdout, stderr) = GlassCli(null, null, "run", cfg, "--device", "cpu");
        Assert.That(code, Is.EqualTo(0), stderr);
        var runs = RunDirs(outDir);
        Assert.That(runs, Has.Length.EqualTo(1));
        string run = runs[0];
        Assert.That(Path.GetFileName(run), Does.Match(@"^alpha_\d{8}-\d{6}$"));
        Assert.That(stdout, Does.Contain(run));
        foreach (var f in new[] { "config.json", "run.json", "metrics.csv", "summary.json", "COMPLETE", "checkpoints/latest" })
            Assert.That(File.Exists(Path.Combine(run, f)), Is.True, f);

        var lines = File.ReadAllLines(Path.Combine(run, "metrics.csv"));
        Assert.That(lines[0], Is.EqualTo(string.Join(",", FakeKind.Columns)));
        Assert.That(lines, Has.Length.EqualTo(13));
        Assert.That(lines[1].Split(',')[0], Is.EqualTo("1"));
        var row1 = lines[1].Split(',');
        Assert.That(row1[Array.IndexOf(FakeKind.Columns, "nnz")], Is.EqualTo("192"), "whole numbers without a decimal point");
        Assert.That(row1[Array.IndexOf(FakeKind.Columns, "gamma")], Is.EqualTo((0.1 * 0.98).ToString("R", CultureInfo.InvariantCulture)));
        Assert.That(row1[Array.IndexOf(FakeKind.Columns, "gamma")], Does.Contain("."));

        var ckpts = Directory.GetDirectories(Path.Combine(run, "checkpoints")).Select(Path.GetFileName).Order().ToArray();
        Assert.That(ckpts, Is.EqualTo(new[] { "ckpt_step000005", "ckpt_step000010", "ckpt_step000012" }));
        Assert.That(File.ReadAllText(Path.Combine(run, "checkpoints/latest")).Trim(), Is.EqualTo("ckpt_step000012"));

        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "config.json")))!;
        Assert.That(config["model"]!["fake"]!["rate"]!.GetValue<double>(), Is.EqualTo(0.9));
        Assert.That(config["train"]!["seed"]!.GetValue<int>(), Is.EqualTo(0));
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "summary.json")))!;
        double lastLoss = double.Parse(lines[^1].Split(',')[1], CultureInfo.InvariantCulture);
        Assert.That(summary["final"]!["loss"]!.GetValue<double>(), Is.EqualTo(lastLoss));
        Assert.That(summary["eval"]!["perm_acc"]!.GetValue<double>(), Is.EqualTo(1.0));
        Assert.That(summary["steps"]!.GetValue<int>(), Is.EqualTo(12));
    }

    [Test]
    public void Run_Overrides_SeedStepsOut()
    {
        var cfg = Yaml("a.yaml", FakeYaml("alpha", Path.Combine(_dir, "ignored")));
        string outDir = Path.Combine(_dir, "elsewhere");
        var (code, _, err) = GlassCli(null, null, "run", cfg, "--device", "cpu", "--seed", "3", "--steps", "4", "--out", outDir, "--quiet", "--no-plots");
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(Directory.Exists(Path.Combine(_dir, "ignored")), Is.False);
        string run = RunDirs(outDir).Single();
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "config.json")))!;
        Assert.That(config["train"]!["seed"]!.GetValue<int>(), Is.EqualTo(3));
        Assert.That(config["train"]!["steps"]!.GetValue<int>(), Is.EqualTo(4));
        Assert.That(config["log"]!["out_dir"]!.GetValue<string>(), Is.EqualTo(outDir));
        Assert.That(File.ReadAllLines(Path.Combine(run, "metrics.csv")), Has.Length.EqualTo(5));
    }

    [TestCase("model:\n  fake:\n    rat: 0.5\n", "model.fake.rat", "did you mean 'rate'")]
    [TestCase("model:\n  fake:\n    rate: 0\n", "model.fake.rate", "a number in (0, 1]")]
    [TestCase("model:\n  fake: {}\ntrain:\n  steps: many\n", "train.steps", "an integer ≥ 1")]
    [TestCase("model:\n  manifold: {}\not:\n  gamma: 1e308\n", "ot.gamma", "band radius")]
    [TestCase("data:\n  n: 1000000000\nmodel:\n  manifold: {}\n", "data.n", "GiB")]
    [TestCase("model:\n  manifold: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n", "", "levels deep")]
    public void Run_BadConfig_Exit2_NamesFileAndKey_NoRunFolder(string body, string key, string expected)
    {
        string outDir = Path.Combine(_dir, "runs");
        var cfg = Yaml("bad.yaml", $"exp_name: bad\nlog:\n  out_dir: {outDir}\n" + body);
        var (code, _, err) = GlassCli(null, null, "run", cfg, "--device", "cpu", "--quiet");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.StartWith("error: " + cfg + ":"));
        Assert.That(err, Does.Contain(key));
        Assert.That(err, Does.Contain(expected));
        Assert.That(Directory.Exists(outDir), Is.False, "no run folder (not even runs/) after a validation error");
    }

    [Test]
    public void Run_MissingConfig_Exit2_NamesTheFile()
    {
        string missing = Path.Combine(_dir, "nope.yaml");
        var (code, _, err) = GlassCli(null, null, "run", missing, "--out", Path.Combine(_dir, "runs"));
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain(missing));
        Assert.That(Directory.Exists(Path.Combine(_dir, "runs")), Is.False);
    }

    [Test]
    public void Run_BadDevice_Exit2_NoRunFolder()
    {
        string outDir = Path.Combine(_dir, "runs");
        var cfg = Yaml("a.yaml", FakeYaml("alpha", outDir));
        var (code, _, err) = GlassCli(null, null, "run", cfg, "--device", "tpu");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("tpu"));
        Assert.That(Directory.Exists(outDir), Is.False);
    }

    /// <summary>The GLASS smoke twins (every experiment family: M1, M2, M4, G1, G2, G3 and both templates).</summary>
    public static IEnumerable<string> GlassSmokeConfigs() =>
        Directory.GetFiles(Path.Combine(RepoRoot(), "configs", "smoke"), "*.yaml")
            .Select(Path.GetFileName).Where(f => !f!.StartsWith("gw_", StringComparison.Ordinal)).Order(StringComparer.Ordinal)!;

    [TestCaseSource(nameof(GlassSmokeConfigs))]
    public void GlassSmokeConfig_RunsEndToEnd(string name)
    {
        string outDir = Path.Combine(_dir, "runs");
        var smoke = Path.Combine(RepoRoot(), "configs", "smoke", name);
        var (code, _, err) = GlassCli(null, null, "run", smoke, "--device", "cpu", "--out", outDir, "--quiet");
        Assert.That(code, Is.EqualTo(0), err);
        string run = RunDirs(outDir).Single();
        Assert.That(File.Exists(Path.Combine(run, "COMPLETE")), Is.True, run);
        var rows = File.ReadAllLines(Path.Combine(run, "metrics.csv"));
        Assert.That(rows[0], Is.EqualTo("step,loss,plan_entropy,gamma,runtime_sec,nnz,sinkhorn_iter,band_radius,perm_acc"));
        int steps = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(run, "config.json")))!["train"]!["steps"]!.GetValue<int>();
        Assert.That(rows, Has.Length.EqualTo(steps + 1), "one metrics row per step");
        foreach (var row in rows.Skip(1))
            Assert.That(row.Split(',').Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)), Has.All.Matches<double>(double.IsFinite), row);
        Assert.That(File.Exists(Path.Combine(run, "plots", "loss.png")), Is.True);
    }

    [Test]
    public void Resume_AfterAKill_ContinuesBitIdentically()
    {
        string refOut = Path.Combine(_dir, "ref"), out2 = Path.Combine(_dir, "killed");
        var reference = RunDriver.Start(RunConfig.Parse(FakeYaml("r", refOut, steps: 23, saveEvery: 5), "r.yaml", null, ExperimentRegistry.Default.With(new FakeKind())), Settings(new FakeKind()));
        Assert.That(reference.Completed, Is.True);

        // "kill -9" at step 13: the step's row was not written, steps 11–12 were (after the step-10 checkpoint).
        var killer = new FakeKind { OnStep = t => { if (t == 13) throw new IOException("simulated kill"); } };
        var cfg = RunConfig.Parse(FakeYaml("r", out2, steps: 23, saveEvery: 5), "r.yaml", null, ExperimentRegistry.Default.With(killer));
        Assert.Throws<IOException>(() => RunDriver.Start(cfg, Settings(killer)));
        string run = RunDirs(out2).Single();
        Assert.That(File.Exists(Path.Combine(run, "COMPLETE")), Is.False);
        Assert.That(File.ReadAllLines(Path.Combine(run, "metrics.csv")), Has.Length.EqualTo(13));
        File.AppendAllText(Path.Combine(run, "metrics.csv"), "13,0.12"); // a row torn by the kill

        var (code, _, err) = GlassCli(null, null, "run", "--resume", run, "--device", "cpu", "--quiet", "--no-plots");
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(File.Exists(Path.Combine(run, "COMPLETE")), Is.True);
        Assert.That(File.ReadAllText(Path.Combine(run, "metrics.csv")),
            Is.EqualTo(File.ReadAllText(Path.Combine(RunDirs(refOut).Single(), "metrics.csv"))));

        var (again, stdout, _) = GlassCli(null, null, "run", "--resume", run, "--device", "cpu");
        Assert.That(again, Is.EqualTo(0));
        Assert.That(stdout, Does.Contain("already complete"));
    }

    [Test]
    public void Interrupt_StopsAfterTheStep_WritesACheckpoint_Exit130_ThenResumes()
    {
        string refOut = Path.Combine(_dir, "ref"), outDir = Path.Combine(_dir, "runs");
        RunDriver.Start(RunConfig.Parse(FakeYaml("i", refOut, steps: 17, saveEvery: 5), "i.yaml", null, ExperimentRegistry.Default.With(new FakeKind())), Settings(new FakeKind()));
        using var cts = new CancellationTokenSource();
        var kind = new FakeKind { OnStep = t => { if (t == 7) cts.Cancel(); } };
        var cfg = Yaml("i.yaml", FakeYaml("i", outDir, steps: 17, saveEvery: 5));
        var (code, _, err) = GlassCli(kind, cts.Token, "run", cfg, "--device", "cpu", "--quiet");
        Assert.That(code, Is.EqualTo(130), err);
        Assert.That(err, Does.Contain("--resume"));
        string run = RunDirs(outDir).Single();
        Assert.That(File.ReadAllText(Path.Combine(run, "checkpoints/latest")).Trim(), Is.EqualTo("ckpt_step000007"));
        Assert.That(File.ReadAllLines(Path.Combine(run, "metrics.csv")), Has.Length.EqualTo(8));
        Assert.That(File.Exists(Path.Combine(run, "COMPLETE")), Is.False);

        var (code2, _, err2) = GlassCli(null, null, "run", "--resume", run, "--device", "cpu", "--quiet", "--no-plots");
        Assert.That(code2, Is.EqualTo(0), err2);
        Assert.That(File.ReadAllText(Path.Combine(run, "metrics.csv")),
            Is.EqualTo(File.ReadAllText(Path.Combine(RunDirs(refOut).Single(), "metrics.csv"))));
    }

    [Test]
    public void Resume_RejectsAnEditedConfig()
    {
        string outDir = Path.Combine(_dir, "runs");
        var killer = new FakeKind { OnStep = t => { if (t == 6) throw new IOException("kill"); } };
        Assert.Throws<IOException>(() => RunDriver.Start(RunConfig.Parse(FakeYaml("e", outDir, steps: 9, saveEvery: 5), "e.yaml", null, ExperimentRegistry.Default.With(killer)), Settings(killer)));
        string run = RunDirs(outDir).Single();
        string cfgPath = Path.Combine(run, "config.json");
        File.WriteAllText(cfgPath, File.ReadAllText(cfgPath).Replace("0.9", "0.8"));
        var (code, _, err) = GlassCli(null, null, "run", "--resume", run, "--device", "cpu", "--quiet");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("config hash"));
    }

    [Test]
    public void TwoRunsInTheSameSecond_GetDistinctFolders()
    {
        string outDir = Path.Combine(_dir, "runs");
        var kind = new FakeKind();
        var cfg = RunConfig.Parse(FakeYaml("same", outDir, steps: 2), "s.yaml", null, ExperimentRegistry.Default.With(kind));
        var fixedClock = new DateTime(2025, 1, 2, 3, 4, 5);
        var s = Settings(kind) with { Now = () => fixedClock };
        var a = RunDriver.Start(cfg, s);
        var b = RunDriver.Start(cfg, s);
        Assert.That(Path.GetFileName(a.RunDir), Is.EqualTo("same_20250102-030405"));
        Assert.That(Path.GetFileName(b.RunDir), Is.EqualTo("same_20250102-030405_2"));
        Assert.That(RunDirs(outDir), Has.Length.EqualTo(2));
    }

    [Test]
    public void Sweep_RunsConfigsTimesSeeds_SkipsComplete_ResumesIncomplete()
    {
        string outDir = Path.Combine(_dir, "runs");
        var a = Yaml("a.yaml", FakeYaml("sw_a", outDir, steps: 6, saveEvery: 2));
        var b = Yaml("b.yaml", FakeYaml("sw_b", outDir, steps: 6, saveEvery: 2));
        var (code, stdout, err) = GlassCli(null, null, "sweep", a, b, "--seeds", "0,1", "--device", "cpu", "--no-plots");
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(stdout, Does.Contain("4 started"));
        var runs = RunDirs(outDir);
        Assert.That(runs, Has.Length.EqualTo(4));
        Assert.That(runs.All(r => File.Exists(Path.Combine(r, "COMPLETE"))), Is.True);

        var (code2, stdout2, _) = GlassCli(null, null, "sweep", a, b, "--seeds", "0,1", "--device", "cpu", "--no-plots");
        Assert.That(code2, Is.EqualTo(0));
        Assert.That(stdout2, Does.Contain("4 already complete"));
        Assert.That(RunDirs(outDir), Has.Length.EqualTo(4));

        // A killed run of (sw_a, seed 2) is resumed by the next sweep, not started again.
        var killer = new FakeKind { OnStep = t => { if (t == 5) throw new IOException("kill"); } };
        var cfg = RunConfig.Parse(File.ReadAllText(a), a, new ConfigOverrides { Seed = 2 }, ExperimentRegistry.Default.With(killer));
        Assert.Throws<IOException>(() => RunDriver.Start(cfg, Settings(killer)));
        var (code3, stdout3, err3) = GlassCli(null, null, "sweep", a, "--seeds", "1,2", "--device", "cpu", "--no-plots");
        Assert.That(code3, Is.EqualTo(0), err3);
        Assert.That(stdout3, Does.Contain("0 started, 1 resumed, 1 already complete"));
        Assert.That(RunDirs(outDir), Has.Length.EqualTo(5));
        Assert.That(RunDirs(outDir).All(r => File.Exists(Path.Combine(r, "COMPLETE"))), Is.True);
    }

    [Test]
    public void Sweep_ValidatesEveryConfigBeforeRunningAny()
    {
        string outDir = Path.Combine(_dir, "runs");
        var good = Yaml("good.yaml", FakeYaml("g", outDir, steps: 3));
        var bad = Yaml("bad.yaml", FakeYaml("b", outDir, steps: 3).Replace("rate: 0.9", "rate: 2"));
        var (code, _, err) = GlassCli(null, null, "sweep", good, bad, "--device", "cpu", "--quiet");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("bad.yaml").And.Contain("model.fake.rate"));
        Assert.That(Directory.Exists(outDir), Is.False);
        var (code2, _, err2) = GlassCli(null, null, "sweep", good, "--seeds", "0,x", "--quiet");
        Assert.That(code2, Is.EqualTo(2));
        Assert.That(err2, Does.Contain("--seeds"));
    }

    [Test]
    public void CompileRuns_AggregatesFinalMetrics_AndMeanStdPerExpName()
    {
        string outDir = Path.Combine(_dir, "runs");
        var a = Yaml("a.yaml", FakeYaml("c_a", outDir, steps: 5, saveEvery: 0));
        var b = Yaml("b.yaml", FakeYaml("c_b", outDir, steps: 4, saveEvery: 0, n: 128));
        Assert.That(GlassCli(null, null, "sweep", a, b, "--seeds", "0,1,2", "--device", "cpu", "--quiet", "--no-plots").Code, Is.EqualTo(0));
        string csv = Path.Combine(_dir, "summary.csv");
        var (code, stdout, err) = GlassCli(null, null, "compile-runs", "--logdir", outDir, "--out", csv);
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(stdout, Does.Contain("c_a").And.Contain("c_b").And.Contain("±"));

        var rows = File.ReadAllLines(csv);
        Assert.That(rows, Has.Length.EqualTo(7));
        var header = rows[0].Split(',').ToList();
        Assert.That(header.Take(5), Is.EqualTo(new[] { "run", "exp_name", "kind", "seed", "complete" }));
        Assert.That(header, Does.Contain("loss").And.Contain("perm_acc").And.Contain("eval_loss"));

        // Independent check: the final loss of each c_a run read straight from its metrics.csv.
        var finals = RunDirs(outDir).Where(r => Path.GetFileName(r).StartsWith("c_a_", StringComparison.Ordinal))
            .Select(r => double.Parse(File.ReadAllLines(Path.Combine(r, "metrics.csv"))[^1].Split(',')[1], CultureInfo.InvariantCulture)).ToArray();
        Assert.That(finals, Has.Length.EqualTo(3));
        double mean = finals.Average();
        double std = Math.Sqrt(finals.Sum(x => (x - mean) * (x - mean)) / 2);
        Assert.That(std, Is.GreaterThan(0), "seeds must differ");

        var grouped = File.ReadAllLines(Path.Combine(_dir, "summary_by_exp.csv"));
        Assert.That(grouped, Has.Length.EqualTo(3));
        var gh = grouped[0].Split(',').ToList();
        var ca = grouped.Single(l => l.StartsWith("c_a,", StringComparison.Ordinal)).Split(',');
        Assert.That(ca[gh.IndexOf("runs")], Is.EqualTo("3"));
        Assert.That(ca[gh.IndexOf("seeds")], Is.EqualTo("0 1 2"));
        Assert.That(double.Parse(ca[gh.IndexOf("loss_mean")], CultureInfo.InvariantCulture), Is.EqualTo(mean).Within(1e-12));
        Assert.That(double.Parse(ca[gh.IndexOf("loss_std")], CultureInfo.InvariantCulture), Is.EqualTo(std).Within(1e-12));
        var cb = grouped.Single(l => l.StartsWith("c_b,", StringComparison.Ordinal)).Split(',');
        Assert.That(double.Parse(cb[gh.IndexOf("nnz_mean")], CultureInfo.InvariantCulture), Is.EqualTo(3 * 128));
    }

    [Test]
    public void CompileRuns_SkipsARunWithACorruptSummary_WarningWithItsFile()
    {
        string outDir = Path.Combine(_dir, "runs");
        var a = Yaml("a.yaml", FakeYaml("c_a", outDir, steps: 3, saveEvery: 0));
        Assert.That(GlassCli(null, null, "sweep", a, "--seeds", "0,1,2", "--device", "cpu", "--quiet", "--no-plots").Code, Is.EqualTo(0));
        var runs = RunDirs(outDir).OrderBy(r => r, StringComparer.Ordinal).ToArray();
        Assert.That(runs, Has.Length.EqualTo(3));
        string corrupt = Path.Combine(runs[1], "summary.json");
        File.WriteAllText(corrupt, "{\"eval\": {\"loss\": 0.5,");   // cut mid-write
        string notObject = Path.Combine(runs[2], "run.json");
        File.WriteAllText(notObject, "[1, 2]");

        string csv = Path.Combine(_dir, "summary.csv");
        var (code, stdout, err) = GlassCli(null, null, "compile-runs", "--logdir", outDir, "--out", csv);
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(err, Does.Contain("warning: skipping run").And.Contain(corrupt + ": not valid JSON"));
        Assert.That(err, Does.Contain(notObject + ": array; expected a JSON object"));
        Assert.That(stdout, Does.Contain("1 runs").And.Contain("2 damaged, skipped"));
        var rows = File.ReadAllLines(csv);
        Assert.That(rows, Has.Length.EqualTo(2));
        Assert.That(rows[1], Does.StartWith(Path.GetFileName(runs[0]) + ","));

        // Every run damaged: an error (exit 2), still naming the file.
        File.WriteAllText(Path.Combine(runs[0], "summary.json"), "not json");
        var (code2, _, err2) = GlassCli(null, null, "compile-runs", "--logdir", outDir, "--out", csv);
        Assert.That(code2, Is.EqualTo(2));
        Assert.That(err2, Does.Contain(Path.Combine(runs[0], "summary.json")).And.Contain("error: none of the 3 run folders"));
    }

    [Test]
    public void CompileRuns_EmptyLogdir_IsAnError()
    {
        var (code, _, err) = GlassCli(null, null, "compile-runs", "--logdir", _dir);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain(_dir));
    }
}
