using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Glass.Kernels.Device;
using Glass.Kernels.Sinkhorn;
using Glass.Models.Data;
using Glass.Models.Gw;
using Glass.Models.Metrics;
using Glass.Runner.Config;
using Glass.Runner.Experiments;
using Glass.Runner.Output;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Glass.Runner.Commands;

/// <summary>
/// <c>glass align</c>: trains learned GW on two point sets — with the label-free restart protocol of
/// <see cref="LearnedGwRestarts"/> (<c>--restarts</c>, <c>--restart-steps</c>, <c>--selection</c>, or the train keys of
/// <c>--config</c>) — (or loads a trained model with <c>--model</c>) and
/// writes the model, hard matches, the sparse top-k plan, both domains in one common space
/// (X barycentrically projected onto Y's normalised features, Y normalised; learned-GW paper, Appendix),
/// metrics and plots into <c>--out</c> (docs/formats.md, "align output folder"), atomically. Training can add learned
/// GW's two extension terms (<see cref="GwExtensionFiles"/>): known pairs (<c>--known-pairs</c>, <c>--supervised-weight</c>)
/// and shared features (<c>--fused-x</c>, <c>--fused-y</c>, <c>--fused-weight</c>), or the <c>model.gw.supervised</c> /
/// <c>model.gw.fused</c> keys of <c>--config</c>, which the options override.
/// </summary>
internal static class AlignCommand
{
    /// <summary>Largest n·m (and n², m²) for which the GW loss of the dense plan is computed (8 bytes each); the restart score's limit.</summary>
    internal const long GwLossMaxEntries = LearnedGwRestarts.MaxScoreEntries;

    private static readonly string[] Selections = { "euclidean", "training" };
    private static readonly string[] Inits = { "solver", "none" };

    public static Command Create(CliContext ctx)
    {
        var x = new Option<string>("--x") { Description = "Point set X: .npy (float32/float64, n×dX) or CSV.", Required = true };
        var y = new Option<string>("--y") { Description = "Point set Y: .npy or CSV (m×dY).", Required = true };
        var labelsX = new Option<string?>("--labels-x") { Description = "One integer label per row of X (text, one per line)." };
        var labelsY = new Option<string?>("--labels-y") { Description = "One integer label per row of Y." };
        var paired = new Option<bool>("--paired") { Description = "Row i of X corresponds to row i of Y (needs n = m): FOSCTTM is computed." };
        var config = new Option<string?>("--config") { Description = "YAML with model: gw: {…} and train: {…} (the gw run schema; data: is ignored)." };
        var model = new Option<string?>("--model") { Description = "Align with a trained model (an align output folder or its model/ folder) instead of training." };
        var device = new Option<string>("--device") { Description = "auto | cpu | cuda | ilgpu-cpu.", DefaultValueFactory = _ => "auto" };
        var seed = new Option<int?>("--seed") { Description = "Seed (overrides train.seed)." };
        var steps = new Option<int?>("--steps") { Description = "Training steps (overrides train.steps)." };
        var init = new Option<string?>("--init") { Description = "How training starts (overrides train.init; default solver): solver = solve Gromov–Wasserstein first (exact conditional gradient from several starts, the lowest GW loss wins, then the discrepancy smoothing) and learn f, g from its matches; none = the paper's training from random MLPs (with --restarts)." };
        var restarts = new Option<int?>("--restarts") { Description = "Label-free restarts R ≥ 1 (overrides train.restarts; default 1): R initialisations (seeds seed·R + r), each scored by the GW loss of its full-data plan at ε_min on the --selection distances; the lowest continues (LearnedGwRestarts)." };
        var restartSteps = new Option<int?>("--restart-steps") { Description = "Steps S each restart trains before it is scored (overrides train.restart_steps; default 0 = every restart trains to the end, for any R); 1 ≤ S ≤ steps: only the selected restart continues (SNARE-seq protocol: 60)." };
        var selection = new Option<string?>("--selection") { Description = "Distances of the restart score (overrides train.selection; default euclidean): euclidean (on the preprocessed rows, max-normalised) | training (the training D_X, D_Y)." };
        var knownPairs = new Option<string?>("--known-pairs") { Description = "Known pairs for the semi-supervised term −(1/|K|) Σ log(n·Π_ij) (overrides model.gw.supervised.pairs): a text file, one pair 'i,j' or 'i j' per line, 0-based row of X and row of Y; '#' comments, an optional header line (e.g. x,y); one-to-one (each row of X and of Y in at most one pair). docs/formats.md, \"Known-pairs file\"." };
        var supervisedWeight = new Option<double?>("--supervised-weight") { Description = "Weight W > 0 of the known-pairs term (overrides model.gw.supervised.weight; default 1). Needs --known-pairs or model.gw.supervised." };
        var fusedX = new Option<string?>("--fused-x") { Description = "Shared features of X for the fused term ⟨Π, M⟩, M_ij = ‖a_i − b_j‖² / max (overrides model.gw.fused.x): .npy or CSV, one row per row of X; with --fused-y." };
        var fusedY = new Option<string?>("--fused-y") { Description = "Shared features of Y (.npy or CSV, one row per row of Y, the same columns as --fused-x); with --fused-x." };
        var fusedWeight = new Option<double?>("--fused-weight") { Description = "Weight α > 0 of the fused term (overrides model.gw.fused.weight; default 1). Needs --fused-x/--fused-y or model.gw.fused." };
        var topK = new Option<int?>("--top-k") { Description = "Plan entries kept per row in plan_topk (default 5, or m when Y has fewer rows)." };
        var noPlots = new Option<bool>("--no-plots") { Description = "Do not write PNG plots." };
        var outDir = new Option<string>("--out") { Description = "Output folder (must not exist or be empty).", Required = true };
        var cmd = new Command("align", "Align two point sets with learned Gromov–Wasserstein (train, or --model to reuse a trained model); writes model, matches, plan, aligned data, metrics, plots.")
        {
            x, y, labelsX, labelsY, paired, config, model, device, seed, steps, init, restarts, restartSteps, selection,
            knownPairs, supervisedWeight, fusedX, fusedY, fusedWeight, topK, noPlots, outDir,
        };
        cmd.SetAction(p =>
        {
            var req = new AlignRequest(p.GetValue(x)!, p.GetValue(y)!, p.GetValue(labelsX), p.GetValue(labelsY), p.GetValue(paired),
                p.GetValue(config), p.GetValue(model), p.GetValue(device)!, p.GetValue(seed), p.GetValue(steps), p.GetValue(restarts),
                p.GetValue(restartSteps), p.GetValue(selection), p.GetValue(topK),
                !p.GetValue(noPlots), p.GetValue(outDir)!)
            {
                Init = p.GetValue(init),
                KnownPairs = p.GetValue(knownPairs), SupervisedWeight = p.GetValue(supervisedWeight),
                FusedX = p.GetValue(fusedX), FusedY = p.GetValue(fusedY), FusedWeight = p.GetValue(fusedWeight),
            };
            Run(req, ctx.Out, ctx.Err);
            return 0;
        });
        return cmd;
    }

    internal sealed record AlignRequest(string X, string Y, string? LabelsX, string? LabelsY, bool Paired, string? Config, string? Model,
        string Device, int? Seed, int? Steps, int? Restarts, int? RestartSteps, string? Selection, int? TopKOption, bool Plots, string Out)
    {
        /// <summary>--init (solver | none).</summary>
        public string? Init { get; init; }
        /// <summary>--top-k resolved (5 or m, whichever is smaller, when not given).</summary>
        public int TopK => TopKOption ?? 5;
        /// <summary>--known-pairs.</summary>
        public string? KnownPairs { get; init; }
        /// <summary>--supervised-weight.</summary>
        public double? SupervisedWeight { get; init; }
        /// <summary>--fused-x.</summary>
        public string? FusedX { get; init; }
        /// <summary>--fused-y.</summary>
        public string? FusedY { get; init; }
        /// <summary>--fused-weight.</summary>
        public double? FusedWeight { get; init; }

        /// <summary>True when any extension-term option is given.</summary>
        public bool AnyExtension => KnownPairs is not null || SupervisedWeight is not null || FusedX is not null || FusedY is not null || FusedWeight is not null;
    }

    /// <summary>Runs one alignment; every input is read and checked before anything is written.</summary>
    internal static void Run(AlignRequest r, TextWriter stdout, TextWriter stderr)
    {
        var total = Stopwatch.StartNew();
        AlignFolder.CheckTarget(r.Out);
        if ((r.LabelsX is null) != (r.LabelsY is null))
            throw new ArgumentException(r.LabelsX is null
                ? "--labels-y given without --labels-x; label metrics need both --labels-x and --labels-y."
                : "--labels-x given without --labels-y; label metrics need both --labels-x and --labels-y.");
        if (r.TopKOption is < 1) throw new ArgumentException($"--top-k = {r.TopKOption}; expected an integer ≥ 1.");
        if (r.Model is not null && (r.Seed is not null || r.Steps is not null || r.Init is not null || r.Restarts is not null || r.RestartSteps is not null || r.Selection is not null))
            throw new ArgumentException("--seed, --steps, --init, --restarts, --restart-steps and --selection set up training; they do not apply with --model.");
        if (r.Init is not null && !Inits.Contains(r.Init))
            throw new ArgumentException($"--init = {r.Init}; expected one of {string.Join(" | ", Inits)}.");
        if (r.Model is not null && r.AnyExtension)
            throw new ArgumentException("--known-pairs, --supervised-weight, --fused-x, --fused-y and --fused-weight are training terms; they do not apply with --model.");
        if (r.SupervisedWeight is { } sw0 && !(double.IsFinite(sw0) && sw0 > 0))
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"--supervised-weight = {sw0}; expected a finite number > 0."));
        if (r.FusedWeight is { } fw0 && !(double.IsFinite(fw0) && fw0 > 0))
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"--fused-weight = {fw0}; expected a finite number > 0."));
        if ((r.FusedX is null) != (r.FusedY is null))
            throw new ArgumentException($"{(r.FusedX is null ? "--fused-y" : "--fused-x")} given alone; expected --fused-x and --fused-y together (shared features of both domains).");
        if (r.Restarts is < 1) throw new ArgumentException($"--restarts = {r.Restarts}; expected an integer ≥ 1.");
        if (r.RestartSteps is < 0) throw new ArgumentException($"--restart-steps = {r.RestartSteps}; expected 0 (every restart trains to the end) or an integer in [1, steps].");
        if (r.Selection is not null && !Selections.Contains(r.Selection))
            throw new ArgumentException($"--selection = {r.Selection}; expected one of {string.Join(" | ", Selections)}.");
        // With --model and no --config, the training's resolved config saved beside the model (model/config.json) gives D_X, D_Y for the GW loss.
        string? modelFile = r.Model is null ? null : ModelPath(r.Model);
        string? configPath = r.Config;
        if (configPath is null && modelFile is not null && Path.Combine(Path.GetDirectoryName(modelFile)!, ConfigFile) is var saved && File.Exists(saved))
            configPath = saved;
        var (options, fromConfig, resolved, extFromConfig) = LoadOptions(configPath, r.Seed, r.Steps, r.Init, stderr);
        bool solver = modelFile is null && options.Init == GwInit.Solver;
        if (solver && (r.Restarts is > 1 || r.RestartSteps is > 0 || r.Selection is not null))
            throw new ArgumentException("--restarts, --restart-steps and --selection are the restart protocol of --init none; the default --init solver replaces it (it solves GW first).");
        if (solver && (r.AnyExtension || extFromConfig.Pairs is not null || extFromConfig.FusedX is not null))
            throw new ArgumentException("known pairs and shared features (--known-pairs, --fused-x/-y, model.gw.supervised / fused) are training terms of --init none; add --init none to use them.");
        // The extension terms: command line over model.gw.supervised / fused of --config; training only (with --model the saved keys are ignored).
        var ext = extFromConfig with
        {
            Pairs = r.KnownPairs is null ? extFromConfig.Pairs : Path.GetFullPath(r.KnownPairs),
            FusedX = r.FusedX is null ? extFromConfig.FusedX : Path.GetFullPath(r.FusedX),
            FusedY = r.FusedY is null ? extFromConfig.FusedY : Path.GetFullPath(r.FusedY),
        };
        ext = ext with
        {
            SupervisedWeight = ext.Pairs is null ? 0 : r.SupervisedWeight ?? (extFromConfig.Pairs is null ? GwExtensionFiles.DefaultWeight : extFromConfig.SupervisedWeight),
            FusedWeight = ext.FusedX is null ? 0 : r.FusedWeight ?? (extFromConfig.FusedX is null ? GwExtensionFiles.DefaultWeight : extFromConfig.FusedWeight),
        };
        if (r.SupervisedWeight is not null && ext.Pairs is null)
            throw new ArgumentException("--supervised-weight needs known pairs; expected --known-pairs FILE (or model.gw.supervised.pairs in --config).");
        if (r.FusedWeight is not null && ext.FusedX is null)
            throw new ArgumentException("--fused-weight needs shared features; expected --fused-x FX --fused-y FY (or model.gw.fused in --config).");
        if (modelFile is not null) ext = GwExtensionFiles.None;
        // The restart protocol: command line over train.restarts / restart_steps / selection of --config over the defaults.
        var ro = fromConfig with
        {
            Restarts = r.Restarts ?? fromConfig.Restarts,
            RestartSteps = r.RestartSteps ?? fromConfig.RestartSteps,
            SelectOnTrainingDistances = r.Selection is null ? fromConfig.SelectOnTrainingDistances : r.Selection == "training",
        };
        if (modelFile is null)
        {
            // (train.restart_steps of --config is checked against the steps by the binding.)
            if (r.RestartSteps > options.Steps)
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"--restart-steps = {r.RestartSteps}; expected 0 (every restart trains to the end) or an integer in [1, {options.Steps}] (at most the {options.Steps} training steps)."));
            if (resolved["train"] is JsonObject tr)
            {
                tr["restarts"] = ro.Restarts; tr["restart_steps"] = ro.RestartSteps; tr["selection"] = ro.SelectionName;
            }
            if (resolved["model"]?["gw"] is JsonObject gwSection) ext.WriteResolved(gwSection);
        }
        var spec = new GwDataSpec(Path.GetFullPath(r.X), Path.GetFullPath(r.Y), r.LabelsX is null ? null : Path.GetFullPath(r.LabelsX),
            r.LabelsY is null ? null : Path.GetFullPath(r.LabelsY), r.Paired, null);
        var (xs, ys, lx, ly) = GwKind.ReadData(spec);
        options = ext.Apply(options, xs.Rows, ys.Rows, r.X, r.Y);
        int knownCount = options.KnownPairs?.Count ?? 0;
        if (r.Paired && options.KnownPairs is { } kpc && kpc.Count(p => p.X != p.Y) is var off and > 0)
            stderr.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"note: --paired says row i of X ↔ row i of Y, but {off} of the {kpc.Count} known pairs join different indices (first ({kpc.First(p => p.X != p.Y).X}, {kpc.First(p => p.X != p.Y).Y}))."));
        if (modelFile is null && ro.Restarts > 1 && ((long)xs.Rows * ys.Rows > GwLossMaxEntries || (long)xs.Rows * xs.Rows > GwLossMaxEntries || (long)ys.Rows * ys.Rows > GwLossMaxEntries))
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"--restarts {ro.Restarts} selects by the GW loss of the dense plan, which needs the {xs.Rows}×{ys.Rows} plan and the {xs.Rows}×{xs.Rows}, {ys.Rows}×{ys.Rows} selection distances (limit {GwLossMaxEntries} entries each); use --restarts 1."));
        if (r.TopKOption > ys.Rows) throw new ArgumentException($"--top-k = {r.TopKOption}; expected ≤ the {ys.Rows} rows of {r.Y}.");
        r = r with { TopKOption = r.TopKOption ?? Math.Min(5, ys.Rows) };

        GwModel? trained = null;
        if (modelFile is not null)
        {
            trained = GwModel.Load(modelFile);
            if (xs.Cols != trained.DimX)
                throw new ArgumentException($"{r.X}: {xs.Cols} features per row, but the model {modelFile} was trained on X with {trained.DimX}.");
            if (ys.Cols != trained.DimY)
                throw new ArgumentException($"{r.Y}: {ys.Cols} features per row, but the model {modelFile} was trained on Y with {trained.DimY}.");
        }

        using var dev = ComputeDevice.Open(r.Device);
        double trainSeconds = 0;
        LearnedGwTrainer? trainer = null;
        LearnedGwProgress? last = null;
        IReadOnlyList<LearnedGwProgress> history = Array.Empty<LearnedGwProgress>();
        LearnedGwRestartResult? run = null;
        GwAlignment? solved = null;
        InductiveAlignment al;
        if (trained is null && solver)
        {
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"glass align: solving Gromov–Wasserstein on {xs.Rows}×{xs.Cols} ↔ {ys.Rows}×{ys.Cols}, then training f, g ({options.Loss.ToString().ToLowerInvariant()} loss + pseudo-pairs, {options.Steps} steps), {dev.Name}"));
            var tw = Stopwatch.StartNew();
            solved = GwAligner.Align(xs.Data, xs.Rows, xs.Cols, ys.Data, ys.Rows, ys.Cols, options, dev, line => stdout.WriteLine("glass align: " + line));
            trainer = solved.Trainer;
            history = solved.History;
            last = history.Count > 0 ? history[^1] : null;
            trainSeconds = tw.Elapsed.TotalSeconds;
            trained = trainer.Model;
            al = GwAligner.Summarize(solved, ys.Data, r.TopK, r.Y);
        }
        else
        {
            if (trained is null)
            {
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"glass align: training learned GW ({options.Loss.ToString().ToLowerInvariant()} loss, {options.Steps} steps) on {xs.Rows}×{xs.Cols} ↔ {ys.Rows}×{ys.Cols}, {dev.Name}"));
                if (ro.Restarts > 1)
                    stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"glass align: {ro.Restarts} restarts × {(ro.RestartSteps > 0 ? ro.RestartSteps : options.Steps)} steps, scored label-free on {ro.SelectionName} distances; the lowest continues to step {options.Steps}"));
                int scored = 0;
                // The shared protocol (LearnedGwRestarts): R = 1 is plain training.
                run = LearnedGwRestarts.Train(xs.Data, xs.Rows, xs.Cols, ys.Data, ys.Rows, ys.Cols, options, ro, dev,
                    onRestart: (sd, score, t) => stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"glass align: restart {++scored}/{ro.Restarts} (seed {sd}): {t.CompletedSteps} steps, selection score {score:G6}")));
                if (ro.Restarts > 1)
                    stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"glass align: selected restart {run.Selected + 1} (seed {run.SelectedSeed})"));
                trainer = run.Trainer;
                history = run.History;
                last = history.Count > 0 ? history[^1] : null;
                trainSeconds = run.Seconds;
                trained = trainer.Model;
            }
            al = InductiveAligner.Align(dev, trained, xs.Data, xs.Rows, ys.Data, ys.Rows,
                new InductiveOptions { RelativeTol = 1e-6, TopK = r.TopK }, r.X, r.Y);
            if (!al.Converged)
                stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"warning: the alignment Sinkhorn stopped after {al.Iterations} iterations with marginal error {al.MarginalError:E2} (not converged); metrics.json says so."));
        }
        int n = xs.Rows, m = ys.Rows, d = trained.DimY;
        var xAligned = al.ProjectionTarget!;
        var yAligned = trained.NormalizationY.Apply(ys.Data, m, d, r.Y);

        var metrics = new JsonObject
        {
            ["mode"] = trainer is null ? "model" : "train",
            ["x"] = spec.X, ["y"] = spec.Y, ["n"] = n, ["m"] = m, ["dim_x"] = xs.Cols, ["dim_y"] = ys.Cols,
            ["aligned_dim"] = d, ["space"] = "y_normalized",
        };
        if (modelFile is not null) metrics["model"] = modelFile;
        FoscttmResult? fos = null;
        double? fosUnanchored = null;
        if (r.Paired)
        {
            fos = AlignmentMetrics.Foscttm(xAligned, yAligned, n, d);
            metrics["foscttm"] = Num(fos.Mean);
            if (options.KnownPairs is { Count: > 0 } kp)
            {
                // FOSCTTM on the rows that no known pair touches (AlignmentMetrics.UnanchoredRows); null when every row is anchored.
                var free = AlignmentMetrics.UnanchoredRows(n, kp);
                fosUnanchored = free.Length == 0 ? null : AlignmentMetrics.Foscttm(xAligned, yAligned, n, d, free).Mean;
                metrics["foscttm_unanchored"] = fosUnanchored is { } fu ? Num(fu) : null;
                metrics["unanchored_rows"] = free.Length;
            }
        }
        if (lx is not null && ly is not null)
            metrics["label_transfer"] = Num(AlignmentMetrics.LabelTransferAccuracy(yAligned, ly, xAligned, lx, d, Math.Min(5, m)));
        var (gw, gwNote) = solved is not null ? (solved.GwLoss, (string?)null) : GwLoss(dev, trainer, trained, options, xs, ys, al.Gamma, r);
        metrics["gw_loss"] = gw is { } g ? Num(g) : null;
        if (gwNote is not null) metrics["gw_loss_note"] = gwNote;
        if (gw is null && gwNote is not null) stderr.WriteLine("note: gw_loss " + gwNote);
        if (solved is not null)
        {
            // The solver stage: every candidate's GW loss, the winner, its smoothing, and the trained model's own plan.
            var sol = solved.Solution;
            metrics["init"] = "solver";
            metrics["plan_source"] = solved.Source;
            metrics["selected"] = sol.Selected;
            metrics["selected_gw_loss"] = Num(sol.SelectedLoss);
            metrics["smoothing"] = sol.Smoothing;
            metrics["candidates"] = new JsonArray(solved.Candidates.Select(c => (JsonNode)new JsonObject
            {
                ["name"] = c.Name, ["gw_loss"] = Num(c.GwLoss), ["iterations"] = c.Iterations, ["seconds"] = c.Seconds,
            }).ToArray());
            metrics["model_gw_loss"] = Num(solved.ModelLoss);
            metrics["solve_seconds"] = sol.Seconds;
            metrics["marginal_error"] = Num(al.MarginalError);
            metrics["epsilon"] = trained.Epsilon;
        }
        else
        {
            if (trainer is not null) metrics["init"] = "none";
            metrics["sinkhorn_iterations"] = al.Iterations;
            metrics["sinkhorn_converged"] = al.Converged;
            metrics["marginal_error"] = Num(al.MarginalError);
            metrics["epsilon"] = trained.Epsilon;
            metrics["gamma"] = al.Gamma;
        }
        metrics["align_seconds"] = al.Seconds;
        metrics["train_seconds"] = trainSeconds;
        if (last is not null) { metrics["train_steps"] = last.Step; metrics["final_loss"] = Num(last.Loss); }
        if (run is not null || solved is not null)
        {
            metrics["known_pairs"] = knownCount;
            metrics["supervised_weight"] = options.SupervisedWeight;
            metrics["fused_weight"] = options.FusedWeight;
            if (ext.Pairs is not null) metrics["known_pairs_file"] = ext.Pairs;
            if (ext.FusedX is not null) { metrics["fused_x"] = ext.FusedX; metrics["fused_y"] = ext.FusedY; }
            if (run is not null)
            {
                metrics["restarts"] = ro.Restarts;
                metrics["restart_steps"] = ro.RestartSteps;
                metrics["selection"] = ro.Restarts > 1 ? ro.SelectionName : null;
                metrics["restart_seeds"] = new JsonArray(run.Seeds.Select(v => (JsonNode)v).ToArray());
                metrics["restart_scores"] = new JsonArray(run.Scores.Select(Num).ToArray());
                metrics["selected_seed"] = run.SelectedSeed;
            }
        }
        metrics["device"] = dev.ShortName;

        using var folder = AlignFolder.Begin(r.Out);
        trained.Save(folder.PathOf("model"));
        File.WriteAllText(Path.Combine(folder.PathOf("model"), ConfigFile), resolved.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        folder.WriteAlignment(al);
        folder.WriteMatrix("x_aligned", xAligned, n, d);
        folder.WriteMatrix("y_aligned", yAligned, m, d);
        if (history.Count > 0) WriteHistory(folder.PathOf("train_history.csv"), history);
        if (r.Plots) folder.WritePlots(xAligned, n, yAligned, m, d, lx, ly, fos?.SortedCurve());
        metrics["seconds"] = total.Elapsed.TotalSeconds;
        metrics["config"] = resolved;
        folder.WriteMetrics(metrics);
        folder.Commit();
        string summary = string.Create(CultureInfo.InvariantCulture,
            $"glass align: → {folder.Target} ({n}↔{m} rows; {(solved is null ? $"sinkhorn {al.Iterations} iterations" : $"plan of {(solved.Source == "model" ? "the model" : solved.Solution.Selected)}, smoothing {solved.Solution.Smoothing}")}{(fos is null ? "" : $"; FOSCTTM {fos.Mean:F4}")}{(fosUnanchored is { } fu2 ? $" (unanchored {fu2:F4})" : "")}{(gw is { } gg ? $"; GW loss {gg:G4}" : "")}{(knownCount > 0 ? $"; {knownCount} known pairs, weight {options.SupervisedWeight:G4}" : "")}{(options.FusedWeight > 0 ? $"; fused weight {options.FusedWeight:G4}" : "")}; {total.Elapsed.TotalSeconds:F1} s)");
        stdout.WriteLine(summary);
    }

    /// <summary>A JSON number, or null when not finite (JSON has no NaN).</summary>
    internal static JsonNode? Num(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;

    /// <summary>DIR/model/gw_model.json, DIR/gw_model.json or the file itself.</summary>
    private static string ModelPath(string model)
    {
        foreach (var c in new[] { Path.Combine(model, "model", GwModelFile), Path.Combine(model, GwModelFile), model })
            if (File.Exists(c)) return Path.GetFullPath(c);
        throw new FileNotFoundException($"--model {model}: no {GwModelFile} there (expected an align output folder, its model/ folder, or the file).", model);
    }

    private const string GwModelFile = "gw_model.json";

    /// <summary>The resolved model.gw / train config saved beside the model (JSON, readable as YAML by --config).</summary>
    internal const string ConfigFile = "config.json";

    /// <summary>The options from <c>--config</c> (model.gw, train — the restart keys included) or the defaults, and their resolved form for metrics.json.</summary>
    internal static (LearnedGwOptions Options, LearnedGwRestartOptions Restarts, JsonObject Resolved, GwExtensionFiles Extensions) LoadOptions(string? configPath, int? seed, int? steps, string? init, TextWriter stderr)
    {
        string file = configPath ?? "(defaults)";
        YamlDocument? doc = null;
        if (configPath is not null)
        {
            if (!File.Exists(configPath)) throw new FileNotFoundException($"config file not found: {configPath}", configPath);
            string text = File.ReadAllText(configPath);
            YamlDepth.Check(text, configPath);
            var stream = new YamlStream();
            try { stream.Load(new StringReader(text)); }
            catch (YamlException e)
            {
                throw new ConfigException(configPath, (int)e.Start.Line, (int)e.Start.Column, "", "YAML syntax error: " + (e.InnerException?.Message ?? e.Message));
            }
            doc = stream.Documents.Count == 0 ? null : stream.Documents[0];
        }
        var root = doc is null ? ConfigSection.Root(file, new YamlDocument(new YamlMappingNode())) : ConfigSection.Root(file, doc);
        foreach (var k in new[] { "exp_name", "log" }) root.Declare(k);
        if (root.Has("data"))
        {
            root.Declare("data");
            stderr.WriteLine($"note: {configPath}: data: is ignored by glass align (the data comes from --x/--y).");
        }
        var model = root.Section("model");
        var (options, restarts, _, ext) = GwKind.BindOptions(model.Section("gw"), root.Section("train"), new ConfigOverrides { Seed = seed, Steps = steps, Init = init });
        model.Finish();
        root.Finish();
        return (options, restarts, root.Resolved, ext);
    }

    private static (double? Value, string? Note) GwLoss(ComputeDevice dev, LearnedGwTrainer? trainer, GwModel model, LearnedGwOptions options,
        PointSet xs, PointSet ys, double gamma, AlignRequest r)
    {
        int n = xs.Rows, m = ys.Rows;
        if ((long)n * m > GwLossMaxEntries || (long)n * n > GwLossMaxEntries || (long)m * m > GwLossMaxEntries)
            return (null, string.Create(CultureInfo.InvariantCulture, $"not computed: the dense plan and distance matrices would need {n}×{m}, {n}², {m}² entries (limit {GwLossMaxEntries})"));
        double[] dx, dy;
        if (trainer is not null) { dx = trainer.DistanceX; dy = trainer.DistanceY; }
        else
        {
            // D_X, D_Y as in training: the distance options of --config (or the defaults) on the normalised inputs.
            var zx = model.NormalizationX.Apply(xs.Data, n, xs.Cols, r.X);
            var zy = model.NormalizationY.Apply(ys.Data, m, ys.Cols, r.Y);
            try
            {
                dx = Distances.Compute(zx, n, xs.Cols, options.DistancesX, r.X).Values;
                dy = Distances.Compute(zy, m, ys.Cols, options.DistancesY, r.Y).Values;
            }
            catch (ArgumentException e)
            {
                // The new data may not suit the training's distance options (e.g. k ≥ n): the alignment stands, the metric says why it is missing.
                return (null, "not computed: " + e.Message + " (pass --config with another model.gw.distance)");
            }
        }
        var ex = model.EmbedX(xs.Data, n, r.X);
        var ey = model.EmbedY(ys.Data, m, r.Y);
        var s = DenseSinkhorn.Solve(dev, DenseGeometry.FromPoints(ex, ey, model.EmbedDim), null, null,
            new SinkhornOptions { Gamma = gamma, MaxIter = 5000, Tol = 1e-9, ReturnPlan = true });
        return (AlignmentMetrics.GwLoss(dx, dy, s.Plan!, n, m), trainer is null ? "D_X, D_Y from model.gw.distance of " + (r.Config ?? "the model's config.json or the defaults") : null);
    }

    private static void WriteHistory(string path, IReadOnlyList<LearnedGwProgress> h)
    {
        var lines = new List<string> { "step,loss,main_loss,spectral,epsilon,gamma,seconds" };
        lines.AddRange(h.Select(p => string.Join(",", p.Step.ToString(CultureInfo.InvariantCulture), MetricsWriter.Format(p.Loss), MetricsWriter.Format(p.MainLoss),
            MetricsWriter.Format(p.Spectral), MetricsWriter.Format(p.Epsilon), MetricsWriter.Format(p.Gamma), MetricsWriter.Format(p.Seconds))));
        File.WriteAllLines(path, lines);
    }
}
