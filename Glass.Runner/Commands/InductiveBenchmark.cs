using System.Diagnostics;
using Glass.Kernels.Device;
using Glass.Models.Gw;

namespace Glass.Runner.Commands;

/// <summary>Result of <see cref="InductiveBenchmarkModel.Align"/> or <see cref="InductiveBenchmark.Baseline"/>.</summary>
/// <param name="Seconds">Wall time of the alignment (learned: <see cref="InductiveAligner.Align"/> — embedding, Sinkhorn, matches, projection; baseline: <see cref="EntropicGw.Solve"/> without D_X, D_Y).</param>
/// <param name="PeakBytes">Peak process working set sampled every 2 ms during the alignment, minus the working set just before it (after a full GC).</param>
/// <param name="AllocatedBytes">Managed bytes allocated during the alignment (<see cref="GC.GetTotalAllocatedBytes"/> delta).</param>
/// <param name="Accuracy">Exact-partner accuracy: fraction of rows whose hard match is the true partner.</param>
/// <param name="ClassAccuracy">Class accuracy (the paper's measure): fraction of rows matched to a point of the same mixture component as the true partner.</param>
/// <param name="Iterations">Sinkhorn iterations (learned) or outer GW iterations (baseline).</param>
/// <param name="Converged">The solver's convergence flag.</param>
/// <param name="DistanceSeconds">Baseline only: time to build D_X and D_Y (not in <paramref name="Seconds"/>, as in the paper).</param>
/// <param name="CandidateIterations">Learned only: sparse iterations of the candidate warm start.</param>
/// <param name="CandidateSeconds">Learned only: time of the candidate search and warm start (part of <paramref name="Seconds"/>).</param>
/// <param name="ReadOutSeconds">Learned only: time of the read-out from the potentials (part of <paramref name="Seconds"/>).</param>
internal sealed record InductiveBenchResult(double Seconds, long PeakBytes, long AllocatedBytes, double Accuracy, double ClassAccuracy,
    int Iterations, bool Converged, double DistanceSeconds = 0, int CandidateIterations = 0, double CandidateSeconds = 0, double ReadOutSeconds = 0);

/// <summary>
/// The training recipe of <c>glass bench inductive</c> (docs/reproduction.md, "Inductive alignment (paper Fig. 2)").
/// Distance loss (Eq. 4) on Euclidean distances divided by their maximum, squared-Euclidean cost, 3-layer MLPs
/// (64 hidden, 16-d embeddings), no standardisation (it would break the isometry), full batch, Adam 3·10⁻³,
/// relative ε 0.5 → 0.05 (×0.97 per step), Sinkhorn tol 10⁻⁵ (L2 marginal error; the marginals sum to 1).
/// <para>
/// <see cref="EgwInit"/>: from random MLPs, learned GW on this data settles in a wrong permutation of the classes (a GW
/// local minimum; training GW loss ≈ 0.02 against ≈ 0.003 at the optimum; class accuracy 0–0.3). The recipe therefore
/// solves entropic GW once on the training samples (label-free; n = 200: under a second) and adds its row-wise
/// argmax as pseudo-pairs with the semi-supervised term (weight <see cref="SupervisedWeight"/>) for the whole training;
/// the GW term refines within classes and the MLPs carry the correspondence to unseen points.
/// </para>
/// </summary>
internal sealed record InductiveRecipe
{
    public static InductiveRecipe Default { get; } = new();
    public int TrainN { get; init; } = 200;
    public int Steps { get; init; } = 150;
    public bool EgwInit { get; init; } = true;
    /// <summary>Train with the library default instead (<see cref="LearnedGwOptions"/>, <see cref="GwInit.Solver"/>), with these Steps, Loss and pseudo-pair weight.</summary>
    public bool SolverInit { get; init; }
    public double EgwEpsilon { get; init; } = 0.005;
    public double SupervisedWeight { get; init; } = 1e-2;
    public GwLossKind Loss { get; init; } = GwLossKind.Distance;

    public LearnedGwOptions Options(int seed, IReadOnlyList<(int X, int Y)>? pairs) => new()
    {
        Init = GwInit.None, Skip = false, Loss = Loss, Steps = Steps, BatchSize = 0, Seed = seed, Depth = 3, EmbedDim = 16, Hidden = 64, Cost = GwCost.SqEuclidean,
        DistancesX = Euclidean, DistancesY = Euclidean,
        PreprocessX = new GwPreprocessing { Standardize = false, CenterScale = false }, PreprocessY = new GwPreprocessing { Standardize = false, CenterScale = false },
        LearningRate = 3e-3, EpsilonStart = 0.5, EpsilonMin = 0.05, EpsilonDecay = 0.97, SinkhornTol = 1e-5,
        KnownPairs = pairs, SupervisedWeight = pairs is null ? 0 : SupervisedWeight,
    };

    /// <summary>Euclidean distances divided by their maximum (training and baseline).</summary>
    public static DistanceOptions Euclidean { get; } = new() { Metric = DistanceMetric.Euclidean };
}

/// <summary>
/// The inductive experiment (learned-GW paper, Fig. 2), with a documented synthetic stand-in for ViT embeddings:
/// see <see cref="IsometricMixture"/>. Train on <see cref="InductiveRecipe.TrainN"/> samples (Y rows shuffled:
/// unpaired), then align N unseen pairs. Adapted from bench/GwBench/InductiveBench.cs.
/// </summary>
internal static class InductiveBenchmark
{
    /// <summary>Trains on <see cref="InductiveRecipe.TrainN"/> samples of the pair (Y rows shuffled: unpaired).</summary>
    public static InductiveBenchmarkModel Train(IsometricMixture mix, InductiveRecipe recipe, int seed, ComputeDevice dev)
    {
        int nt = recipe.TrainN, d = mix.Dim;
        var train = mix.Sample(nt);
        var perm = Enumerable.Range(0, nt).OrderBy(_ => mix.Rng.Next()).ToArray();
        var yTrain = new double[(long)nt * d];
        for (int i = 0; i < nt; i++) Array.Copy(train.Y, (long)perm[i] * d, yTrain, (long)i * d, d);
        var sw = Stopwatch.StartNew();
        if (recipe.SolverInit)
        {
            var o = new LearnedGwOptions { Seed = seed, Steps = recipe.Steps, Loss = recipe.Loss, Solver = new GwSolverOptions { PseudoPairWeight = recipe.SupervisedWeight } };
            var rs = LearnedGw.Train(train.X, nt, d, yTrain, nt, d, o, dev);
            return new InductiveBenchmarkModel(mix, rs.Model, dev, sw.Elapsed.TotalSeconds, rs.History.Count > 0 ? rs.History[^1].MainLoss : double.NaN);
        }
        List<(int, int)>? pairs = null;
        if (recipe.EgwInit)
        {
            // Label-free pseudo-pairs: the row-wise argmax of the entropic GW plan on the training samples.
            var dx = Distances.Compute(train.X, nt, d, InductiveRecipe.Euclidean, "x").Values;
            var dy = Distances.Compute(yTrain, nt, d, InductiveRecipe.Euclidean, "y").Values;
            var g = EntropicGw.Solve(ComputeDevice.Cpu, dx, dy, nt, nt, null, null, new EntropicGwOptions { Epsilon = recipe.EgwEpsilon });
            pairs = new List<(int, int)>(nt);
            for (int i = 0; i < nt; i++) pairs.Add((i, ArgMaxRow(g.Plan, i, nt)));
        }
        var r = LearnedGw.Train(train.X, nt, d, yTrain, nt, d, recipe.Options(seed, pairs), dev);
        return new InductiveBenchmarkModel(mix, r.Model, dev, sw.Elapsed.TotalSeconds, r.History.Count > 0 ? r.History[^1].MainLoss : double.NaN);
    }

    /// <summary>Entropic GW (CPU, dense) on N fresh pairs: D_X, D_Y Euclidean / max, ε = <paramref name="epsilon"/>; hard match = row argmax.</summary>
    public static InductiveBenchResult Baseline(IsometricMixture mix, int n, double epsilon)
    {
        var test = mix.Sample(n);
        var swd = Stopwatch.StartNew();
        var dx = Distances.Compute(test.X, n, mix.Dim, InductiveRecipe.Euclidean, "x").Values;
        var dy = Distances.Compute(test.Y, n, mix.Dim, InductiveRecipe.Euclidean, "y").Values;
        double distSecs = swd.Elapsed.TotalSeconds;
        EntropicGwResult? g = null;
        var (secs, peak, alloc) = Measure(() => g = EntropicGw.Solve(ComputeDevice.Cpu, dx, dy, n, n, null, null, new EntropicGwOptions { Epsilon = epsilon }));
        var matches = new int[n];
        for (int i = 0; i < n; i++) matches[i] = ArgMaxRow(g!.Plan, i, n);
        var (exact, cls) = Score(matches, test.Labels);
        return new InductiveBenchResult(secs, peak, alloc, exact, cls, g!.Iterations, g.Converged, distSecs);
    }

    /// <summary>Runs <paramref name="work"/> and returns its wall time, the peak working set over the pre-run baseline (sampled every 2 ms) and the managed bytes it allocated.</summary>
    internal static (double Seconds, long PeakBytes, long AllocatedBytes) Measure(Action work)
    {
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
        work();
        double secs = sw.Elapsed.TotalSeconds;
        long ws1 = Environment.WorkingSet;
        stop.Cancel();
        sampler.Wait();
        long alloc = GC.GetTotalAllocatedBytes(true) - allocBefore;
        return (secs, Math.Max(Math.Max(Interlocked.Read(ref peak), ws1) - baseline, 0), alloc);
    }

    /// <summary>(exact-partner accuracy, class accuracy) of hard matches where row i's true partner is column i.</summary>
    internal static (double Exact, double Class) Score(int[] matches, int[] labels)
    {
        int exact = 0, cls = 0;
        for (int i = 0; i < matches.Length; i++)
        {
            if (matches[i] == i) exact++;
            if (labels[matches[i]] == labels[i]) cls++;
        }
        return ((double)exact / matches.Length, (double)cls / matches.Length);
    }

    private static int ArgMaxRow(double[] plan, int i, int m)
    {
        int best = 0;
        long off = (long)i * m;
        for (int j = 1; j < m; j++) if (plan[off + j] > plan[off + best]) best = j;
        return best;
    }
}

/// <summary>A trained model of <see cref="InductiveBenchmark"/>; <see cref="Align"/> times inference on fresh pairs.</summary>
internal sealed class InductiveBenchmarkModel(IsometricMixture mix, GwModel model, ComputeDevice dev, double trainSeconds, double finalLoss)
{
    /// <summary>Training wall time (including the entropic-GW pseudo-pairs and D_X, D_Y).</summary>
    public double TrainSeconds => trainSeconds;
    /// <summary>Main loss (Eq. 4 GW loss or Eq. 6 rank loss) of the last training step.</summary>
    public double FinalLoss => finalLoss;
    /// <summary>The trained model.</summary>
    public GwModel Model => model;

    /// <summary>Draws <paramref name="n"/> fresh pairs and times <see cref="InductiveAligner.Align"/> on them.</summary>
    public InductiveBenchResult Align(int n)
    {
        var test = mix.Sample(n);
        InductiveAlignment? al = null;
        var (secs, peak, alloc) = InductiveBenchmark.Measure(() => al = InductiveAligner.Align(dev, model, test.X, n, test.Y, n, new InductiveOptions { TopK = 1 }));
        var (exact, cls) = InductiveBenchmark.Score(al!.Matches, test.Labels);
        return new InductiveBenchResult(secs, peak, alloc, exact, cls, al.Iterations, al.Converged,
            CandidateIterations: al.CandidateIterations, CandidateSeconds: al.CandidateSeconds, ReadOutSeconds: al.ReadOutSeconds);
    }
}

/// <summary>The map from X to Y in <see cref="IsometricMixture"/>.</summary>
internal enum MixtureMap
{
    /// <summary>Y = X·Q, Q random orthogonal (paper Fig. 2 top: an exact isometry).</summary>
    Orthogonal,
    /// <summary>Y = s·tanh(X·A/τ)·B, A and B random orthogonal, τ = 3, s = 0.5 (Fig. 2 bottom: non-isometric, scale-changing).</summary>
    Nonlinear,
}

/// <summary>
/// Synthetic stand-in for class-structured embeddings (the paper uses CIFAR-100 ViT encodings, not installable here):
/// X is a Gaussian mixture of <c>classes</c> components in d dimensions, centres 3·N(0, I), anisotropic noise with
/// standard deviation 1 + 0.5·k/d on coordinate k. Y is the image of X under <see cref="MixtureMap"/>: an orthogonal
/// Q (Gram–Schmidt of a Gaussian matrix) or the non-linear, scale-changing s·tanh(X·A/τ)·B. The coordinates of X·A
/// have standard deviation ≈ 3.2, so tanh(·/3) bends them strongly (monotone per coordinate: the classes survive,
/// distances do not), and s = 0.5 halves the scale. Row i of Y is the partner of row i of X.
/// </summary>
internal sealed class IsometricMixture
{
    private readonly int _d, _classes;
    private readonly double[] _centers, _q, _a;
    private const double Tau = 3, Scale = 0.5;

    public IsometricMixture(int d, int classes, int seed, MixtureMap map = MixtureMap.Orthogonal)
    {
        _d = d; _classes = classes; Map = map;
        Rng = new Random(seed * 7919 + 7);
        _centers = new double[classes * d];
        for (int k = 0; k < _centers.Length; k++) _centers[k] = 3 * Normal();
        _q = RandomOrthogonal(d);
        _a = map == MixtureMap.Nonlinear ? RandomOrthogonal(d) : Array.Empty<double>();
    }

    public Random Rng { get; }
    public int Dim => _d;
    public MixtureMap Map { get; }

    /// <summary>Q (orthogonal map) or B (non-linear map), d×d row-major.</summary>
    public double[] Q => _q;

    public (double[] X, double[] Y, int[] Labels) Sample(int count)
    {
        int d = _d;
        var x = new double[(long)count * d];
        var y = new double[(long)count * d];
        var l = new int[count];
        var h = new double[d];
        for (int i = 0; i < count; i++)
        {
            l[i] = Rng.Next(_classes);
            for (int k = 0; k < d; k++) x[(long)i * d + k] = _centers[l[i] * d + k] + Normal() * (1 + 0.5 * k / d);
            if (Map == MixtureMap.Nonlinear)
            {
                for (int k = 0; k < d; k++)
                {
                    double s = 0;
                    for (int t = 0; t < d; t++) s += x[(long)i * d + t] * _a[t * d + k];
                    h[k] = Scale * Math.Tanh(s / Tau);
                }
            }
            else Array.Copy(x, (long)i * d, h, 0, d);
            for (int k = 0; k < d; k++)
            {
                double s = 0;
                for (int t = 0; t < d; t++) s += h[t] * _q[t * d + k];
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
