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
    public static IEnumerable<Command> Create() => new[] { GwCommand(), InductiveCommand() };

    private static Command GwCommand()
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
            double median = Median(times);
            if (p.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
                {
                    ["method"] = "entropic-gw", ["device"] = dev.ShortName, ["device_name"] = dev.Name, ["n"] = xs.Rows, ["m"] = ys.Rows,
                    ["epsilon"] = e, ["seconds"] = median, ["all_seconds"] = times, ["gw_loss"] = r!.GwLoss, ["iterations"] = r.Iterations,
                    ["converged"] = r.Converged, ["last_change"] = r.LastChange, ["inner_iterations"] = r.InnerIterations,
                    ["log_domain_fallbacks"] = r.LogDomainFallbacks, ["metric"] = met, ["normalized"] = normalize, ["x"] = fx, ["y"] = fy,
                }));
            }
            else
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"entropic GW {xs.Rows}×{ys.Rows}, {met}{(normalize ? " / max" : "")}, ε = {e:G4}, {dev.Name}: {median:F4} s (median of {reps}), gw_loss {r!.GwLoss:R}, iterations {r.Iterations}, converged {r.Converged}, inner iterations {r.InnerIterations}"));
            }
            return 0;
        });
        return cmd;
    }

    private static Command InductiveCommand()
    {
        var n = new Option<string>("--n") { Description = "Unseen points per side to align; comma-separated for several sizes (one model, one line per size).", DefaultValueFactory = _ => "1000" };
        var dim = new Option<int>("--dim") { Description = "Feature dimension of the synthetic mixture (≥ 2).", DefaultValueFactory = _ => 64 };
        var trainN = new Option<int>("--train-n") { Description = "Training samples per side.", DefaultValueFactory = _ => 200 };
        var trainSteps = new Option<int>("--train-steps") { Description = "Training steps (full batch).", DefaultValueFactory = _ => 300 };
        var seed = new Option<int>("--seed") { Description = "Seed of the data and the model.", DefaultValueFactory = _ => 0 };
        var device = new Option<string>("--device") { Description = "auto | cpu | cuda | ilgpu-cpu.", DefaultValueFactory = _ => "auto" };
        var json = new Option<bool>("--json") { Description = "One JSON object on stdout." };
        var cmd = new Command("inductive", "Train learned GW on 200 samples of a synthetic isometric pair (class mixture, Y = X·Q), then time aligning N unseen points per side: seconds, peak_bytes, accuracy.")
        {
            n, dim, trainN, trainSteps, seed, device, json,
        };
        cmd.SetAction(p =>
        {
            int d = p.GetValue(dim), nt = p.GetValue(trainN), steps = p.GetValue(trainSteps);
            var sizes = new List<int>();
            foreach (var tok in p.GetValue(n)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (!int.TryParse(tok, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) || v < 2)
                    throw new ArgumentException($"--n contains '{tok}'; expected integers ≥ 2, comma-separated.");
                sizes.Add(v);
            }
            if (sizes.Count == 0) throw new ArgumentException("--n is empty; expected integers ≥ 2, comma-separated.");
            if (d < 2) throw new ArgumentException($"--dim = {d}; expected an integer ≥ 2.");
            if (nt < 2) throw new ArgumentException($"--train-n = {nt}; expected an integer ≥ 2.");
            if (steps < 0) throw new ArgumentException($"--train-steps = {steps}; expected an integer ≥ 0.");
            using var dev = ComputeDevice.Open(p.GetValue(device)!);
            var bench = InductiveBenchmark.Train(d, nt, steps, p.GetValue(seed), dev);
            foreach (int nn in sizes)
            {
                var r = bench.Align(nn);
                if (p.GetValue(json))
                {
                    Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
                    {
                        ["method"] = "learned-gw-inductive", ["device"] = dev.ShortName, ["device_name"] = dev.Name, ["n"] = nn, ["dim"] = d,
                        ["train_n"] = nt, ["train_steps"] = steps, ["train_seconds"] = bench.TrainSeconds, ["seconds"] = r.Seconds,
                        ["peak_bytes"] = r.PeakBytes, ["allocated_bytes"] = r.AllocatedBytes, ["nxn_bytes"] = 8L * nn * nn,
                        ["accuracy"] = r.Accuracy, ["class_accuracy"] = r.ClassAccuracy, ["iterations"] = r.Iterations, ["converged"] = r.Converged,
                        ["candidate_iterations"] = r.CandidateIterations, ["candidate_seconds"] = r.CandidateSeconds,
                    }));
                }
                else
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"inductive learned GW, N = {nn} per side, d = {d}, {dev.Name}: {r.Seconds:F3} s, peak_bytes {r.PeakBytes:N0} (working-set peak over the baseline), allocated {r.AllocatedBytes:N0} B, accuracy {r.Accuracy:F4} (exact partner), class accuracy {r.ClassAccuracy:F4}, {r.Iterations} dense Sinkhorn sweeps after {r.CandidateIterations} sparse warm-start iterations ({r.CandidateSeconds:F2} s); training {bench.TrainSeconds:F1} s"));
                }
            }
            return 0;
        });
        return cmd;
    }

    private static double Median(List<double> t)
    {
        var s = t.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : 0.5 * (s[s.Length / 2 - 1] + s[s.Length / 2]);
    }
}

/// <summary>Result of <see cref="InductiveBenchmark.Run"/>.</summary>
/// <param name="Seconds">Wall time of <see cref="InductiveAligner.Align"/> (embedding, Sinkhorn, matches, projection).</param>
/// <param name="PeakBytes">Peak process working set sampled every 2 ms during the alignment, minus the working set just before it (after a full GC).</param>
/// <param name="AllocatedBytes">Managed bytes allocated during the alignment (<see cref="GC.GetTotalAllocatedBytes"/> delta).</param>
/// <param name="Accuracy">Fraction of rows whose hard match is the true partner.</param>
/// <param name="ClassAccuracy">Fraction of rows matched to a point of the same mixture component.</param>
internal sealed record InductiveBenchResult(double Seconds, long PeakBytes, long AllocatedBytes, double Accuracy, double ClassAccuracy,
    int Iterations, bool Converged, double TrainSeconds, int CandidateIterations = 0, double CandidateSeconds = 0);

/// <summary>
/// The isometric inductive experiment (learned-GW paper, Fig. 2 top), with a documented synthetic stand-in for
/// embedding data: X is a class-structured Gaussian mixture (8 components, anisotropic noise) in d dimensions and
/// Y = X·Q for a random orthogonal Q. Train on <c>trainN</c> samples (Y rows shuffled: unpaired), then align N
/// unseen pairs. Adapted from bench/GwBench/InductiveBench.cs.
/// </summary>
internal static class InductiveBenchmark
{
    /// <summary>Trains on <paramref name="trainN"/> samples of the mixture (Y rows shuffled: unpaired).</summary>
    public static InductiveBenchmarkModel Train(int d, int trainN, int steps, int seed, ComputeDevice dev)
    {
        var mix = new IsometricMixture(d, classes: 8, seed);
        var train = mix.Sample(trainN);
        var perm = Enumerable.Range(0, trainN).OrderBy(_ => mix.Rng.Next()).ToArray();
        var yTrain = new double[(long)trainN * d];
        for (int i = 0; i < trainN; i++) Array.Copy(train.Y, (long)perm[i] * d, yTrain, (long)i * d, d);
        var o = new LearnedGwOptions
        {
            Loss = GwLossKind.Distance, Steps = steps, BatchSize = 0, Seed = seed, EmbedDim = 16, Hidden = 64, Cost = GwCost.SqEuclidean,
            DistancesX = new DistanceOptions { Metric = DistanceMetric.Euclidean }, DistancesY = new DistanceOptions { Metric = DistanceMetric.Euclidean },
            PreprocessX = new GwPreprocessing { Standardize = false }, PreprocessY = new GwPreprocessing { Standardize = false },
            EpsilonStart = 0.5, EpsilonMin = 0.02, EpsilonDecay = 0.98,
        };
        var sw = Stopwatch.StartNew();
        var model = LearnedGw.Train(train.X, trainN, d, yTrain, trainN, d, o, dev).Model;
        return new InductiveBenchmarkModel(mix, model, dev, sw.Elapsed.TotalSeconds);
    }
}

/// <summary>A trained model of <see cref="InductiveBenchmark"/>; <see cref="Align"/> times inference on fresh pairs.</summary>
internal sealed class InductiveBenchmarkModel(IsometricMixture mix, GwModel model, ComputeDevice dev, double trainSeconds)
{
    /// <summary>Training wall time.</summary>
    public double TrainSeconds => trainSeconds;

    /// <summary>Draws <paramref name="n"/> fresh pairs (X, X·Q) and times <see cref="InductiveAligner.Align"/> on them.</summary>
    public InductiveBenchResult Align(int n)
    {
        var test = mix.Sample(n);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        long baseline = Environment.WorkingSet;
        long peak = baseline;
        long allocBefore = GC.GetTotalAllocatedBytes(true);
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                long ws = Environment.WorkingSet;
                if (ws > Interlocked.Read(ref peak)) Interlocked.Exchange(ref peak, ws);
                Thread.Sleep(2);
            }
        });
        var sw = Stopwatch.StartNew();
        var al = InductiveAligner.Align(dev, model, test.X, n, test.Y, n, new InductiveOptions { TopK = 1 });
        double secs = sw.Elapsed.TotalSeconds;
        long ws1 = Environment.WorkingSet;
        stop.Cancel();
        sampler.Wait();
        long alloc = GC.GetTotalAllocatedBytes(true) - allocBefore;
        long peakDelta = Math.Max(Math.Max(Interlocked.Read(ref peak), ws1) - baseline, 0);
        int exact = 0, cls = 0;
        for (int i = 0; i < n; i++)
        {
            if (al.Matches[i] == i) exact++;
            if (test.Labels[al.Matches[i]] == test.Labels[i]) cls++;
        }
        return new InductiveBenchResult(secs, peakDelta, alloc, (double)exact / n, (double)cls / n, al.Iterations, al.Converged, trainSeconds,
            al.CandidateIterations, al.CandidateSeconds);
    }
}

/// <summary>A class-structured Gaussian mixture in d dimensions and a random orthogonal Q (Gram–Schmidt of a Gaussian matrix).</summary>
internal sealed class IsometricMixture
{
    private readonly int _d, _classes;
    private readonly double[] _centers, _q;

    public IsometricMixture(int d, int classes, int seed)
    {
        _d = d; _classes = classes;
        Rng = new Random(seed * 7919 + 7);
        _centers = new double[classes * d];
        for (int k = 0; k < _centers.Length; k++) _centers[k] = 3 * Normal();
        _q = RandomOrthogonal(d);
    }

    public Random Rng { get; }

    /// <summary>Q, d×d row-major.</summary>
    public double[] Q => _q;

    public (double[] X, double[] Y, int[] Labels) Sample(int count)
    {
        int d = _d;
        var x = new double[(long)count * d];
        var y = new double[(long)count * d];
        var l = new int[count];
        for (int i = 0; i < count; i++)
        {
            l[i] = Rng.Next(_classes);
            for (int k = 0; k < d; k++) x[(long)i * d + k] = _centers[l[i] * d + k] + Normal() * (1 + 0.5 * k / d);
            for (int k = 0; k < d; k++)
            {
                double s = 0;
                for (int t = 0; t < d; t++) s += x[(long)i * d + t] * _q[t * d + k];
                y[(long)i * d + k] = s;
            }
        }
        return (x, y, l);
    }

    private double Normal() => Math.Sqrt(-2 * Math.Log(1 - Rng.NextDouble())) * Math.Cos(2 * Math.PI * Rng.NextDouble());

    private double[] RandomOrthogonal(int d)
    {
        var a = new double[d * d];
        for (int k = 0; k < a.Length; k++) a[k] = Normal();
        for (int c = 0; c < d; c++)
        {
            for (int p = 0; p < c; p++)
            {
                double dot = 0;
                for (int r = 0; r < d; r++) dot += a[r * d + c] * a[r * d + p];
                for (int r = 0; r < d; r++) a[r * d + c] -= dot * a[r * d + p];
            }
            double nn = 0;
            for (int r = 0; r < d; r++) nn += a[r * d + c] * a[r * d + c];
            nn = Math.Sqrt(nn);
            for (int r = 0; r < d; r++) a[r * d + c] /= nn;
        }
        return a;
    }
}
