using System.Globalization;
using System.Text.Json;
using Glass.Models.Data;
using Glass.Runner.Commands;
using Glass.Runner.Output;
using NUnit.Framework;
using static Glass.Tests.Runner.RunnerTestSupport;

namespace Glass.Tests.Runner;

/// <summary>`glass align` end to end on a tiny isometric pair (Y = X·Q): output files, save → load, bad input.</summary>
[NonParallelizable]
public class AlignCliTests
{
    private const int N = 36, D = 5;
    private string _dir = "";
    private string _x = "", _y = "", _labels = "", _config = "", _trained = "";

    /// <summary>A small, fast training config (the gw run schema).</summary>
    internal const string TinyConfig = """
        # tiny learned-GW config for tests
        model:
          gw:
            depth: 2
            hidden: 16
            embed_dim: 4
            cost: sqeuclidean
            loss: distance
            distance:
              metric: euclidean
            preprocess:
              l2_normalize_rows: false
              standardize: true
        train:
          init: none
          lr: 1.0e-2
          steps: 15
          batch_size: 0
          epsilon_min: 0.05
          epsilon_decay: 0.9
          seed: 3
        """;

    /// <summary>Writes X (N×D), Y = X·Q and class labels into <paramref name="dir"/>.</summary>
    internal static (string X, string Y, string Labels, double[] XData, double[] YData) WritePair(string dir, int n = N, int d = D, string prefix = "")
    {
        var mix = new IsometricMixture(d, classes: 3, seed: 5);
        var (x, y, l) = mix.Sample(n);
        string fx = Path.Combine(dir, prefix + "x.npy"), fy = Path.Combine(dir, prefix + "y.npy"), fl = Path.Combine(dir, prefix + "labels.txt");
        Npy.Write(fx, x, d);
        Npy.Write(fy, y, d);
        File.WriteAllLines(fl, l.Select(v => v.ToString(CultureInfo.InvariantCulture)));
        return (fx, fy, fl, x, y);
    }


    [OneTimeSetUp]
    public void OneTimeSetUp()
    {
        _dir = TempDir();
        (_x, _y, _labels, _, _) = WritePair(_dir);
        _config = Path.Combine(_dir, "tiny.yaml");
        File.WriteAllText(_config, TinyConfig);
        _trained = Path.Combine(_dir, "trained");
        var (code, _, err) = AlignCli("--x", _x, "--y", _y, "--labels-x", _labels, "--labels-y", _labels, "--paired",
            "--config", _config, "--device", "cpu", "--out", _trained);
        Assert.That(code, Is.EqualTo(0), err);
    }

    private void AssertBad((int Code, string Out, string Err) r, string outDir, params string[] fragments) => AssertRefused(r, outDir, _dir, fragments);

    [OneTimeTearDown]
    public void OneTimeTearDown()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    [Test]
    public void Align_WritesEveryFile_InInputOrder()
    {
        foreach (var f in new[]
        {
            "model/gw_model.json", "matches.csv", "plan_topk.npy", "plan_topk.csv", "x_aligned.npy", "x_aligned.csv", "y_aligned.npy",
            "y_aligned.csv", "metrics.json", "train_history.csv", "pca_domain.png", "pca_labels.png", "foscttm_sorted.png",
        })
            Assert.That(File.Exists(Path.Combine(_trained, f)), Is.True, f);
        Assert.That(Directory.GetDirectories(_dir).Where(d => Path.GetFileName(d).StartsWith('.')), Is.Empty, "no temporary sibling left");

        var xa = Npy.Read(Path.Combine(_trained, "x_aligned.npy"));
        var ya = Npy.Read(Path.Combine(_trained, "y_aligned.npy"));
        Assert.That(xa.Shape, Is.EqualTo(new[] { N, D }));
        Assert.That(ya.Shape, Is.EqualTo(new[] { N, D }));
        // y_aligned is Y standardised with its own column statistics, rows in input order.
        var y = Npy.Read(_y);
        for (int k = 0; k < D; k++)
        {
            double mean = 0, var = 0;
            for (int i = 0; i < N; i++) mean += y.Data[i * D + k];
            mean /= N;
            for (int i = 0; i < N; i++) var += Math.Pow(y.Data[i * D + k] - mean, 2);
            double sd = Math.Sqrt(var / N);
            for (int i = 0; i < N; i++) Assert.That(ya.Data[i * D + k], Is.EqualTo((y.Data[i * D + k] - mean) / sd).Within(1e-10), $"y_aligned[{i},{k}]");
        }
        var csv = File.ReadAllLines(Path.Combine(_trained, "x_aligned.csv"));
        Assert.That(csv[0], Is.EqualTo("c0,c1,c2,c3,c4"));
        Assert.That(csv, Has.Length.EqualTo(N + 1));
        Assert.That(double.Parse(csv[1].Split(',')[2], CultureInfo.InvariantCulture), Is.EqualTo(xa.Data[2]));

        var matches = File.ReadAllLines(Path.Combine(_trained, "matches.csv"));
        Assert.That(matches[0], Is.EqualTo("x,y,plan"));
        Assert.That(matches.Skip(1).Select(l => int.Parse(l.Split(',')[0], CultureInfo.InvariantCulture)), Is.EqualTo(Enumerable.Range(0, N)));
        var topk = Npy.Read(Path.Combine(_trained, "plan_topk.npy"));
        Assert.That(topk.Shape, Is.EqualTo(new[] { N * 5, 3 }));
        for (int i = 0; i < N; i++)
        {
            Assert.That(topk.Data[(i * 5) * 3], Is.EqualTo(i));
            Assert.That(topk.Data[(i * 5) * 3 + 1], Is.EqualTo(double.Parse(matches[i + 1].Split(',')[1], CultureInfo.InvariantCulture)), "the first top-k entry is the hard match");
            double rowMass = Enumerable.Range(0, 5).Sum(r => topk.Data[(i * 5 + r) * 3 + 2]);
            Assert.That(rowMass, Is.LessThanOrEqualTo(1.0 / N * (1 + 1e-4)));
        }

        using var m = JsonDocument.Parse(File.ReadAllText(Path.Combine(_trained, "metrics.json")));
        var r = m.RootElement;
        Assert.That(r.GetProperty("mode").GetString(), Is.EqualTo("train"));
        Assert.That(r.GetProperty("foscttm").GetDouble(), Is.InRange(0.0, 1.0));
        Assert.That(r.GetProperty("label_transfer").GetDouble(), Is.InRange(0.0, 1.0));
        Assert.That(r.GetProperty("gw_loss").GetDouble(), Is.GreaterThanOrEqualTo(0));
        Assert.That(r.GetProperty("sinkhorn_iterations").GetInt32(), Is.GreaterThan(0));
        Assert.That(r.GetProperty("seconds").GetDouble(), Is.GreaterThan(0));
        Assert.That(r.GetProperty("train_steps").GetInt32(), Is.EqualTo(15));
        Assert.That(r.GetProperty("config").GetProperty("model").GetProperty("gw").GetProperty("depth").GetInt32(), Is.EqualTo(2));
        Assert.That(r.GetProperty("config").GetProperty("train").GetProperty("seed").GetInt32(), Is.EqualTo(3));
    }

    [Test]
    public void AlignWithModel_ReproducesTheAlignment_AndFollowsTheRowOrder()
    {
        string out2 = Path.Combine(_dir, "again");
        var (code, _, err) = AlignCli("--model", _trained, "--x", _x, "--y", _y, "--paired", "--config", _config, "--device", "cpu", "--out", out2);
        Assert.That(code, Is.EqualTo(0), err);
        foreach (var f in new[] { "x_aligned.npy", "y_aligned.npy", "plan_topk.npy" })
            Assert.That(Npy.Read(Path.Combine(out2, f)).Data, Is.EqualTo(Npy.Read(Path.Combine(_trained, f)).Data), f + ": save → load gives identical alignments");
        Assert.That(File.ReadAllText(Path.Combine(out2, "matches.csv")), Is.EqualTo(File.ReadAllText(Path.Combine(_trained, "matches.csv"))));
        using (var m = JsonDocument.Parse(File.ReadAllText(Path.Combine(out2, "metrics.json"))))
        {
            Assert.That(m.RootElement.GetProperty("mode").GetString(), Is.EqualTo("model"));
            Assert.That(m.RootElement.TryGetProperty("train_steps", out _), Is.False);
            Assert.That(File.Exists(Path.Combine(out2, "train_history.csv")), Is.False);
        }

        // Rows of X permuted: x_aligned follows the input order (row i of the new output = row perm[i] of the old).
        var x = Npy.Read(_x);
        var perm = Enumerable.Range(0, N).Reverse().ToArray();
        var xp = new double[N * D];
        for (int i = 0; i < N; i++) Array.Copy(x.Data, perm[i] * D, xp, i * D, D);
        string fxp = Path.Combine(_dir, "x_perm.npy");
        Npy.Write(fxp, xp, D);
        string out3 = Path.Combine(_dir, "perm");
        (code, _, err) = AlignCli("--model", Path.Combine(_trained, "model"), "--x", fxp, "--y", _y, "--device", "cpu", "--out", out3, "--no-plots");
        Assert.That(code, Is.EqualTo(0), err);
        var a = Npy.Read(Path.Combine(_trained, "x_aligned.npy")).Data;
        var b = Npy.Read(Path.Combine(out3, "x_aligned.npy")).Data;
        for (int i = 0; i < N; i++)
            for (int k = 0; k < D; k++)
                Assert.That(b[i * D + k], Is.EqualTo(a[perm[i] * D + k]).Within(1e-6), $"row {i}");
    }

    [Test]
    public void Align_RemovesTempSiblingsOfDeadProcesses_KeepsLiveOnesAndEverythingElse()
    {
        string parent = Path.Combine(_dir, "stale");
        string dead = Path.Combine(parent, ".old.tmp-2147483000-0123abcd");      // a killed glass align (no such PID)
        string live = Path.Combine(parent, $".cur.tmp-{Environment.ProcessId}-89abcdef"); // a live process is still writing it
        string legacy = Path.Combine(parent, ".old.tmp-0123abcd");              // no PID: owner unknown, left alone
        string other = Path.Combine(parent, "keep.tmp-2147483000-0123abcd");      // not hidden: not ours
        foreach (var d in new[] { dead, live, legacy, other })
        {
            Directory.CreateDirectory(d);
            File.WriteAllText(Path.Combine(d, "x.npy"), "partial");
        }
        string o = Path.Combine(parent, "out");
        var (code, _, err) = AlignCli("--model", _trained, "--x", _x, "--y", _y, "--device", "cpu", "--no-plots", "--out", o);
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(Directory.Exists(dead), Is.False, "a dead process's temp folder is removed");
        foreach (var d in new[] { live, legacy, other, o }) Assert.That(Directory.Exists(d), Is.True, d);
        Assert.That(Directory.GetDirectories(parent).Select(Path.GetFileName).Order(),
            Is.EqualTo(new[] { Path.GetFileName(live), Path.GetFileName(legacy), "keep.tmp-2147483000-0123abcd", "out" }.Order()));
    }

    [Test]
    public void AlignWithModel_DistanceOptionsUnfitForNewData_SkipGwLossOnly()
    {
        string cfg = Path.Combine(_dir, "geodesic50.yaml");
        File.WriteAllText(cfg, "model:\n  gw:\n    distance: {metric: geodesic, k: 50}\n");
        string o = Path.Combine(_dir, "k50");
        var (code, _, err) = AlignCli("--model", _trained, "--x", _x, "--y", _y, "--config", cfg, "--device", "cpu", "--no-plots", "--out", o);
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(err, Does.Contain("gw_loss not computed"));
        using var m = JsonDocument.Parse(File.ReadAllText(Path.Combine(o, "metrics.json")));
        Assert.That(m.RootElement.GetProperty("gw_loss").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(m.RootElement.GetProperty("gw_loss_note").GetString(), Does.Contain("50"));
        Assert.That(Npy.Read(Path.Combine(o, "x_aligned.npy")).Data, Is.EqualTo(Npy.Read(Path.Combine(_trained, "x_aligned.npy")).Data));
    }

    [Test]
    public void HostileNpyShape_ExitsTwo_NamingTheFileAndTheEntry()
    {
        string bad = Path.Combine(_dir, "hostile.npy");
        File.WriteAllBytes(bad, Glass.Tests.Models.NpyTests.NpyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000, 10), }", 80));
        string o = Path.Combine(_dir, "hostile_out");
        var (code, _, err) = AlignCli("--model", _trained, "--x", bad, "--y", _y, "--device", "cpu", "--no-plots", "--out", o);
        Assert.That(code, Is.EqualTo(2), err);
        Assert.That(err, Does.Contain("error: " + bad + ": shape").And.Contain("entry 0 is 1000000000000"));
        Assert.That(Directory.Exists(o), Is.False);
    }

    [Test]
    public void CsvInput_GivesTheSameAlignmentAsNpy()
    {
        var x = Npy.Read(_x);
        string csv = Path.Combine(_dir, "x.csv");
        File.WriteAllLines(csv, new[] { "a,b,c,d,e" }.Concat(Enumerable.Range(0, N).Select(i =>
            string.Join(",", Enumerable.Range(0, D).Select(k => x.Data[i * D + k].ToString("R", CultureInfo.InvariantCulture))))));
        string o = Path.Combine(_dir, "csv_out");
        var (code, _, err) = AlignCli("--model", _trained, "--x", csv, "--y", _y, "--device", "cpu", "--no-plots", "--out", o);
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(Npy.Read(Path.Combine(o, "x_aligned.npy")).Data, Is.EqualTo(Npy.Read(Path.Combine(_trained, "x_aligned.npy")).Data));
    }

    [Test]
    public void DefaultAlign_SolvesGw_WritesEveryCandidate_AndRecoversTheIsometry()
    {
        // No --config: the defaults (init solver). X and Y = X·Q are an exact isometry with rows in correspondence.
        string o = Path.Combine(_dir, "default_solver");
        var (code, stdout, err) = AlignCli("--x", _x, "--y", _y, "--paired", "--device", "cpu", "--no-plots", "--out", o);
        Assert.That(code, Is.EqualTo(0), err);
        using var m = JsonDocument.Parse(File.ReadAllText(Path.Combine(o, "metrics.json")));
        var root = m.RootElement;
        Assert.That(root.GetProperty("init").GetString(), Is.EqualTo("solver"));
        var cands = root.GetProperty("candidates").EnumerateArray().ToArray();
        var names = cands.Select(c => c.GetProperty("name").GetString()).ToArray();
        Assert.That(names.Take(3), Is.EqualTo(new[] { "product", "entropic(0.005)", "entropic(0.01)" }));
        Assert.That(names[^1], Is.EqualTo("model"));
        Assert.That(names[3..^1], Has.All.StartsWith("multiscale("));
        double best = cands[..^1].Min(c => c.GetProperty("gw_loss").GetDouble());
        Assert.That(root.GetProperty("selected_gw_loss").GetDouble(), Is.EqualTo(best), "the lowest GW loss wins");
        Assert.That(root.GetProperty("selected").GetString(), Is.EqualTo(cands.First(c => c.GetProperty("gw_loss").GetDouble() == best).GetProperty("name").GetString()));
        Assert.That(root.GetProperty("foscttm").GetDouble(), Is.EqualTo(0), "an exact isometry is recovered exactly");
        Assert.That(root.GetProperty("gw_loss").GetDouble(), Is.LessThan(1e-12));
        Assert.That(root.GetProperty("smoothing").GetString(), Is.EqualTo("none"));
        Assert.That(root.GetProperty("train_steps").GetInt32(), Is.EqualTo(new Glass.Models.Gw.LearnedGwOptions().Steps));
        Assert.That(stdout, Does.Contain("candidate product: GW loss").And.Contain("selected "));
        var matches = File.ReadAllLines(Path.Combine(o, "matches.csv")).Skip(1).Select(l => l.Split(',')).ToArray();
        Assert.That(matches.All(f => f[0] == f[1]), Is.True, "row i of X matched to row i of Y");
        using var saved = JsonDocument.Parse(File.ReadAllText(Path.Combine(o, "model", AlignCommand.ConfigFile)));
        Assert.That(saved.RootElement.GetProperty("train").GetProperty("init").GetString(), Is.EqualTo("solver"), "model/config.json records the init");

        // The trained model reused on the same data (inductive path) pairs the rows as the solver did.
        string again = Path.Combine(_dir, "default_solver_model");
        Assert.That(AlignCli("--model", o, "--x", _x, "--y", _y, "--paired", "--device", "cpu", "--no-plots", "--out", again).Code, Is.EqualTo(0));
        var m2 = File.ReadAllLines(Path.Combine(again, "matches.csv")).Skip(1).Select(l => l.Split(',')).ToArray();
        Assert.That(m2.Count(f => f[0] == f[1]), Is.GreaterThanOrEqualTo(N - 2), "the model carries the pairing");
    }

    [TestCase("--restarts", "2")]
    [TestCase("--selection", "training")]
    public void RestartOptions_NeedInitNone(string option, string value)
    {
        string o = Path.Combine(_dir, "restart_needs_none");
        AssertBad(AlignCli("--x", _x, "--y", _y, option, value, "--device", "cpu", "--out", o), o, option, "--init none");
        AssertBad(AlignCli("--x", _x, "--y", _y, "--init", "random", "--device", "cpu", "--out", o), o, "--init = random", "solver | none");
    }

    [Test]
    public void Restarts_WriteTheRestartFields_AndKeepTheLowestScore()
    {
        string o = Path.Combine(_dir, "restarts");
        var (code, stdout, err) = AlignCli("--x", _x, "--y", _y, "--paired", "--config", _config, "--device", "cpu", "--restarts", "2", "--restart-steps", "5",
            "--no-plots", "--out", o);
        Assert.That(code, Is.EqualTo(0), err);
        using var m = JsonDocument.Parse(File.ReadAllText(Path.Combine(o, "metrics.json")));
        var root = m.RootElement;
        Assert.That(root.GetProperty("restarts").GetInt32(), Is.EqualTo(2));
        Assert.That(root.GetProperty("restart_steps").GetInt32(), Is.EqualTo(5));
        Assert.That(root.GetProperty("selection").GetString(), Is.EqualTo("euclidean"));
        Assert.That(root.GetProperty("restart_seeds").EnumerateArray().Select(e => e.GetInt32()), Is.EqualTo(new[] { 6, 7 }), "seeds seed·R + r (seed 3)");
        var scores = root.GetProperty("restart_scores").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.That(scores, Has.Length.EqualTo(2).And.All.Positive);
        int best = Array.IndexOf(scores, scores.Min());
        Assert.That(root.GetProperty("selected_seed").GetInt32(), Is.EqualTo(6 + best));
        Assert.That(root.GetProperty("train_steps").GetInt32(), Is.EqualTo(15), "the selected restart continues to train.steps");
        Assert.That(File.ReadAllLines(Path.Combine(o, "train_history.csv")), Has.Length.EqualTo(16), "header + the selected restart's 15 steps");
        Assert.That(stdout, Does.Contain("restart 2/2 (seed 7): 5 steps, selection score"));
        using var saved = JsonDocument.Parse(File.ReadAllText(Path.Combine(o, "model", AlignCommand.ConfigFile)));
        Assert.That(saved.RootElement.GetProperty("train").GetProperty("restarts").GetInt32(), Is.EqualTo(2), "model/config.json records what was run");

        // The same pair through the library gives the same scores (one protocol).
        var (options, _, _, _) = AlignCommand.LoadOptions(_config, null, null, null, TextWriter.Null);
        var xs = Npy.Read(_x); var ys = Npy.Read(_y);
        var lib = Glass.Models.Gw.LearnedGwRestarts.Select(xs.Data, xs.Rows, xs.Cols, ys.Data, ys.Rows, ys.Cols, options,
            new Glass.Models.Gw.LearnedGwRestartOptions { Restarts = 2, RestartSteps = 5 });
        Assert.That(scores, Is.EqualTo(lib.Scores).Within(1e-12));

        // One restart: plain training, recorded as such.
        string one = Path.Combine(_dir, "one");
        Assert.That(AlignCli("--x", _x, "--y", _y, "--config", _config, "--device", "cpu", "--no-plots", "--out", one).Code, Is.EqualTo(0));
        using var m1 = JsonDocument.Parse(File.ReadAllText(Path.Combine(one, "metrics.json")));
        Assert.That(m1.RootElement.GetProperty("restarts").GetInt32(), Is.EqualTo(1));
        Assert.That(m1.RootElement.GetProperty("selection").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(m1.RootElement.GetProperty("restart_scores")[0].ValueKind, Is.EqualTo(JsonValueKind.Null), "not scored");
        Assert.That(m1.RootElement.GetProperty("selected_seed").GetInt32(), Is.EqualTo(3));
    }

    [TestCase("--restarts", "0", "--restarts = 0", "≥ 1")]
    [TestCase("--restart-steps", "16", "--restart-steps = 16", "[1, 15]")]
    [TestCase("--restart-steps", "-1", "--restart-steps = -1", "0 (every restart")]
    [TestCase("--selection", "foo", "--selection = foo", "euclidean | training")]
    public void BadRestartOption_IsNamed_AndNothingWritten(string option, string value, string named, string expected)
    {
        string o = Path.Combine(_dir, "bad_restart");
        var args = new[] { "--x", _x, "--y", _y, "--config", _config, option, value, "--out", o };
        var r = AlignCli(option == "--restarts" ? args : args.Concat(new[] { "--restarts", "2" }).ToArray());
        AssertBad(r, o, named, expected);
    }

    [Test]
    public void RestartOptions_DoNotApplyWithModel()
    {
        foreach (var args in new[] { new[] { "--restarts", "2" }, new[] { "--restart-steps", "3" }, new[] { "--selection", "training" } })
        {
            var bad = AlignCli(new[] { "--model", _trained, "--x", _x, "--y", _y, "--out", Path.Combine(_dir, "r2") }.Concat(args).ToArray());
            Assert.That(bad.Code, Is.EqualTo(2));
            Assert.That(bad.Err, Does.Contain(args[0]));
        }
    }


    [Test]
    public void LabelCountMismatch_IsNamed_AndNothingWritten()
    {
        string bad = Path.Combine(_dir, "short_labels.txt");
        File.WriteAllLines(bad, File.ReadAllLines(_labels).Skip(1));
        string o = Path.Combine(_dir, "out_labels");
        AssertBad(AlignCli("--x", _x, "--y", _y, "--labels-x", bad, "--labels-y", _labels, "--config", _config, "--device", "cpu", "--out", o), o,
            bad, (N - 1).ToString(CultureInfo.InvariantCulture) + " labels", N.ToString(CultureInfo.InvariantCulture) + " rows");
    }

    [Test]
    public void NaNInNpy_IsNamed_AndNothingWritten()
    {
        var x = Npy.Read(_x).Data;
        x[7] = double.NaN;
        string bad = Path.Combine(_dir, "nan.npy");
        Npy.Write(bad, x, D);
        string o = Path.Combine(_dir, "out_nan");
        AssertBad(AlignCli("--x", bad, "--y", _y, "--config", _config, "--device", "cpu", "--out", o), o, bad, "row 1, column 2", "NaN");
    }

    [Test]
    public void DimensionMismatchWithModel_NamesFileAndBothDimensions()
    {
        var (x6, _, _, _, _) = WritePair(_dir, N, D + 1, "six_");
        string o = Path.Combine(_dir, "out_dim");
        AssertBad(AlignCli("--model", _trained, "--x", x6, "--y", _y, "--device", "cpu", "--out", o), o, x6, "6 features", "5");
    }

    [Test]
    public void MissingFile_IsNamed()
    {
        string missing = Path.Combine(_dir, "nope.npy");
        string o = Path.Combine(_dir, "out_missing");
        AssertBad(AlignCli("--x", missing, "--y", _y, "--device", "cpu", "--out", o), o, missing, "not found");
        AssertBad(AlignCli("--model", Path.Combine(_dir, "no_model"), "--x", _x, "--y", _y, "--device", "cpu", "--out", o), o, "no_model", "gw_model.json");
    }

    [Test]
    public void PairedWithUnequalRows_AndNonEmptyOut_AreErrors()
    {
        var (xs, _, _, _, _) = WritePair(_dir, N - 4, D, "short_");
        string o = Path.Combine(_dir, "out_paired");
        AssertBad(AlignCli("--x", xs, "--y", _y, "--paired", "--config", _config, "--device", "cpu", "--out", o), o, "paired", (N - 4).ToString(CultureInfo.InvariantCulture));
        var r = AlignCli("--model", _trained, "--x", _x, "--y", _y, "--device", "cpu", "--out", _trained);
        Assert.That(r.Code, Is.EqualTo(2));
        Assert.That(r.Err, Does.Contain("not empty"));
        Assert.That(File.Exists(Path.Combine(_trained, "metrics.json")), Is.True, "the existing folder is untouched");
    }

    [Test]
    public void BadConfigKey_IsNamed_WithSuggestion()
    {
        string cfg = Path.Combine(_dir, "typo.yaml");
        File.WriteAllText(cfg, "model:\n  gw:\n    hiden: 8\n");
        string o = Path.Combine(_dir, "out_typo");
        AssertBad(AlignCli("--x", _x, "--y", _y, "--config", cfg, "--device", "cpu", "--out", o), o, "typo.yaml:3", "model.gw.hiden", "did you mean 'hidden'");
    }

    [Test]
    public void AlignFolder_FailureBeforeCommit_LeavesNothing()
    {
        string target = Path.Combine(_dir, "atomic");
        string temp;
        using (var f = AlignFolder.Begin(target))
        {
            temp = f.Dir;
            File.WriteAllText(f.PathOf("metrics.json"), "{}");
            Assert.That(Directory.Exists(target), Is.False, "nothing at --out while writing");
            // No Commit: as when an exception leaves the using block.
        }
        Assert.That(Directory.Exists(temp), Is.False);
        Assert.That(Directory.Exists(target), Is.False);
        using (var f = AlignFolder.Begin(target))
        {
            File.WriteAllText(f.PathOf("metrics.json"), "{}");
            f.Commit();
        }
        Assert.That(File.Exists(Path.Combine(target, "metrics.json")), Is.True);
        Directory.Delete(target, recursive: true);
    }
}
