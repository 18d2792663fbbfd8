using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using Glass.Runner.Config;
using Glass.Runner.Experiments;
using Glass.Runner.Output;

namespace Glass.Runner.Commands;

/// <summary>What the experiment commands write to and which kinds they know (tests swap these).</summary>
internal sealed record CliContext(TextWriter Out, TextWriter Err, ExperimentRegistry Registry)
{
    /// <summary>Cancels on Ctrl-C / SIGTERM while the run commands are in progress; tests may supply their own.</summary>
    public CancellationToken? Cancel { get; init; }
}

/// <summary><c>glass run | sweep | compile-runs | plot</c>.</summary>
internal static class RunCommands
{
    /// <summary>Exit code of a run stopped by Ctrl-C or SIGTERM (checkpoint written; resume with --resume).</summary>
    public const int InterruptedExitCode = 130;

    public static IEnumerable<Command> Create(CliContext ctx) => new[] { Run(ctx), Sweep(ctx), CompileRuns(ctx), Plot(ctx), PlotSweep(ctx) };

    private static Option<string> DeviceOption() =>
        new("--device") { Description = "auto | cpu | cuda | ilgpu-cpu.", DefaultValueFactory = _ => "auto" };

    private static Command Run(CliContext ctx)
    {
        var config = new Argument<string?>("CONFIG") { Description = "The YAML config (the papers' schema: data, exp_name, log, model, ot, train).", Arity = ArgumentArity.ZeroOrOne };
        var device = DeviceOption();
        var outDir = new Option<string?>("--out") { Description = "Parent folder of the run folder (overrides log.out_dir; default runs)." };
        var seed = new Option<int?>("--seed") { Description = "Seed (overrides train.seed)." };
        var steps = new Option<int?>("--steps") { Description = "Training steps (overrides train.steps; handy for smoke runs)." };
        var quiet = new Option<bool>("--quiet") { Description = "No progress bar and no status lines." };
        var resume = new Option<string?>("--resume") { Description = "Continue the run in RUN_DIR from its latest checkpoint (its own config.json)." };
        var noPlots = new Option<bool>("--no-plots") { Description = "Do not write plots at the end." };
        var cmd = new Command("run", "Train one experiment from a YAML config; writes runs/<exp_name>_<timestamp>/ (config.json, metrics.csv, checkpoints, summary.json, plots).")
        {
            config, device, outDir, seed, steps, quiet, resume, noPlots,
        };
        cmd.SetAction(p =>
        {
            string? cfgPath = p.GetValue(config), resumeDir = p.GetValue(resume);
            bool q = p.GetValue(quiet);
            return WithInterrupt(ctx, token =>
            {
                var settings = new RunSettings
                {
                    Device = p.GetValue(device)!, Quiet = q, Plots = !p.GetValue(noPlots),
                    Out = ctx.Out, Err = ctx.Err, Cancel = token, Registry = ctx.Registry,
                };
                RunOutcome outcome;
                if (resumeDir is not null)
                {
                    if (cfgPath is not null || p.GetValue(seed) is not null || p.GetValue(steps) is not null || p.GetValue(outDir) is not null)
                        throw new ArgumentException("--resume continues a run with its own config.json; do not give CONFIG, --seed, --steps or --out with it.");
                    outcome = RunDriver.Resume(resumeDir, settings);
                }
                else
                {
                    if (cfgPath is null) throw new ArgumentException("glass run needs a CONFIG.yaml (or --resume RUN_DIR).");
                    var cfg = RunConfig.Load(cfgPath, new ConfigOverrides { Seed = p.GetValue(seed), Steps = p.GetValue(steps), OutDir = p.GetValue(outDir) }, ctx.Registry);
                    outcome = RunDriver.Start(cfg, settings);
                }
                return outcome.Interrupted ? InterruptedExitCode : 0;
            });
        });
        return cmd;
    }

    private static Command Sweep(CliContext ctx)
    {
        var configs = new Argument<string[]>("CONFIG") { Description = "YAML configs, run one after another.", Arity = ArgumentArity.OneOrMore };
        var seeds = new Option<string?>("--seeds") { Description = "Comma-separated seeds, e.g. 0,1,2,3,4 (each config × each seed; default: each config's own seed)." };
        var outDir = new Option<string?>("--out") { Description = "Parent folder of the run folders (overrides log.out_dir)." };
        var steps = new Option<int?>("--steps") { Description = "Training steps (overrides train.steps)." };
        var device = DeviceOption();
        var quiet = new Option<bool>("--quiet") { Description = "No progress bars and no status lines." };
        var noPlots = new Option<bool>("--no-plots") { Description = "Do not write plots at the end of each run." };
        Option<string?> shard = SweepShards.ShardOption();
        Option<int?> shards = SweepShards.ShardsOption();
        Option<bool> list = SweepShards.ListOption();
        var cmd = new Command("sweep", "Run many configs (× seeds) one after another; runs already complete (same exp_name, seed and resolved config) are skipped, incomplete ones resumed.")
        {
            configs, seeds, outDir, steps, device, quiet, noPlots, shard, shards, list,
        };
        cmd.SetAction(p =>
        {
            var shardSpec = SweepShards.Resolve(p.GetValue(shard), p.GetValue(shards), Environment.GetEnvironmentVariable);
            var seedList = ParseSeeds(p.GetValue(seeds));
            var paths = p.GetValue(configs) ?? Array.Empty<string>();
            // Validate everything before running anything: a typo in the tenth config must not surface after nine runs.
            var plan = new List<RunConfig>();
            foreach (var path in paths)
                foreach (var s in seedList ?? new int?[] { null })
                {
                    var cfg = RunConfig.Load(path, new ConfigOverrides { Seed = s, Steps = p.GetValue(steps), OutDir = p.GetValue(outDir) }, ctx.Registry);
                    if (plan.All(c => c.Hash != cfg.Hash || c.OutDir != cfg.OutDir)) plan.Add(cfg);
                }
            bool q = p.GetValue(quiet);
            plan = SweepShards.Apply(plan, shardSpec, q || p.GetValue(list) ? null : ctx.Out);
            if (p.GetValue(list)) { SweepShards.WriteList(plan, ctx.Out); return 0; }
            return WithInterrupt(ctx, token =>
            {
                var settings = new RunSettings
                {
                    Device = p.GetValue(device)!, Quiet = q, Plots = !p.GetValue(noPlots),
                    Out = ctx.Out, Err = ctx.Err, Cancel = token, Registry = ctx.Registry,
                };
                int ran = 0, resumed = 0, skipped = 0;
                for (int i = 0; i < plan.Count; i++)
                {
                    var cfg = plan[i];
                    string tag = $"[{i + 1}/{plan.Count}] {cfg.ExpName} seed {cfg.Seed}";
                    var existing = SweepState.Find(cfg);
                    if (existing.Complete is { } done)
                    {
                        skipped++;
                        if (!q) ctx.Out.WriteLine($"glass sweep: {tag}: complete in {done}, skipped");
                        continue;
                    }
                    RunOutcome outcome;
                    if (existing.Incomplete is { } part)
                    {
                        resumed++;
                        if (!q) ctx.Out.WriteLine($"glass sweep: {tag}: resuming {part}");
                        outcome = RunDriver.Resume(part, settings);
                    }
                    else
                    {
                        ran++;
                        if (!q) ctx.Out.WriteLine($"glass sweep: {tag}: starting");
                        outcome = RunDriver.Start(cfg, settings);
                    }
                    if (outcome.Interrupted)
                    {
                        ctx.Err.WriteLine($"glass sweep: interrupted; run the same command again to continue ({plan.Count - i - 1} runs not started).");
                        return InterruptedExitCode;
                    }
                }
                if (!q) ctx.Out.WriteLine($"glass sweep: {plan.Count} runs: {ran} started, {resumed} resumed, {skipped} already complete.");
                return 0;
            });
        });
        return cmd;
    }

    private static Command CompileRuns(CliContext ctx)
    {
        var logdir = new Option<string>("--logdir") { Description = "Folder holding run folders (searched three levels deep).", DefaultValueFactory = _ => "runs" };
        var output = new Option<string?>("--out") { Description = "Per-run CSV (default LOGDIR/summary.csv); the per-exp_name CSV goes beside it as *_by_exp.csv." };
        var keys = new Option<string?>("--keys") { Description = "Comma-separated config keys to report (default: n, K, gate_mode, chart_radius_deg, tau, cheby_degree, gamma, …)." };
        var cmd = new Command("compile-runs", "Aggregate the final metrics of every run into one CSV, plus mean ± std over seeds per exp_name; prints the grouped table.")
        {
            logdir, output, keys,
        };
        cmd.SetAction(p =>
        {
            string dir = p.GetValue(logdir)!;
            string outPath = p.GetValue(output) ?? Path.Combine(dir, "summary.csv");
            string groupPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(outPath))!, Path.GetFileNameWithoutExtension(outPath) + "_by_exp.csv");
            RunCompiler.CheckOutputFile(outPath, "--out");
            RunCompiler.CheckOutputFile(groupPath, "--out (the per-exp_name CSV)");
            var keyList = p.GetValue(keys) is { } k
                ? k.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                : RunCompiler.DefaultKeys;
            var found = RunCompiler.FindRuns(dir);
            var runs = new List<RunCompiler.RunRow>();
            int skipped = 0;
            foreach (var d in found)
            {
                try { runs.Add(RunCompiler.Read(d, keyList)); }
                catch (InvalidDataException e)
                {
                    // One damaged run must not sink the table: say which file and go on with the rest.
                    ctx.Err.WriteLine("warning: skipping run " + d + ": " + e.Message);
                    skipped++;
                }
            }
            if (found.Count == 0) throw new InvalidDataException($"no run folders (with {RunFolder.ConfigFile}) under --logdir {dir}.");
            if (runs.Count == 0) throw new InvalidDataException($"none of the {found.Count} run folders under --logdir {dir} could be read (see the warnings above).");
            var groups = RunCompiler.Group(runs);
            RunCompiler.WriteRunsCsv(outPath, runs, keyList);
            RunCompiler.WriteGroupsCsv(groupPath, groups, keyList);
            ctx.Out.Write(RunCompiler.FormatTable(groups));
            int incomplete = runs.Count(r => !r.Complete);
            ctx.Out.WriteLine($"{runs.Count} runs ({incomplete} incomplete, left out of the means{(skipped > 0 ? $"; {skipped} damaged, skipped" : "")}) → {outPath}, {groupPath}");
            return 0;
        });
        return cmd;
    }

    private static Command PlotSweep(CliContext ctx)
    {
        var logdir = new Option<string>("--logdir") { Description = "Folder holding the sweep's run folders.", DefaultValueFactory = _ => "runs" };
        var x = new Option<string>("--x") { Description = "Numeric config key on the x axis (e.g. tau, K, chart_radius_deg, n).", Required = true };
        var metric = new Option<string>("--metric") { Description = "Final metric on the y axis (a metrics.csv column such as loss, or eval_… from summary.json).", DefaultValueFactory = _ => "loss" };
        var group = new Option<string?>("--group") { Description = "Config key drawing one line per value (e.g. cheby_degree, gate_mode)." };
        var logX = new Option<bool>("--logx") { Description = "Logarithmic x axis." };
        var output = new Option<string>("--out") { Description = "PNG to write (the points go beside it as .csv).", Required = true };
        var cmd = new Command("plot-sweep", "Plot a final metric (mean ± std over seeds) against a config key across a sweep's runs, e.g. loss vs tau (paper 000, Figure 2).")
        {
            logdir, x, metric, group, logX, output,
        };
        cmd.SetAction(p =>
        {
            string xKey = p.GetValue(x)!, m = p.GetValue(metric)!;
            string? g = p.GetValue(group);
            var keys = new List<string> { xKey };
            if (g is not null) keys.Add(g);
            var runs = RunCompiler.FindRuns(p.GetValue(logdir)!).Select(d => RunCompiler.Read(d, keys)).ToList();
            var points = SweepPlots.Collect(runs, xKey, m, g);
            foreach (var f in SweepPlots.Write(points, xKey, m, g, p.GetValue(logX), p.GetValue(output)!)) ctx.Out.WriteLine(f);
            return 0;
        });
        return cmd;
    }

    private static Command Plot(CliContext ctx)
    {
        var dirs = new Argument<string[]>("RUN_DIR") { Description = "Run folders (a folder of run folders is expanded).", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string?>("--out") { Description = "Where plots go (default: each run's plots/ folder, and ./plots for the cross-run plots)." };
        var cmd = new Command("plot", "PNG plots: loss, gamma, nnz and perm_acc over steps per run; across runs the same overlaid, and runtime per step vs n (log–log, fitted exponent).")
        {
            dirs, output,
        };
        cmd.SetAction(p =>
        {
            var runs = new List<string>();
            foreach (var d in p.GetValue(dirs) ?? Array.Empty<string>())
            {
                if (RunFolder.IsRunFolder(d)) runs.Add(d);
                else if (Directory.Exists(d))
                {
                    var inner = RunCompiler.FindRuns(d);
                    if (inner.Count == 0) throw new InvalidDataException($"{d} is not a run folder and holds none (no {RunFolder.ConfigFile}).");
                    runs.AddRange(inner);
                }
                else throw new DirectoryNotFoundException($"run folder not found: {d}");
            }
            string? outDir = p.GetValue(output);
            int count = 0;
            foreach (var r in runs)
            {
                string target = outDir is null ? Path.Combine(r, "plots") : Path.Combine(outDir, Path.GetFileName(Path.TrimEndingDirectorySeparator(r)));
                count += RunPlots.WriteRunPlots(r, target).Count;
            }
            if (runs.Count > 1)
            {
                string cross = outDir ?? "plots";
                count += RunPlots.WriteComparisonPlots(runs, cross).Count;
                var rt = RunPlots.WriteRuntimeVsN(runs, cross);
                if (rt is not null)
                {
                    count += rt.Count;
                    var fit = RunPlots.RuntimeVsN(runs)!.Value;
                    ctx.Out.WriteLine($"runtime per step vs n: fitted exponent {fit.Exponent.ToString("F3", CultureInfo.InvariantCulture)} over {fit.Points.Count} sizes → {rt[0]}");
                }
            }
            ctx.Out.WriteLine($"{count} plot files written for {runs.Count} runs.");
            return 0;
        });
        return cmd;
    }

    private static int?[]? ParseSeeds(string? text)
    {
        if (text is null) return null;
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0) throw new ArgumentException($"--seeds '{text}' holds no seed; expected e.g. 0,1,2,3,4.");
        var seeds = new List<int?>();
        foreach (var s in parts)
        {
            if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) || v < 0)
                throw new ArgumentException($"--seeds contains '{s}'; expected comma-separated integers ≥ 0, e.g. 0,1,2,3,4.");
            if (!seeds.Contains(v)) seeds.Add(v);
        }
        return seeds.ToArray();
    }

    /// <summary>Runs <paramref name="body"/> with Ctrl-C and SIGTERM turned into a cancellation (a second Ctrl-C kills).</summary>
    private static int WithInterrupt(CliContext ctx, Func<CancellationToken, int> body)
    {
        if (ctx.Cancel is { } given) return body(given);
        using var cts = new CancellationTokenSource();
        ConsoleCancelEventHandler onCtrlC = (_, e) =>
        {
            if (cts.IsCancellationRequested) return; // second Ctrl-C: let the process die
            e.Cancel = true;
            ctx.Err.WriteLine();
            ctx.Err.WriteLine("glass: stopping after the current step (Ctrl-C again to abort)…");
            cts.Cancel();
        };
        Console.CancelKeyPress += onCtrlC;
        PosixSignalRegistration? term = null;
        try
        {
            try
            {
                term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
                {
                    c.Cancel = true;
                    cts.Cancel();
                });
            }
            catch (PlatformNotSupportedException)
            {
            }
            return body(cts.Token);
        }
        finally
        {
            term?.Dispose();
            Console.CancelKeyPress -= onCtrlC;
        }
    }
}

/// <summary>Where a sweep finds earlier runs of a config: same config hash (exp_name, seed and all values) under its out_dir.</summary>
internal static class SweepState
{
    public static (string? Complete, string? Incomplete) Find(RunConfig cfg)
    {
        if (!Directory.Exists(cfg.OutDir)) return (null, null);
        string? complete = null, incomplete = null;
        foreach (var d in Directory.EnumerateDirectories(cfg.OutDir).OrderBy(x => x, StringComparer.Ordinal))
        {
            // Hidden names are folders being created (another sweep shard may share out_dir); one may move while scanned.
            if (Path.GetFileName(d).StartsWith('.') || !RunFolder.IsRunFolder(d)) continue;
            RunFolder f;
            try { f = RunFolder.Open(d); }
            catch (Exception e) when (e is DirectoryNotFoundException or InvalidDataException) { continue; }
            var info = f.ReadRunInfo();
            if (info?["config_hash"]?.GetValue<string>() != cfg.Hash) continue;
            if (f.IsComplete) complete = d;
            else incomplete = d;
        }
        return (complete, incomplete);
    }
}
