using Glass.Kernels.Device;
using Glass.Kernels.Sinkhorn;
using Glass.Tests.Support;
using NUnit.Framework;

namespace Glass.Tests.Kernels.Sinkhorn;

/// <summary>
/// The stored-kernel geometry (exp-domain scaling with log-domain absorption) against the online log-domain
/// reference on the same problems, and the solver loop's warm start.
/// </summary>
public class StoredKernelTests
{
    private static SinkhornOptions Opt(double gamma, DenseKernel kernel) =>
        new() { Gamma = gamma, MaxIter = 50_000, Tol = 1e-9, ReturnPlan = true, Kernel = kernel };

    [TestCase(0.5, 61, 47)]
    [TestCase(0.05, 61, 47)]
    [TestCase(0.01, 33, 70)]
    public void Stored_MatchesLogDomain_PlanPotentialsIterations(double gamma, int n, int m)
    {
        var s = Close.RandomNormal(n, 3);
        var t = Close.RandomNormal(m, 4);
        var geom = DenseGeometry.FromPoints(s, t, 1);
        var log = DenseSinkhorn.Solve(ComputeDevice.Cpu, geom, null, null, Opt(gamma, DenseKernel.Online));
        var sto = DenseSinkhorn.Solve(ComputeDevice.Cpu, geom, null, null, Opt(gamma, DenseKernel.Stored));
        Assert.That(log.Converged && sto.Converged, Is.True, $"errors {log.MarginalError}, {sto.MarginalError}");
        Close.All(log.Plan!, sto.Plan!, 1e-12, 1e-6, "plan, stored vs log-domain");
        double k = log.F[0] - sto.F[0];
        Close.All(log.F, sto.F.Select(x => x + k).ToArray(), 1e-8 * Math.Max(1, gamma), 0, "f (up to a constant)");
        Close.All(log.G, sto.G.Select(x => x - k).ToArray(), 1e-8 * Math.Max(1, gamma), 0, "g (up to a constant)");
        Close.Scalar(log.Cost, sto.Cost, 0, 1e-8, "cost");
        Assert.That(Math.Abs(sto.Iterations - log.Iterations), Is.LessThanOrEqualTo(2 * 10), "iteration counts near (same loop, same iterates up to rounding)");
    }

    [Test]
    public void Stored_NonUniformMarginals_ZeroMass_MatchesLogDomain()
    {
        var s = Close.RandomUniform(45, 7);
        var t = Close.RandomUniform(38, 8);
        var a = Close.RandomUniform(45, 9, 0.5, 1.5); a[5] = 0;
        var b = Close.RandomUniform(38, 10, 0.5, 1.5); b[11] = 0;
        double sa = a.Sum(), sb = b.Sum();
        for (int i = 0; i < a.Length; i++) a[i] /= sa;
        for (int j = 0; j < b.Length; j++) b[j] /= sb;
        var geom = DenseGeometry.FromPoints(s, t, 1);
        var log = DenseSinkhorn.Solve(ComputeDevice.Cpu, geom, a, b, Opt(0.02, DenseKernel.Online));
        var sto = DenseSinkhorn.Solve(ComputeDevice.Cpu, geom, a, b, Opt(0.02, DenseKernel.Stored));
        Assert.That(sto.Converged, Is.True);
        Close.All(log.Plan!, sto.Plan!, 1e-12, 1e-6, "plan");
        Assert.That(double.IsNegativeInfinity(sto.F[5]) && double.IsNegativeInfinity(sto.G[11]), Is.True, "zero-mass potentials stay −∞");
    }

    [Test]
    public void SmallGamma_TriggersAbsorption_AndStillMatchesLogDomain()
    {
        // At γ = 0.003 on scores in [0, 2] exp(−C/γ) (C/γ up to 1333) spans far beyond double range: the scalings must be absorbed
        // (K̃ rebuilt) many times, and the fixed point must still be the log-domain one.
        const int n = 40, m = 36;
        const double gamma = 0.003;
        var s = Close.RandomUniform(n, 21, 0, 2);
        var t = Close.RandomUniform(m, 22, 0, 2);
        var geom = DenseGeometry.FromPoints(s, t, 1);
        var a = Enumerable.Repeat(1.0 / n, n).ToArray();
        var b = Enumerable.Repeat(1.0 / m, m).ToArray();
        var o = Opt(gamma, DenseKernel.Stored) with { Tol = 1e-7 };
        var log = DenseSinkhorn.Solve(ComputeDevice.Cpu, geom, a, b, o with { Kernel = DenseKernel.Online });
        Assert.That(log.Converged, Is.True, $"log-domain reference: err {log.MarginalError} after {log.Iterations}");
        var f = new double[n];
        var g = new double[m];
        var it = new StoredKernelIterate(geom, a, b, gamma, f, g);
        var r = SinkhornSolver.Run(it, o);
        it.Potentials();
        Assert.That(r.Converged, Is.True, $"err {r.MarginalError} after {r.Iterations}");
        Assert.That(it.Rebuilds, Is.GreaterThan(0), "absorption must have been triggered");
        double k = log.F[0] - f[0];
        Close.All(log.F, f.Select(x => x + k).ToArray(), 1e-9, 0, "f (up to a constant)");
        Close.All(log.G, g.Select(x => x - k).ToArray(), 1e-9, 0, "g (up to a constant)");
    }

    [TestCase(DenseKernel.Online)]
    [TestCase(DenseKernel.Stored)]
    public void WarmStart_FromNearbyProblem_ReducesIterations(DenseKernel kernel)
    {
        var s = Close.RandomNormal(80, 31);
        var t = Close.RandomNormal(70, 32);
        var t2 = t.Select((v, j) => v + 0.001 * Math.Sin(j)).ToArray();
        var o = Opt(0.01, kernel) with { Tol = 1e-8, CheckEvery = 1 };
        var first = DenseSinkhorn.Solve(ComputeDevice.Cpu, DenseGeometry.FromPoints(s, t, 1), null, null, o);
        var geom2 = DenseGeometry.FromPoints(s, t2, 1);
        var cold = DenseSinkhorn.Solve(ComputeDevice.Cpu, geom2, null, null, o);
        var warm = DenseSinkhorn.Solve(ComputeDevice.Cpu, geom2, null, null, o, first.F, first.G);
        Assert.That(cold.Converged && warm.Converged, Is.True);
        Assert.That(warm.Iterations, Is.LessThan(cold.Iterations * 3 / 4), $"warm {warm.Iterations} vs cold {cold.Iterations}");
        Close.All(cold.Plan!, warm.Plan!, 1e-10, 1e-5, "same fixed point");
    }

    [Test]
    public void SolverLoop_NotConverged_ReportsIt()
    {
        var s = Close.RandomNormal(50, 41);
        var t = Close.RandomNormal(50, 42);
        var r = DenseSinkhorn.Solve(ComputeDevice.Cpu, DenseGeometry.FromPoints(s, t, 1), null, null,
            new SinkhornOptions { Gamma = 0.001, MaxIter = 3, Tol = 1e-12, Kernel = DenseKernel.Stored });
        Assert.That(r.Converged, Is.False);
        Assert.That(r.Iterations, Is.EqualTo(3));
        Assert.That(r.MarginalError, Is.GreaterThan(1e-12));
    }
}
