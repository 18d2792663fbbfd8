using Glass.Kernels.Device;
using Glass.Kernels.Device.LowLevel;
using Glass.Kernels.Linalg;
using Glass.Kernels.Sinkhorn;
using Glass.Tests.Kernels.Linalg;
using Glass.Tests.Support;
using NUnit.Framework;

namespace Glass.Tests.Kernels.Device;

/// <summary>
/// The kernels at CUDA's launch shapes. ILGPU's default CPU accelerator has 16 threads per group, so the row kernels run
/// 16-thread groups and GEMM 4×4 tiles there, while CUDA runs 128 and 16×16: the multi-block column loops, the partial last
/// block and the barriers between blocks were never run in CI. <see cref="Devices.CudaShaped"/> is the CPU accelerator with
/// 256 threads per group, so kernels pick CUDA's sizes; the sizes here span several 128-column blocks or 16×16 tiles and end in
/// a partial one. It emulates a 256-thread group in ~70 ms on two cores, so its cases stay at a few dozen groups; the same
/// cases, and a dense Sinkhorn at 450×383, run on CUDA in the Gpu category.
/// </summary>
[TestFixture]
public sealed class CudaShapedTests
{
    public static IEnumerable<TestCaseData> Shaped()
    {
        yield return new TestCaseData(Devices.CudaShaped);
        yield return new TestCaseData("cuda").SetCategory("Gpu");
    }

    [Test]
    public void TheHookGivesCudaGroupSizesAndTheDefaultKeepsItsOwn()
    {
        var shaped = Devices.Get(Devices.CudaShaped).RequireAccelerator();
        Assert.That(Launch.RowGroup(shaped, 256), Is.EqualTo(128), "row group on the CUDA-shaped accelerator");
        Assert.That(new MatMulOps(shaped).Tile, Is.EqualTo(16), "GEMM tile on the CUDA-shaped accelerator");
        var plain = Devices.Get("ilgpu-cpu").RequireAccelerator();
        Assert.That(Launch.RowGroup(plain, 256), Is.EqualTo(16), "row group on the default CPU accelerator");
        Assert.That(new MatMulOps(plain).Tile, Is.EqualTo(4), "GEMM tile on the default CPU accelerator");
    }

    [TestCaseSource(nameof(Shaped))]
    public void GemmOverSeveralFullAndPartialTiles(string device)
    {
        const int n = 53, k = 37, m = 45; // 4×3 tiles of 16, the last row and column of tiles partial; k spans 3 tile steps
        var dev = Devices.Get(device);
        var a = Close.RandomNormal(n * k, seed: 41);
        var b = Close.RandomNormal(k * m, seed: 42);
        var expected = MatMulCpuTests.Naive(a, b, n, k, m, false, false);
        Close.All(expected, MatMul.Multiply(dev, a, b, n, k, m), 1e-4, 1e-4, $"{device} C {n}×{k}×{m}");
        // Aᵀ-stored: the transposed tile loads.
        var at = new double[k * n];
        for (int i = 0; i < n; i++) for (int p = 0; p < k; p++) at[p * n + i] = a[i * k + p];
        Close.All(expected, MatMul.MultiplyTransposedA(dev, at, b, n, k, m), 1e-4, 1e-4, $"{device} Aᵀ C {n}×{k}×{m}");
    }

    // CUDA only: the CUDA-shaped CPU accelerator emulates ~70 ms per 256-thread group, too slow for n + m groups per iteration.
    [Test, Category("Gpu")]
    public void DenseSinkhornFromPointsOverSeveralColumnBlocks([Values("cuda")] string device)
    {
        // 12 iterations without a tolerance: the same iterates on both paths (the device computes float32 costs from the points).
        const int n = 450, m = 383, d = 3;
        var x = Close.RandomNormal(n * d, seed: 51);
        var y = Close.RandomNormal(m * d, seed: 52, 1.2);
        var geom = DenseGeometry.FromPoints(x, y, d);
        var o = new SinkhornOptions { Gamma = 0.5, MaxIter = 12, Tol = 0, CheckEvery = 5, Overrelax = false };
        var cpu = DenseSinkhorn.Solve(ComputeDevice.Cpu, geom, null, null, o);
        var dev = DenseSinkhorn.Solve(Devices.Get(device), geom, null, null, o);
        Assert.That(dev.Iterations, Is.EqualTo(12));
        Close.All(cpu.F, dev.F, 1e-5, 1e-5, $"{device} f after 12 iterations");
        Close.All(cpu.G, dev.G, 1e-5, 1e-5, $"{device} g after 12 iterations");
        Close.Scalar(cpu.MarginalError, dev.MarginalError, 1e-9, 1e-3, "marginal error");
    }

    [TestCaseSource(nameof(Shaped))]
    public void PlanRowsOverSeveralColumnBlocks(string device)
    {
        const int n = 13, m = 421, d = 3, k = 5, q = 2; // 4 blocks of 128 columns, the last partial
        var x = Close.RandomNormal(n * d, seed: 61);
        var y = Close.RandomNormal(m * d, seed: 62);
        var geom = DenseGeometry.FromPoints(x, y, d);
        var f = Close.RandomUniform(n, 63, -0.2, 0.2);
        var g = Close.RandomUniform(m, 64, -0.2, 0.2);
        var z = Close.RandomNormal(m * q, seed: 65);
        var cpu = PlanRows.Summarize(ComputeDevice.Cpu, geom, f, g, 0.7, k, z, q);
        var dev = PlanRows.Summarize(Devices.Get(device), geom, f, g, 0.7, k, z, q);
        Assert.That(dev.TopKIndex, Is.EqualTo(cpu.TopKIndex), $"{device} top-{k} columns");
        Close.All(cpu.TopKValue, dev.TopKValue, 1e-12, 1e-9, $"{device} top-{k} values");
        Close.All(cpu.RowSum, dev.RowSum, 1e-12, 1e-9, $"{device} row sums");
        Close.All(cpu.Projection, dev.Projection, 1e-9, 1e-9, $"{device} projections");
    }
}
