using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;
using Glass.Runner.Config;

namespace Glass.Runner.Commands;

/// <summary>One share of a sweep's (config, seed) grid: shard <see cref="Index"/> of <see cref="Count"/>, numbered from 0.</summary>
/// <param name="Index">0 ≤ Index &lt; Count.</param>
/// <param name="Count">Number of shards, ≥ 1.</param>
/// <param name="Source">Where the shard came from, for the status line (<c>--shard</c>, or the environment variables read).</param>
internal sealed record SweepShard(int Index, int Count, string Source)
{
    /// <summary>The shard as <c>--shard</c> spells it, e.g. <c>2/8</c>.</summary>
    public override string ToString() => Index.ToString(CultureInfo.InvariantCulture) + "/" + Count.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// <c>glass sweep --shard I/N</c>: one process (a machine, a Slurm array task, a Kubernetes Indexed Job pod) runs a
/// deterministic 1/N of the (config, seed) grid, so N processes writing into one shared log folder cover it exactly once.
/// The grid (deduplicated as the sweep does) is ordered by exp_name, then seed, then config hash, then out_dir (ordinal),
/// which does not depend on the order or spelling of the config paths on the command line; shard I takes the positions
/// I, I + N, I + 2N, … of that order (round robin, so the seeds of one config spread over the shards). Without
/// <c>--shard</c> the index comes from Slurm (<c>SLURM_ARRAY_TASK_ID</c> − <c>SLURM_ARRAY_TASK_MIN</c>, divided by
/// <c>SLURM_ARRAY_TASK_STEP</c>; N = <c>SLURM_ARRAY_TASK_COUNT</c>) or Kubernetes (<c>JOB_COMPLETION_INDEX</c>, with N
/// from <c>--shards</c>).
/// </summary>
internal static partial class SweepShards
{
    public const string SlurmId = "SLURM_ARRAY_TASK_ID", SlurmCount = "SLURM_ARRAY_TASK_COUNT", SlurmMin = "SLURM_ARRAY_TASK_MIN",
        SlurmStep = "SLURM_ARRAY_TASK_STEP", KubernetesIndex = "JOB_COMPLETION_INDEX";

    [GeneratedRegex(@"^\s*(\d+)\s*/\s*(\d+)\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex ShardPattern();

    public static Option<string?> ShardOption() => new("--shard")
    {
        Description = "Run only shard I of N of the (config, seed) grid, e.g. 2/8 (shards numbered 0 to N-1); without it the shard comes from " +
                      "SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX when set. --shard 0/1 runs the whole grid.",
    };

    public static Option<int?> ShardsOption() => new("--shards")
    {
        Description = "Number of shards N when the index comes from the environment: needed with JOB_COMPLETION_INDEX (a Kubernetes " +
                      "Indexed Job's spec.completions); with Slurm it must equal SLURM_ARRAY_TASK_COUNT.",
    };

    public static Option<bool> ListOption() => new("--list")
    {
        Description = "Print the runs this process would do (after sharding: exp_name, seed, config hash, config file) and exit without running.",
    };

    /// <summary>The shard from <c>--shard</c>/<c>--shards</c> and <paramref name="env"/>; null = the whole grid.</summary>
    /// <exception cref="ArgumentException">A malformed or inconsistent shard; the message names the option or variable.</exception>
    public static SweepShard? Resolve(string? shard, int? shards, Func<string, string?> env)
    {
        if (shards is < 1) throw new ArgumentException($"--shards {shards}: expected the number of shards, an integer ≥ 1.");
        if (shard is not null)
        {
            if (shards is not null) throw new ArgumentException("give either --shard I/N or --shards N, not both (--shard already names N).");
            return Parse(shard);
        }
        string? Env(string name) => env(name) is { } v && v.Trim().Length > 0 ? v.Trim() : null;
        if (Env(SlurmId) is { } id) return FromSlurm(id, shards, Env);
        if (Env(KubernetesIndex) is { } k)
        {
            int index = Integer(k, KubernetesIndex);
            if (shards is not { } n)
                throw new ArgumentException($"{KubernetesIndex}={k} is set (a Kubernetes Indexed Job) but the number of shards is unknown: pass --shards N (the Job's spec.completions).");
            return Checked(index, n, $"{KubernetesIndex}={k}", $"--shards {n}");
        }
        if (shards is not null)
            throw new ArgumentException($"--shards {shards} needs a shard index: set {SlurmId} (Slurm array) or {KubernetesIndex} (Kubernetes Indexed Job), or give --shard I/N instead.");
        return null;
    }

    /// <summary>Parses <c>--shard I/N</c>.</summary>
    public static SweepShard Parse(string text)
    {
        var m = ShardPattern().Match(text);
        if (!m.Success) throw new ArgumentException($"--shard '{text}' is not I/N; expected e.g. 0/4 (shard 0 of 4; shards are numbered from 0).");
        int i = Integer(m.Groups[1].Value, "--shard"), n = Integer(m.Groups[2].Value, "--shard");
        if (n < 1) throw new ArgumentException($"--shard {text}: the number of shards N must be at least 1.");
        return Checked(i, n, "--shard " + text.Trim(), "--shard");
    }

    private static SweepShard FromSlurm(string id, int? shards, Func<string, string?> env)
    {
        int taskId = Integer(id, SlurmId);
        int min = env(SlurmMin) is { } mn ? Integer(mn, SlurmMin) : 0;
        int step = env(SlurmStep) is { } st ? Integer(st, SlurmStep) : 1;
        if (step < 1) throw new ArgumentException($"{SlurmStep}={step}: expected an integer ≥ 1.");
        int? count = env(SlurmCount) is { } c ? Integer(c, SlurmCount) : null;
        if (count is not null && shards is not null && count != shards)
            throw new ArgumentException($"--shards {shards} disagrees with {SlurmCount}={count}: the job array has {count} tasks; drop --shards or resize the array.");
        int n = count ?? shards ?? throw new ArgumentException($"{SlurmId}={id} is set but {SlurmCount} is not: pass --shards N (the number of array tasks).");
        string source = $"{SlurmId}={taskId}" + (min != 0 ? $", {SlurmMin}={min}" : "") + (step != 1 ? $", {SlurmStep}={step}" : "");
        int offset = taskId - min;
        if (offset < 0 || offset % step != 0)
            throw new ArgumentException($"{source}: the task is not on the array's range {min}, {min + step}, …; give --shard I/N instead.");
        int index = offset / step;
        if (index >= n)
            throw new ArgumentException($"{source} is task {index} of an array of {n}: the array is not one contiguous range (e.g. --array=1,3,7); " +
                                        $"use --array=0-{n - 1} (or a range with a step), or give --shard I/N.");
        return Checked(index, n, source, $"{SlurmCount}={n}");
    }

    private static SweepShard Checked(int index, int count, string source, string countSource)
    {
        if (count < 1) throw new ArgumentException($"{countSource}: the number of shards must be at least 1.");
        if (index >= count)
            throw new ArgumentException($"{source}: shard index {index} is not below the number of shards {count} (shards are numbered 0 to {count - 1}).");
        return new SweepShard(index, count, source);
    }

    private static int Integer(string text, string name) =>
        int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int v)
            ? v
            : throw new ArgumentException($"{name}='{text}': expected a non-negative integer.");

    /// <summary>The grid's canonical order: positions into <paramref name="plan"/> sorted by exp_name, seed, config hash, out_dir.</summary>
    public static int[] CanonicalOrder(IReadOnlyList<RunConfig> plan) =>
        Enumerable.Range(0, plan.Count)
            .OrderBy(i => plan[i].ExpName, StringComparer.Ordinal)
            .ThenBy(i => plan[i].Seed)
            .ThenBy(i => plan[i].Hash, StringComparer.Ordinal)
            .ThenBy(i => plan[i].OutDir, StringComparer.Ordinal)
            .ToArray();

    /// <summary>
    /// The runs of <paramref name="plan"/> that <paramref name="shard"/> does (all when null), in the plan's own order;
    /// writes one status line to <paramref name="status"/> (null = quiet).
    /// </summary>
    public static List<RunConfig> Apply(List<RunConfig> plan, SweepShard? shard, TextWriter? status)
    {
        if (shard is null) return plan;
        var order = CanonicalOrder(plan);
        var mine = new HashSet<int>();
        for (int r = shard.Index; r < order.Length; r += shard.Count) mine.Add(order[r]);
        var selected = plan.Where((_, i) => mine.Contains(i)).ToList();
        status?.WriteLine($"glass sweep: shard {shard} ({shard.Source}): {selected.Count} of the grid's {plan.Count} runs" +
                          (selected.Count == 0 ? " (more shards than runs: nothing to do)" : ""));
        return selected;
    }

    /// <summary><c>--list</c>: one line per run, tab-separated exp_name, seed, config hash, config file.</summary>
    public static void WriteList(IReadOnlyList<RunConfig> plan, TextWriter output)
    {
        foreach (var c in plan)
            output.WriteLine(string.Join('\t', c.ExpName, c.Seed.ToString(CultureInfo.InvariantCulture), c.Hash, c.SourceFile));
    }
}
