using System.Diagnostics;
using System.Text.Json.Nodes;
using NUnit.Framework;
using static Glass.Tests.Runner.RunnerTestSupport;

namespace Glass.Tests.Runner;

/// <summary>
/// Four <c>glass sweep</c> processes started at once, each on its shard (given as <c>--shard</c>, a Slurm array task and a
/// Kubernetes Indexed Job index), writing into one shared folder, against the unsharded sweep: the same (config, seed)
/// runs, each once, with the same metrics bit for bit; <c>compile-runs</c> merges the shared folder.
/// </summary>
[NonParallelizable]
public class SweepShardParallelTests
{
    private static readonly string[] ShardVariables = { "SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_STEP", "JOB_COMPLETION_INDEX" };

    private static readonly string[] SmokeConfigs = { "_auto_s2_M1_K8_g0.10.yaml", "_auto_s2_M1_tie_K8_g0.05.yaml", "graph_sbm_small.yaml" };

    [Test]
    public void FourParallelShards_EqualTheUnshardedSweep_RunForRun()
    {
        string glassDll = Path.Combine(AppContext.BaseDirectory, "glass.dll");
        if (!File.Exists(glassDll)) Assert.Ignore($"no {glassDll} beside the tests (standalone test runner): nothing to start shard processes with.");
        string dir = TempDir();
        try
        {
            var configs = SmokeConfigs.Select(c => Path.Combine(RepoRoot(), "configs", "smoke", c)).ToArray();
            string[] common = configs.Concat(new[] { "--seeds", "0,1,2", "--steps", "3", "--device", "cpu", "--no-plots", "--quiet" }).ToArray();
            string shared = Path.Combine(dir, "shared"), whole = Path.Combine(dir, "whole");

            // Shard 0 and 3 by option, shard 1 as task 2 of a Slurm array --array=1-4, shard 2 as Kubernetes index 2.
            var shards = new (string[] Args, (string, string)[] Env)[]
            {
                (new[] { "--shard", "0/4" }, Array.Empty<(string, string)>()),
                (Array.Empty<string>(), new[] { ("SLURM_ARRAY_TASK_ID", "2"), ("SLURM_ARRAY_TASK_MIN", "1"), ("SLURM_ARRAY_TASK_COUNT", "4") }),
                (new[] { "--shards", "4" }, new[] { ("JOB_COMPLETION_INDEX", "2") }),
                (new[] { "--shard", "3/4" }, Array.Empty<(string, string)>()),
            };
            var procs = shards.Select(s => Start(glassDll, new[] { "sweep" }.Concat(common).Concat(new[] { "--out", shared }).Concat(s.Args), s.Env)).ToList();
            var (code, _, err) = GlassCli(null, null, new[] { "sweep" }.Concat(common).Concat(new[] { "--out", whole, "--shard", "0/1" }).ToArray());
            Assert.That(code, Is.EqualTo(0), err);
            foreach (var (p, i) in procs.Select((p, i) => (p, i)))
            {
                string stdout = p.StandardOutput.ReadToEndAsync().Result, stderr = p.StandardError.ReadToEndAsync().Result;
                Assert.That(p.WaitForExit(TimeSpan.FromMinutes(3)), Is.True, $"shard {i} did not finish");
                Assert.That(p.ExitCode, Is.EqualTo(0), $"shard {i}: {stdout} {stderr}");
            }

            var sharded = Runs(shared);
            var reference = Runs(whole);
            Assert.That(reference.Keys, Has.Count.EqualTo(9), "3 configs × 3 seeds");
            Assert.That(RunDirs(shared), Has.Length.EqualTo(9), "each (config, seed) run once across the shards");
            Assert.That(sharded.Keys.Order(), Is.EqualTo(reference.Keys.Order()));
            foreach (var key in reference.Keys)
            {
                Assert.That(sharded[key].Metrics, Is.EqualTo(reference[key].Metrics), $"{key}: metrics.csv (runtime_sec aside) bit for bit");
                Assert.That(sharded[key].Final, Is.EqualTo(reference[key].Final), $"{key}: summary.json final and eval");
            }

            var (cc, cout, cerr) = GlassCli(null, null, "compile-runs", "--logdir", shared);
            Assert.That(cc, Is.EqualTo(0), cerr);
            Assert.That(cout, Does.Contain("9 runs (0 incomplete"));
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    private static Process Start(string glassDll, IEnumerable<string> args, (string Name, string Value)[] env)
    {
        var psi = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        psi.ArgumentList.Add(glassDll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var v in ShardVariables) psi.Environment.Remove(v); // the test's own environment must not shard the children
        foreach (var (name, value) in env) psi.Environment[name] = value;
        return Process.Start(psi)!;
    }

    /// <summary>(exp_name, seed) → metrics.csv without the timing column, and summary.json's final and eval (timing aside), as text.</summary>
    private static Dictionary<string, (string Metrics, string Final)> Runs(string outDir)
    {
        var runs = new Dictionary<string, (string, string)>();
        foreach (var d in RunDirs(outDir))
        {
            Assert.That(File.Exists(Path.Combine(d, "COMPLETE")), Is.True, d);
            var info = JsonNode.Parse(File.ReadAllText(Path.Combine(d, "run.json")))!;
            string key = $"{info["exp_name"]} seed {info["seed"]}";
            var lines = File.ReadAllLines(Path.Combine(d, "metrics.csv"));
            int timing = Array.IndexOf(lines[0].Split(','), "runtime_sec");
            string metrics = string.Join('\n', lines.Select(l => string.Join(',', l.Split(',').Where((_, i) => i != timing))));
            var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(d, "summary.json")))!.AsObject();
            var final = summary["final"]!.AsObject();
            final.Remove("runtime_sec");
            Assert.That(runs.TryAdd(key, (metrics, final.ToJsonString() + summary["eval"]!.ToJsonString())), Is.True, $"{key} twice under {outDir}");
        }
        return runs;
    }
}
