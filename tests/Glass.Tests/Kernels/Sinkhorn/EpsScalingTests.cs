using Glass.Kernels.Device;
using Glass.Kernels.Sinkhorn;
using Glass.Tests.Support;
using NUnit.Framework;

namespace Glass.Tests.Kernels.Sinkhorn;

/// <summary>ε-scaling (γ annealed down to the target, warm-started): same converged problem as one cold solve.</summary>
public class EpsScalingTests
{
    private static SinkhornOptions Opt(double gamma, EpsScaling e, DenseKernel kernel = DenseKernel.Online) =>
        new() { Gamma = gamma, MaxIter = 100_000, Tol = 1e-10, ReturnPlan = true, Kernel = kernel, EpsScaling = e };

    private static (double[] S, double[] T) Shifted(int n, int m, double shift)
    {
        var s = Close.RandomNormal(n, 11);
        var t = Close.RandomNormal(m, 12).Select(x => x + shift).ToArray();
        return (s, t);
    }

    [TestCase(DenseKernel.Online)]
    [TestCase(DenseKernel.Stored)]
    public void Dense_Scaled_EqualsCold_PlanPotentials(DenseKernel kernel)
    {
        var (s, t) = Shifted(48, 40, 2.0);
        var geom = DenseGeometry.FromPoints(s, t, 1);
        var cold = DenseSinkhorn.Solve(ComputeDevice.Cpu, geom, null, null, Opt(0.01, EpsScaling.Off, kernel));
        var hot = DenseSinkhorn.Solve(ComputeDevice.Cpu, geom, null, null, Opt(0.01, EpsScaling.On, kernel));
        Assert.That(cold.Converged && hot.Converged, Is.True, $"errors {cold.MarginalError}, {hot.MarginalError}");
        Assert.That(EpsSchedule.Gammas(0.01, EpsSchedule.Spread(geom)), Is.Not.Empty, "the schedule has coarse stages here");
        Close.All(cold.Plan!, hot.Plan!, 1e-9, 0, "plan, scaled vs cold");
        double k = cold.F[0] - hot.F[0];
        Close.All(cold.F, hot.F.Select(x => x + k).ToArray(), 1e-6, 0, "f (up to a constant)");
        Close.All(cold.G, hot.G.Select(x => x - k).ToArray(), 1e-6, 0, "g (up to a constant)");
        Close.Scalar(cold.Cost, hot.Cost, 0, 1e-7, "cost");
    }

    [Test]
    public void Banded_Scaled_EqualsCold_Plan()
    {
        var (s, t) = Shifted(120, 100, 1.0);
        var band = new BandOptions { BandEps = 1e-12, Refinements = 0 };
        var cold = BandedSinkhorn.Solve(ComputeDevice.Cpu, s, t, null, null, Opt(0.005, EpsScaling.Off), band);
        var hot = BandedSinkhorn.Solve(ComputeDevice.Cpu, s, t, null, null, Opt(0.005, EpsScaling.On), band);
        Assert.That(cold.Converged && hot.Converged, Is.True, $"errors {cold.MarginalError}, {hot.MarginalError}");
        Assert.That(hot.Plan.ColIdx, Is.EqualTo(cold.Plan.ColIdx), "same band at the target γ");
        Close.All(cold.Plan.Values, hot.Plan.Values, 1e-9, 0, "banded plan, scaled vs cold");
        Close.Scalar(cold.Cost, hot.Cost, 0, 1e-7, "cost");
    }

    [Test]
    public void Dense_Scaled_FewerIterations_WhenMassTravelsFar()
    {
        // Far-shifted clouds at small γ: a cold start spends most iterations moving the potentials; the schedule does not.
        // Plain iterations on both sides isolate the schedule's effect (over-relaxation alone also shortens the cold run:
        // 351 iterations against the schedule's 449 here).
        var (s, t) = Shifted(48, 40, 4.0);
        var geom = DenseGeometry.FromPoints(s, t, 1);
        var cold = DenseSinkhorn.Solve(ComputeDevice.Cpu, geom, null, null, Opt(0.01, EpsScaling.Off) with { Tol = 1e-6, Overrelax = false });
        var hot = DenseSinkhorn.Solve(ComputeDevice.Cpu, geom, null, null, Opt(0.01, EpsScaling.On) with { Tol = 1e-6, Overrelax = false });
        Assert.That(cold.Converged && hot.Converged, Is.True);
        Assert.That(hot.Iterations, Is.LessThan(cold.Iterations), $"scaled {hot.Iterations} (total over stages) vs cold {cold.Iterations}");
    }

    [Test]
    public void Scaled_NonConvergence_IsReported_WithinMaxIter()
    {
        var (s, t) = Shifted(48, 40, 2.0);
        var o = Opt(0.002, EpsScaling.On) with { MaxIter = 30 };
        var d = DenseSinkhorn.Solve(ComputeDevice.Cpu, DenseGeometry.FromPoints(s, t, 1), null, null, o);
        Assert.That(d.Converged, Is.False);
        Assert.That(d.Iterations, Is.LessThanOrEqualTo(30), "MaxIter caps the total over the stages");
        var b = BandedSinkhorn.Solve(ComputeDevice.Cpu, s, t, null, null, o);
        Assert.That(b.Converged, Is.False);
        Assert.That(b.Iterations, Is.LessThanOrEqualTo(30));
    }

    [Test]
    public void Off_IsTheDefault_AndUnknownValueIsRejected()
    {
        Assert.That(new SinkhornOptions { Gamma = 0.1 }.EpsScaling, Is.EqualTo(EpsScaling.Off));
        var ex = Assert.Throws<ArgumentException>(() => DenseSinkhorn.Solve(ComputeDevice.Cpu, DenseGeometry.FromPoints([0.0, 1], [0.5], 1),
            null, null, new SinkhornOptions { Gamma = 0.1, EpsScaling = (EpsScaling)7 }));
        Assert.That(ex!.Message, Does.Contain("EpsScaling"));
    }
}
