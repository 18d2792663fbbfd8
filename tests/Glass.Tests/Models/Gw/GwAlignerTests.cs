using Glass.Kernels.Device;
using Glass.Models.Gw;
using Glass.Models.Metrics;
using Glass.Tests.Support;
using NUnit.Framework;

namespace Glass.Tests.Models.Gw;

/// <summary>The default aligner (<see cref="GwAligner"/>, <see cref="GwInit.Solver"/>): solver stage, selection, smoothing, learned maps.</summary>
public class GwAlignerTests
{
    /// <summary>X: an anisotropic Gaussian cloud (n×d); Y: X rotated by a random orthogonal matrix, rows shuffled. sourceOfY[j] = the row of X that row j of Y came from.</summary>
    internal static (double[] X, double[] Y, int[] SourceOfY) Isometric(int n, int d, int seed, double noise = 0)
    {
        var r = new Random(seed);
        var x = new double[n * d];
        for (int i = 0; i < n; i++) for (int k = 0; k < d; k++) x[i * d + k] = Close.RandomNormal(1, r.Next())[0] * (2.0 - 1.5 * k / d);
        var q = Orthogonal(d, r);
        var src = Enumerable.Range(0, n).OrderBy(_ => r.Next()).ToArray();
        var y = new double[n * d];
        for (int j = 0; j < n; j++)
            for (int c = 0; c < d; c++)
            {
                double s = 0;
                for (int k = 0; k < d; k++) s += x[src[j] * d + k] * q[k * d + c];
                y[j * d + c] = s + (noise > 0 ? noise * Close.RandomNormal(1, r.Next())[0] : 0);
            }
        return (x, y, src);
    }

    private static double[] Orthogonal(int d, Random r)
    {
        var a = Close.RandomNormal(d * d, r.Next());
        for (int c = 0; c < d; c++)
        {
            for (int p = 0; p < c; p++)
            {
                double s = 0;
                for (int row = 0; row < d; row++) s += a[row * d + c] * a[row * d + p];
                for (int row = 0; row < d; row++) a[row * d + c] -= s * a[row * d + p];
            }
            double nn = Math.Sqrt(Enumerable.Range(0, d).Sum(row => a[row * d + c] * a[row * d + c]));
            for (int row = 0; row < d; row++) a[row * d + c] /= nn;
        }
        return a;
    }

    private static LearnedGwOptions Quick(int seed = 0) => new() { Seed = seed, Steps = 60, Hidden = 32 };

    [Test]
    public void IsometricPair_OfAbout300Points_IsRecoveredExactly_ByTheDefaults()
    {
        // Default options (only fewer training steps, to keep the test short): the solver's plan is the true permutation.
        var (x, y, src) = Isometric(300, 5, 1);
        var al = GwAligner.Align(x, 300, 5, y, 300, 5, Quick());
        Assert.That(al.Source, Is.EqualTo("solver"));
        Assert.That(al.GwLoss, Is.LessThan(1e-12), "the true pairing's loss is 0");
        Assert.That(al.Solution.Smoothing, Is.EqualTo("none"), "an exact isometry keeps its hard plan");
        var matches = al.Matches();
        for (int j = 0; j < 300; j++) Assert.That(matches[src[j]], Is.EqualTo(j), $"row {src[j]} of X → row {j} of Y");
        // FOSCTTM 0 on the barycentric projection (y in the model's normalised coordinates).
        var summary = GwAligner.Summarize(al, y, 3);
        var yn = al.Trainer.Model.NormalizationY.Apply(y, 300, 5, "y");
        var u = new double[300 * 5];
        for (int j = 0; j < 300; j++) Array.Copy(summary.ProjectionTarget!, src[j] * 5, u, j * 5, 5);
        Assert.That(AlignmentMetrics.Foscttm(u, yn, 300, 5).Mean, Is.EqualTo(0));
    }

    [Test]
    public void Selection_KeepsTheLowestGwLossCandidate_AndReportsEveryCandidate()
    {
        // Noisy, non-isometric pair: the candidates differ; the selected one has the lowest loss of all of them.
        var (x, y, _) = Isometric(120, 4, 2, noise: 0.6);
        var s = GwAligner.Solve(x, 120, 4, y, 120, 4, Quick());
        var names = s.Candidates.Select(c => c.Name).ToArray();
        Assert.That(names.Take(3), Is.EqualTo(new[] { "product", "entropic(0.005)", "entropic(0.01)" }));
        Assert.That(names.Skip(3), Is.EqualTo(new[] { "multiscale(1)", "multiscale(2)" }.Take(names.Length - 3)).And.Not.Empty, "n > Clusters: the multiscale starts run");
        double min = s.Candidates.Min(c => c.GwLoss);
        Assert.That(s.SelectedLoss, Is.EqualTo(min));
        Assert.That(s.Selected, Is.EqualTo(s.Candidates.First(c => c.GwLoss == min).Name));
        Assert.That(s.SelectedLoss, Is.EqualTo(ExactGw.Loss(s.DistanceX, s.DistanceY, s.SelectedPlan, 120, 120)).Within(1e-12), "reported loss = loss of the plan");
        // Discrepancy smoothing: the final plan is no worse than τ·L(Π*).
        Assert.That(s.GwLoss, Is.LessThanOrEqualTo(1.1 * s.SelectedLoss * (1 + 1e-12)));
        Assert.That(s.GwLoss, Is.EqualTo(ExactGw.Loss(s.DistanceX, s.DistanceY, s.Plan, 120, 120)).Within(1e-12));
    }

    [Test]
    public void Smoothing_SpendsTheBudget_AndNoSmoothingKeepsTheExactPlan()
    {
        var (x, y, _) = Isometric(80, 3, 3, noise: 0.4);
        var hard = GwAligner.Solve(x, 80, 3, y, 80, 3, Quick() with { Solver = new GwSolverOptions { Discrepancy = 1 } });
        Assert.That(hard.Smoothing, Is.EqualTo("none"));
        Assert.That(hard.Plan, Is.EqualTo(hard.SelectedPlan));
        var soft = GwAligner.Solve(x, 80, 3, y, 80, 3, Quick());
        Assert.That(soft.SelectedLoss, Is.EqualTo(hard.SelectedLoss), "smoothing does not change the selection");
        Assert.That(soft.Smoothing, Is.Not.EqualTo("none"), "a noisy pair has a misfit to spend");
        Assert.That(soft.GwLoss, Is.GreaterThan(soft.SelectedLoss).And.LessThanOrEqualTo(1.1 * soft.SelectedLoss * (1 + 1e-12)));
        Assert.That(Entropy(soft.Plan), Is.GreaterThan(Entropy(hard.Plan)), "the smoothed plan is softer");
    }

    [Test]
    public void Smoothing_MixtureLoss_IsTheExactQuadratic()
    {
        // A tight budget forces the mixture branch; its loss comes from the quadratic in α, not a fresh evaluation.
        var (x, y, _) = Isometric(70, 3, 5, noise: 0.4);
        var s = GwAligner.Solve(x, 70, 3, y, 70, 3, Quick() with { Solver = new GwSolverOptions { Discrepancy = 1 } });
        foreach (double tau in new[] { 1.0005, 1.01 })
        {
            var (plan, loss, how) = GwAligner.Smooth(s.DistanceX, s.DistanceY, 70, 70, s.SelectedPlan, s.SelectedLoss, tau);
            Assert.That(loss, Is.EqualTo(ExactGw.Loss(s.DistanceX, s.DistanceY, plan, 70, 70)).Within(1e-12 + 1e-9 * loss), how);
            Assert.That(loss, Is.LessThanOrEqualTo(tau * s.SelectedLoss * (1 + 1e-9)), how);
        }
        var (_, _, tight) = GwAligner.Smooth(s.DistanceX, s.DistanceY, 70, 70, s.SelectedPlan, s.SelectedLoss, 1.0005);
        Assert.That(tight, Does.StartWith("mix("), "a budget of 0.05 % is spent by a mixture");
    }

    [Test]
    public void KMeans_RecoversWellSeparatedClusters_AndUsesEveryLabel()
    {
        // Four tight clusters far apart: k-means++ with 4 centres labels them exactly (up to naming).
        var z = new double[200 * 2];
        var r = new Random(3);
        for (int i = 0; i < 200; i++) { z[i * 2] = 10 * (i % 4) + 0.1 * r.NextDouble(); z[i * 2 + 1] = 0.1 * r.NextDouble(); }
        var label = GwAligner.KMeans(z, 200, 2, 4, new Random(1));
        for (int i = 4; i < 200; i++) Assert.That(label[i], Is.EqualTo(label[i % 4]), $"point {i}");
        Assert.That(label.Distinct().Count(), Is.EqualTo(4));
        var more = GwAligner.KMeans(z, 200, 2, 8, new Random(1));
        Assert.That(more.Distinct().OrderBy(v => v), Is.EqualTo(Enumerable.Range(0, more.Max() + 1)), "labels 0…K'−1, none empty");
    }

    [TestCase(2, 2)]
    [TestCase(5, 3)]
    [TestCase(40, 25)]
    [TestCase(25, 40)]
    public void SmallAndUnequalSizes_WorkWithTheDefaults(int n, int m)
    {
        // Defaults (batch 256 > n, m → full batch), n ≠ m, down to two points a side.
        var x = Close.RandomNormal(n * 3, 10 + n);
        var y = Close.RandomNormal(m * 2, 20 + m);
        var al = GwAligner.Align(x, n, 3, y, m, 2, new LearnedGwOptions { Steps = 5 });
        var p = al.Plan;
        for (int i = 0; i < n; i++) Assert.That(Enumerable.Range(0, m).Sum(j => p[i * m + j]), Is.EqualTo(1.0 / n).Within(1e-9), $"row {i}");
        for (int j = 0; j < m; j++) Assert.That(Enumerable.Range(0, n).Sum(i => p[i * m + j]), Is.EqualTo(1.0 / m).Within(1e-9), $"column {j}");
        Assert.That(al.Trainer.CompletedSteps, Is.EqualTo(5));
        var ind = InductiveAligner.Align(ComputeDevice.Cpu, al.Trainer.Model, x, n, y, m, new InductiveOptions { TopK = 1 });
        Assert.That(ind.Matches, Has.All.InRange(0, m - 1));
    }

    [Test]
    public void TrainedModel_AlignsUnseenPointsOfTheSameIsometry()
    {
        // Train on 300 points, align 400 unseen ones: the learned f, g carry the rotation (paper 003, inductive alignment).
        var (x, y, src) = Isometric(700, 4, 4);
        var trainX = Rows(x, 4, Enumerable.Range(0, 300));
        var trainYRows = Enumerable.Range(0, 700).Where(j => src[j] < 300).ToArray();
        var trainY = Rows(y, 4, trainYRows);
        var al = GwAligner.Align(trainX, 300, 4, trainY, trainYRows.Length, 4, new LearnedGwOptions { Steps = 300 });
        Assert.That(al.GwLoss, Is.LessThan(1e-12), "training pair solved exactly");
        var testYRows = Enumerable.Range(0, 700).Where(j => src[j] >= 300).ToArray();
        var testX = Rows(x, 4, testYRows.Select(j => src[j]));
        var testY = Rows(y, 4, testYRows);
        var ind = InductiveAligner.Align(ComputeDevice.Cpu, al.Trainer.Model, testX, 400, testY, 400, new InductiveOptions { TopK = 1 });
        double exact = Enumerable.Range(0, 400).Count(i => ind.Matches[i] == i) / 400.0;
        Assert.That(exact, Is.GreaterThanOrEqualTo(0.9), "unseen pairs matched to their true partner");
    }

    [Test]
    public void LearnedGwTrain_WithTheSolverInit_TrainsOnThePseudoPairs_AndNoneDoesNot()
    {
        var (x, y, _) = Isometric(60, 3, 5);
        var solver = LearnedGw.Train(x, 60, 3, y, 60, 3, Quick() with { Steps = 3 });
        Assert.That(solver.History, Has.Count.EqualTo(3));
        Assert.That(solver.History[0].Loss, Is.GreaterThan(solver.History[0].MainLoss), "the pseudo-pair term is part of the loss");
        var none = LearnedGw.Train(x, 60, 3, y, 60, 3, Quick() with { Steps = 3, Init = GwInit.None });
        Assert.That(none.History[0].Loss, Is.EqualTo(none.History[0].MainLoss), "no extra term without the solver");
    }

    [Test]
    public void Solve_IsDeterministic()
    {
        var (x, y, _) = Isometric(90, 3, 6, noise: 0.3);
        var a = GwAligner.Solve(x, 90, 3, y, 90, 3, Quick(7));
        var b = GwAligner.Solve(x, 90, 3, y, 90, 3, Quick(7));
        Assert.That(b.Plan, Is.EqualTo(a.Plan));
        Assert.That(b.Candidates.Select(c => c.GwLoss), Is.EqualTo(a.Candidates.Select(c => c.GwLoss)));
    }

    [Test]
    public void BadInput_IsRefusedWithTheThingNamed()
    {
        var x = Close.RandomNormal(6, 1);
        Assert.That(() => GwAligner.Align(x, 1, 6, x, 1, 6), Throws.ArgumentException.With.Message.Contains("at least 2 points"));
        Assert.That(() => GwAligner.Solve(x, 3, 2, x, 3, 2, new LearnedGwOptions { Solver = new GwSolverOptions { Discrepancy = 0.5 } }),
            Throws.ArgumentException.With.Message.Contains("Discrepancy"));
        Assert.That(() => GwAligner.Solve(x, 3, 2, x, 3, 2, new LearnedGwOptions { Solver = new GwSolverOptions { Epsilons = new[] { -1.0 } } }),
            Throws.ArgumentException.With.Message.Contains("Epsilons"));
        Assert.That(() => GwAligner.CheckSize(5000, 5000), Throws.ArgumentException.With.Message.Contains("limit"));
    }

    private static double Entropy(double[] p) => -p.Where(v => v > 0).Sum(v => v * Math.Log(v));

    private static double[] Rows(double[] a, int d, IEnumerable<int> rows) => rows.SelectMany(i => a.Skip(i * d).Take(d)).ToArray();
}
