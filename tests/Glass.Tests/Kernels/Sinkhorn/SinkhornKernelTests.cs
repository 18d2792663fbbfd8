using Glass.Kernels.Device;
using Glass.Kernels.Sinkhorn;
using Glass.Tests.Support;
using NUnit.Framework;

namespace Glass.Tests.Kernels.Sinkhorn;

/// <summary>Every Sinkhorn kernel on an ILGPU accelerator against the managed CPU implementation.</summary>
[TestFixtureSource(typeof(Devices), nameof(Devices.Accelerated))]
public class SinkhornKernelTests
{
    private readonly string _deviceName;
    public SinkhornKernelTests(string deviceName) => _deviceName = deviceName;
    private ComputeDevice Dev => Devices.Get(_deviceName);

    private static double[] Weights(int n, int seed)
    {
        var w = Close.RandomUniform(n, seed, 0.5, 1.5);
        double s = w.Sum();
        return w.Select(x => x / s).ToArray();
    }

    // The ILGPU CPU accelerator emulates group barriers slowly: dense kernels are compared over a
    // fixed number of iterations (same iterates on both paths) and once to convergence at large γ.
    [TestCase(37, 29, 0.05)]
    [TestCase(37, 29, 0.01)]
    public void DenseCostMatrix_SameIterates_AsCpu(int n, int m, double gamma)
    {
        var x = Close.RandomNormal(n, 1);
        var y = Close.RandomNormal(m, 2, 1.3);
        var c = new double[n * m];
        for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) c[i * m + j] = Math.Abs(x[i] - y[j]);
        var a = Weights(n, 3);
        var b = Weights(m, 4);
        var o = new SinkhornOptions { Gamma = gamma, MaxIter = 12, Tol = 0, CheckEvery = 5, ReturnPlan = true, Overrelax = false };
        var g = DenseGeometry.FromCostMatrix(c, n, m);
        var cpu = DenseSinkhorn.Solve(ComputeDevice.Cpu, g, a, b, o);
        var dev = DenseSinkhorn.Solve(Dev, g, a, b, o);
        Assert.That(dev.Iterations, Is.EqualTo(12));
        Assert.That(dev.Converged, Is.False);
        Close.All(cpu.Plan!, dev.Plan!, 1e-8, 1e-4, "plan after 12 iterations");
        Close.All(cpu.F, dev.F, 1e-6 * gamma, 1e-5, "f after 12 iterations");
        Close.Scalar(cpu.MarginalError, dev.MarginalError, 1e-9, 1e-3, "marginal error");
        Close.Scalar(cpu.Cost, dev.Cost, 1e-9, 1e-5, "cost");
        Close.Scalar(cpu.Entropy, dev.Entropy, 1e-9, 1e-5, "entropy");
    }

    [Test]
    public void DenseCostMatrix_Converged_MatchesCpu()
    {
        int n = 19, m = 23;
        var c = new double[n * m];
        var x = Close.RandomUniform(n, 31);
        var y = Close.RandomUniform(m, 32);
        for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) c[i * m + j] = (x[i] - y[j]) * (x[i] - y[j]);
        var o = new SinkhornOptions { Gamma = 0.2, MaxIter = 500, Tol = 1e-8, ReturnPlan = true };
        var g = DenseGeometry.FromCostMatrix(c, n, m);
        var cpu = DenseSinkhorn.Solve(ComputeDevice.Cpu, g, null, null, o);
        var dev = DenseSinkhorn.Solve(Dev, g, null, null, o);
        Assert.That(cpu.Converged && dev.Converged, Is.True, $"cpu {cpu.MarginalError}, device {dev.MarginalError}");
        Close.All(cpu.Plan!, dev.Plan!, 1e-8, 1e-4, "plan");
        Close.Scalar(cpu.Cost, dev.Cost, 1e-9, 1e-5, "cost");
    }

    [Test]
    public void DensePoints_MatchesCpu()
    {
        int n = 31, m = 23, d = 3;
        var x = Close.RandomNormal(n * d, 5);
        var y = Close.RandomNormal(m * d, 6);
        var o = new SinkhornOptions { Gamma = 2.0, MaxIter = 500, Tol = 1e-7, ReturnPlan = true };
        var g = DenseGeometry.FromPoints(x, y, d);
        var cpu = DenseSinkhorn.Solve(ComputeDevice.Cpu, g, null, null, o);
        var dev = DenseSinkhorn.Solve(Dev, g, null, null, o);
        Assert.That(dev.Converged, Is.True);
        Close.All(cpu.Plan!, dev.Plan!, 1e-7, 1e-4, "plan");
        Close.Scalar(cpu.Cost, dev.Cost, 1e-9, 1e-5, "cost");
    }

    // The point-cloud kernels tile: groups of 8 rows, tiles of one column per thread (16 on the CPU accelerator) and 8
    // coordinates. n = 37 and m = 333 are not multiples of either, so both passes have several row blocks and tiles and
    // a partial last one; d = 3 is one partial chunk of coordinates, d = 16 two full ones, d = 19 three.
    [TestCase(37, 333, 3, 0.5)]
    [TestCase(37, 333, 16, 2.0)]
    [TestCase(19, 301, 19, 4.0)]
    public void DensePoints_Tiled_SameIterates_AsCpu(int n, int m, int d, double gamma)
    {
        var x = Close.RandomNormal(n * d, 40 + d);
        var y = Close.RandomNormal(m * d, 41 + d, 1.2);
        var a = Weights(n, 42);
        var b = Weights(m, 43);
        var o = new SinkhornOptions { Gamma = gamma, MaxIter = 6, Tol = 0, CheckEvery = 5, ReturnPlan = true, Overrelax = false };
        var g = DenseGeometry.FromPoints(x, y, d);
        var cpu = DenseSinkhorn.Solve(ComputeDevice.Cpu, g, a, b, o);
        var dev = DenseSinkhorn.Solve(Dev, g, a, b, o);
        Assert.That(dev.Iterations, Is.EqualTo(6));
        // Float points (rounded on upload) perturb C_ij by ~1e-7·|C|, so P by ~1e-7·|C|/γ relatively.
        Close.All(cpu.F, dev.F, 1e-5 * gamma, 1e-5, "f after 6 iterations");
        Close.All(cpu.G, dev.G, 1e-5 * gamma, 1e-5, "g after 6 iterations");
        Close.All(cpu.Plan!, dev.Plan!, 1e-9, 1e-4, "plan after 6 iterations");
        Close.Scalar(cpu.MarginalError, dev.MarginalError, 1e-9, 1e-3, "marginal error");
        Close.Scalar(cpu.Cost, dev.Cost, 1e-9, 1e-5, "cost");
        Close.Scalar(cpu.Entropy, dev.Entropy, 1e-9, 1e-5, "entropy");
    }

    [TestCase(53, 41, 0.02, 1e-6)]
    [TestCase(64, 64, 0.005, 1e-8)]
    public void Banded_MatchesCpu(int n, int m, double gamma, double eps)
    {
        var s = Close.RandomNormal(n, 7);
        var t = Close.RandomNormal(m, 8, 0.8);
        var a = Weights(n, 9);
        var o = new SinkhornOptions { Gamma = gamma, MaxIter = 5000, Tol = 1e-8 };
        var band = new BandOptions { BandEps = eps };
        var cpu = BandedSinkhorn.Solve(ComputeDevice.Cpu, s, t, a, null, o, band);
        var dev = BandedSinkhorn.Solve(Dev, s, t, a, null, o, band);
        Assert.That(cpu.Converged && dev.Converged, Is.True, $"cpu {cpu.MarginalError}, device {dev.MarginalError}");
        Assert.That(dev.Nnz, Is.EqualTo(cpu.Nnz), "same band");
        Assert.That(dev.Plan.RowPtr, Is.EqualTo(cpu.Plan.RowPtr));
        Assert.That(dev.Plan.ColIdx, Is.EqualTo(cpu.Plan.ColIdx));
        Close.All(cpu.Plan.Values, dev.Plan.Values, 1e-8, 1e-4, "plan values");
        Close.Scalar(cpu.Cost, dev.Cost, 1e-10, 1e-5, "cost");
        Close.Scalar(cpu.Entropy, dev.Entropy, 1e-10, 1e-5, "entropy");
    }
}
