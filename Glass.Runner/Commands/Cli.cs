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
        root.Subcommands.Add(DevicesCommand());
        root.Subcommands.Add(BenchCommands.Create());
        var ctx = new CliContext(stdout ?? Console.Out, stderr ?? Console.Error, registry ?? ExperimentRegistry.Default) { Cancel = cancel };
        foreach (var c in RunCommands.Create(ctx)) root.Subcommands.Add(c);
        root.Subcommands.Add(AlignCommand.Create(ctx));
        var config = new InvocationConfiguration { EnableDefaultExceptionHandler = false };
        if (stdout is not null) config.Output = stdout;
        if (stderr is not null) config.Error = stderr;
        var err = stderr ?? Console.Error;
        try
        {
            return root.Parse(args).Invoke(config);
        }
        catch (Exception e) when (e is ConfigException or ArgumentException or InvalidDataException or FileNotFoundException or DirectoryNotFoundException or InvalidOperationException)
        {
            err.WriteLine("error: " + e.Message);
            return 2;
        }
    }

    private static Command DevicesCommand()
    {
        var cmd = new Command("devices", "List the accelerators ILGPU can see, and the managed CPU backend.");
        cmd.SetAction(_ =>
        {
            foreach (var line in ComputeDevice.Describe()) Console.WriteLine(line);
            return 0;
        });
        return cmd;
    }
}
