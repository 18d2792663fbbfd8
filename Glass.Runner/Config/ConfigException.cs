namespace Glass.Runner.Config;

/// <summary>
/// A configuration that does not validate. The message names the file, the line and column where the
/// YAML parser knows them, the key path (e.g. <c>model.manifold.K</c>), the value found and what was expected.
/// </summary>
internal sealed class ConfigException : Exception
{
    public ConfigException(string file, int? line, int? column, string keyPath, string problem)
        : base(Format(file, line, column, keyPath, problem))
    {
        File = file;
        Line = line;
        Column = column;
        KeyPath = keyPath;
    }

    /// <summary>The config file.</summary>
    public string File { get; }

    /// <summary>1-based line, when known.</summary>
    public int? Line { get; }

    /// <summary>1-based column, when known.</summary>
    public int? Column { get; }

    /// <summary>Dotted key path, e.g. <c>model.manifold.K</c> (empty for the document itself).</summary>
    public string KeyPath { get; }

    private static string Format(string file, int? line, int? column, string keyPath, string problem)
    {
        string where = line is { } l ? $"{file}:{l}:{column ?? 1}" : file;
        return keyPath.Length == 0 ? $"{where}: {problem}" : $"{where}: {keyPath}: {problem}";
    }
}
