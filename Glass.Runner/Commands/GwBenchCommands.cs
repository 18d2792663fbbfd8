using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Glass.Kernels.Device;
using Glass.Models.Data;
using Glass.Models.Gw;

namespace Glass.Runner.Commands;

/// <summary>
/// <c>glass bench gw</c> (the entropic GW baseline on given point sets) and <c>glass bench inductive</c>
/// (learned-GW inference on N unseen points of a synthetic isometric pair; paper 003, Fig. 2 top).
/// </summary>
internal static class GwBenchCommands
{
    public static IEnumerable<Command> Create(CliContext ctx) => new[] { GwCommand(ctx), InductiveCommand(ctx) };

    private static Command GwCommand(CliContext ctx)
    {
        var x = new Option<string>("--x") { Description = "Point set X (.npy or CSV), n×d.", Required = true };
        var y = new Option<string>("--y") { Description = "Point set Y (.npy or CSV), m×d'.", Required = true };
        var eps = new Option<double>("--epsilon") { Description = "Entropic regularisation ε > 0 (POT's epsilon).", Required = true };
        var maxIter = new Option<int>("--max-iter") { Description = "Outer iterations at most (POT max_iter).", DefaultValueFactory = _ => 1000 };
        var tol = new Option<double>("--tol") { Description = "Outer stopping threshold on ‖Π_k − Π_{k−1}‖_F (POT tol).", DefaultValueFactory = _ => 1e-9 };
        var repeats = new Option<int>("--repeats") { Description = "Timed repeats (median reported).", DefaultValueFactory = _ => 1 };
        var metric = new Option<string>("--metric") { Description = "sqeuclidean | euclidean distances within each point set.", DefaultValueFactory = _ => "sqeuclidean" };
        var noNormalize = new Option<bool>("--no-normalize") { Description = "Keep the raw distances (default: each matrix divided by its maximum, as bench/gw_side_by_side.py does for POT)." };
        var device = new Option<string>("--device") { Description = "auto | cpu | cuda | ilgpu-cpu.", DefaultValueFactory = _ => "auto" };
        var json = new Option<bool>("--json") { Description = "One JSON object on stdout." };
        var cmd = new Command("gw", "Time the entropic GW baseline (EntropicGw.Solve) on the squared-Euclidean distance matrices of X and Y (divided by their maxima unless --no-normalize), uniform marginals: seconds, gw_loss, iterations.")
        {
            x, y, eps, maxIter, tol, repeats, metric, noNormalize, device, json,
        };
        cmd.SetAction(p =>
        {
            string fx = p.GetValue(x)!, fy = p.GetValue(y)!;
            double e = p.GetValue(eps);
            if (!(e > 0) || !double.IsFinite(e)) throw new ArgumentException($"--epsilon = {e.ToString(CultureInfo.InvariantCulture)}; expected a finite number > 0.");
            int reps = p.GetValue(repeats);
            if (reps < 1) throw new ArgumentException($"--repeats = {reps}; expected an integer ≥ 1.");
            var xs = PointSetReader.Read(fx);
            var ys = PointSetReader.Read(fy);
            string met = p.GetValue(metric)!;
            if (met is not ("sqeuclidean" or "euclidean")) throw new ArgumentException($"--metric {met}; expected sqeuclidean or euclidean.");
            bool normalize = !p.GetValue(noNormalize);
            var sq = new DistanceOptions { Metric = met == "euclidean" ? DistanceMetric.Euclidean : DistanceMetric.SqEuclidean, NormalizeByMax = normalize };
            var dx = Distances.Compute(xs.Data, xs.Rows, xs.Cols, sq, fx).Values;
            var dy = Distances.Compute(ys.Data, ys.Rows, ys.Cols, sq, fy).Values;
            var o = new EntropicGwOptions { Epsilon = e, MaxIter = p.GetValue(maxIter), Tol = p.GetValue(tol) };
            using var dev = ComputeDevice.Open(p.GetValue(device)!);
            var times = new List<double>();
            EntropicGwResult? r = null;
            for (int k = 0; k < reps; k++)
            {
                var sw = Stopwatch.StartNew();
                r = EntropicGw.Solve(dev, dx, dy, xs.Rows, ys.Rows, null, null, o);
                times.Add(sw.Elapsed.TotalSeconds);
            }
            double median = BenchStats.Median(times);
            if (p.GetValue(json))
            {
                ctx.Out.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
                {
                    ["method"] = "entropic-gw", ["device"] = dev.ShortName, ["device_name"] = dev.Name, ["n"] = xs.Rows, ["m"] = ys.Rows,
                    ["epsilon"] = e, ["seconds"] = median, ["all_seconds"] = times, ["gw_loss"] = r!.GwLoss, ["iterations"] = r.Iterations,
                    ["converged"] = r.Converged, ["last_change"] = r.LastChange, ["inner_iterations"] = r.InnerIterations,
                    ["log_domain_fallbacks"] = r.LogDomainFallbacks, ["metric"] = met, ["normalized"] = normalize, ["x"] = fx, ["y"] = fy,
                }));
            }
            else
            {
                ctx.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"entropic GW {xs.Rows}×{ys.Rows}, {met}{(normalize ? " / max" : "")}, ε = {e:G4}, {dev.Name}: {median:F4} s (median of {reps}), gw_loss {r!.GwLoss:R}, iterations {r.Iterations}, converged {r.Converged}, inner iterations {r.InnerIterations}"));
            }
            return 0;
        });
        return cmd;
    }

    private static Command InductiveCommand(CliContext ctx)
    {
        var n = new Option<string>("--n") { Description = "Unseen points per side to align; comma-separated for several sizes (one model, one line per size).", DefaultValueFactory = _ => "1000" };
        var dim = new Option<int>("--dim") { Description = "Feature dimension of the synthetic mixture (≥ 2).", DefaultValueFactory = _ => 64 };
        var map = new Option<string>("--map") { Description = "orthogonal (Y = X·Q, paper Fig. 2 top) | nonlinear (Y = s·tanh(X·A/τ)·B, Fig. 2 bottom).", DefaultValueFactory = _ => "orthogonal" };
        var trainN = new Option<int?>("--train-n") { Description = "Training samples per side (default: 200 orthogonal, 1000 nonlinear, as in the paper)." };
        var trainSteps = new Option<int?>("--train-steps") { Description = $"Training steps (default: the library's {new LearnedGwOptions().Steps} with --init solver, {InductiveRecipe.Default.Steps} full-batch steps with egw or none)." };
        var init = new Option<string>("--init") { Description = "solver (default: the library default, LearnedGwOptions with GwInit.Solver — GW solved first, its matches as pseudo-pairs) | egw (the earlier recipe: pseudo-pairs from entropic GW's row-wise argmax, plain MLPs, full batch) | none (pure learned GW from random MLPs).", DefaultValueFactory = _ => "solver" };
        var pseudo = new Option<double?>("--pseudo-weight") { Description = $"Weight of the pseudo-pair term (default {new GwSolverOptions().PseudoPairWeight} with solver, {InductiveRecipe.Default.SupervisedWeight} with egw)." };
        var loss = new Option<string>("--loss") { Description = "distance (Eq. 4, default) | rank (Eq. 6, row-wise soft ranks: invariant to monotone distortions of the distances).", DefaultValueFactory = _ => "distance" };
        var baseline = new Option<bool>("--baseline") { Description = "Also run the entropic GW baseline (CPU, dense) on each N: time, peak memory, class accuracy." };
        var noModel = new Option<bool>("--baseline-only") { Description = "Only the baseline (no training)." };
        var seed = new Option<int>("--seed") { Description = "Seed of the data and the model.", DefaultValueFactory = _ => 0 };
        var device = new Option<string>("--device") { Description = "auto | cpu | cuda | ilgpu-cpu.", DefaultValueFactory = _ => "auto" };
        var json = new Option<bool>("--json") { Description = "One JSON object per line on stdout." };
        var cmd = new Command("inductive", "Train learned GW on unaligned samples of a synthetic class mixture and its image under an orthogonal or non-linear map, then time aligning N unseen points per side: seconds, peak_bytes, class accuracy (primary, as the paper), exact-partner accuracy.")
        {
            n, dim, map, trainN, trainSteps, init, pseudo, loss, baseline, noModel, seed, device, json,
        };
        cmd.SetAction(p =>
        {
            int d = p.GetValue(dim);
            var sizes = ParseSizes(p.GetValue(n)!);
            if (d < 2) throw new ArgumentException($"--dim = {d}; expected an integer ≥ 2.");
            var mapKind = p.GetValue(map) switch
            {
                "orthogonal" => MixtureMap.Orthogonal,
                "nonlinear" => MixtureMap.Nonlinear,
                var other => throw new ArgumentException($"--map {other}; expected orthogonal or nonlinear."),
            };
            int nt = p.GetValue(trainN) ?? (mapKind == MixtureMap.Orthogonal ? 200 : 1000);
            if (nt < 2) throw new ArgumentException($"--train-n = {nt}; expected an integer ≥ 2.");
            string initName = p.GetValue(init)!;
            if (initName is not ("solver" or "egw" or "none")) throw new ArgumentException($"--init {initName}; expected solver, egw or none.");
            bool solverInit = initName == "solver";
            int steps = p.GetValue(trainSteps) ?? (solverInit ? new LearnedGwOptions().Steps : InductiveRecipe.Default.Steps);
            if (steps < 0) throw new ArgumentException($"--train-steps = {steps}; expected an integer ≥ 0.");
            var lossKind = p.GetValue(loss) switch
            {
                "distance" => GwLossKind.Distance,
                "rank" => GwLossKind.Rank,
                var other => throw new ArgumentException($"--loss {other}; expected distance or rank."),
            };
            double pw = p.GetValue(pseudo) ?? (solverInit ? new GwSolverOptions().PseudoPairWeight : InductiveRecipe.Default.SupervisedWeight);
            if (!(pw >= 0) || !double.IsFinite(pw)) throw new ArgumentException($"--pseudo-weight = {pw.ToString(CultureInfo.InvariantCulture)}; expected a finite number ≥ 0.");
            bool asJson = p.GetValue(json), onlyBaseline = p.GetValue(noModel), runBaseline = onlyBaseline || p.GetValue(baseline);
            int sd = p.GetValue(seed);
            using var dev = ComputeDevice.Open(p.GetValue(device)!);
            var recipe = InductiveRecipe.Default with { TrainN = nt, Steps = steps, SolverInit = solverInit, EgwInit = initName == "egw", Loss = lossKind, SupervisedWeight = pw };
            var mix = new IsometricMixture(d, classes: 8, sd, mapKind);
            var bench = onlyBaseline ? null : InductiveBenchmark.Train(mix, recipe, sd, dev);
            var run = new InductiveRun(ctx.Out, asJson, dev, mapKind == MixtureMap.Orthogonal ? "orthogonal" : "nonlinear", d, sd, initName, pw, lossKind, nt, steps);
            foreach (int nn in sizes)
            {
                if (bench is not null) run.WriteModel(bench, nn, bench.Align(nn));
                if (runBaseline) run.WriteBaseline(nn, recipe.EgwEpsilon, InductiveBenchmark.Baseline(mix, nn, recipe.EgwEpsilon));
            }
            return 0;
        });
        return cmd;
    }

    private static List<int> ParseSizes(string text)
    {
        var sizes = new List<int>();
        foreach (var tok in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!int.TryParse(tok, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) || v < 2)
                throw new ArgumentException($"--n contains '{tok}'; expected integers ≥ 2, comma-separated.");
            sizes.Add(v);
        }
        if (sizes.Count == 0) throw new ArgumentException("--n is empty; expected integers ≥ 2, comma-separated.");
        return sizes;
    }

    /// <summary>The settings of one <c>bench inductive</c> invocation and its two line writers (model, baseline).</summary>
    private sealed record InductiveRun(TextWriter Out, bool AsJson, ComputeDevice Dev, string MapName, int Dim, int Seed, string Init,
        double PseudoWeight, GwLossKind Loss, int TrainN, int Steps)
    {
        public void WriteModel(InductiveBenchmarkModel bench, int nn, InductiveBenchResult r)
        {
            if (AsJson)
                Out.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
                {
                    ["method"] = "learned-gw-inductive", ["map"] = MapName, ["device"] = Dev.ShortName, ["device_name"] = Dev.Name, ["n"] = nn, ["dim"] = Dim,
                    ["seed"] = Seed, ["init"] = Init, ["pseudo_weight"] = Init == "none" ? 0 : PseudoWeight, ["loss"] = Loss.ToString().ToLowerInvariant(), ["train_n"] = TrainN, ["train_steps"] = Steps, ["train_seconds"] = bench.TrainSeconds,
                    ["train_loss"] = bench.FinalLoss, ["seconds"] = r.Seconds,
                    ["peak_bytes"] = r.PeakBytes, ["allocated_bytes"] = r.AllocatedBytes, ["nxn_bytes"] = 8L * nn * nn,
                    ["accuracy"] = r.ClassAccuracy, ["exact_accuracy"] = r.Accuracy, ["iterations"] = r.Iterations, ["converged"] = r.Converged,
                    ["candidate_iterations"] = r.CandidateIterations, ["candidate_seconds"] = r.CandidateSeconds, ["readout_seconds"] = r.ReadOutSeconds,
                }));
            else
                Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"inductive learned GW ({MapName}), N = {nn} per side, d = {Dim}, {Dev.Name}: {r.Seconds:F3} s, peak_bytes {r.PeakBytes:N0} (working-set peak over the baseline), allocated {r.AllocatedBytes:N0} B, class accuracy {r.ClassAccuracy:F4}, exact-partner accuracy {r.Accuracy:F4}, {r.Iterations} exact O(N²) passes after {r.CandidateIterations} sparse iterations ({r.CandidateSeconds:F2} s), read-out {r.ReadOutSeconds:F2} s; training {bench.TrainSeconds:F1} s on {TrainN} samples ({Steps} steps, init {Init})"));
        }

        public void WriteBaseline(int nn, double epsilon, InductiveBenchResult b)
        {
            if (AsJson)
                Out.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
                {
                    ["method"] = "entropic-gw", ["map"] = MapName, ["device"] = "cpu", ["n"] = nn, ["dim"] = Dim, ["seed"] = Seed, ["epsilon"] = epsilon,
                    ["seconds"] = b.Seconds, ["distance_seconds"] = b.DistanceSeconds, ["peak_bytes"] = b.PeakBytes, ["allocated_bytes"] = b.AllocatedBytes,
                    ["nxn_bytes"] = 8L * nn * nn, ["accuracy"] = b.ClassAccuracy, ["exact_accuracy"] = b.Accuracy, ["iterations"] = b.Iterations, ["converged"] = b.Converged,
                }));
            else
                Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"entropic GW baseline ({MapName}), N = {nn} per side, CPU: {b.Seconds:F3} s (+ {b.DistanceSeconds:F3} s for D_X, D_Y), peak_bytes {b.PeakBytes:N0}, class accuracy {b.ClassAccuracy:F4}, exact-partner accuracy {b.Accuracy:F4}, {b.Iterations} outer iterations, converged {b.Converged}"));
        }
    }
}
