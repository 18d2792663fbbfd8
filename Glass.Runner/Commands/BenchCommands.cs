using System.CommandLine;

namespace Glass.Runner.Commands;

/// <summary><c>glass bench …</c>: benchmarks that print medians (and JSON lines with --json).</summary>
internal static class BenchCommands
{
    public static Command Create()
    {
        var bench = new Command("bench", "Benchmarks (medians of repeats; --json for one object per line).");
        return bench;
    }
}
