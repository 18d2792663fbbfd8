using System.Text.Json;
using System.Text.Json.Nodes;

namespace Glass.Runner.Output;

/// <summary>The JSON conventions of every file the CLI writes (one copy of each helper).</summary>
internal static class JsonText
{
    /// <summary>Indented output, as every JSON file in a run or align folder is written.</summary>
    public static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>A JSON number, or null for NaN and ±∞ (JSON has no literal for them).</summary>
    public static JsonNode? Number(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;

    /// <summary><paramref name="node"/> as indented JSON text with a final newline.</summary>
    public static string ToFileText(JsonNode node) => node.ToJsonString(Indented) + "\n";
}
