using System.Diagnostics;
using System.Globalization;
using Glass.Kernels.Device;
using Glass.Models.Gw;

/// <summary>Isometric inductive benchmark: train on 200 points of a class mixture, align N unseen points related by a random orthogonal map.</summary>
internal static class InductiveBench
{
    public static string Run(int n, ComputeDevice dev)
    {
        const int d = 16, classes = 8;
        var rng = new Random(7);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        var centers = new double[classes * d];
        for (int k = 0; k < centers.Length; k++) centers[k] = 3 * Normal();
        var q = RandomOrthogonal(d, rng);
        (double[] X, double[] Y, int[] L) Sample(int count)
        {
            var x = new double[count * d]; var y = new double[count * d]; var l = new int[count];
            for (int i = 0; i < count; i++)
            {
                l[i] = rng.Next(classes);
                for (int k = 0; k < d; k++) x[i * d + k] = centers[l[i] * d + k] + Normal() * (1 + 0.5 * k / d);
                for (int k = 0; k < d; k++) { double s = 0; for (int t = 0; t < d; t++) s += x[i * d + t] * q[t * d + k]; y[i * d + k] = s; }
            }
            return (x, y, l);
        }
        var train = Sample(200);
        // Train Y rows shuffled (unpaired).
        var perm = Enumerable.Range(0, 200).OrderBy(_ => rng.Next()).ToArray();
        var yTrain = new double[200 * d];
        for (int i = 0; i < 200; i++) Array.Copy(train.Y, perm[i] * d, yTrain, i * d, d);
        var o = new LearnedGwOptions
        {
            Loss = GwLossKind.Distance, Steps = 300, BatchSize = 0, Seed = 1, EmbedDim = 16, Hidden = 64, Cost = GwCost.SqEuclidean,
            DistancesX = new DistanceOptions { Metric = DistanceMetric.Euclidean }, DistancesY = new DistanceOptions { Metric = DistanceMetric.Euclidean },
            PreprocessX = new GwPreprocessing { Standardize = false }, PreprocessY = new GwPreprocessing { Standardize = false },
            EpsilonStart = 0.5, EpsilonMin = 0.02, EpsilonDecay = 0.98,
        };
        var sw = Stopwatch.StartNew();
        var model = LearnedGw.Train(train.X, 200, d, yTrain, 200, d, o).Model;
        double trainS = sw.Elapsed.TotalSeconds;
        var test = Sample(n);
        GC.Collect();
        long before = GC.GetTotalMemory(true);
        var proc = Process.GetCurrentProcess();
        proc.Refresh();
        long rssBefore = proc.WorkingSet64;
        sw.Restart();
        var al = InductiveAligner.Align(dev, model, test.X, n, test.Y, n, new InductiveOptions { TopK = 5 });
        double secs = sw.Elapsed.TotalSeconds;
        proc.Refresh();
        long peak = proc.PeakWorkingSet64;
        int exact = 0, cls = 0;
        for (int i = 0; i < n; i++) { if (al.Matches[i] == i) exact++; if (test.L[al.Matches[i]] == test.L[i]) cls++; }
        return string.Create(CultureInfo.InvariantCulture,
            $"{{\"n\": {n}, \"device\": \"{dev.ShortName}\", \"seconds\": {secs:G4}, \"train_seconds\": {trainS:G4}, \"iterations\": {al.Iterations}, \"converged\": {al.Converged.ToString().ToLowerInvariant()}, \"accuracy\": {(double)cls / n:G4}, \"exact_match\": {(double)exact / n:G4}, \"peak_bytes\": {peak}, \"rss_before\": {rssBefore}, \"managed_before\": {before}, \"nxn_bytes\": {8L * n * n}}}");
    }

    private static double[] RandomOrthogonal(int d, Random rng)
    {
        var a = new double[d * d];
        for (int k = 0; k < a.Length; k++) a[k] = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        // Gram–Schmidt on columns.
        for (int c = 0; c < d; c++)
        {
            for (int p = 0; p < c; p++)
            {
                double dot = 0; for (int r = 0; r < d; r++) dot += a[r * d + c] * a[r * d + p];
                for (int r = 0; r < d; r++) a[r * d + c] -= dot * a[r * d + p];
            }
            double nn = 0; for (int r = 0; r < d; r++) nn += a[r * d + c] * a[r * d + c];
            nn = Math.Sqrt(nn); for (int r = 0; r < d; r++) a[r * d + c] /= nn;
        }
        return a;
    }
}

internal static class IsoProbe
{
    public static void Run(int n, int steps, double epsMin)
    {
        var r = new Random(1);
        var x = new double[n * 3];
        for (int i = 0; i < n; i++) { x[i * 3] = 4 * r.NextDouble(); x[i * 3 + 1] = 2 * r.NextDouble(); x[i * 3 + 2] = r.NextDouble(); }
        var y = x.Select(v => -v).ToArray();
        var o = new LearnedGwOptions
        {
            Loss = GwLossKind.Distance, Cost = GwCost.SqEuclidean, Steps = steps, BatchSize = 0, Hidden = 32, EmbedDim = 8,
            LearningRate = 1e-2, EpsilonStart = 0.5, EpsilonMin = epsMin, EpsilonDecay = 0.97,
            DistancesX = new DistanceOptions { Metric = DistanceMetric.Euclidean }, DistancesY = new DistanceOptions { Metric = DistanceMetric.Euclidean },
            PreprocessX = new GwPreprocessing { Standardize = false }, PreprocessY = new GwPreprocessing { Standardize = false },
        };
        var t = new LearnedGwTrainer(x, n, 3, y, n, 3, o) { ReportSinkhornIterations = true };
        var sw = Stopwatch.StartNew();
        for (int k = 0; k < steps; k++)
        {
            var p = t.Step();
            if (k % 25 == 0 || k == steps - 1) Console.WriteLine($"step {p.Step} loss {p.Loss:G4} eps {p.Epsilon:G3} gamma {p.Gamma:G3} iters {p.SinkhornIterations} t {sw.Elapsed.TotalSeconds:F2}");
        }
    }
}
