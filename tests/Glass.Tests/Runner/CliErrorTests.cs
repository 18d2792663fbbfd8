using Glass.Runner.Output;
using NUnit.Framework;
using static Glass.Tests.Runner.RunnerTestSupport;

namespace Glass.Tests.Runner;

/// <summary>One error path for the CLI: parse errors, half-given option pairs and unusable outputs exit 2 with one <c>error:</c> line.</summary>
[NonParallelizable]
public class CliErrorTests
{
    private string _dir = "";
    private string _x = "", _y = "", _labels = "";

    [OneTimeSetUp]
    public void OneTimeSetUp()
    {
        _dir = TempDir();
        (_x, _y, _labels, _, _) = AlignCliTests.WritePair(_dir);
    }

    [OneTimeTearDown]
    public void OneTimeTearDown()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    /// <summary>Exit 2, a single line starting "error: " holding every fragment, no help text.</summary>
    private static void AssertOneLineError((int Code, string Out, string Err) r, params string[] fragments)
    {
        Assert.That(r.Code, Is.EqualTo(2), r.Err);
        var lines = r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), r.Err);
        Assert.That(lines[0], Does.StartWith("error: "));
        foreach (var f in fragments) Assert.That(lines[0], Does.Contain(f));
        Assert.That(r.Out + r.Err, Does.Not.Contain("Usage:"), "no help text after a parse error");
    }

    [Test]
    public void ParseErrors_Exit2_WithOneLineNamingTheOption()
    {
        string o = Path.Combine(_dir, "parse_out");
        AssertOneLineError(AlignCli("--x", _x, "--y", _y, "--out", o, "--bogus"), "--bogus", "glass align --help");
        AssertOneLineError(AlignCli("--x", _x, "--y", _y), "--out");
        var badSeed = AlignCli("--x", _x, "--y", _y, "--out", o, "--seed", "abc");
        AssertOneLineError(badSeed, "--seed", "abc");
        Assert.That(badSeed.Err, Does.Not.Contain("System."), "no CLR type names");
        AssertOneLineError(GlassCli(null, null, "compile-runs", "--nope"), "--nope", "glass compile-runs --help");
        AssertOneLineError(GlassCli(null, null, "run"), "glass run");
        AssertOneLineError(GlassCli(null, null, "no-such-command"), "no-such-command");
        Assert.That(Directory.Exists(o), Is.False);
    }

    [Test]
    public void UnexpectedException_Exit1_OneLine_TraceOnlyWithVerbose()
    {
        var bug = new FakeKind { OnStep = t => { if (t == 2) throw new NotSupportedException("simulated bug"); } };
        string cfg = Path.Combine(_dir, "bug.yaml");
        File.WriteAllText(cfg, FakeYaml("bug", Path.Combine(_dir, "bug_runs"), steps: 4));

        var r = GlassCli(bug, null, "run", cfg, "--device", "cpu", "--quiet", "--no-plots");
        Assert.That(r.Code, Is.EqualTo(1), r.Err);
        var lines = r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), r.Err);
        Assert.That(lines[0], Is.EqualTo("error: unexpected NotSupportedException: simulated bug (run with --verbose for the trace)"));

        var v = GlassCli(bug, null, "run", cfg, "--device", "cpu", "--quiet", "--no-plots", "--verbose");
        Assert.That(v.Code, Is.EqualTo(1), v.Err);
        Assert.That(v.Err, Does.StartWith("error: unexpected NotSupportedException: simulated bug"));
        Assert.That(v.Err, Does.Contain("   at ").And.Contain("System.NotSupportedException"), "the trace with --verbose");
    }

    [Test]
    public void Verbose_IsAcceptedByEveryCommand()
    {
        Assert.That(AlignCli("--help", "--verbose").Code, Is.EqualTo(0));
        Assert.That(GlassCli(null, null, "compile-runs", "--help", "--verbose").Code, Is.EqualTo(0));
        Assert.That(GlassCli(null, null, "devices", "--verbose").Code, Is.EqualTo(0));
    }

    [Test]
    public void Help_StillExits0()
    {
        var r = AlignCli("--help");
        Assert.That(r.Code, Is.EqualTo(0), r.Err);
        Assert.That(r.Out, Does.Contain("--labels-x"));
    }

    [Test]
    public void LabelsOnOneSide_AreRefused_NamingBoth()
    {
        string o = Path.Combine(_dir, "labels_out");
        AssertRefused(AlignCli("--x", _x, "--y", _y, "--labels-x", _labels, "--device", "cpu", "--out", o), o, _dir, "--labels-x", "--labels-y");
        AssertRefused(AlignCli("--x", _x, "--y", _y, "--labels-y", _labels, "--device", "cpu", "--out", o), o, _dir, "--labels-x", "--labels-y");
    }

    [Test]
    public void AlignOut_UnderAFile_IsRefusedBeforeTraining()
    {
        string file = Path.Combine(_dir, "a_file.txt");
        File.WriteAllText(file, "x");
        string o = Path.Combine(file, "sub", "out");
        var r = AlignCli("--x", _x, "--y", _y, "--device", "cpu", "--steps", "5", "--out", o);
        AssertOneLineError(r, file, "is a file");
        Assert.That(r.Out, Does.Not.Contain("glass align:"), "refused before any training or solving");
        Assert.That(File.ReadAllText(file), Is.EqualTo("x"));
    }

    [Test]
    public void AlignOut_ExistingFile_IsRefused()
    {
        string file = Path.Combine(_dir, "out_is_file");
        File.WriteAllText(file, "keep");
        AssertOneLineError(AlignCli("--x", _x, "--y", _y, "--device", "cpu", "--out", file), file, "is a file");
        Assert.That(File.ReadAllText(file), Is.EqualTo("keep"));
    }

    [Test]
    public void AlignOut_ReadOnlyParent_IsRefusedBeforeTraining()
    {
        if (OperatingSystem.IsWindows()) { Assert.Ignore("Unix permission bits."); return; }
        if (IsRoot())
        {
            // Root ignores permission bits, so a chmod'ed folder would still be writable. sysfs refuses to create
            // files for everyone, root included: the same failure (a parent that exists and cannot be written).
            if (!Directory.Exists("/sys/kernel")) { Assert.Ignore("no sysfs mounted."); return; }
            AssertOutUnderRefused("/sys");
            return;
        }
        string ro = Path.Combine(_dir, "readonly");
        Directory.CreateDirectory(ro);
        File.SetUnixFileMode(ro, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        try
        {
            AssertOutUnderRefused(ro);
        }
        finally
        {
            File.SetUnixFileMode(ro, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    /// <summary>`glass align --out PARENT/out…` is refused naming PARENT, before any solving, and creates nothing.</summary>
    private void AssertOutUnderRefused(string parent)
    {
        string o = Path.Combine(parent, "glass-test-out-" + Guid.NewGuid().ToString("N")[..8]);
        var r = AlignCli("--x", _x, "--y", _y, "--device", "cpu", "--steps", "5", "--out", o);
        AssertOneLineError(r, parent);
        Assert.That(r.Out, Does.Not.Contain("glass align:"), "refused before any training or solving");
        Assert.That(Directory.Exists(o), Is.False);
    }

    [Test]
    public void CompileRunsOut_NamingAFolderOrUnderAFile_IsRefused()
    {
        string runs = Path.Combine(_dir, "runs");
        string yaml = Path.Combine(_dir, "c.yaml");
        File.WriteAllText(yaml, FakeYaml("cli_err", runs, steps: 3, saveEvery: 0));
        Assert.That(GlassCli(null, null, "run", yaml, "--device", "cpu", "--quiet", "--no-plots").Code, Is.EqualTo(0));

        string folder = Path.Combine(_dir, "a_folder");
        Directory.CreateDirectory(folder);
        AssertOneLineError(GlassCli(null, null, "compile-runs", "--logdir", runs, "--out", folder), "--out", folder, "is a folder");
        Assert.That(Directory.EnumerateFileSystemEntries(folder), Is.Empty);

        string file = Path.Combine(_dir, "plain.txt");
        File.WriteAllText(file, "x");
        string under = Path.Combine(file, "summary.csv");
        AssertOneLineError(GlassCli(null, null, "compile-runs", "--logdir", runs, "--out", under), "--out", file, "is a file");

        // The per-exp_name CSV beside it: a folder in its place is named too, and nothing is written.
        string csv = Path.Combine(_dir, "s.csv");
        Directory.CreateDirectory(Path.Combine(_dir, "s_by_exp.csv"));
        AssertOneLineError(GlassCli(null, null, "compile-runs", "--logdir", runs, "--out", csv), "s_by_exp.csv", "is a folder");
        Assert.That(File.Exists(csv), Is.False, "nothing half-written");
    }

    [Test]
    public void LibraryParameterNames_ReachTheUserAsTheOptionTheyTyped()
    {
        // SinkhornOptions' check says "Gamma = 0 … (Parameter 'Gamma')"; the user typed --gamma.
        var r = GlassCli(null, null, "bench", "sinkhorn", "--gamma", "0", "--n", "16", "--device", "cpu");
        AssertOneLineError(r, "--gamma = 0");
        Assert.That(r.Err, Does.Not.Contain("(Parameter"));
    }

    [TestCase("run", "Hidden", "Hidden = 0; expected ≥ 1.", "model.gw.hidden = 0; expected ≥ 1.")]
    [TestCase("sweep", "LearningRate", "LearningRate = -1; expected > 0.", "train.lr = -1; expected > 0.")]
    [TestCase("run", "Gamma", "Gamma = NaN; expected a finite value > 0.", "ot.gamma = NaN; expected a finite value > 0.")]
    [TestCase("run", "SomeNewKnob", "out of range.", "config key some_new_knob: out of range.")]
    [TestCase("align", "Steps", "Steps = -1; expected ≥ 0.", "--steps (train/model key train.steps in --config) = -1; expected ≥ 0.")]
    [TestCase("align", "Hidden", "Hidden = 0; expected ≥ 1.", "model.gw.hidden (in --config) = 0; expected ≥ 1.")]
    [TestCase("align", "values", "values[3] = NaN; expected a finite number.", "values[3] = NaN; expected a finite number.")]
    public void ArgumentMessages_NameTheConfigKeyOrOption(string command, string param, string message, string expected)
    {
        var e = new ArgumentException(message, param);
        Assert.That(e.Message, Does.Contain("(Parameter '"), "the .NET suffix this rewrites");
        Assert.That(global::Glass.Runner.Commands.UserNames.Message(e, new System.CommandLine.Command(command)), Is.EqualTo(expected));
    }

    [Test]
    public void RunOutDir_AFileOrUnderAFile_OneLineNamingIt_NoFolder()
    {
        string file = Path.Combine(_dir, "plain_out");
        File.WriteAllText(file, "x");
        foreach (var (outDir, fragment) in new[] { (file, "is a file"), (Path.Combine(file, "runs"), file + " is a file") })
        {
            string yaml = Path.Combine(_dir, "o.yaml");
            File.WriteAllText(yaml, FakeYaml("o", outDir, steps: 2));
            AssertOneLineError(GlassCli(null, null, "run", yaml, "--device", "cpu", "--quiet", "--no-plots"), outDir, "log.out_dir", fragment);
        }
        Assert.That(File.ReadAllText(file), Is.EqualTo("x"));
    }

    [Test]
    public void AlignOut_NameLongerThanAFileSystemAllows_IsRefusedBeforeTraining()
    {
        string o = Path.Combine(_dir, new string('o', 300));
        var r = AlignCli("--x", _x, "--y", _y, "--device", "cpu", "--steps", "5", "--out", o);
        AssertOneLineError(r, "--out", "300 characters", "at most");
        Assert.That(r.Out, Does.Not.Contain("glass align:"));
    }

    [Test]
    public void DeviceFileAsInput_IsRefusedAtOnce_NamingIt()
    {
        if (!File.Exists("/dev/zero")) { Assert.Ignore("no /dev/zero."); return; }
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var r = AlignCli("--x", "/dev/zero", "--y", _y, "--device", "cpu", "--steps", "5", "--out", Path.Combine(_dir, "dz"));
        AssertOneLineError(r, "/dev/zero", "length 0");
        Assert.That(sw.Elapsed.TotalSeconds, Is.LessThan(30), "an endless file is not read");
    }

    private static bool IsRoot() => Environment.UserName == "root" || (!OperatingSystem.IsWindows() && geteuid() == 0);

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = false)]
    private static extern uint geteuid();
}
