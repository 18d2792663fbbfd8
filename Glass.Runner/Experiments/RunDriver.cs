using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Glass.Kernels.Device;
using Glass.Models.Experiments;
using Glass.Runner.Config;
using Glass.Runner.Output;

namespace Glass.Runner.Experiments;

/// <summary>How a run is driven: device, console, plots, cancellation.</summary>
internal sealed record RunSettings
{
    /// <summary>auto | cpu | cuda | ilgpu-cpu.</summary>
    public string Device { get; init; } = "auto";

    /// <summary>No progress bar and no status lines.</summary>
    public bool Quiet { get; init; }

    /// <summary>Draw the progress bar (null: when stderr is a terminal and not quiet).</summary>
    public bool? Progress { get; init; }

    /// <summary>Write plots into the run folder at the end.</summary>
    public bool Plots { get; init; } = true;

    /// <summary>Status lines (run folder, summary).</summary>
    public TextWriter Out { get; init; } = Console.Out;

    /// <summary>Progress bar and warnings.</summary>
    public TextWriter Err { get; init; } = Console.Error;

    /// <summary>Stops the run cleanly after the current step (a checkpoint is written).</summary>
    public CancellationToken Cancel { get; init; }

    /// <summary>The experiment kinds.</summary>
    public ExperimentRegistry Registry { get; init; } = ExperimentRegistry.Default;

    /// <summary>Clock for run-folder names.</summary>
    public Func<DateTime> Now { get; init; } = () => DateTime.Now;
}

/// <summary>What became of a run.</summary>
/// <param name="RunDir">The run folder.</param>
/// <param name="Completed">True when all steps ran and the COMPLETE marker is written.</param>
/// <param name="Interrupted">True when cancellation stopped it (a checkpoint was written).</param>
/// <param name="StepsDone">Steps completed.</param>
/// <param name="StepsThisSession">Steps run by this call.</param>
internal sealed record RunOutcome(string RunDir, bool Completed, bool Interrupted, int StepsDone, int StepsThisSession);

/// <summary>
/// Drives an <see cref="IExperiment"/>: creates or reopens the run folder, steps, appends metrics, checkpoints
/// every <c>log.save_every</c> steps (and on interruption), and at the end writes summary.json, plots and
/// the COMPLETE marker. An <see cref="IExperimentReport"/> gets its inner phases shown (bar, status lines) and its
/// details merged into summary.json. Validation and experiment construction happen before any folder is created.
/// </summary>
internal static class RunDriver
{
    /// <summary>Starts a fresh run of <paramref name="config"/>.</summary>
    public static RunOutcome Start(RunConfig config, RunSettings s)
    {
        using var device = ComputeDevice.Open(s.Device);
        using var exp = Build(config, device);
        if (exp.CompletedSteps != 0)
            throw new InvalidOperationException($"a fresh {config.Kind} experiment reports {exp.CompletedSteps} completed steps; expected 0.");
        var files = new Dictionary<string, string>
        {
            [RunFolder.ConfigFile] = config.ToJson(),
            [RunFolder.RunInfoFile] = RunInfo(config, device).ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n",
        };
        using var folder = RunFolder.Create(config.OutDir, config.ExpName, s.Now(), files);
        using var metrics = MetricsWriter.Create(folder.MetricsPath, exp.MetricColumns);
        if (!s.Quiet) s.Out.WriteLine($"glass run: {config.ExpName} ({config.Kind}, seed {config.Seed}, {config.Steps} steps) on {device.Name} → {folder.Dir}");
        return Drive(folder, config, exp, device, metrics, s, Array.Empty<double[]>());
    }

    /// <summary>Continues the run in <paramref name="runDir"/> from its latest checkpoint (or from step 0 when it has none).</summary>
    public static RunOutcome Resume(string runDir, RunSettings s)
    {
        using var folder = RunFolder.OpenForWriting(runDir);
        var config = RunConfig.Load(folder.ConfigPath, new ConfigOverrides { OutDir = Path.GetDirectoryName(folder.Dir) }, s.Registry);
        if (folder.IsComplete)
        {
            int rows = File.Exists(folder.MetricsPath) ? MetricsTable.Read(folder.MetricsPath).Rows.Count : 0;
            if (!s.Quiet) s.Out.WriteLine($"glass run: {folder.Dir} is already complete; nothing to resume.");
            return new RunOutcome(folder.Dir, true, false, rows, 0);
        }
        using var device = ComputeDevice.Open(s.Device);
        using var exp = Build(config, device);
        var ckpt = folder.LatestCheckpoint();
        MetricsWriter metrics;
        IReadOnlyList<double[]> priorLosses = Array.Empty<double[]>();
        if (ckpt is null)
        {
            metrics = MetricsWriter.Create(folder.MetricsPath, exp.MetricColumns);
        }
        else
        {
            if (ckpt.ConfigHash.Length > 0 && ckpt.ConfigHash != config.Hash)
                throw new InvalidDataException($"checkpoint {ckpt.Dir} was taken with config hash {ckpt.ConfigHash}, but {folder.ConfigPath} now hashes to {config.Hash}; was config.json edited?");
            exp.LoadState(ckpt.Dir);
            if (exp.CompletedSteps != ckpt.Step)
                throw new InvalidDataException($"checkpoint {ckpt.Dir} is for step {ckpt.Step}, but the experiment restored {exp.CompletedSteps} completed steps.");
            priorLosses = PriorLosses(folder, ckpt.MetricRows);
            metrics = MetricsWriter.Resume(folder.MetricsPath, exp.MetricColumns, ckpt.MetricRows);
        }
        using (metrics)
        {
            if (!s.Quiet) s.Out.WriteLine($"glass run: resuming {folder.Dir} at step {exp.CompletedSteps}/{exp.TotalSteps} on {device.Name}");
            return Drive(folder, config, exp, device, metrics, s, priorLosses);
        }
    }

    /// <summary>(loss, γ) of the first <paramref name="rows"/> metrics rows (what the stopping rule saw before the checkpoint; γ NaN when absent).</summary>
    private static IReadOnlyList<double[]> PriorLosses(RunFolder folder, int rows)
    {
        if (!File.Exists(folder.MetricsPath)) return Array.Empty<double[]>();
        var t = MetricsTable.Read(folder.MetricsPath);
        int c = t.IndexOf("loss"), g = t.IndexOf("gamma");
        return c < 0 ? Array.Empty<double[]>() : t.Rows.Take(rows).Select(r => new[] { r[c], g < 0 ? double.NaN : r[g] }).ToArray();
    }

    private static IExperiment Build(RunConfig config, ComputeDevice device)
    {
        IExperiment exp = config.Experiment.Create(device);
        if (exp.TotalSteps != config.Steps)
        {
            exp.Dispose();
            throw new InvalidOperationException($"the {config.Kind} experiment plans {exp.TotalSteps} steps but train.steps = {config.Steps}.");
        }
        return exp;
    }

    /// <summary>What the step loop ended with.</summary>
    private sealed record LoopEnd(StepMetrics? Last, bool Interrupted, int LastSaved, string? StopReason);

    private static RunOutcome Drive(RunFolder folder, RunConfig config, IExperiment exp, ComputeDevice device, MetricsWriter metrics, RunSettings s,
        IReadOnlyList<double[]> priorLosses)
    {
        int start = exp.CompletedSteps;
        var wall = Stopwatch.StartNew();
        var end = StepLoop(folder, config, exp, metrics, s, priorLosses);
        if (end.Interrupted)
        {
            if (exp.CompletedSteps != end.LastSaved || folder.LatestCheckpoint() is null) Save(folder, config, exp, metrics);
            s.Err.WriteLine($"glass run: interrupted after step {exp.CompletedSteps}/{exp.TotalSteps}; checkpoint written. Continue with: glass run --resume {folder.Dir}");
            return new RunOutcome(folder.Dir, false, true, exp.CompletedSteps, exp.CompletedSteps - start);
        }
        Save(folder, config, exp, metrics);
        var summary = WriteSummary(folder, config, exp, device, end, wall.Elapsed.TotalSeconds);
        if (exp is IExperimentArtifacts art)
            foreach (var (name, text) in art.Artifacts())
                RunFolder.WriteAtomically(Path.Combine(folder.Dir, Path.GetFileName(name)), text);
        if (s.Plots) WritePlots(folder, s);
        folder.MarkComplete(new JsonObject
        {
            ["completed_utc"] = DateTime.UtcNow.ToString("o", CultureInfo.InvariantCulture),
            ["steps"] = exp.CompletedSteps,
            ["config_hash"] = config.Hash,
        });
        if (!s.Quiet)
        {
            if (end.StopReason is not null) s.Out.WriteLine($"glass run: stopped at step {exp.CompletedSteps}/{exp.TotalSteps}: {end.StopReason}");
            if (summary["headline"] is { } h) s.Out.WriteLine("glass run: " + h.GetValue<string>());
            string lossText = summary["final"]?["loss"] is { } l ? $", final loss {l.ToJsonString()}" : "";
            s.Out.WriteLine($"glass run: done, {exp.CompletedSteps} steps in {wall.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)} s{lossText} → {folder.Dir}");
        }
        return new RunOutcome(folder.Dir, true, false, exp.CompletedSteps, exp.CompletedSteps - start);
    }

    /// <summary>Steps until train.steps, cancellation or the stopping rule; appends metrics and checkpoints every save_every steps.</summary>
    private static LoopEnd StepLoop(RunFolder folder, RunConfig config, IExperiment exp, MetricsWriter metrics, RunSettings s, IReadOnlyList<double[]> priorLosses)
    {
        var cols = exp.MetricColumns;
        int lossCol = cols.ToList().IndexOf("loss"), gammaCol = cols.ToList().IndexOf("gamma");
        var rule = config.Experiment.Stopping;
        var losses = new List<double>(priorLosses.Select(r => r[0]));
        var gammas = gammaCol < 0 ? null : new List<double>(priorLosses.Select(r => r[1]));
        var bar = new ProgressBar(s.Err, s.Progress ?? ProgressBar.Auto(s.Quiet), cols, exp.CompletedSteps, exp.TotalSteps);
        int lastSaved = exp.CompletedSteps;
        StepMetrics? last = null;
        var report = exp as IExperimentReport;
        if (report is not null)
            report.Report = phase =>
            {
                if (phase.Note is null) { bar.Phase(phase); return; }
                if (s.Quiet) return;
                bar.Finish(); // end the bar's line before a status line
                s.Out.WriteLine("glass run: " + phase.Note);
            };
        try
        {
            while (exp.CompletedSteps < exp.TotalSteps)
            {
                if (s.Cancel.IsCancellationRequested) return new LoopEnd(last, true, lastSaved, null);
                int before = exp.CompletedSteps;
                last = exp.Step();
                if (exp.CompletedSteps != before + 1)
                    throw new InvalidOperationException($"the {config.Kind} experiment's Step() moved CompletedSteps from {before} to {exp.CompletedSteps}; expected {before + 1}.");
                metrics.Append(last);
                bar.Update(exp.CompletedSteps, last);
                if (lossCol >= 0) losses.Add(last.Values[lossCol]);
                if (gammaCol >= 0) gammas!.Add(last.Values[gammaCol]);
                if (rule is not null && lossCol >= 0 && rule.ShouldStop(losses, gammas))
                    return new LoopEnd(last, false, lastSaved, rule.Describe(losses));
                if (config.SaveEvery > 0 && exp.CompletedSteps % config.SaveEvery == 0 && exp.CompletedSteps < exp.TotalSteps)
                {
                    Save(folder, config, exp, metrics);
                    lastSaved = exp.CompletedSteps;
                }
            }
            return new LoopEnd(last, false, lastSaved, null);
        }
        finally
        {
            bar.Finish();
            if (report is not null) report.Report = null;
        }
    }

    /// <summary>Writes summary.json (final metrics row, evaluation, stop reason, headline, report details); returns it.</summary>
    private static JsonObject WriteSummary(RunFolder folder, RunConfig config, IExperiment exp, ComputeDevice device, LoopEnd end, double wallSeconds)
    {
        var cols = exp.MetricColumns;
        var eval = exp.Evaluate();
        var summary = new JsonObject
        {
            ["exp_name"] = config.ExpName,
            ["kind"] = config.Kind,
            ["seed"] = config.Seed,
            ["steps"] = exp.CompletedSteps,
            ["config_hash"] = config.Hash,
            ["device"] = device.ShortName,
            ["wall_seconds_last_session"] = wallSeconds,
        };
        if (end.StopReason is not null) summary["stopped_early"] = end.StopReason;
        var final = new JsonObject();
        var lastRow = end.Last?.Values ?? LastRow(folder);
        if (lastRow is not null)
            for (int j = 0; j < cols.Count && j < lastRow.Count; j++) final[cols[j]] = JsonNumber(lastRow[j]);
        summary["final"] = final;
        var ev = new JsonObject();
        foreach (var (k, v) in eval) ev[k] = JsonNumber(v);
        summary["eval"] = ev;
        if (Headline(eval) is { } headline) summary["headline"] = headline;
        // Facts beyond the metrics (learned GW with restarts: per-restart seeds and scores, the selected seed).
        if ((exp as IExperimentReport)?.Details is { } details)
            foreach (var (k, v) in details)
                if (!summary.ContainsKey(k)) summary[k] = v?.DeepClone();
        RunFolder.WriteAtomically(folder.SummaryPath, summary.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        return summary;
    }

    /// <summary>
    /// One line of what a run achieved, from its evaluation: perm_acc (and the exact OT plan's), the loss beside the
    /// independent coupling's and the exact OT plan's, and the steps trained on unconverged Sinkhorn solves; null when
    /// the evaluation has none of these.
    /// </summary>
    internal static string? Headline(IReadOnlyDictionary<string, double> eval)
    {
        static string F(double v) => v.ToString("G4", CultureInfo.InvariantCulture);
        var parts = new List<string>();
        if (eval.TryGetValue("perm_acc", out var pa))
            parts.Add("perm_acc " + F(pa) + (eval.TryGetValue("exact_ot_perm_acc", out var ea) ? $" (exact OT plan {F(ea)})" : ""));
        if (eval.TryGetValue("final_loss", out var fl) && eval.TryGetValue("independent_loss", out var il) && eval.TryGetValue("exact_ot_loss", out var el))
            parts.Add($"loss {F(fl)} vs independent coupling {F(il)} and exact OT {F(el)}");
        if (eval.TryGetValue("sinkhorn_unconverged_steps", out var us) && eval.TryGetValue("steps", out var st))
            parts.Add($"{F(us)} of {F(st)} steps on unconverged Sinkhorn solves" + (eval.TryGetValue("gamma_floor", out var gf) && gf > 0 ? $" (γ floor {F(gf)} after {F(eval.GetValueOrDefault("gamma_backoffs"))} back-offs)" : ""));
        // Rows matched to their own index well above the true pairing's rate: under a planted permutation the features
        // then carry the row order, not the geometry (e.g. random probes shared by node index).
        if (eval.TryGetValue("identity_match_rate", out var im) && im >= 0.05 && im > 2 * eval.GetValueOrDefault("perm_acc"))
            parts.Add($"warning: {F(100 * im)} % of rows matched to their own index, more than to their true partners — the features may carry the row order rather than the geometry");
        return parts.Count == 0 ? null : string.Join("; ", parts);
    }

    private static void WritePlots(RunFolder folder, RunSettings s)
    {
        try
        {
            var written = RunPlots.WriteRunPlots(folder.Dir, folder.PlotsDir);
            if (!s.Quiet) s.Out.WriteLine($"glass run: {written.Count} plots in {folder.PlotsDir}");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Plots are a convenience: a machine without the native drawing library still completes the run.
            s.Err.WriteLine($"glass run: warning: plots not written ({e.GetType().Name}: {e.Message})");
        }
    }

    private static void Save(RunFolder folder, RunConfig config, IExperiment exp, MetricsWriter metrics) =>
        folder.SaveCheckpoint(exp.CompletedSteps, metrics.Rows, config.Hash, exp.SaveState);

    private static IReadOnlyList<double>? LastRow(RunFolder folder)
    {
        var t = MetricsTable.Read(folder.MetricsPath);
        return t.Rows.Count == 0 ? null : t.Rows[^1];
    }

    /// <summary>A JSON number, or null for NaN/∞ (JSON has no such numbers).</summary>
    internal static JsonNode? JsonNumber(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;

    private static JsonObject RunInfo(RunConfig config, ComputeDevice device) => new()
    {
        ["exp_name"] = config.ExpName,
        ["kind"] = config.Kind,
        ["seed"] = config.Seed,
        ["steps"] = config.Steps,
        ["config_hash"] = config.Hash,
        ["source_config"] = Path.GetFullPath(config.SourceFile),
        ["device"] = device.ShortName,
        ["device_name"] = device.Name,
        ["created_utc"] = DateTime.UtcNow.ToString("o", CultureInfo.InvariantCulture),
        ["machine"] = Environment.MachineName,
        ["glass_version"] = typeof(RunDriver).Assembly.GetName().Version?.ToString() ?? "",
    };
}
