using Glass.Kernels.Device;
using Glass.Kernels.Sinkhorn;
using NUnit.Framework;

namespace Glass.Tests.Kernels.Sinkhorn;

/// <summary>
/// <see cref="CandidateSinkhorn"/> (sparse nearest-neighbour phase + exact passes) against a cold dense
/// <see cref="DenseSinkhorn"/> solve, and the dense solver's warm start.
/// </summary>
public sealed class CandidateSinkhornTests
{
    /// <summary>Clustered point clouds in d dimensions (Y = X + noise, rows shuffled), so plans are concentrated but not trivial.</summary>
    private static (double[] X, double[] Y) Clouds(int n, int m, int d, int seed)
    {
        var rng = new Random(seed);
        double N() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        var centers = new double[5 * d];
        for (int k = 0; k < centers.Length; k++) centers[k] = 3 * N();
        var x = new double[n * d];
        var y = new double[m * d];
        for (int i = 0; i < n; i++) { int c = rng.Next(5); for (int t = 0; t < d; t++) x[i * d + t] = centers[c * d + t] + N(); }
        for (int j = 0; j < m; j++) { int c = rng.Next(5); for (int t = 0; t < d; t++) y[j * d + t] = centers[c * d + t] + N() + 0.3; }
        return (x, y);
    }

    private static double[] Weights(int n, int seed, int zeros = 0)
    {
        var rng = new Random(seed);
        var w = Enumerable.Range(0, n).Select(_ => 0.5 + rng.NextDouble()).ToArray();
        for (int k = 0; k < zeros; k++) w[rng.Next(n)] = 0;
        double s = w.Sum();
        return w.Select(v => v / s).ToArray();
    }

    /// <summary>Dense plan entries from potentials.</summary>
    private static double[] Plan(DenseGeometry g, double[] f, double[] gg, double gamma, double[] x, double[] y, int d)
    {
        int n = f.Length, m = gg.Length;
        var p = new double[n * m];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++)
            {
                double c = 0;
                for (int t = 0; t < d; t++) { double e = x[i * d + t] - y[j * d + t]; c += e * e; }
                p[i * m + j] = Math.Exp((f[i] + gg[j] - c) / gamma);
            }
        return p;
    }

    /// <summary>
    /// The inductive setting: X an 8-class Gaussian mixture in d dimensions, Y a noisy copy with shuffled rows, so each
    /// row's mass stays near its nearest neighbours.
    /// </summary>
    private static (double[] X, double[] Y) Matched(int n, int d, int seed)
    {
        var rng = new Random(seed);
        double N() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        var centers = new double[8 * d];
        for (int k = 0; k < centers.Length; k++) centers[k] = 2 * N();
        var x = new double[n * d];
        for (int i = 0; i < n; i++) { int c = rng.Next(8); for (int t = 0; t < d; t++) x[i * d + t] = centers[c * d + t] + N(); }
        var perm = Enumerable.Range(0, n).OrderBy(_ => rng.Next()).ToArray();
        var y = new double[n * d];
        for (int j = 0; j < n; j++) for (int t = 0; t < d; t++) y[j * d + t] = x[perm[j] * d + t] + 0.3 * N();
        return (x, y);
    }

    private static double MeanCost(double[] x, double[] y, int n, int m, int d)
    {
        double s = 0;
        for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) { double c = 0; for (int t = 0; t < d; t++) { double e = x[i * d + t] - y[j * d + t]; c += e * e; } s += c; }
        return s / ((double)n * m);
    }

    /// <summary>Both solves stop at the same marginal tolerance, so their plans agree to that order, not to rounding.</summary>
    private static void SamePlan(DenseSinkhornResult want, DenseSinkhornResult got, DenseGeometry geom, double gamma, double[] x, double[] y, int d, double relTol)
    {
        var pw = Plan(geom, want.F, want.G, gamma, x, y, d);
        var pg = Plan(geom, got.F, got.G, gamma, x, y, d);
        double scale = pw.Max();
        for (int q = 0; q < pw.Length; q++) Assert.That(pg[q], Is.EqualTo(pw[q]).Within(relTol * scale), $"plan entry {q}");
        Assert.That(got.Cost, Is.EqualTo(want.Cost).Within(relTol * want.Cost), "⟨P, C⟩");
    }

    [TestCase(500, 16, 0.02, 32)]
    [TestCase(400, 8, 0.05, 48)]
    public void MatchedCloudsNeedFewExactPasses(int n, int d, double relGamma, int k)
    {
        var (x, y) = Matched(n, d, seed: n + d);
        var geom = DenseGeometry.FromPoints(x, y, d);
        // The inductive aligner's stopping rule: marginal error ≤ 1e-5 relative to ‖(a, b)‖.
        var o = new SinkhornOptions { Gamma = relGamma * MeanCost(x, y, n, n, d), Tol = 1e-5 * Math.Sqrt(2.0 / n), MaxIter = 100_000 };
        var dense = DenseSinkhorn.Solve(ComputeDevice.Cpu, geom, null, null, o);
        var cand = CandidateSinkhorn.Solve(ComputeDevice.Cpu, geom, null, null, o, new CandidateOptions { Neighbors = k });
        TestContext.Out.WriteLine($"exact passes {cand.Result.Iterations} (+{cand.CandidateIterations} sparse) vs cold {dense.Iterations} iterations");
        Assert.That(dense.Converged && cand.Result.Converged, Is.True);
        Assert.That(cand.Result.MarginalError, Is.LessThanOrEqualTo(o.Tol));
        Assert.That(cand.CandidateEntries, Is.InRange((long)k * n, (long)2 * k * n));
        SamePlan(dense, cand.Result, geom, o.Gamma, x, y, d, 1e-3);
        // The point of the method: a handful of O(n²) passes instead of a cold solve's iterations.
        Assert.That(cand.Result.Iterations, Is.LessThan(dense.Iterations / 5), "exact passes vs cold iterations");
    }

    [Test]
    public void UnbalancedCloudsFallBackToDenseSweepsAndAgree()
    {
        // Cluster sizes differ between X and Y and the marginals are not uniform: mass must cross between clusters,
        // outside every candidate set. The result must still be the dense solution.
        int n = 200, m = 150, d = 8;
        var (x, y) = Clouds(n, m, d, seed: 3);
        var geom = DenseGeometry.FromPoints(x, y, d);
        var a = Weights(n, 1);
        var b = Weights(m, 2);
        var o = new SinkhornOptions { Gamma = 0.1 * MeanCost(x, y, n, m, d), Tol = 1e-8, MaxIter = 100_000 };
        var dense = DenseSinkhorn.Solve(ComputeDevice.Cpu, geom, a, b, o);
        var cand = CandidateSinkhorn.Solve(ComputeDevice.Cpu, geom, a, b, o, new CandidateOptions { Neighbors = 16 });
        Assert.That(dense.Converged && cand.Result.Converged, Is.True);
        Assert.That(cand.Result.MarginalError, Is.LessThanOrEqualTo(o.Tol));
        SamePlan(dense, cand.Result, geom, o.Gamma, x, y, d, 1e-5);
    }

    [Test]
    public void ZeroMassRowsAndColumnsAndStoredCosts()
    {
        int n = 120, m = 90, d = 3;
        var (x, y) = Clouds(n, m, d, seed: 7);
        var a = Weights(n, 3, zeros: 5);
        var b = Weights(m, 4, zeros: 4);
        var cost = new double[n * m];
        for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) { double c = 0; for (int t = 0; t < d; t++) { double e = x[i * d + t] - y[j * d + t]; c += e * e; } cost[i * m + j] = c; }
        var geom = DenseGeometry.FromCostMatrix(cost, n, m);
        var o = new SinkhornOptions { Gamma = 2.0, Tol = 1e-9, MaxIter = 100_000, ReturnPlan = true };
        var dense = DenseSinkhorn.Solve(ComputeDevice.Cpu, geom, a, b, o);
        var cand = CandidateSinkhorn.Solve(ComputeDevice.Cpu, geom, a, b, o, new CandidateOptions { Neighbors = 6 });
        Assert.That(cand.Result.Converged, Is.True);
        double scale = dense.Plan!.Max();
        for (int q = 0; q < n * m; q++) Assert.That(cand.Result.Plan![q], Is.EqualTo(dense.Plan![q]).Within(1e-5 * scale));
        for (int i = 0; i < n; i++) if (a[i] == 0) Assert.That(cand.Result.F[i], Is.EqualTo(double.NegativeInfinity), $"row {i} has no mass");
    }

    public static IEnumerable<TestCaseData> AcceleratedDevices() => Glass.Tests.Support.Devices.AcceleratedCases();

    [TestCaseSource(nameof(AcceleratedDevices))]
    public void AcceleratorPathWarmStartsTheDenseSweeps(string device)
    {
        var dev = Glass.Tests.Support.Devices.Get(device);
        int n = 64, m = 48, d = 3;
        var (x, y) = Clouds(n, m, d, seed: 11);
        var geom = DenseGeometry.FromPoints(x, y, d);
        var o = new SinkhornOptions { Gamma = 0.2 * MeanCost(x, y, n, m, d), Tol = 1e-6, MaxIter = 20_000 };
        var cpu = DenseSinkhorn.Solve(ComputeDevice.Cpu, geom, null, null, o);
        var acc = CandidateSinkhorn.Solve(dev, geom, null, null, o, new CandidateOptions { Neighbors = 8 });
        Assert.That(acc.Result.Converged, Is.True);
        // float32 costs on the accelerator: plan entries agree to float accuracy.
        var pd = Plan(geom, cpu.F, cpu.G, o.Gamma, x, y, d);
        var pa = Plan(geom, acc.Result.F, acc.Result.G, o.Gamma, x, y, d);
        double scale = pd.Max();
        for (int q = 0; q < pd.Length; q++) Assert.That(pa[q], Is.EqualTo(pd[q]).Within(1e-3 * scale));
    }

    [Test]
    public void WarmStartReachesTheSameFixedPointInFewerIterations()
    {
        int n = 150, m = 130, d = 4;
        var (x, y) = Clouds(n, m, d, seed: 5);
        var geom = DenseGeometry.FromPoints(x, y, d);
        var o = new SinkhornOptions { Gamma = 0.2 * MeanCost(x, y, n, m, d), Tol = 1e-10, MaxIter = 100_000, CheckEvery = 1 };
        var cold = DenseSinkhorn.Solve(ComputeDevice.Cpu, geom, null, null, o);
        // Warm start from the solution at 2γ.
        var coarse = DenseSinkhorn.Solve(ComputeDevice.Cpu, geom, null, null, o with { Gamma = 2 * o.Gamma });
        var warm = DenseSinkhorn.Solve(ComputeDevice.Cpu, geom, null, null, o, coarse.F, coarse.G);
        Assert.That(warm.Converged, Is.True);
        Assert.That(warm.Cost, Is.EqualTo(cold.Cost).Within(1e-8 * cold.Cost));
        var pc = Plan(geom, cold.F, cold.G, o.Gamma, x, y, d);
        var pw = Plan(geom, warm.F, warm.G, o.Gamma, x, y, d);
        for (int q = 0; q < pc.Length; q++) Assert.That(pw[q], Is.EqualTo(pc[q]).Within(1e-10 + 1e-6 * pc[q]));
        // From the converged potentials themselves: done after the first check.
        var again = DenseSinkhorn.Solve(ComputeDevice.Cpu, geom, null, null, o, cold.F, cold.G);
        Assert.That(again.Iterations, Is.LessThanOrEqualTo(2));
        Assert.That(again.Iterations, Is.LessThan(cold.Iterations));
    }

    [Test]
    public void BadWarmStartAndOptionsAreNamed()
    {
        var (x, y) = Clouds(10, 8, 2, seed: 1);
        var geom = DenseGeometry.FromPoints(x, y, 2);
        var o = new SinkhornOptions { Gamma = 1.0 };
        var ex = Assert.Throws<ArgumentException>(() => DenseSinkhorn.Solve(ComputeDevice.Cpu, geom, null, null, o, new double[9], null));
        Assert.That(ex!.Message, Does.Contain("initialF"));
        var nan = new double[8]; nan[3] = double.NaN;
        ex = Assert.Throws<ArgumentException>(() => DenseSinkhorn.Solve(ComputeDevice.Cpu, geom, null, null, o, null, nan));
        Assert.That(ex!.Message, Does.Contain("initialG"));
        ex = Assert.Throws<ArgumentException>(() => CandidateSinkhorn.Solve(ComputeDevice.Cpu, geom, null, null, o, new CandidateOptions { Neighbors = 0 }));
        Assert.That(ex!.Message, Does.Contain("Neighbors"));
    }
}
