using System.Buffers.Binary;
using Glass.Runner.Config;
using Glass.Runner.Experiments;
using Glass.Runner.Output;
using NUnit.Framework;
using static Glass.Tests.Runner.RunnerTestSupport;

namespace Glass.Tests.Runner;

/// <summary>PNG plots (ScottPlot/SkiaSharp with its bundled Linux native library), the log–log fit and the progress bar.</summary>
[NonParallelizable]
public class PlotTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = TempDir();

    [TearDown]
    public void TearDown()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    /// <summary>Checks the PNG signature, the IHDR size and that the file is more than a blank canvas.</summary>
    private static void AssertPng(string path, int width = 800, int height = 500)
    {
        Assert.That(File.Exists(path), Is.True, path);
        var b = File.ReadAllBytes(path);
        Assert.That(b.Take(8), Is.EqualTo(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }), path + ": PNG signature");
        Assert.That(System.Text.Encoding.ASCII.GetString(b, 12, 4), Is.EqualTo("IHDR"));
        Assert.That(BinaryPrimitives.ReadInt32BigEndian(b.AsSpan(16)), Is.EqualTo(width));
        Assert.That(BinaryPrimitives.ReadInt32BigEndian(b.AsSpan(20)), Is.EqualTo(height));
        Assert.That(b.Length, Is.GreaterThan(5000), path + ": a plot with axes, labels and a line, not an empty image");
    }

    private string FakeRun(string name, int n, int steps = 8)
    {
        var kind = new FakeKind();
        var cfg = RunConfig.Parse(FakeYaml(name, Path.Combine(_dir, "runs"), steps: steps, saveEvery: 0, n: n), name + ".yaml", null, ExperimentRegistry.Default.With(kind));
        return RunDriver.Start(cfg, new RunSettings
        {
            Device = "cpu", Quiet = true, Plots = false, Out = TextWriter.Null, Err = TextWriter.Null, Registry = ExperimentRegistry.Default.With(kind),
        }).RunDir;
    }

    [Test]
    public void Run_WritesPlotsIntoTheRunFolder()
    {
        string outDir = Path.Combine(_dir, "runs");
        var cfg = Path.Combine(_dir, "p.yaml");
        File.WriteAllText(cfg, FakeYaml("plotted", outDir, steps: 30, saveEvery: 10));
        var (code, _, err) = GlassCli(null, null, "run", cfg, "--device", "cpu", "--quiet");
        Assert.That(code, Is.EqualTo(0), err);
        string run = RunDirs(outDir).Single();
        foreach (var m in new[] { "loss", "gamma", "nnz", "perm_acc" }) AssertPng(Path.Combine(run, "plots", m + ".png"));
    }

    [Test]
    public void PlotCommand_RuntimeVsN_LogLog_WithFittedExponent()
    {
        // The fake's runtime_sec is 1e-6·n exactly, so the fitted exponent must be 1.
        var runs = new[] { 64, 128, 256, 512 }.Select(n => FakeRun("scal_n" + n, n)).ToArray();
        string plots = Path.Combine(_dir, "plots");
        var (code, stdout, err) = GlassCli(null, null, new[] { "plot" }.Concat(runs).Concat(new[] { "--out", plots }).ToArray());
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(stdout, Does.Contain("fitted exponent 1.000"));
        AssertPng(Path.Combine(plots, "runtime_vs_n.png"));
        AssertPng(Path.Combine(plots, "loss_runs.png"));
        AssertPng(Path.Combine(plots, Path.GetFileName(runs[0]), "loss.png"));
        var csv = File.ReadAllLines(Path.Combine(plots, "runtime_vs_n.csv"));
        Assert.That(csv[0], Is.EqualTo("n,seconds_per_step,runs"));
        Assert.That(csv, Has.Length.EqualTo(6));
        var fit = RunPlots.RuntimeVsN(runs)!.Value;
        Assert.That(fit.Exponent, Is.EqualTo(1.0).Within(1e-9));
    }

    [Test]
    public void PlotSweep_MeanStdOfAFinalMetricAgainstAConfigKey()
    {
        // The fake's final runtime_sec is 1e-6·n and nnz is 3·n, so each point's mean is known exactly.
        foreach (int n in new[] { 64, 128, 256 }) FakeRun("sw_n" + n, n);
        string png = Path.Combine(_dir, "sweep", "runtime_vs_key.png");
        var (code, stdout, err) = GlassCli(null, null, "plot-sweep", "--logdir", Path.Combine(_dir, "runs"), "--x", "n", "--metric", "nnz", "--logx", "--out", png);
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(stdout, Does.Contain(png));
        AssertPng(png);
        var csv = File.ReadAllLines(Path.ChangeExtension(png, ".csv"));
        Assert.That(csv[0], Is.EqualTo("group,n,nnz_mean,nnz_std,runs"));
        Assert.That(csv.Skip(1).Select(l => l.Split(',')[2]), Is.EqualTo(new[] { "192", "384", "768" }));

        var (bad, _, berr) = GlassCli(null, null, "plot-sweep", "--logdir", Path.Combine(_dir, "runs"), "--x", "n", "--metric", "no_such_metric", "--out", png);
        Assert.That(bad, Is.EqualTo(2));
        Assert.That(berr, Does.Contain("no_such_metric").And.Contain("nnz"));
    }

    [Test]
    public void PlotCommand_MissingRunFolder_IsNamed()
    {
        string missing = Path.Combine(_dir, "no_such_run");
        var (code, _, err) = GlassCli(null, null, "plot", missing);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain(missing));
    }

    [Test]
    public void FitLogLog_RecoversAKnownPowerLaw()
    {
        double[] x = { 500, 1000, 2000, 4000 };
        var y = x.Select(v => 3e-5 * Math.Pow(v, 1.37)).ToArray();
        var (b, a) = RunPlots.FitLogLog(x, y);
        Assert.That(b, Is.EqualTo(1.37).Within(1e-12));
        Assert.That(a, Is.EqualTo(Math.Log10(3e-5)).Within(1e-12));
        Assert.Throws<ArgumentException>(() => RunPlots.FitLogLog(new[] { 5.0, 5.0 }, new[] { 1.0, 2.0 }));
    }

    [Test]
    public void ProgressBar_ShowsStepLossGammaAndEta_AndStaysOffWhenDisabled()
    {
        var sw = new StringWriter();
        var bar = new ProgressBar(sw, enabled: true, FakeKind.Columns, startStep: 0, totalSteps: 100);
        var m = new Glass.Models.Experiments.StepMetrics(new double[] { 25, 2.6594, 0.5, 0.031, 0.01, 1000, 12, 0.3, 0.5 });
        string line = bar.Render(25, m, elapsed: 5.0);
        Assert.That(line, Does.StartWith("[######------------------] 25/100"));
        Assert.That(line, Does.Contain("loss 2.6594").And.Contain("γ 0.031").And.Contain("5.0 it/s").And.Contain("ETA 0:15"));
        bar.Update(25, m);
        bar.Finish();
        Assert.That(sw.ToString(), Does.Contain("25/100"));

        var off = new StringWriter();
        var quiet = new ProgressBar(off, enabled: false, FakeKind.Columns, 0, 100);
        quiet.Update(1, m);
        quiet.Finish();
        Assert.That(off.ToString(), Is.Empty);
        Assert.That(ProgressBar.Clock(3725), Is.EqualTo("1:02:05"));
    }

    [Test]
    public void ProgressBar_ShowsTheRunningRestart()
    {
        var phase = new Glass.Models.Experiments.ExperimentPhase("restart 2/6 (seed 13)", 15, 60);
        Assert.That(ProgressBar.RenderPhase(phase), Is.EqualTo("[######------------------] restart 2/6 (seed 13): step 15/60"));
        var sw = new StringWriter();
        var bar = new ProgressBar(sw, enabled: true, FakeKind.Columns, 0, 100);
        bar.Phase(phase with { Done = 60 });
        bar.Finish();
        Assert.That(sw.ToString(), Does.Contain("restart 2/6 (seed 13): step 60/60"));
        var off = new StringWriter();
        new ProgressBar(off, enabled: false, FakeKind.Columns, 0, 100).Phase(phase);
        Assert.That(off.ToString(), Is.Empty);
    }
}
