using System.Text.Json.Nodes;
using NUnit.Framework;
using static Glass.Tests.Runner.RunnerTestSupport;

namespace Glass.Tests.Runner;

/// <summary>`glass run` on the real GLASS kinds: the stopping rule (and resuming across it), the headline, alignment.png, new keys' validation.</summary>
[NonParallelizable]
public class GlassRunTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = TempDir();

    [TearDown]
    public void TearDown()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private string S2Yaml(string outDir, string trainExtra, string modelExtra = "") =>
        $"""
        data:
          n: 24
          noise_deg: 0.5
          rotation: false
        exp_name: stop
        log:
          out_dir: {outDir}
          save_every: 5
        model:
          manifold:
            K: 4
        {modelExtra}
        ot:
          gamma: 0.05
          max_iter: 2000
        train:
          lr: 0.05
          steps: 200
          slices: 2
          gamma_decay: 0.95
          gamma_min: 0.001
          seed: 1
        {trainExtra}
        """;

    [Test]
    public void StoppingRule_EndsTheRunEarly_CompleteWithReason_AndResumeReproducesIt()
    {
        string refOut = Path.Combine(_dir, "ref");
        var cfg = Path.Combine(_dir, "stop.yaml");
        File.WriteAllText(cfg, S2Yaml(refOut, "  stop_rel_change: 0.02\n  stop_window: 4"));
        var (code, stdout, err) = GlassCli(null, null, "run", cfg, "--device", "cpu");
        Assert.That(code, Is.EqualTo(0), err);
        string run = RunDirs(refOut).Single();
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "summary.json")))!;
        int steps = summary["steps"]!.GetValue<int>();
        Assert.That(steps, Is.InRange(11, 199), "stopped by the rule, after the step-5 and step-10 checkpoints");
        Assert.That(summary["stopped_early"]!.GetValue<string>(), Does.Contain("stop_rel_change"));
        Assert.That(File.Exists(Path.Combine(run, "COMPLETE")), Is.True);
        Assert.That(File.ReadAllLines(Path.Combine(run, "metrics.csv")), Has.Length.EqualTo(steps + 1));
        Assert.That(stdout, Does.Contain("stopped at step"));
        Assert.That(stdout, Does.Contain("perm_acc").And.Contain("independent coupling").And.Contain("exact OT").And.Contain("unconverged"));
        Assert.That(summary["headline"]!.GetValue<string>(), Does.StartWith("perm_acc "));
        Assert.That(summary["eval"]!["exact_ot_loss"]!.GetValue<double>(), Is.LessThan(summary["eval"]!["independent_loss"]!.GetValue<double>()));
        Assert.That(File.Exists(Path.Combine(run, "alignment.csv")), Is.True);
        Assert.That(File.Exists(Path.Combine(run, "plots", "alignment.png")), Is.True);

        // A copy rolled back to its step-5 checkpoint, as after a kill: resuming replays the loss history from metrics.csv
        // and stops at the same step with the same rows.
        string copy = Path.Combine(_dir, "copy", Path.GetFileName(run));
        CopyDir(run, copy);
        File.Delete(Path.Combine(copy, "COMPLETE"));
        foreach (var d in Directory.GetDirectories(Path.Combine(copy, "checkpoints")))
            if (Path.GetFileName(d) != "ckpt_step000005") Directory.Delete(d, true);
        File.WriteAllText(Path.Combine(copy, "checkpoints", "latest"), "ckpt_step000005\n");
        var (code2, _, err2) = GlassCli(null, null, "run", "--resume", copy, "--device", "cpu", "--quiet", "--no-plots");
        Assert.That(code2, Is.EqualTo(0), err2);
        Assert.That(WithoutRuntime(Path.Combine(copy, "metrics.csv")), Is.EqualTo(WithoutRuntime(Path.Combine(run, "metrics.csv"))));
    }

    /// <summary>metrics.csv rows without the runtime_sec column (wall time is the one value a rerun cannot repeat).</summary>
    private static string[] WithoutRuntime(string path)
    {
        var lines = File.ReadAllLines(path);
        int c = Array.IndexOf(lines[0].Split(','), "runtime_sec");
        return lines.Select(l => string.Join(",", l.Split(',').Where((_, k) => k != c))).ToArray();
    }

    [TestCase("  stop_rel_change: -0.1\n", "train.stop_rel_change")]
    [TestCase("  stop_window: 0\n", "train.stop_window")]
    [TestCase("  gamma_backoff: maybe\n", "train.gamma_backoff")]
    [TestCase("  warm_start: 1.5\n", "train.warm_start")]
    [TestCase("  gamma_backoff_max: 0.5\n", "train.gamma_backoff_max")]
    [TestCase("  stop_rel_chang: 0.1\n", "train.stop_rel_chang")]
    public void NewTrainKeys_AreValidated(string extra, string key)
    {
        string outDir = Path.Combine(_dir, "runs");
        var cfg = Path.Combine(_dir, "bad.yaml");
        File.WriteAllText(cfg, S2Yaml(outDir, extra.TrimEnd('\n')));
        var (code, _, err) = GlassCli(null, null, "run", cfg, "--device", "cpu", "--quiet");
        Assert.That(code, Is.EqualTo(2), err);
        Assert.That(err, Does.StartWith("error: " + cfg + ":"));
        Assert.That(err, Does.Contain(key));
        Assert.That(Directory.Exists(outDir), Is.False);
    }

    [Test]
    public void ChartAndFeatureKeys_AreValidated()
    {
        string outDir = Path.Combine(_dir, "runs");
        var cfg = Path.Combine(_dir, "bad.yaml");
        File.WriteAllText(cfg, S2Yaml(outDir, "", "    chart: squash"));
        var (code, _, err) = GlassCli(null, null, "run", cfg, "--device", "cpu", "--quiet");
        Assert.That(code, Is.EqualTo(2), err);
        Assert.That(err, Does.Contain("model.manifold.chart").And.Contain("clamp"));
        var g = Path.Combine(_dir, "g.yaml");
        File.WriteAllText(g, $"data:\n  n: 30\nexp_name: g\nlog:\n  out_dir: {outDir}\nmodel:\n  graph:\n    features: eigen\n");
        var (code2, _, err2) = GlassCli(null, null, "run", g, "--device", "cpu", "--quiet");
        Assert.That(code2, Is.EqualTo(2), err2);
        Assert.That(err2, Does.Contain("model.graph.features").And.Contain("spectral"));
    }

    private static void CopyDir(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in Directory.GetFiles(from)) File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
        foreach (var d in Directory.GetDirectories(from)) CopyDir(d, Path.Combine(to, Path.GetFileName(d)));
    }
}
