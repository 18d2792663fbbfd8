using Glass.Kernels.Chebyshev;
using Glass.Kernels.Device;
using Glass.Tests.Support;
using ILGPU;
using ILGPU.Runtime;
using NUnit.Framework;

namespace Glass.Tests.Kernels.Chebyshev;

/// <summary>The float32 ILGPU kernels against the double CPU implementation (small sizes: the CPU accelerator emulates GPU threads).</summary>
[TestFixtureSource(typeof(Devices), nameof(Devices.Accelerated))]
public class HeatKernelDeviceTests(string deviceName)
{
    private ComputeDevice Device => Devices.Get(deviceName);

    [TestCase(37, 3, 1.0, 10)]
    [TestCase(41, 7, 5.0, 20)]
    [TestCase(23, 1, 0.2, 1)]
    public void ApplyMatchesCpu(int n, int p, double tau, int degree)
    {
        var l = Laplacian.Normalized(TestGraphs.ErdosRenyi(n, 0.12, n));
        double[] v = Close.RandomNormal(n * p, 31);
        double[] cpu = HeatKernel.Apply(ComputeDevice.Cpu, l, v, p, tau, degree);
        double[] gpu = HeatKernel.Apply(Device, l, v, p, tau, degree);
        Close.All(cpu, gpu, 1e-5, 1e-4, $"{deviceName}: heat kernel n={n} p={p} tau={tau} q={degree}");
    }

    [Test]
    public void ShiftedSpmmMatchesCpu()
    {
        const int n = 29, p = 5;
        var l = Laplacian.Normalized(TestGraphs.ErdosRenyi(n, 0.2, 3));
        double[] x = Close.RandomNormal(n * p, 5), expected = new double[n * p];
        HeatKernelCpu.ShiftedSpmm(l, x, expected, p, 1.0);

        var acc = Device.RequireAccelerator();
        var ops = Device.GetKernels(a => new HeatKernelOps(a));
        using var dl = new DeviceCsr(acc, l);
        using var xb = acc.Allocate1D(x.Select(z => (float)z).ToArray());
        using var yb = acc.Allocate1D<float>(n * p);
        ops.ShiftedSpmm(dl, xb.View, yb.View, p, 1f);
        acc.Synchronize();
        Close.All(expected, yb.GetAsArray1D(), 1e-5, 1e-4, $"{deviceName}: (L − I)·X");
    }
}
