using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Glass.Runner.Experiments;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Glass.Runner.Config;

/// <summary>
/// A validated run configuration: the runner's own keys (<c>exp_name</c>, <c>log.out_dir</c>,
/// <c>log.save_every</c>) plus one experiment kind bound from the <c>model:</c> section, and the resolved
/// document (every default filled in) that becomes the run's <c>config.json</c>. JSON is YAML, so a run's
/// <c>config.json</c> loads back through the same path (that is how <c>--resume</c> rebuilds the experiment).
/// </summary>
internal sealed partial class RunConfig
{
    private RunConfig(string sourceFile, string expName, string outDir, int saveEvery, BoundExperiment experiment, JsonObject resolved)
    {
        SourceFile = sourceFile;
        ExpName = expName;
        OutDir = outDir;
        SaveEvery = saveEvery;
        Experiment = experiment;
        Resolved = resolved;
        var forHash = (JsonObject)resolved.DeepClone();
        forHash.Remove("log");
        Hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(forHash.ToJsonString())))[..16];
    }

    /// <summary>The file it was read from.</summary>
    public string SourceFile { get; }

    /// <summary>exp_name (safe as part of a folder name).</summary>
    public string ExpName { get; }

    /// <summary>log.out_dir: where run folders are created (default <c>runs</c>).</summary>
    public string OutDir { get; }

    /// <summary>log.save_every: checkpoint period in steps (0 = only at the end and on interruption).</summary>
    public int SaveEvery { get; }

    /// <summary>The bound experiment of the selected kind.</summary>
    public BoundExperiment Experiment { get; }

    /// <summary>The resolved config, in the YAML schema's shape, every default filled in.</summary>
    public JsonObject Resolved { get; }

    /// <summary>
    /// 16 hex digits of SHA-256 over the resolved config without <c>log</c> (where results go and how often
    /// checkpoints are taken do not change a run). Covers exp_name and seed: sweeps use it to find finished runs.
    /// </summary>
    public string Hash { get; }

    /// <summary>The experiment kind (<c>manifold</c>, <c>graph</c>, …).</summary>
    public string Kind => Experiment.Kind;

    /// <summary>The resolved seed.</summary>
    public int Seed => Experiment.Seed;

    /// <summary>The resolved number of steps.</summary>
    public int Steps => Experiment.Steps;

    /// <summary>The resolved config as indented JSON (the run's config.json).</summary>
    public string ToJson() => Output.JsonText.ToFileText(Resolved);

    /// <summary>Reads and validates <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">No such file (the message names it).</exception>
    /// <exception cref="ConfigException">Syntax, unknown key, wrong type or out-of-range value.</exception>
    public static RunConfig Load(string path, ConfigOverrides? overrides = null, ExperimentRegistry? registry = null)
    {
        if (Directory.Exists(path))
            throw new FileNotFoundException($"config file {path} is a directory; expected a YAML file.", path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"config file not found: {path}", path);
        string text;
        try { text = File.ReadAllText(path); }
        catch (IOException e) { throw new InvalidDataException($"cannot read config file {path}: {e.Message}", e); }
        return Parse(text, path, overrides, registry);
    }

    /// <summary>Parses and validates YAML <paramref name="text"/>; <paramref name="file"/> names it in errors.</summary>
    public static RunConfig Parse(string text, string file, ConfigOverrides? overrides = null, ExperimentRegistry? registry = null)
    {
        overrides ??= ConfigOverrides.None;
        registry ??= ExperimentRegistry.Default;
        YamlDepth.Check(text, file);
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            string msg = e.InnerException?.Message ?? e.Message;
            int colon = msg.IndexOf("): ", StringComparison.Ordinal);
            if (msg.StartsWith('(') && colon > 0) msg = msg[(colon + 3)..];
            throw new ConfigException(file, (int)e.Start.Line, (int)e.Start.Column, "", "YAML syntax error: " + msg);
        }
        if (stream.Documents.Count > 1)
            throw new ConfigException(file, (int)stream.Documents[1].RootNode.Start.Line, (int)stream.Documents[1].RootNode.Start.Column, "",
                "the file holds more than one YAML document; expected exactly one");
        var root = ConfigSection.Root(file, stream.Documents.Count == 0 ? null : stream.Documents[0]);

        string stem = Path.GetFileNameWithoutExtension(file);
        string expName = root.String("exp_name", SafeName().IsMatch(stem) ? stem : "glass",
            v => SafeName().IsMatch(v) ? null : "a non-empty name of letters, digits and . _ - + = (it names the run folder)");

        var log = root.Section("log");
        string outDir = log.String("out_dir", "runs", v => v.Trim().Length > 0 ? null : "a non-empty directory path", overrides.OutDir);
        int saveEvery = log.Int("save_every", 50, min: 0);
        log.Finish();

        var model = root.Section("model");
        var kinds = model.PresentKeys.Where(k => registry.Find(k) is not null).ToList();
        string expected = "exactly one experiment kind under model: " + string.Join(" | ", registry.Names);
        if (kinds.Count > 1)
            throw model.ErrorAt(kinds[1], $"model has both '{kinds[0]}' and '{kinds[1]}'; expected {expected}");
        if (kinds.Count == 0)
        {
            foreach (var k in model.PresentKeys)
                if (k != "ot" && ConfigSection.Suggest(k, registry.Names) is { } near)
                    throw model.ErrorAt(k, $"unknown key (did you mean '{near}'?); expected {expected}");
            if (!root.Has("model"))
                throw new ConfigException(file, null, null, "model", $"missing; expected {expected}");
            throw model.Error(null, "model", $"no experiment kind found; expected {expected}");
        }
        var kind = registry.Find(kinds[0])!;
        foreach (var n in registry.Names) model.Declare(n);
        var bound = kind.Bind(root, model, expName, overrides);
        model.Finish();
        root.Finish();
        return new RunConfig(file, expName, outDir, saveEvery, bound, root.Resolved);
    }

    [GeneratedRegex(@"^[A-Za-z0-9._+=-]+$")]
    private static partial Regex SafeName();
}
