using System.Globalization;
using System.Text.Json.Nodes;
using Glass.Models.Data;
using Glass.Models.Gw;
using Glass.Runner.Experiments;

namespace Glass.Runner.Commands;

/// <summary><c>glass align</c>: option checks and the resolution of config, extension terms, data and model.</summary>
internal static partial class AlignCommand
{
    /// <summary>Everything an alignment needs, read and checked; nothing written yet.</summary>
    private sealed record AlignInputs(AlignRequest R, string? ModelFile, LearnedGwOptions Options, JsonObject Resolved,
        GwExtensionFiles Ext, LearnedGwRestartOptions Restarts, bool Solver, GwDataSpec Spec, PointSet Xs, PointSet Ys,
        int[]? Lx, int[]? Ly, int KnownCount, GwModel? Trained);

    /// <summary>The checks of the options alone (no file read).</summary>
    private static void Validate(AlignRequest r)
    {
        if (string.IsNullOrEmpty(r.Y))
            throw new ArgumentException("--y is required: the point set to align X with (only --model DIR --rows A:B maps onto the model's stored Y instead).");
        if (r.Chunk is not null) throw new ArgumentException("--chunk sets the block size of --rows; it applies only with --model DIR --rows A:B.");
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
        ValidateKeys(r);
        ValidateScalars(r);
    }

    /// <summary>Config, extension terms, restart protocol, data and model, each checked against the others.</summary>
    private static AlignInputs Resolve(AlignRequest r, TextWriter stderr)
    {
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
        var ext = ResolveExtensions(r, extFromConfig);
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
        var (xs, ys, lx, ly) = ReadInputs(r, spec);
        CheckSizes(r, xs, ys, training: modelFile is null);
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
        var trained = modelFile is null ? null : LoadModel(modelFile, r, xs, ys);
        return new AlignInputs(r, modelFile, options, resolved, ext, ro, solver, spec, xs, ys, lx, ly, knownCount, trained);
    }

    /// <summary>The extension terms: command line over model.gw.supervised / fused of --config; training only (with --model the saved keys are ignored).</summary>
    private static GwExtensionFiles ResolveExtensions(AlignRequest r, GwExtensionFiles extFromConfig)
    {
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
        return ext;
    }

    /// <summary>The trained model of --model, checked against the feature counts of X and Y.</summary>
    private static GwModel LoadModel(string modelFile, AlignRequest r, PointSet xs, PointSet ys)
    {
        var trained = GwModel.Load(modelFile);
        if (xs.Cols != trained.DimX)
            throw new ArgumentException($"{r.X}: {xs.Cols} features per row, but the model {modelFile} was trained on X with {trained.DimX}.");
        if (ys.Cols != trained.DimY)
            throw new ArgumentException($"{r.Y}: {ys.Cols} features per row, but the model {modelFile} was trained on Y with {trained.DimY}.");
        return trained;
    }
}
