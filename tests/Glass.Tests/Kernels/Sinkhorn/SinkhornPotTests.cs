using Glass.Kernels.Device;
using Glass.Kernels.Sinkhorn;
using Glass.Tests.Support;
using NUnit.Framework;

namespace Glass.Tests.Kernels.Sinkhorn;

/// <summary>Dense and banded Sinkhorn (managed CPU backend) against POT 0.8.2 reference values.</summary>
public class SinkhornPotTests
{
    private static readonly Golden.Sinkhorn1D G = Golden.Sinkhorn;

    private static IEnumerable<TestCaseData> SpecCases() =>
        Golden.Sinkhorn.Cases.Where(c => c.Role == "spec").Select(c => new TestCaseData(c).SetName($"Spec_{c.Method}_gamma{c.Gamma}"));

    private static IEnumerable<TestCaseData> ConvergedCases() =>
        Golden.Sinkhorn.Cases.Where(c => c.Role == "converged_reference").Select(c => new TestCaseData(c).SetName($"Converged_gamma{c.Gamma}"));

    [TestCaseSource(nameof(SpecCases))]
    public void PlainDense_SameStoppingRule_MatchesPotIterationsAndPlan(Golden.Case c)
    {
        // Same rule as POT (no over-relaxation): same iteration count, same plan to round-off.
        var opt = new SinkhornOptions { Gamma = c.Gamma, MaxIter = c.MaxIter, Tol = c.Tol, CheckEvery = 10, ReturnPlan = true, Overrelax = false, EpsScaling = EpsScaling.Off };
        var r = DenseSinkhorn.Solve(ComputeDevice.Cpu, DenseGeometry.FromPoints(G.S, G.T, 1), null, null, opt);
        Assert.That(r.Converged, Is.True);
        Assert.That(r.Iterations, Is.EqualTo(c.Iterations), "iterations (POT counts updates; checks after 1, 11, 21, …)");
        Close.Scalar(c.TransportCost, r.Cost, 0, 1e-9, "transport cost");
        Close.Scalar(c.Entropy, r.Entropy, 0, 1e-10, "entropy");
        var plan = r.Plan!;
        int n = G.N;
        var rows = new double[n];
        var cols = new double[n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) { rows[i] += plan[i * n + j]; cols[j] += plan[i * n + j]; }
        Close.All(c.RowSums, rows, 1e-12, 1e-8, "row sums");
        Close.All(c.ColSums, cols, 1e-12, 1e-8, "column sums");
        foreach (var (i, j, p) in c.Probe) Close.Scalar(p, plan[i * n + j], 1e-15, 1e-7, $"P[{i},{j}]");
    }

    [TestCaseSource(nameof(ConvergedCases))]
    public void DenseConverged_MatchesPotReference(Golden.Case c)
    {
        var opt = new SinkhornOptions { Gamma = c.Gamma, MaxIter = 100_000, Tol = 1e-12, ReturnPlan = true };
        var r = DenseSinkhorn.Solve(ComputeDevice.Cpu, DenseGeometry.FromPoints(G.S, G.T, 1), null, null, opt);
        Assert.That(r.Converged, Is.True, $"err {r.MarginalError}");
        Close.Scalar(c.TransportCost, r.Cost, 0, 1e-9, "transport cost");
        Close.Scalar(c.Entropy, r.Entropy, 0, 1e-10, "entropy");
        foreach (var (i, j, p) in c.Probe) Close.Scalar(p, r.Plan![i * G.N + j], 1e-16, 1e-8, $"P[{i},{j}]");
        // Potentials are unique up to (f + k, g − k).
        double k = c.DualF![0] - r.F[0];
        Close.All(c.DualF!, r.F.Select(x => x + k).ToArray(), 1e-9 * c.Gamma, 0, "f (up to a constant)");
        Close.All(c.DualG!, r.G.Select(x => x - k).ToArray(), 1e-9 * c.Gamma, 0, "g (up to a constant)");
        for (int i = 0; i < G.N; i++)
        {
            int best = 0;
            for (int j = 1; j < G.N; j++) if (r.Plan![i * G.N + j] > r.Plan![i * G.N + best]) best = j;
            Assert.That(best, Is.EqualTo(c.RowArgmax[i]), $"argmax of row {i}");
        }
    }

    [TestCaseSource(nameof(ConvergedCases))]
    public void BandedConverged_MatchesPotReference(Golden.Case c)
    {
        var opt = new SinkhornOptions { Gamma = c.Gamma, MaxIter = 100_000, Tol = 1e-12 };
        var r = BandedSinkhorn.Solve(ComputeDevice.Cpu, G.S, G.T, null, null, opt, new BandOptions { BandEps = 1e-12 });
        Assert.That(r.Converged, Is.True, $"err {r.MarginalError}");
        Assert.That(r.BandRadius, Is.EqualTo(Math.Sqrt(-c.Gamma * Math.Log(1e-12))).Within(1e-15));
        // On [0,1] scores the radius (1.17 at γ = 0.05, 0.53 at γ = 0.01) prunes only at γ = 0.01.
        if (c.Gamma == 0.01) Assert.That(r.Nnz, Is.LessThan(G.N * G.N * 0.9), "a band, not the full matrix");
        Close.Scalar(c.TransportCost, r.Cost, 0, 1e-6, "transport cost");
        Close.Scalar(c.Entropy, r.Entropy, 0, 1e-6, "entropy");
        Close.All(c.RowSums, r.Plan.RowSums(), 1e-12, 1e-8, "row sums");
        Close.All(c.ColSums, r.Plan.ColSums(), 1e-12, 1e-8, "column sums");
        var dense = r.Plan.ToDense();
        foreach (var (i, j, p) in c.Probe)
            if (p > 1e-6 / G.N) Close.Scalar(p, dense[i * G.N + j], 1e-12, 1e-6, $"P[{i},{j}]");
    }

    [TestCase(0.05)]
    [TestCase(0.01)]
    public void PlainBanded_WideBand_MatchesPotIterations(double gamma)
    {
        var c = G.Cases.Single(x => x.Role == "spec" && x.Method == "sinkhorn" && x.Gamma == gamma);
        var opt = new SinkhornOptions { Gamma = gamma, MaxIter = c.MaxIter, Tol = c.Tol, Overrelax = false, EpsScaling = EpsScaling.Off };
        var r = BandedSinkhorn.Solve(ComputeDevice.Cpu, G.S, G.T, null, null, opt, new BandOptions { BandEps = 1e-300 });
        Assert.That(r.Nnz, Is.EqualTo(G.N * G.N), "ε = 1e-300 keeps every pair on [0,1] scores");
        Assert.That(r.Refinements, Is.EqualTo(0), "nothing to widen on a full band");
        Assert.That(r.Iterations, Is.EqualTo(c.Iterations).Within(10), "the banded solver starts with exact log steps, so it may stop one check apart");
        Close.Scalar(c.TransportCost, r.Cost, 0, 1e-5, "transport cost");
    }
}
