using System.CommandLine;
using Glass.Kernels.Device;

namespace Glass.Runner.Commands;

/// <summary>The `glass` command tree.</summary>
internal static class Cli
{
    public static int Run(string[] args)
    {
        var root = new RootCommand("glass — geometric alignment with optimal transport (GLASS layer, learned Gromov–Wasserstein).");
        root.Subcommands.Add(DevicesCommand());
        root.Subcommands.Add(BenchCommands.Create());
        return root.Parse(args).Invoke();
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
