using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Glass.Kernels.Device;
using Glass.Models.Gw;
using Glass.Models.Metrics;

namespace Glass.Runner.Commands;

/// <summary>Scores of one method on one pair.</summary>
/// <param name="Foscttm">FOSCTTM of the barycentric projection of X onto Y (Y centred and scaled), over the true pairs.</param>
/// <param name="Exact">Fraction of true pairs whose row-wise argmax is the true partner.</param>
/// <param name="GwLoss">GW loss of the plan on the evaluation distances (Euclidean, max-normalised, of the centred and scaled data).</param>
/// <param name="Seconds">Wall time of the method.</param>
internal sealed record SuiteScore(double Foscttm, double Exact, double GwLoss, double Seconds);

/// <summary>
/// <c>glass bench align-suite</c>: default <c>glass align</c> (<see cref="GwAligner"/> with <see cref="GwAligner.DefaultModel"/>)
/// and Glass's entropic-GW baseline (<see cref="EntropicGw.Tune"/>: ε and k chosen by the lowest GW loss, as SCOT) on the
/// cases of <see cref="AlignSuiteCases"/>, several seeds each; one JSON line per (case, seed) and a table at the end.
/// Labels and true pairs are used for scoring only.
/// </summary>
internal static class AlignSuite
{
    public static Command Create(CliContext ctx)
    {
        var data = new Option<string?>("--data") { Description = "Folder of the real tabular data sets (bench/align_suite_data.py writes wine.npy, breast_cancer.npy, digits.npy)." };
        var snare = new Option<string?>("--snare") { Description = "Folder with SNAREseq_atac_feat.npy and SNAREseq_rna_feat.npy.", DefaultValueFactory = _ => "../shared/data/snareseq" };
        var cases = new Option<string?>("--cases") { Description = "Comma-separated case names (default: all)." };
        var seeds = new Option<string>("--seeds") { Description = "Comma-separated seeds.", DefaultValueFactory = _ => "0,1,2,3,4" };
        var methods = new Option<string>("--methods") { Description = "Comma-separated: glass (default glass align), baseline (entropic GW, SCOT-style tuning).", DefaultValueFactory = _ => "glass,baseline" };
        var outFile = new Option<string?>("--out") { Description = "Append one JSON line per (case, seed) to this file (results already there are reused, so an interrupted run resumes)." };
        var list = new Option<bool>("--list") { Description = "List the cases and exit." };
        var dump = new Option<string?>("--dump") { Description = "Write each (case, seed) pair to DIR/CASE_sSEED_{x,y}.npy and _source_of_y.txt (the row of X each row of Y came from), then exit." };
        var cmd = new Command("align-suite", "Default glass align vs the entropic-GW baseline on exact isometries, non-isometric views, unequal sizes and SNARE-seq: FOSCTTM, exact-partner accuracy, GW loss vs the true pairing's, seconds.")
        {
            data, snare, cases, seeds, methods, outFile, list, dump,
        };
        cmd.SetAction(p =>
        {
            var all = AlignSuiteCases.All(p.GetValue(data), p.GetValue(snare), ctx.Err);
            if (p.GetValue(list))
            {
                foreach (var c in all) ctx.Out.WriteLine($"{c.Name,-16} {c.Kind,-9} {c.Description}");
                return 0;
            }
            var names = p.GetValue(cases)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (names is not null)
                foreach (var nm in names)
                    if (all.All(c => c.Name != nm))
                        throw new ArgumentException($"--cases: unknown case '{nm}'; expected one of {string.Join(", ", all.Select(c => c.Name))}.");
            var chosen = names is null ? all : all.Where(c => names.Contains(c.Name)).ToList();
            var seedList = ParseSeeds(p.GetValue(seeds)!);
            if (p.GetValue(dump) is { } dir)
            {
                Directory.CreateDirectory(dir);
                foreach (var c in chosen)
                    foreach (int sd in seedList)
                    {
                        var pair = c.Build(sd);
                        string stem = Path.Combine(dir, string.Create(CultureInfo.InvariantCulture, $"{c.Name}_s{sd}"));
                        Glass.Models.Data.Npy.Write(stem + "_x.npy", pair.X, pair.DimX);
                        Glass.Models.Data.Npy.Write(stem + "_y.npy", pair.Y, pair.DimY);
                        File.WriteAllLines(stem + "_source_of_y.txt", pair.SourceOfY.Select(v => v.ToString(CultureInfo.InvariantCulture)));
                        ctx.Out.WriteLine($"{stem}_{{x,y}}.npy");
                    }
                return 0;
            }
            var ms = p.GetValue(methods)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            foreach (var mth in ms)
                if (mth is not ("glass" or "baseline")) throw new ArgumentException($"--methods contains '{mth}'; expected glass and/or baseline.");
            Run(chosen, seedList, ms.Contains("glass"), ms.Contains("baseline"), p.GetValue(outFile), ctx.Out, ctx.Err);
            return 0;
        });
        return cmd;
    }

    /// <summary>
    /// <c>glass bench align-scaling</c>: wall time of default <c>glass align</c> (<see cref="GwAligner.Align"/>) against N
    /// on the suite's noisy Gaussian-mixture pair (10-d, rotated, N(0, 0.2²) noise), by stage, with the fitted exponent.
    /// </summary>
    public static Command CreateScaling(CliContext ctx)
    {
        var sizes = new Option<string>("--sizes") { Description = "Comma-separated N (points per side).", DefaultValueFactory = _ => "500,1000,2000" };
        var seed = new Option<int>("--seed") { Description = "Seed of the data and the model.", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "One JSON object per size on stdout." };
        var cmd = new Command("align-scaling", "Default glass align wall time vs N on a noisy isometric mixture pair: solver, training and total seconds, fitted log–log exponent.")
        {
            sizes, seed, json,
        };
        cmd.SetAction(p =>
        {
            var ns = ParseInts(p.GetValue(sizes)!, "--sizes");
            if (ns.Any(v => v < 2)) throw new ArgumentException("--sizes: every N must be ≥ 2.");
            int sd = p.GetValue(seed);
            bool asJson = p.GetValue(json);
            var totals = new List<double>();
            foreach (int n in ns)
            {
                var x = AlignSuiteCases.Mixture(n, 10, 8, sd, false);
                var r = new Random(sd * 31 + 1);
                var y = AlignSuiteCases.Rotate(x, n, 10, r);
                for (int k = 0; k < y.Length; k++) y[k] += 0.2 * AlignSuiteCases.Normal(r);
                var perm = Enumerable.Range(0, n).OrderBy(_ => r.Next()).ToArray();
                var ys = new double[y.Length];
                for (int j = 0; j < n; j++) Array.Copy(y, perm[j] * 10, ys, j * 10, 10);
                var sw = Stopwatch.StartNew();
                var al = GwAligner.Align(x, n, 10, ys, n, 10, new LearnedGwOptions { Seed = sd }, null, line => ctx.Err.WriteLine($"  [N = {n}] {line}"));
                double total = sw.Elapsed.TotalSeconds;
                totals.Add(total);
                int exact = Enumerable.Range(0, n).Count(j => al.Matches()[perm[j]] == j);
                if (asJson)
                    ctx.Out.WriteLine(new JsonObject
                    {
                        ["n"] = n, ["seconds"] = total, ["solve_seconds"] = al.Solution.Seconds, ["train_seconds"] = al.TrainSeconds,
                        ["selected"] = al.Solution.Selected, ["gw_loss"] = al.GwLoss, ["exact_accuracy"] = (double)exact / n,
                    }.ToJsonString());
                else
                    ctx.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"N = {n}: {total:F1} s (solver {al.Solution.Seconds:F1} s, training {al.TrainSeconds:F1} s), selected {al.Solution.Selected}, exact-partner accuracy {(double)exact / n:F3}"));
            }
            if (ns.Length >= 2)
            {
                var (slope, _) = Output.RunPlots.FitLogLog(ns.Select(v => (double)v).ToArray(), totals.ToArray());
                ctx.Err.WriteLine(string.Create(CultureInfo.InvariantCulture, $"fitted exponent of the total time in N: {slope:F2}"));
            }
            return 0;
        });
        return cmd;
    }

    internal static int[] ParseSeeds(string text) => ParseInts(text, "--seeds");

    private static int[] ParseInts(string text, string option)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0) throw new ArgumentException($"{option} is empty; expected comma-separated integers, e.g. 0,1,2.");
        return parts.Select(s => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v
            : throw new ArgumentException($"{option}: '{s}' is not an integer; expected comma-separated integers, e.g. 0,1,2.")).ToArray();
    }

    /// <summary>Runs the suite and prints the table.</summary>
    /// <summary>
    /// Runs the suite and prints the table. With <paramref name="outFile"/>, results already there are kept: a (case, seed)
    /// line is re-used for every method it holds, and only the missing methods run (the merged line is appended; the last
    /// line of a (case, seed) wins).
    /// </summary>
    internal static void Run(IReadOnlyList<SuiteCase> cases, IReadOnlyList<int> seeds, bool withGlass, bool withBaseline, string? outFile, TextWriter stdout, TextWriter log)
    {
        var done = new Dictionary<(string, int), JsonObject>();
        if (outFile is not null && File.Exists(outFile))
            foreach (var line in File.ReadLines(outFile))
                if (line.Length > 0 && JsonNode.Parse(line) is JsonObject o && o["case"] is not null && o["seed"] is not null)
                    done[((string)o["case"]!, (int)o["seed"]!)] = o;
        var rows = new List<JsonObject>();
        foreach (var c in cases)
            foreach (int seed in seeds)
            {
                done.TryGetValue((c.Name, seed), out var prev);
                bool needGlass = withGlass && prev?["glass"] is null, needBaseline = withBaseline && prev?["baseline"] is null;
                if (!needGlass && !needBaseline)
                {
                    if (prev is not null) rows.Add(prev);
                    continue;
                }
                var o = RunOne(c, seed, needGlass, needBaseline, prev, log);
                rows.Add(o);
                string json = o.ToJsonString();
                stdout.WriteLine(json);
                if (outFile is not null) File.AppendAllText(outFile, json + "\n");
            }
        PrintTable(cases, rows, stdout);
    }

    private static JsonObject RunOne(SuiteCase c, int seed, bool withGlass, bool withBaseline, JsonObject? prev, TextWriter log)
    {
        var pair = c.Build(seed);
        var ev = Evaluation.For(pair);
        var o = prev is null ? new JsonObject() : (JsonObject)prev.DeepClone();
        o["case"] = c.Name; o["kind"] = c.Kind; o["seed"] = seed; o["n"] = pair.N; o["m"] = pair.M; o["symmetric"] = c.Symmetric;
        o["true_gw_loss"] = ev.TrueLoss is { } tl ? tl : null;
        if (withGlass) RunGlass(c.Name, pair, ev, seed, o, log);
        if (withBaseline) RunBaseline(pair, ev, o, log);
        return o;
    }

    private static void RunGlass(string name, SuitePair pair, Evaluation ev, int seed, JsonObject o, TextWriter log)
    {
        log.WriteLine($"[{name} seed {seed}] glass align (default) on {pair.N}×{pair.DimX} ↔ {pair.M}×{pair.DimY}");
        var sw = Stopwatch.StartNew();
        var al = GwAligner.Align(pair.X, pair.N, pair.DimX, pair.Y, pair.M, pair.DimY, new LearnedGwOptions { Seed = seed }, null,
            line => log.WriteLine($"  {line}"));
        var g = ev.Score(al.Plan, sw.Elapsed.TotalSeconds);
        o["glass"] = Json(g);
        o["source"] = al.Source;
        o["selected"] = al.Solution.Selected;
        o["selected_gw_loss"] = al.Solution.SelectedLoss;
        o["smoothing"] = al.Solution.Smoothing;
        o["candidates"] = new JsonArray(al.Candidates.Select(k => (JsonNode)new JsonObject { ["name"] = k.Name, ["gw_loss"] = k.GwLoss, ["iterations"] = k.Iterations, ["seconds"] = k.Seconds }).ToArray());
        // For the record: the selected exact plan before smoothing, and the trained model's own plan.
        o["unsmoothed"] = Json(ev.Score(al.Solution.SelectedPlan, al.Solution.Seconds));
        o["model"] = Json(ev.Score(GwAligner.ModelPlan(ComputeDevice.Cpu, al.Trainer.Model, pair.X, pair.N, pair.Y, pair.M), al.TrainSeconds));
        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  glass: FOSCTTM {g.Foscttm:F4}, exact {g.Exact:F3}, GW loss {g.GwLoss:G4} (true {ev.TrueLoss?.ToString("G4", CultureInfo.InvariantCulture) ?? "–"}), {g.Seconds:F1} s, selected {al.Solution.Selected}, smoothing {al.Solution.Smoothing}"));
    }

    private static void RunBaseline(SuitePair pair, Evaluation ev, JsonObject o, TextWriter log)
    {
        {
            log.WriteLine($"[baseline] entropic GW, ε and k by the lowest GW loss, on {pair.N}×{pair.DimX} ↔ {pair.M}×{pair.DimY}");
            var sw = Stopwatch.StartNew();
            var t = EntropicGw.Tune(ComputeDevice.Cpu, pair.X, pair.N, pair.DimX, pair.Y, pair.M, pair.DimY, new GwTuningOptions(),
                tr => log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  baseline ε = {tr.Epsilon:G3}, k = {tr.K}: GW loss {tr.GwLoss:G5} ({tr.Seconds:F1} s)")));
            var b = ev.Score(t.Best.Plan, sw.Elapsed.TotalSeconds);
            o["baseline"] = Json(b);
            o["baseline_epsilon"] = t.Epsilon;
            o["baseline_k"] = t.K;
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  baseline: FOSCTTM {b.Foscttm:F4}, exact {b.Exact:F3}, GW loss {b.GwLoss:G4}, {b.Seconds:F1} s (ε = {t.Epsilon:G3}, k = {t.K})"));
        }
    }

    private static JsonObject Json(SuiteScore s) => new()
    {
        ["foscttm"] = s.Foscttm, ["exact"] = s.Exact, ["gw_loss"] = s.GwLoss, ["seconds"] = s.Seconds,
    };

    /// <summary>Scoring of plans of one pair against its truth (labels never reach the methods).</summary>
    private sealed class Evaluation
    {
        private readonly SuitePair _p;
        private readonly double[] _dx, _dy, _yTarget;

        private Evaluation(SuitePair p, double[] dx, double[] dy, double[] yTarget) { _p = p; _dx = dx; _dy = dy; _yTarget = yTarget; }

        public double? TrueLoss { get; private init; }

        public static Evaluation For(SuitePair p)
        {
            var pre = new GwPreprocessing { Standardize = false, CenterScale = true };
            var euclid = new DistanceOptions { Metric = DistanceMetric.Euclidean };
            var zx = GwNormalization.Fit(p.X, p.N, p.DimX, pre, "x").Apply(p.X, p.N, p.DimX, "x");
            var zy = GwNormalization.Fit(p.Y, p.M, p.DimY, pre, "y").Apply(p.Y, p.M, p.DimY, "y");
            var dx = Distances.Compute(zx, p.N, p.DimX, euclid, "x").Values;
            var dy = Distances.Compute(zy, p.M, p.DimY, euclid, "y").Values;
            double? trueLoss = null;
            if (p.N == p.M)
            {
                var t = new double[(long)p.N * p.M];
                for (int j = 0; j < p.M; j++) t[(long)p.SourceOfY[j] * p.M + j] = 1.0 / p.N;
                trueLoss = ExactGw.Loss(dx, dy, t, p.N, p.M);
            }
            return new Evaluation(p, dx, dy, zy) { TrueLoss = trueLoss };
        }

        public SuiteScore Score(double[] plan, double seconds)
        {
            int n = _p.N, m = _p.M, d = _p.DimY;
            var u = new double[(long)m * d];
            int exact = 0;
            for (int j = 0; j < m; j++)
            {
                int i = _p.SourceOfY[j];
                long off = (long)i * m;
                double s = 0;
                int best = 0;
                for (int l = 0; l < m; l++)
                {
                    double w = plan[off + l];
                    if (w > plan[off + best]) best = l;
                    if (w == 0) continue;
                    s += w;
                    for (int k = 0; k < d; k++) u[(long)j * d + k] += w * _yTarget[(long)l * d + k];
                }
                if (s > 0) for (int k = 0; k < d; k++) u[(long)j * d + k] /= s;
                if (best == j) exact++;
            }
            var fos = AlignmentMetrics.Foscttm(u, _yTarget, m, d).Mean;
            return new SuiteScore(fos, (double)exact / m, ExactGw.Loss(_dx, _dy, plan, n, m), seconds);
        }
    }

    private static void PrintTable(IReadOnlyList<SuiteCase> cases, List<JsonObject> rows, TextWriter w)
    {
        static string MeanStd(IEnumerable<double> v)
        {
            var a = v.Where(double.IsFinite).ToArray();
            if (a.Length == 0) return "–";
            double mu = a.Average();
            double sd = a.Length > 1 ? Math.Sqrt(a.Sum(x => (x - mu) * (x - mu)) / (a.Length - 1)) : 0;
            return string.Create(CultureInfo.InvariantCulture, $"{mu:F4} ± {sd:F4}");
        }
        static IEnumerable<double> Get(IEnumerable<JsonObject> rs, string method, string key) =>
            rs.Where(r => r[method] is not null).Select(r => (double)r[method]![key]!);
        w.WriteLine();
        w.WriteLine("| case | kind | seeds | FOSCTTM glass | FOSCTTM baseline | exact glass | exact baseline | GW loss glass | GW loss baseline | GW loss true | s glass | s baseline |");
        w.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var c in cases)
        {
            var rs = rows.Where(r => (string)r["case"]! == c.Name).ToList();
            if (rs.Count == 0) continue;
            var trueLoss = rs.Where(r => r["true_gw_loss"] is not null).Select(r => (double)r["true_gw_loss"]!);
            w.WriteLine($"| {c.Name}{(c.Symmetric ? " (symmetric)" : "")} | {c.Kind} | {rs.Count} | {MeanStd(Get(rs, "glass", "foscttm"))} | {MeanStd(Get(rs, "baseline", "foscttm"))} | " +
                $"{MeanStd(Get(rs, "glass", "exact"))} | {MeanStd(Get(rs, "baseline", "exact"))} | {MeanStd(Get(rs, "glass", "gw_loss"))} | {MeanStd(Get(rs, "baseline", "gw_loss"))} | " +
                $"{MeanStd(trueLoss)} | {MeanStd(Get(rs, "glass", "seconds"))} | {MeanStd(Get(rs, "baseline", "seconds"))} |");
        }
    }
}
