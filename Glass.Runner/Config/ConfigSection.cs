using System.Globalization;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Glass.Runner.Config;

/// <summary>
/// Strict reader of one YAML mapping (a config section). Every typed read names the key it accepts,
/// checks the type and range (errors name file, line:column, key path, value and what was expected),
/// and records the value it resolved — given or default — into <see cref="Resolved"/>, so the run's
/// <c>config.json</c> is exactly what the experiment was built from. <see cref="Finish"/> rejects keys
/// nobody read, suggesting the closest valid one.
/// </summary>
internal sealed class ConfigSection
{
    private readonly Dictionary<string, (YamlNode Key, YamlNode Value)> _entries = new(StringComparer.Ordinal);
    private readonly List<string> _order = new();
    private readonly List<string> _known = new();

    private ConfigSection(string file, string path, YamlNode? node, Mark? start)
    {
        File = file;
        Path = path;
        Start = start;
        if (node is YamlMappingNode map)
        {
            foreach (var (k, v) in map.Children)
            {
                string key = k is YamlScalarNode s ? s.Value ?? "" : k.ToString();
                if (!_entries.TryAdd(key, (k, v)))
                    throw Error(k, Join(path, key), $"key given twice; expected each key once");
                _order.Add(key);
            }
        }
    }

    /// <summary>The config file (as given on the command line).</summary>
    public string File { get; }

    /// <summary>Dotted key path of this section ("" for the document root).</summary>
    public string Path { get; }

    /// <summary>Where the section starts, when it is in the file.</summary>
    public Mark? Start { get; }

    /// <summary>The resolved values read so far, in read order.</summary>
    public JsonObject Resolved { get; } = new();

    /// <summary>Keys present in the file, in file order.</summary>
    public IReadOnlyList<string> PresentKeys => _order;

    /// <summary>Root section of a parsed document; the document must be a mapping.</summary>
    public static ConfigSection Root(string file, YamlDocument? doc)
    {
        if (doc is null)
            throw new ConfigException(file, null, null, "", "the file is empty; expected a YAML mapping with data, exp_name, log, model, ot, train");
        if (doc.RootNode is not YamlMappingNode)
            throw new ConfigException(file, Line(doc.RootNode.Start), Col(doc.RootNode.Start), "",
                $"the document is a {NodeKind(doc.RootNode)}; expected a YAML mapping with data, exp_name, log, model, ot, train");
        return new ConfigSection(file, "", doc.RootNode, doc.RootNode.Start);
    }

    /// <summary>True when <paramref name="key"/> is in the file.</summary>
    public bool Has(string key) => _entries.ContainsKey(key);

    /// <summary>Declares <paramref name="key"/> as valid here without reading it (someone else handles it).</summary>
    public void Declare(string key)
    {
        if (!_known.Contains(key)) _known.Add(key);
    }

    /// <summary>
    /// The sub-mapping <paramref name="key"/>; an absent key gives an empty section (all defaults).
    /// With <paramref name="attach"/> its resolved values are nested under <paramref name="key"/> in this section's.
    /// </summary>
    public ConfigSection Section(string key, bool attach = true)
    {
        Declare(key);
        string path = Join(Path, key);
        ConfigSection child;
        if (_entries.TryGetValue(key, out var e))
        {
            if (e.Value is YamlScalarNode { Value: null or "" } or YamlScalarNode { Value: "~" or "null" })
                child = new ConfigSection(File, path, null, e.Value.Start);
            else if (e.Value is not YamlMappingNode)
                throw Error(e.Value, path, $"got a {NodeKind(e.Value)}{Shown(e.Value)}; expected a mapping of keys");
            else
                child = new ConfigSection(File, path, e.Value, e.Value.Start);
        }
        else child = new ConfigSection(File, path, null, null);
        if (attach) Resolved[key] = child.Resolved;
        return child;
    }

    /// <summary>An integer in [min, max]; <paramref name="overrideValue"/> (a command-line override) wins over the file.</summary>
    public int Int(string key, int @default, int min = int.MinValue, int max = int.MaxValue, int? overrideValue = null)
    {
        Declare(key);
        string expected = min == int.MinValue && max == int.MaxValue ? "an integer"
            : max == int.MaxValue ? $"an integer ≥ {min}"
            : min == int.MinValue ? $"an integer ≤ {max}"
            : $"an integer in [{min}, {max}]";
        int value = @default;
        if (overrideValue is { } ov)
        {
            if (ov < min || ov > max)
                throw new ArgumentException($"the override of {Join(Path, key)} is {ov}; expected {expected}.");
            value = ov;
        }
        else if (_entries.TryGetValue(key, out var e))
        {
            var s = Scalar(e.Value, key, expected);
            if (!long.TryParse(s.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v))
                throw Error(e.Value, Join(Path, key), $"got {Shown(s)}; expected {expected}");
            if (v < min || v > max)
                throw Error(e.Value, Join(Path, key), $"got {s.Value}; expected {expected}");
            value = (int)v;
        }
        Resolved[key] = value;
        return value;
    }

    /// <summary>A finite number in <paramref name="range"/> (integers accepted).</summary>
    public double Double(string key, double @default, NumberRange range)
    {
        Declare(key);
        string expected = range.Describe();
        double value = @default;
        if (_entries.TryGetValue(key, out var e))
        {
            var s = Scalar(e.Value, key, expected);
            if (!double.TryParse(s.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
                throw Error(e.Value, Join(Path, key), $"got {Shown(s)}; expected {expected}");
            if (!range.Contains(v))
                throw Error(e.Value, Join(Path, key), $"got {s.Value}; expected {expected}");
            value = v;
        }
        Resolved[key] = value;
        return value;
    }

    /// <summary>A list of finite numbers, each in <paramref name="range"/> (a YAML sequence, e.g. <c>[0.005, 0.01]</c>; empty allowed).</summary>
    public IReadOnlyList<double> DoubleList(string key, IReadOnlyList<double> @default, NumberRange range)
    {
        Declare(key);
        string expected = $"a list of numbers, each {range.Describe()} (e.g. [0.005, 0.01])";
        var value = @default.ToList();
        if (_entries.TryGetValue(key, out var e))
        {
            if (e.Value is not YamlSequenceNode seq)
                throw Error(e.Value, Join(Path, key), $"got {(e.Value is YamlScalarNode sc ? Shown(sc) : "a " + NodeKind(e.Value))}; expected {expected}");
            value.Clear();
            foreach (var item in seq)
            {
                var s = Scalar(item, key, expected);
                if (!double.TryParse(s.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v) || !range.Contains(v))
                    throw Error(item, Join(Path, key), $"contains {Shown(s)}; expected {expected}");
                value.Add(v);
            }
        }
        Resolved[key] = new JsonArray(value.Select(v => (JsonNode)JsonValue.Create(v)).ToArray());
        return value;
    }

    /// <summary>true | false.</summary>
    public bool Bool(string key, bool @default)
    {
        Declare(key);
        const string expected = "true or false";
        bool value = @default;
        if (_entries.TryGetValue(key, out var e))
        {
            var s = Scalar(e.Value, key, expected);
            value = s.Value switch
            {
                "true" or "True" or "TRUE" => true,
                "false" or "False" or "FALSE" => false,
                _ => throw Error(e.Value, Join(Path, key), $"got {Shown(s)}; expected {expected}"),
            };
        }
        Resolved[key] = value;
        return value;
    }

    /// <summary>One of <paramref name="names"/> (case-sensitive, as the schema writes them).</summary>
    public string Choice(string key, string @default, IReadOnlyList<string> names)
    {
        Declare(key);
        string expected = "one of " + string.Join(" | ", names);
        string value = @default;
        if (_entries.TryGetValue(key, out var e))
        {
            var s = Scalar(e.Value, key, expected, allowQuoted: true);
            if (!names.Contains(s.Value!))
            {
                string? near = Suggest(s.Value!, names);
                throw Error(e.Value, Join(Path, key), $"got {Shown(s)}; expected {expected}" + (near is null ? "" : $" (did you mean '{near}'?)"));
            }
            value = s.Value!;
        }
        Resolved[key] = value;
        return value;
    }

    /// <summary>A string; <paramref name="check"/> returns a description of what is expected when the value is bad, else null.</summary>
    public string String(string key, string @default, Func<string, string?>? check = null, string? overrideValue = null)
    {
        Declare(key);
        string value = @default;
        if (overrideValue is not null) value = overrideValue;
        else if (_entries.TryGetValue(key, out var e))
        {
            var s = Scalar(e.Value, key, "a string", allowQuoted: true);
            value = s.Value ?? "";
            if (check?.Invoke(value) is { } expected)
                throw Error(e.Value, Join(Path, key), $"got {Shown(s)}; expected {expected}");
        }
        Resolved[key] = value;
        return value;
    }

    /// <summary>
    /// Rejects keys present in the file that no read or <see cref="Declare"/> accepted, naming the closest valid key.
    /// </summary>
    public void Finish()
    {
        foreach (var key in _order)
        {
            if (_known.Contains(key)) continue;
            string? near = Suggest(key, _known);
            string hint = near is null ? "" : $" (did you mean '{near}'?)";
            throw Error(_entries[key].Key, Join(Path, key),
                $"unknown key{hint}; valid keys {(Path.Length == 0 ? "at the top level" : "under " + Path)}: {string.Join(", ", _known)}");
        }
    }

    /// <summary>An error at <paramref name="node"/> (its line and column) for <paramref name="keyPath"/>.</summary>
    public ConfigException Error(YamlNode? node, string keyPath, string problem) =>
        new(File, node is null ? Line(Start) : Line(node.Start), node is null ? Col(Start) : Col(node.Start), keyPath, problem);

    /// <summary>An error about key <paramref name="key"/> of this section, at the key's line when present.</summary>
    public ConfigException ErrorAt(string key, string problem) =>
        Error(_entries.TryGetValue(key, out var e) ? e.Key : null, Join(Path, key), problem);

    /// <summary>Closest of <paramref name="candidates"/> to <paramref name="word"/> (edit distance, case-insensitive), or null.</summary>
    public static string? Suggest(string word, IEnumerable<string> candidates)
    {
        string? best = null;
        int bestD = int.MaxValue;
        foreach (var c in candidates)
        {
            int d = Levenshtein(word.ToLowerInvariant(), c.ToLowerInvariant());
            if (d < bestD) { bestD = d; best = c; }
        }
        if (best is null) return null;
        int allowed = Math.Max(2, Math.Min(word.Length, best.Length) / 3);
        return bestD <= allowed || best.StartsWith(word, StringComparison.OrdinalIgnoreCase) && word.Length >= 3 ? best : null;
    }

    internal static string Join(string path, string key) => path.Length == 0 ? key : path + "." + key;

    private YamlScalarNode Scalar(YamlNode node, string key, string expected, bool allowQuoted = false)
    {
        if (node is not YamlScalarNode s)
            throw Error(node, Join(Path, key), $"got a {NodeKind(node)}; expected {expected}");
        if (s.Style is ScalarStyle.Plain && (s.Value is null or "" or "~" or "null"))
            throw Error(node, Join(Path, key), $"has no value; expected {expected}");
        if (!allowQuoted && s.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted)
            throw Error(node, Join(Path, key), $"got the quoted string {Shown(s)}; expected {expected} (write it without quotes)");
        return s;
    }

    private static string Shown(YamlNode node) =>
        node is YamlScalarNode { Value: { } v } ? $"'{(v.Length > 60 ? v[..60] + "…" : v)}'" : "";

    private static string NodeKind(YamlNode node) => node switch
    {
        YamlMappingNode => "mapping",
        YamlSequenceNode => "list",
        _ => "scalar ",
    };

    private static int? Line(Mark? m) => m is { } v ? (int)v.Line : null;
    private static int? Col(Mark? m) => m is { } v ? (int)v.Column : null;

    private static int Levenshtein(string a, string b)
    {
        var prev = new int[b.Length + 1];
        var cur = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) prev[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            for (int j = 1; j <= b.Length; j++)
                cur[j] = Math.Min(Math.Min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (prev, cur) = (cur, prev);
        }
        return prev[b.Length];
    }
}
