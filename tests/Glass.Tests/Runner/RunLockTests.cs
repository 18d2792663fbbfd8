using Glass.Runner.Config;
using Glass.Runner.Experiments;
using Glass.Runner.Output;
using NUnit.Framework;
using static Glass.Tests.Runner.RunnerTestSupport;

namespace Glass.Tests.Runner;

/// <summary>One writer per run folder: the <c>.lock</c> file, refused second writers, stale locks taken over.</summary>
[NonParallelizable]
public class RunLockTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = TempDir();

    [TearDown]
    public void TearDown()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    [Test]
    public void SecondAcquire_InTheSameProcess_IsRefused_NamingFolderAndPid()
    {
        using (var first = RunLock.Acquire(_dir))
        {
            var e = Assert.Throws<IOException>(() => RunLock.Acquire(_dir))!;
            Assert.That(e.Message, Does.Contain(_dir));
            Assert.That(e.Message, Does.Contain($"process {Environment.ProcessId}"));
        }
        using var again = RunLock.Acquire(_dir); // released on dispose
        Assert.That(RunLock.ReadHolder(Path.Combine(_dir, RunLock.FileName)), Is.EqualTo(Environment.ProcessId));
    }

    [Test]
    public void StaleLockFile_FromADeadProcess_IsTakenOver()
    {
        string path = Path.Combine(_dir, RunLock.FileName);
        File.WriteAllText(path, "2147483000\n"); // left by a process that died: the file exists but nobody holds the OS lock
        using var l = RunLock.Acquire(_dir);
        Assert.That(RunLock.ReadHolder(path), Is.EqualTo(Environment.ProcessId));
    }

    [Test]
    public void ResumeWhileTheRunIsWriting_Exit2_NamingFolderAndPid_AndTheRunFinishesIntact()
    {
        string outDir = Path.Combine(_dir, "runs"), refOut = Path.Combine(_dir, "ref");
        RunDriver.Start(RunConfig.Parse(FakeYaml("l", refOut, steps: 9, saveEvery: 5), "l.yaml", null, ExperimentRegistry.Default.With(new FakeKind())),
            new RunSettings { Device = "cpu", Quiet = true, Plots = false, Out = TextWriter.Null, Err = TextWriter.Null, Registry = ExperimentRegistry.Default.With(new FakeKind()) });
        (int Code, string Out, string Err)? second = null;
        string? run = null;
        var kind = new FakeKind
        {
            OnStep = t =>
            {
                if (t != 6) return;
                run = RunDirs(outDir).Single();
                second = GlassCli(null, null, "run", "--resume", run, "--device", "cpu", "--quiet", "--no-plots");
            },
        };
        File.WriteAllText(Path.Combine(_dir, "l.yaml"), FakeYaml("l", outDir, steps: 9, saveEvery: 5));
        var (code, _, err) = GlassCli(kind, null, "run", Path.Combine(_dir, "l.yaml"), "--device", "cpu", "--quiet", "--no-plots");
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(second, Is.Not.Null);
        var (code2, _, err2) = second!.Value;
        Assert.That(code2, Is.EqualTo(2), err2);
        var lines = err2.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), err2);
        Assert.That(lines[0], Does.StartWith("error: " + run));
        Assert.That(lines[0], Does.Contain($"process {Environment.ProcessId}"));
        Assert.That(File.ReadAllText(Path.Combine(run!, "metrics.csv")),
            Is.EqualTo(File.ReadAllText(Path.Combine(RunDirs(refOut).Single(), "metrics.csv"))), "the refused writer changed nothing");

        // The run is over: its lock file stays, but it is stale and a later resume takes it.
        Assert.That(File.Exists(Path.Combine(run!, RunLock.FileName)), Is.True);
        var (code3, stdout3, err3) = GlassCli(null, null, "run", "--resume", run!, "--device", "cpu");
        Assert.That(code3, Is.EqualTo(0), err3);
        Assert.That(stdout3, Does.Contain("already complete"));
    }

    [Test]
    public void CreateHoldsTheLock_UntilDisposed()
    {
        using (var f = RunFolder.Create(_dir, "c", new DateTime(2025, 1, 2), new Dictionary<string, string> { [RunFolder.ConfigFile] = "{}" }))
        {
            Assert.Throws<IOException>(() => RunFolder.OpenForWriting(f.Dir).Dispose());
            Assert.That(RunFolder.Open(f.Dir).Dir, Is.EqualTo(f.Dir), "reading needs no lock");
        }
        using var g = RunFolder.OpenForWriting(Path.Combine(_dir, "c_20250102-000000"));
    }
}
