using System.CommandLine;
using Glass.Kernels.Device;
using Glass.Runner.Config;
using Glass.Runner.Experiments;

namespace Glass.Runner.Commands;

/// <summary>The `glass` command tree.</summary>
internal static class Cli
{
    public static int Run(string[] args, TextWriter? stdout = null, TextWriter? stderr = null) => Run(args, stdout, stderr, null);

    /// <summary>Runs the command line with the experiment kinds of <paramref name="registry"/> (tests add a fake kind).</summary>
    public static int Run(string[] args, TextWriter? stdout, TextWriter? stderr, ExperimentRegistry? registry, CancellationToken? cancel = null)
    {
        var root = new RootCommand("glass — geometric alignment with optimal transport (GLASS layer, learned Gromov–Wasserstein).");
        var ctx = new CliContext(stdout ?? Console.Out, stderr ?? Console.Error, registry ?? ExperimentRegistry.Default) { Cancel = cancel };
        root.Subcommands.Add(DevicesCommand(ctx));
        root.Subcommands.Add(BenchCommands.Create(ctx));
        foreach (var c in RunCommands.Create(ctx)) root.Subcommands.Add(c);
        root.Subcommands.Add(AlignCommand.Create(ctx));
        var verbose = new Option<bool>("--verbose") { Description = "On an unexpected error, print the full stack trace.", Recursive = true };
        root.Options.Add(verbose);
        var config = new InvocationConfiguration { EnableDefaultExceptionHandler = false };
        if (stdout is not null) config.Output = stdout;
        if (stderr is not null) config.Error = stderr;
        var err = stderr ?? Console.Error;
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            // System.CommandLine would print the errors and the help text and exit 1; the project's rule is one line, exit 2.
            err.WriteLine("error: " + ParseErrorLine(parsed));
            return 2;
        }
        try
        {
            return parsed.Invoke(config);
        }
        catch (Exception e) when (e is ConfigException or ArgumentException or InvalidDataException or FileNotFoundException or DirectoryNotFoundException or InvalidOperationException
                                     or IOException or UnauthorizedAccessException)
        {
            err.WriteLine("error: " + UserNames.Message(e, parsed.CommandResult.Command));
            return 2;
        }
        catch (Exception e)
        {
            // Anything else is a bug: one line and exit 1; the trace only on request.
            err.WriteLine(UnexpectedErrorLine(e));
            if (parsed.GetValue(verbose)) err.WriteLine(e.ToString());
            return 1;
        }
    }

    /// <summary>The one line for an exception the CLI does not expect: its type, its message, and how to see the trace.</summary>
    internal static string UnexpectedErrorLine(Exception e) =>
        $"error: unexpected {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ").Trim()} (run with --verbose for the trace)";

    /// <summary>
    /// The parse errors of <paramref name="parsed"/> as one line: System.CommandLine's messages (they name the option or
    /// token), CLR type names such as <c>System.Nullable`1[System.Int32]</c> replaced by plain ones, and the command to ask for help.
    /// </summary>
    internal static string ParseErrorLine(ParseResult parsed)
    {
        var msgs = parsed.Errors.Select(e => PlainTypeNames(e.Message.ReplaceLineEndings(" ").Trim())).Distinct();
        var names = new List<string>();
        for (var c = parsed.CommandResult; c is not null; c = c.Parent as System.CommandLine.Parsing.CommandResult)
            names.Insert(0, c.Command is RootCommand ? "glass" : c.Command.Name);
        string command = string.Join(' ', names);
        return string.Join(" ", msgs) + $" (see '{command} --help')";
    }

    private static string PlainTypeNames(string message) =>
        System.Text.RegularExpressions.Regex.Replace(message, @"System\.Nullable`1\[System\.(\w+)\]|System\.(\w+)", m =>
            (m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value) switch
            {
                "Int32" => "integer",
                "Int64" => "integer",
                "Double" => "number",
                "Single" => "number",
                "Boolean" => "true/false",
                "String" => "text",
                var other => other,
            });

    private static Command DevicesCommand(CliContext ctx)
    {
        var cmd = new Command("devices", "List the accelerators ILGPU can see, and the managed CPU backend.");
        cmd.SetAction(_ =>
        {
            foreach (var line in ComputeDevice.Describe()) ctx.Out.WriteLine(line);
            return 0;
        });
        return cmd;
    }
}
