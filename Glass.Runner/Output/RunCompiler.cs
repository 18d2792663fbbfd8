using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Glass.Runner.Output;

/// <summary>
/// <c>glass compile-runs</c>: one row per run folder (key config values, final metrics row, evaluation) and
/// one row per exp_name with mean ± sample std over its complete runs (seeds) — the reproduction tables.
/// </summary>
internal static class RunCompiler
{
    /// <summary>Config leaves reported by default (by leaf name; the first occurrence in the resolved config).</summary>
    public static readonly string[] DefaultKeys =
    {
        "n", "K", "gate_mode", "chart_radius_deg", "gate_c_per_sqrtk_deg", "noise_deg", "rotation",
        "blocks", "p_in", "p_out", "rewire_prob", "tau", "cheby_degree", "feat_dim",
        "use_banded", "gamma", "band_eps", "lr", "steps", "slices", "gamma_decay", "gamma_min",
    };

    /// <summary>One run folder.</summary>
    public sealed record RunRow(string Run, string ExpName, string Kind, int? Seed, bool Complete,
        IReadOnlyDictionary<string, string> Config, IReadOnlyDictionary<string, double> Values);

    /// <summary>One exp_name over its complete runs.</summary>
    public sealed record GroupRow(string ExpName, int Runs, IReadOnlyList<int> Seeds,
        IReadOnlyDictionary<string, string> Config, IReadOnlyDictionary<string, (double Mean, double Std)> Stats);

    /// <summary>Run folders under <paramref name="logdir"/> (searched three levels deep), sorted by path.</summary>
    public static IReadOnlyList<string> FindRuns(string logdir)
    {
        if (!Directory.Exists(logdir)) throw new DirectoryNotFoundException($"--logdir {logdir} does not exist.");
        var found = new List<string>();
        void Walk(string d, int depth)
        {
            if (RunFolder.IsRunFolder(d)) { found.Add(d); return; }
            if (depth == 0) return;
            foreach (var c in Directory.EnumerateDirectories(d))
            {
                string name = Path.GetFileName(c);
                if (name.StartsWith('.') || name == RunFolder.CheckpointsDir || name == "plots") continue;
                Walk(c, depth - 1);
            }
        }
        Walk(logdir, 3);
        found.Sort(StringComparer.Ordinal);
        return found;
    }

    /// <summary>Reads one run folder.</summary>
    /// <exception cref="InvalidDataException">A damaged config.json, run.json or summary.json (not JSON, not an object, a
    /// non-string kind); the message names the file.</exception>
    public static RunRow Read(string dir, IReadOnlyList<string> keys)
    {
        var cfg = ReadJsonObject(Path.Combine(dir, RunFolder.ConfigFile));
        var leaves = new Dictionary<string, string>(StringComparer.Ordinal);
        void Flatten(JsonNode? node, string name)
        {
            switch (node)
            {
                case JsonObject o:
                    foreach (var (k, v) in o) Flatten(v, k);
                    break;
                case JsonValue v when !leaves.ContainsKey(name):
                    leaves[name] = v.TryGetValue(out double d) ? MetricsWriter.Format(d)
                        : v.TryGetValue(out bool b) ? (b ? "true" : "false")
                        : v.ToString();
                    break;
            }
        }
        Flatten(cfg, "");
        string infoPath = Path.Combine(dir, RunFolder.RunInfoFile);
        var info = File.Exists(infoPath) ? ReadJsonObject(infoPath) : new JsonObject();
        string? infoKind = info["kind"] switch
        {
            null => null,
            JsonValue kv when kv.TryGetValue(out string? ks) => ks,
            var other => throw new InvalidDataException($"{infoPath}: \"kind\" is {other.ToJsonString()}; expected a string."),
        };
        string kind = infoKind ?? (cfg["model"] as JsonObject)?.FirstOrDefault().Key ?? "";
        int? seed = leaves.TryGetValue("seed", out var ss) && int.TryParse(ss, NumberStyles.Integer, CultureInfo.InvariantCulture, out int si) ? si : null;
        var config = keys.Where(leaves.ContainsKey).ToDictionary(k => k, k => leaves[k]);

        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        string metricsPath = Path.Combine(dir, RunFolder.MetricsFile);
        if (File.Exists(metricsPath))
        {
            var t = MetricsTable.Read(metricsPath);
            values["steps_done"] = t.Rows.Count;
            if (t.Rows.Count > 0)
                for (int j = 0; j < t.Columns.Count; j++)
                    if (t.Columns[j] != "step") values[t.Columns[j]] = t.Rows[^1][j];
        }
        string summaryPath = Path.Combine(dir, RunFolder.SummaryFile);
        if (File.Exists(summaryPath) && ReadJsonObject(summaryPath)["eval"] is JsonObject ev)
            foreach (var (k, v) in ev)
                values["eval_" + k] = v is JsonValue jv && jv.TryGetValue(out double d) ? d : double.NaN;
        return new RunRow(Path.GetFileName(Path.TrimEndingDirectorySeparator(dir)), leaves.GetValueOrDefault("exp_name", ""), kind, seed,
            File.Exists(Path.Combine(dir, RunFolder.CompleteFile)), config, values);
    }

    /// <summary>Parses a run file that must hold one JSON object.</summary>
    /// <exception cref="InvalidDataException">Not JSON or not an object; the message names the file and the parser's complaint.</exception>
    private static JsonObject ReadJsonObject(string path)
    {
        JsonNode? node;
        try { node = JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not valid JSON ({e.Message}).", e); }
        return node as JsonObject
            ?? throw new InvalidDataException($"{path}: {(node is null ? "null" : node.GetValueKind().ToString().ToLowerInvariant())}; expected a JSON object.");
    }

    /// <summary>
    /// Groups complete runs by exp_name: mean and sample standard deviation (n − 1; NaN for a single run) of
    /// every value. Where one (exp_name, seed) was run more than once, the last folder (by name) counts.
    /// </summary>
    public static IReadOnlyList<GroupRow> Group(IReadOnlyList<RunRow> runs)
    {
        var result = new List<GroupRow>();
        foreach (var g in runs.Where(r => r.Complete).GroupBy(r => r.ExpName).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var members = g.GroupBy(r => r.Seed).Select(s => s.OrderBy(r => r.Run, StringComparer.Ordinal).Last()).ToList();
            var stats = new Dictionary<string, (double, double)>(StringComparer.Ordinal);
            foreach (var key in members.SelectMany(m => m.Values.Keys).Distinct())
            {
                var xs = members.Where(m => m.Values.ContainsKey(key)).Select(m => m.Values[key]).Where(double.IsFinite).ToArray();
                if (xs.Length == 0) continue;
                double mean = xs.Average();
                double std = xs.Length > 1 ? Math.Sqrt(xs.Sum(x => (x - mean) * (x - mean)) / (xs.Length - 1)) : double.NaN;
                stats[key] = (mean, std);
            }
            // Config values shared by every member (those that differ, e.g. seed, are left out).
            var shared = members[0].Config.Where(kv => members.All(m => m.Config.TryGetValue(kv.Key, out var v) && v == kv.Value))
                .ToDictionary(kv => kv.Key, kv => kv.Value);
            result.Add(new GroupRow(g.Key, members.Count, members.Where(m => m.Seed.HasValue).Select(m => m.Seed!.Value).OrderBy(x => x).ToList(), shared, stats));
        }
        return result;
    }

    /// <summary>Writes the per-run CSV.</summary>
    public static void WriteRunsCsv(string path, IReadOnlyList<RunRow> runs, IReadOnlyList<string> keys)
    {
        var cfgCols = keys.Where(k => runs.Any(r => r.Config.ContainsKey(k))).ToList();
        var valCols = OrderedValueColumns(runs.SelectMany(r => r.Values.Keys));
        var sb = new StringBuilder();
        sb.Append(string.Join(",", new[] { "run", "exp_name", "kind", "seed", "complete" }.Concat(cfgCols).Concat(valCols))).Append('\n');
        foreach (var r in runs)
        {
            var cells = new List<string> { Csv(r.Run), Csv(r.ExpName), Csv(r.Kind), r.Seed?.ToString(CultureInfo.InvariantCulture) ?? "", r.Complete ? "true" : "false" };
            cells.AddRange(cfgCols.Select(k => Csv(r.Config.GetValueOrDefault(k, ""))));
            cells.AddRange(valCols.Select(k => r.Values.TryGetValue(k, out var v) ? MetricsWriter.Format(v) : ""));
            sb.Append(string.Join(",", cells)).Append('\n');
        }
        WriteFile(path, sb.ToString());
    }

    /// <summary>Writes the per-exp_name CSV: runs, seeds, shared config values, then &lt;value&gt;_mean and &lt;value&gt;_std.</summary>
    public static void WriteGroupsCsv(string path, IReadOnlyList<GroupRow> groups, IReadOnlyList<string> keys)
    {
        var cfgCols = keys.Where(k => groups.Any(g => g.Config.ContainsKey(k))).ToList();
        var valCols = OrderedValueColumns(groups.SelectMany(g => g.Stats.Keys));
        var sb = new StringBuilder();
        sb.Append(string.Join(",", new[] { "exp_name", "runs", "seeds" }.Concat(cfgCols).Concat(valCols.SelectMany(v => new[] { v + "_mean", v + "_std" })))).Append('\n');
        foreach (var g in groups)
        {
            var cells = new List<string> { Csv(g.ExpName), g.Runs.ToString(CultureInfo.InvariantCulture), Csv(string.Join(" ", g.Seeds)) };
            cells.AddRange(cfgCols.Select(k => Csv(g.Config.GetValueOrDefault(k, ""))));
            foreach (var v in valCols)
            {
                if (g.Stats.TryGetValue(v, out var st))
                {
                    cells.Add(MetricsWriter.Format(st.Mean));
                    cells.Add(double.IsNaN(st.Std) ? "" : MetricsWriter.Format(st.Std));
                }
                else { cells.Add(""); cells.Add(""); }
            }
            sb.Append(string.Join(",", cells)).Append('\n');
        }
        WriteFile(path, sb.ToString());
    }

    /// <summary>A text table of the groups: exp_name, runs, and mean ± std of the headline metrics present.</summary>
    public static string FormatTable(IReadOnlyList<GroupRow> groups)
    {
        var metrics = new[] { "loss", "perm_acc", "eval_perm_acc", "runtime_sec", "nnz" }
            .Where(m => groups.Any(g => g.Stats.ContainsKey(m))).ToList();
        var header = new List<string> { "exp_name", "runs" };
        header.AddRange(metrics);
        var rows = new List<List<string>> { header };
        foreach (var g in groups)
        {
            var row = new List<string> { g.ExpName, g.Runs.ToString(CultureInfo.InvariantCulture) };
            foreach (var m in metrics)
                row.Add(g.Stats.TryGetValue(m, out var st)
                    ? st.Mean.ToString("G5", CultureInfo.InvariantCulture) + (double.IsNaN(st.Std) ? "" : " ± " + st.Std.ToString("G2", CultureInfo.InvariantCulture))
                    : "");
            rows.Add(row);
        }
        var widths = Enumerable.Range(0, header.Count).Select(j => rows.Max(r => r[j].Length)).ToArray();
        var sb = new StringBuilder();
        for (int i = 0; i < rows.Count; i++)
        {
            sb.Append(string.Join("  ", rows[i].Select((c, j) => j == 0 ? c.PadRight(widths[j]) : c.PadLeft(widths[j]))).TrimEnd()).Append('\n');
            if (i == 0) sb.Append(string.Join("  ", widths.Select(w => new string('-', w)))).Append('\n');
        }
        return sb.ToString();
    }

    private static List<string> OrderedValueColumns(IEnumerable<string> keys)
    {
        var all = keys.Distinct().ToList();
        // Metrics first in the order they first appear, evaluation values after them.
        return all.Where(k => !k.StartsWith("eval_", StringComparison.Ordinal)).Concat(all.Where(k => k.StartsWith("eval_", StringComparison.Ordinal))).ToList();
    }

    private static string Csv(string s) => s.IndexOfAny(new[] { ',', '"', '\n' }) < 0 ? s : "\"" + s.Replace("\"", "\"\"") + "\"";

    /// <summary>
    /// Checks, before any work, that <paramref name="path"/> can be written as a file: it is not a folder, and no
    /// parent of it is a file. <paramref name="option"/> names the option in the message.
    /// </summary>
    /// <exception cref="ArgumentException">A folder stands at <paramref name="path"/>, or a file in place of a parent folder.</exception>
    internal static void CheckOutputFile(string path, string option)
    {
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full)) throw new ArgumentException($"{option} {path}: is a folder; expected a file path.");
        for (string? parent = Path.GetDirectoryName(full); parent is not null && !Directory.Exists(parent); parent = Path.GetDirectoryName(parent))
            if (File.Exists(parent)) throw new ArgumentException($"{option} {path}: {parent} is a file, not a folder.");
    }

    private static void WriteFile(string path, string text)
    {
        try
        {
            string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
            if (dir is not null) Directory.CreateDirectory(dir);
            File.WriteAllText(path, text);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"cannot write {path}: {e.Message}", e);
        }
    }
}
