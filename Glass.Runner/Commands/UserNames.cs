using System.CommandLine;
using System.Text.RegularExpressions;

namespace Glass.Runner.Commands;

/// <summary>
/// Translates the library's argument names into what the user typed. Library checks throw
/// <see cref="ArgumentException"/> with the option record's property as parameter name (<c>Gamma = 0; expected a finite
/// value &gt; 0. (Parameter 'Gamma')</c>); the CLI's error path rewrites such a message so that it names the config key
/// (<c>glass run</c>, <c>glass sweep</c>, <c>glass align --config</c>) or the command-line option (<c>glass align</c>).
/// </summary>
internal static partial class UserNames
{
    /// <summary>Option-record property → YAML key of the run configs (and of <c>glass align --config</c>).</summary>
    private static readonly Dictionary<string, string> ConfigKeys = new(StringComparer.Ordinal)
    {
        // GLASS kinds (ot / train sections).
        ["Gamma"] = "ot.gamma", ["BandEps"] = "ot.band_eps", ["RankCap"] = "ot.rank_cap",
        // gw kind: model.gw …
        ["Depth"] = "model.gw.depth", ["Hidden"] = "model.gw.hidden", ["EmbedDim"] = "model.gw.embed_dim",
        ["RankDelta"] = "model.gw.rank_delta", ["SpectralWeight"] = "model.gw.spectral_weight", ["SpectralK"] = "model.gw.spectral_k",
        ["SinkhornMaxIter"] = "model.gw.sinkhorn_max_iter", ["SinkhornTol"] = "model.gw.sinkhorn_tol",
        ["SupervisedWeight"] = "model.gw.supervised.weight", ["KnownPairs"] = "model.gw.supervised.pairs",
        ["FusedWeight"] = "model.gw.fused.weight", ["FusedFeaturesX"] = "model.gw.fused.x", ["FusedFeaturesY"] = "model.gw.fused.y",
        ["Epsilons"] = "model.gw.solver.epsilons", ["CoarseSize"] = "model.gw.solver.coarse_size", ["Discrepancy"] = "model.gw.solver.discrepancy",
        ["PseudoPairWeight"] = "model.gw.solver.pseudo_pair_weight",
        // … and train.
        ["LearningRate"] = "train.lr", ["Steps"] = "train.steps", ["BatchSize"] = "train.batch_size",
        ["EpsilonStart"] = "train.epsilon_start", ["EpsilonMin"] = "train.epsilon_min", ["EpsilonDecay"] = "train.epsilon_decay",
        ["ClipNorm"] = "train.clip_norm", ["Seed"] = "train.seed", ["Restarts"] = "train.restarts", ["RestartSteps"] = "train.restart_steps",
    };

    /// <summary>Property (or argument) → the <c>glass align</c> option that sets it.</summary>
    private static readonly Dictionary<string, string> AlignOptions = new(StringComparer.Ordinal)
    {
        ["Steps"] = "--steps", ["Seed"] = "--seed", ["Restarts"] = "--restarts", ["RestartSteps"] = "--restart-steps",
        ["SupervisedWeight"] = "--supervised-weight", ["KnownPairs"] = "--known-pairs", ["FusedWeight"] = "--fused-weight",
        ["FusedFeaturesX"] = "--fused-x", ["FusedFeaturesY"] = "--fused-y", ["topK"] = "--top-k", ["TopK"] = "--top-k",
        ["x"] = "--x", ["y"] = "--y",
    };

    /// <summary>
    /// The message of <paramref name="e"/> for the user of <paramref name="command"/> (<c>run</c>, <c>sweep</c>,
    /// <c>align</c>, a bench command, …): without .NET's " (Parameter 'X')" suffix, and with the parameter named as the
    /// command's own option (<c>Gamma</c> → <c>--gamma</c> when the command has it), else as the config key or option
    /// that sets that property of an option record.
    /// </summary>
    public static string Message(Exception e, Command command)
    {
        if (e is not ArgumentException { ParamName: { Length: > 0 } name } ae) return e.Message;
        string msg = StripSuffix(ae.Message, name);
        string? user = OwnOption(name, command) ?? UserName(name, command.Name);
        if (user is null) return msg;
        // "Gamma = 0; expected …" → "ot.gamma = 0; expected …"; otherwise "key: message".
        return msg.StartsWith(name, StringComparison.Ordinal) && msg.Length > name.Length && !char.IsLetterOrDigit(msg[name.Length])
            ? user + msg[name.Length..]
            : user + ": " + msg;
    }

    /// <summary>What the user calls <paramref name="name"/> in <paramref name="command"/>, or null when it has no user-facing name.</summary>
    internal static string? UserName(string name, string command)
    {
        if (command == "align")
        {
            bool hasOption = AlignOptions.TryGetValue(name, out var option);
            bool hasKey = ConfigKeys.TryGetValue(name, out var key);
            if (name == "Gamma") return "the Sinkhorn γ (train.epsilon_start or train.epsilon_min in --config times the mean cost)";
            if (hasOption && hasKey) return $"{option} (train/model key {key} in --config)";
            if (hasOption) return option;
            if (hasKey) return $"{key} (in --config)";
            return null;
        }
        if (command is "run" or "sweep")
        {
            if (ConfigKeys.TryGetValue(name, out var key)) return key;
            return char.IsUpper(name[0]) ? "config key " + SnakeCase(name) : null;
        }
        return null;
    }

    /// <summary>The option of <paramref name="command"/> spelt as <paramref name="name"/> in kebab case (MaxIter → --max-iter), or null.</summary>
    private static string? OwnOption(string name, Command command)
    {
        string option = "--" + SnakeCase(name).Replace('_', '-');
        return command.Options.Any(o => o.Name == option || o.Aliases.Contains(option)) ? option : null;
    }

    private static string StripSuffix(string message, string name)
    {
        string suffix = $" (Parameter '{name}')";
        return message.EndsWith(suffix, StringComparison.Ordinal) ? message[..^suffix.Length] : message;
    }

    /// <summary>EpsilonStart → epsilon_start.</summary>
    internal static string SnakeCase(string pascal) => Upper().Replace(pascal, m => (m.Index > 0 ? "_" : "") + m.Value.ToLowerInvariant());

    [GeneratedRegex("[A-Z]")]
    private static partial Regex Upper();
}
