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

    [TestCase(37, 29, 0.05, false)]
    [TestCase(37, 29, 0.01, true)]
    public void DenseCostMatrix_MatchesCpu(int n, int m, double gamma, bool overrelax)
    {
        var x = Close.RandomNormal(n, 1);
        var y = Close.RandomNormal(m, 2, 1.3);
        var c = new double[n * m];
        for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) c[i * m + j] = Math.Abs(x[i] - y[j]);
        var a = Weights(n, 3);
        var b = Weights(m, 4);
        var o = new SinkhornOptions { Gamma = gamma, MaxIter = 2000, Tol = 1e-7, ReturnPlan = true, Overrelax = overrelax };
        var g = DenseGeometry.FromCostMatrix(c, n, m);
        var cpu = DenseSinkhorn.Solve(ComputeDevice.Cpu, g, a, b, o);
        var dev = DenseSinkhorn.Solve(Dev, g, a, b, o);
        Assert.That(cpu.Converged && dev.Converged, Is.True, $"cpu {cpu.MarginalError}, device {dev.MarginalError}");
        Close.All(cpu.Plan!, dev.Plan!, 1e-7, 1e-4, "plan");
        Close.Scalar(cpu.Cost, dev.Cost, 1e-9, 1e-5, "cost");
        Close.Scalar(cpu.Entropy, dev.Entropy, 1e-9, 1e-5, "entropy");
        if (!overrelax) Assert.That(dev.Iterations, Is.EqualTo(cpu.Iterations).Within(10));
    }

    [Test]
    public void DensePoints_MatchesCpu()
    {
        int n = 31, m = 23, d = 3;
        var x = Close.RandomNormal(n * d, 5);
        var y = Close.RandomNormal(m * d, 6);
        var o = new SinkhornOptions { Gamma = 0.5, MaxIter = 2000, Tol = 1e-7, ReturnPlan = true };
        var g = DenseGeometry.FromPoints(x, y, d);
        var cpu = DenseSinkhorn.Solve(ComputeDevice.Cpu, g, null, null, o);
        var dev = DenseSinkhorn.Solve(Dev, g, null, null, o);
        Assert.That(dev.Converged, Is.True);
        Close.All(cpu.Plan!, dev.Plan!, 1e-7, 1e-4, "plan");
        Close.Scalar(cpu.Cost, dev.Cost, 1e-9, 1e-5, "cost");
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
