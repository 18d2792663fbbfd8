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
internal static partial class AlignCommand
{
    /// <summary>Largest n·m (and n², m²) for which the GW loss of the dense plan is computed (8 bytes each); the restart score's limit.</summary>
    internal const long GwLossMaxEntries = LearnedGwRestarts.MaxScoreEntries;

    private static readonly string[] Selections = { "euclidean", "training" };
    private static readonly string[] Inits = { "solver", "none" };

    public static Command Create(CliContext ctx)
    {
        var x = new Option<string>("--x") { Description = "Point set X: .npy (float32/float64, n×dX), CSV, or AnnData .h5ad (matrix --x-key).", Required = true };
        var y = new Option<string?>("--y") { Description = "Point set Y: .npy, CSV or .h5ad (m×dY); required except with --rows." };
        var rows = new Option<string?>("--rows") { Description = "With --model: map rows A:B of --x (A: to the end) onto the model's stored reference by its entropic map, in blocks; no --y." };
        var chunk = new Option<int?>("--chunk") { Description = "Rows per block of --rows (default 4096): memory grows with it, not with the row count." };
        var xKey = new Option<string?>("--x-key") { Description = "Matrix of an .h5ad --x: X (default; dense or CSR), obsm/NAME (e.g. obsm/X_lsi) or layers/NAME." };
        var yKey = new Option<string?>("--y-key") { Description = "Matrix of an .h5ad --y (default X; e.g. obsm/X_pca)." };
        var labelsX = new Option<string?>("--labels-x") { Description = "One integer label per row of X (text, one per line), or for an .h5ad --x an obs column (obs/cell_type: categorical, string or integer)." };
        var labelsY = new Option<string?>("--labels-y") { Description = "One integer label per row of Y (text), or an obs column of an .h5ad --y." };
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
            x, y, xKey, yKey, rows, chunk, labelsX, labelsY, paired, config, model, device, seed, steps, init, restarts, restartSteps, selection,
            knownPairs, supervisedWeight, fusedX, fusedY, fusedWeight, topK, noPlots, outDir,
        };
        cmd.SetAction(p =>
        {
            var req = new AlignRequest(p.GetValue(x)!, p.GetValue(y) ?? "", p.GetValue(labelsX), p.GetValue(labelsY), p.GetValue(paired),
                p.GetValue(config), p.GetValue(model), p.GetValue(device)!, p.GetValue(seed), p.GetValue(steps), p.GetValue(restarts),
                p.GetValue(restartSteps), p.GetValue(selection), p.GetValue(topK),
                !p.GetValue(noPlots), p.GetValue(outDir)!)
            {
                Rows = p.GetValue(rows), Chunk = p.GetValue(chunk),
                Init = p.GetValue(init), XKey = p.GetValue(xKey), YKey = p.GetValue(yKey),
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
        /// <summary>--rows A:B (row-block mode with --model).</summary>
        public string? Rows { get; init; }
        /// <summary>--chunk (rows per block of --rows).</summary>
        public int? Chunk { get; init; }
        /// <summary>--x-key (matrix of an .h5ad X; null = X).</summary>
        public string? XKey { get; init; }
        /// <summary>--y-key.</summary>
        public string? YKey { get; init; }
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
        if (r.Rows is not null)
        {
            RunRows(r, stdout);
            return;
        }
        var total = Stopwatch.StartNew();
        AlignFolder.CheckTarget(r.Out);
        Validate(r);
        var inputs = Resolve(r, stderr);
        using var dev = ComputeDevice.Open(r.Device);
        try
        {
            var outcome = Execute(inputs, dev, stdout, stderr);
            Write(inputs, outcome, dev, total, stdout, stderr);
        }
        catch (ArgumentException e) when (e.ParamName is not null)
        {
            throw InUserTerms(e);
        }
    }

    /// <summary>A JSON number, or null when not finite (JSON has no NaN).</summary>

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
}
