using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Glass.Runner.Config;

/// <summary>
/// Refuses YAML nested deeper than <see cref="MaxDepth"/> mappings/sequences before anything recursive reads it:
/// the document is walked once with YamlDotNet's streaming parser (MappingStart/SequenceStart raise the depth,
/// MappingEnd/SequenceEnd lower it), so a 100,000-deep <c>[[[…]]]</c> is an error naming the line where the limit
/// is passed instead of a stack overflow in <see cref="YamlDotNet.RepresentationModel.YamlStream"/>.
/// </summary>
internal static class YamlDepth
{
    /// <summary>The deepest nesting a config may have (real configs use 4 or 5 levels).</summary>
    public const int MaxDepth = 64;

    /// <summary>Throws <see cref="ConfigException"/> when <paramref name="text"/> nests deeper than <see cref="MaxDepth"/>.
    /// Syntax errors are left to the full load (which reports them with its own message).</summary>
    public static void Check(string text, string file)
    {
        var parser = new Parser(new StringReader(text));
        int depth = 0;
        try
        {
            while (parser.MoveNext())
            {
                switch (parser.Current)
                {
                    case MappingStart or SequenceStart:
                        if (++depth > MaxDepth)
                        {
                            var at = parser.Current!.Start;
                            throw new ConfigException(file, (int)at.Line, (int)at.Column, "",
                                $"the document nests mappings/sequences more than {MaxDepth} levels deep; expected at most {MaxDepth}");
                        }
                        break;
                    case MappingEnd or SequenceEnd:
                        depth--;
                        break;
                }
            }
        }
        catch (YamlException) { /* a syntax error: reported by the full load */ }
    }
}
