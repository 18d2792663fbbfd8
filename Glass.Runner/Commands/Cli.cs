using System.CommandLine;
using Glass.Kernels.Device;

namespace Glass.Runner.Commands;

/// <summary>The `glass` command tree.</summary>
internal static class Cli
{
    public static int Run(string[] args, TextWriter? stdout = null, TextWriter? stderr = null)
    {
        var root = new RootCommand("glass — geometric alignment with optimal transport (GLASS layer, learned Gromov–Wasserstein).");
        root.Subcommands.Add(DevicesCommand());
        root.Subcommands.Add(BenchCommands.Create());
        var config = new InvocationConfiguration { EnableDefaultExceptionHandler = false };
        if (stdout is not null) config.Output = stdout;
        if (stderr is not null) config.Error = stderr;
        var err = stderr ?? Console.Error;
        try
        {
            return root.Parse(args).Invoke(config);
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or FileNotFoundException or InvalidOperationException)
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
