using Glass.Runner.Commands;
using Glass.Runner.Output;
using NUnit.Framework;
using static Glass.Tests.Runner.RunnerTestSupport;

namespace Glass.Tests.Runner;

/// <summary><c>glass sweep --shard I/N</c>: shard specs (option, Slurm, Kubernetes), refusals, and the partition of the grid.</summary>
[NonParallelizable]
public class SweepShardTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = TempDir();

    [TearDown]
    public void TearDown()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private static Func<string, string?> Env(params (string Name, string Value)[] vars) =>
        name => vars.FirstOrDefault(v => v.Name == name).Value;

    private static readonly Func<string, string?> NoEnv = _ => null;

    [Test]
    public void Resolve_OptionSlurmKubernetes()
    {
        Assert.That(SweepShards.Resolve(null, null, NoEnv), Is.Null, "no shard: the whole grid");
        Assert.That(SweepShards.Resolve(" 2 / 8 ", null, NoEnv), Is.EqualTo(new SweepShard(2, 8, "--shard 2 / 8")));
        // --array=1-4: task IDs 1..4 are shards 0..3.
        var slurm = SweepShards.Resolve(null, null, Env(("SLURM_ARRAY_TASK_ID", "3"), ("SLURM_ARRAY_TASK_MIN", "1"), ("SLURM_ARRAY_TASK_COUNT", "4")))!;
        Assert.That((slurm.Index, slurm.Count), Is.EqualTo((2, 4)));
        // --array=0-12:4: IDs 0, 4, 8, 12.
        var stepped = SweepShards.Resolve(null, null, Env(("SLURM_ARRAY_TASK_ID", "8"), ("SLURM_ARRAY_TASK_MIN", "0"), ("SLURM_ARRAY_TASK_STEP", "4"), ("SLURM_ARRAY_TASK_COUNT", "4")))!;
        Assert.That((stepped.Index, stepped.Count), Is.EqualTo((2, 4)));
        var sameCount = SweepShards.Resolve(null, 4, Env(("SLURM_ARRAY_TASK_ID", "0"), ("SLURM_ARRAY_TASK_COUNT", "4")))!;
        Assert.That((sameCount.Index, sameCount.Count), Is.EqualTo((0, 4)));
        var k8s = SweepShards.Resolve(null, 4, Env(("JOB_COMPLETION_INDEX", "3")))!;
        Assert.That((k8s.Index, k8s.Count), Is.EqualTo((3, 4)));
        // --shard wins over the environment (e.g. --shard 0/1 inside an array task runs the whole grid).
        Assert.That(SweepShards.Resolve("0/1", null, Env(("SLURM_ARRAY_TASK_ID", "3"), ("SLURM_ARRAY_TASK_COUNT", "4")))!.Count, Is.EqualTo(1));
        Assert.That(SweepShards.Resolve(null, null, Env(("SLURM_ARRAY_TASK_ID", " "), ("JOB_COMPLETION_INDEX", ""))), Is.Null, "blank variables are unset");
    }

    [TestCase("3", null, "is not I/N")]
    [TestCase("4/4", null, "shards are numbered 0 to 3")]
    [TestCase("0/0", null, "at least 1")]
    [TestCase("-1/4", null, "is not I/N")]
    [TestCase("1/x", null, "is not I/N")]
    [TestCase("99999999999/4", null, "expected a non-negative integer")]
    [TestCase("1/4", 4, "not both")]
    [TestCase(null, 0, "--shards 0")]
    [TestCase(null, 4, "needs a shard index")]
    public void Resolve_RefusesBadOptions(string? shard, int? shards, string fragment) =>
        Assert.That(() => SweepShards.Resolve(shard, shards, NoEnv), Throws.ArgumentException.With.Message.Contain(fragment));

    [Test]
    public void Resolve_RefusesBadEnvironment()
    {
        void Refused(Func<string, string?> env, int? shards, string fragment) =>
            Assert.That(() => SweepShards.Resolve(null, shards, env), Throws.ArgumentException.With.Message.Contain(fragment));
        Refused(Env(("JOB_COMPLETION_INDEX", "2")), null, "pass --shards N");
        Refused(Env(("JOB_COMPLETION_INDEX", "4")), 4, "numbered 0 to 3");
        Refused(Env(("JOB_COMPLETION_INDEX", "two")), 4, "JOB_COMPLETION_INDEX='two'");
        Refused(Env(("SLURM_ARRAY_TASK_ID", "1")), null, "SLURM_ARRAY_TASK_COUNT is not");
        Refused(Env(("SLURM_ARRAY_TASK_ID", "1"), ("SLURM_ARRAY_TASK_COUNT", "4")), 3, "disagrees with SLURM_ARRAY_TASK_COUNT=4");
        // --array=1,3,7: COUNT 3, MIN 1; ID 7 is offset 6.
        Refused(Env(("SLURM_ARRAY_TASK_ID", "7"), ("SLURM_ARRAY_TASK_MIN", "1"), ("SLURM_ARRAY_TASK_COUNT", "3")), null, "not one contiguous range");
        Refused(Env(("SLURM_ARRAY_TASK_ID", "6"), ("SLURM_ARRAY_TASK_MIN", "0"), ("SLURM_ARRAY_TASK_STEP", "4"), ("SLURM_ARRAY_TASK_COUNT", "4")), null, "not on the array's range");
        Refused(Env(("SLURM_ARRAY_TASK_ID", "0"), ("SLURM_ARRAY_TASK_MIN", "1"), ("SLURM_ARRAY_TASK_COUNT", "4")), null, "not on the array's range");
    }

    private string[] Configs(int count)
    {
        var paths = new string[count];
        for (int c = 0; c < count; c++)
        {
            paths[c] = Path.Combine(_dir, $"c{c}.yaml");
            File.WriteAllText(paths[c], FakeYaml($"cfg{c}", Path.Combine(_dir, "runs"), steps: 3));
        }
        return paths;
    }

    private static string[] Listed(params string[] args)
    {
        var (code, stdout, err) = GlassCli(null, null, new[] { "sweep" }.Concat(args).Append("--list").ToArray());
        Assert.That(code, Is.EqualTo(0), err);
        return stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    [Test]
    public void Shards_PartitionTheGrid_WhateverTheArgumentOrder()
    {
        var cfgs = Configs(3);
        var whole = Listed(cfgs.Concat(new[] { "--seeds", "0,1,2,3,4", "--shard", "0/1" }).ToArray());
        Assert.That(whole, Has.Length.EqualTo(15));
        foreach (int n in new[] { 1, 2, 4, 7, 16 })
        {
            var union = new List<string>();
            for (int i = 0; i < n; i++)
            {
                var part = Listed(cfgs.Concat(new[] { "--seeds", "0,1,2,3,4", "--shard", $"{i}/{n}" }).ToArray());
                // The same shard with the configs and seeds in another order on the command line selects the same runs.
                var reordered = Listed(cfgs.Reverse().Concat(new[] { "--seeds", "4,3,2,1,0", "--shard", $"{i}/{n}" }).ToArray());
                Assert.That(reordered.Order(), Is.EqualTo(part.Order()), $"shard {i}/{n}");
                Assert.That(part.Length, Is.InRange(15 / n, (15 + n - 1) / n), $"shard {i}/{n} holds its round-robin share");
                union.AddRange(part);
            }
            Assert.That(union.Order(), Is.EqualTo(whole.Order()), $"the {n} shards together are the grid, each run once");
        }
    }

    [Test]
    public void Sweep_BadShard_Exit2_NothingRun()
    {
        var cfgs = Configs(1);
        foreach (var bad in new[] { new[] { "--shard", "4/4" }, new[] { "--shard", "1of4" }, new[] { "--shards", "4" }, new[] { "--shard", "0/2", "--shards", "2" } })
        {
            var (code, _, err) = GlassCli(null, null, new[] { "sweep", cfgs[0], "--device", "cpu", "--quiet" }.Concat(bad).ToArray());
            Assert.That(code, Is.EqualTo(2), string.Join(' ', bad));
            Assert.That(err, Does.StartWith("error: ").And.Contain("--shard"));
            Assert.That(err.Trim().Split('\n'), Has.Length.EqualTo(1), "one line, no trace");
        }
        Assert.That(RunDirs(Path.Combine(_dir, "runs")), Is.Empty, "a refused shard runs nothing");
    }

    [Test]
    public void Sweep_Shard_RunsOnlyItsShare_AndSaysSo()
    {
        var cfgs = Configs(2);
        var (code, stdout, err) = GlassCli(null, null, "sweep", cfgs[0], cfgs[1], "--seeds", "0,1,2", "--shard", "1/4", "--device", "cpu", "--no-plots");
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(stdout, Does.Contain("shard 1/4 (--shard 1/4): 2 of the grid's 6 runs"));
        Assert.That(RunDirs(Path.Combine(_dir, "runs")), Has.Length.EqualTo(2));
        var (code2, stdout2, err2) = GlassCli(null, null, "sweep", cfgs[0], "--shard", "3/4", "--device", "cpu", "--no-plots");
        Assert.That(code2, Is.EqualTo(0), err2);
        Assert.That(stdout2, Does.Contain("0 of the grid's 1 runs (more shards than runs: nothing to do)"));
    }

    [Test]
    public void StaleTemp_LeavesOtherHostsTemporaryFoldersAlone()
    {
        // Shards on several machines share one out_dir: a PID from another host says nothing about that process here.
        string dead = "2147483000";
        string mine = Path.Combine(_dir, $".a.tmp-{dead}-0123abcd@{StaleTemp.Host}");
        string other = Path.Combine(_dir, $".b.tmp-{dead}-0123abcd@{StaleTemp.Host}x");
        string live = Path.Combine(_dir, $".c.tmp-{Environment.ProcessId}-0123abcd@{StaleTemp.Host}");
        foreach (var d in new[] { mine, other, live }) Directory.CreateDirectory(d);
        Assert.That(StaleTemp.Name("exp"), Does.EndWith("@" + StaleTemp.Host).And.StartWith(".exp.tmp-" + Environment.ProcessId + "-"));
        Assert.That(StaleTemp.Clean(_dir), Is.EqualTo(1));
        Assert.That(Directory.Exists(mine), Is.False, "a dead process of this host: removed");
        Assert.That(Directory.Exists(other), Is.True, "another host's: left alone");
        Assert.That(Directory.Exists(live), Is.True, "a live process of this host: left alone");
    }
}
