using System.Numerics;
using Glass.Kernels.Device;
using Glass.Kernels.Device.LowLevel;
using Glass.Kernels.PointClouds;
using Glass.Kernels.Linalg;
using Glass.Autodiff.Device;
using Glass.Tests.Support;
using ILGPU;
using ILGPU.Runtime;
using NUnit.Framework;

namespace Glass.Tests.Kernels.Device;

/// <summary>
/// Launch limits and 64-bit index arithmetic (<see cref="Launch"/>): the flat-index split at sizes past 2³¹, the clear error for
/// a kernel whose index stays 32-bit, and 1-D launches past CUDA's 65,535-block grid-y limit (run on CUDA in the Gpu category).
/// Nothing here allocates more than a few MB.
/// </summary>
[TestFixture]
public sealed class LaunchTests
{
    // Flat indices of n×m matrices past 2³¹ (46,341² > 2³¹ − 1), against an exact BigInteger split.
    [TestCase(46_341L * 46_341 - 1, 46_341)]
    [TestCase(46_341L * 46_341 + 5, 46_341)]
    [TestCase(200_000L * 200_000 - 1, 200_000)]
    [TestCase((long)int.MaxValue * 3 + 7, 65_536)]
    [TestCase(0L, 1)]
    [TestCase(9_000_000_000_000L + 12_345, 1_000_003)]
    public void RowAndColumnOfLargeFlatIndices(long k, int cols)
    {
        var row = BigInteger.Divide(k, cols);
        var col = BigInteger.Remainder(k, cols);
        Assert.That(Launch.Row(k, cols), Is.EqualTo((long)row), "row");
        Assert.That(Launch.Col(k, cols), Is.EqualTo((int)col), "column");
    }

    [Test]
    public void StrideThreadsAreCappedAndNeverZeroForWork()
    {
        Assert.That(Launch.StrideThreads(1), Is.EqualTo(1));
        Assert.That(Launch.StrideThreads(1000), Is.EqualTo(1000));
        Assert.That(Launch.StrideThreads(200_000L * 200_000), Is.EqualTo(Launch.MaxStrideThreads));
        Assert.That(Launch.StrideThreads(0), Is.EqualTo(0));
    }

    [Test]
    public void CheckedCountNamesTheSizesAndTheLimit()
    {
        Assert.That(Launch.CheckedCount(46_340, 46_340, "x"), Is.EqualTo(46_340 * 46_340));
        var e = Assert.Throws<ArgumentException>(() => Launch.CheckedCount(46_341, 46_341, "transpose"))!;
        Assert.That(e.Message, Does.Contain("transpose").And.Contain("46341×46341").And.Contain("2147488281").And.Contain("2147483647"));
        e = Assert.Throws<ArgumentException>(() => Launch.CheckedCount(long.MaxValue / 2, 4, "huge"))!;
        Assert.That(e.Message, Does.Contain("huge"), "a product that overflows long is caught too");
    }

    [Test]
    public void TensorOpOverTheIndexLimitIsAClearErrorNotAnIlgpuException()
    {
        var acc = Devices.Get("ilgpu-cpu").RequireAccelerator();
        var ops = new TensorOps(acc);
        using var tiny = acc.Allocate1D<float>(1);
        // 50,000² entries: the size is checked before anything is launched or read, so the 1-entry views never matter.
        var e = Assert.Throws<ArgumentException>(() => ops.Transpose(tiny.View, tiny.View, 50_000, 50_000, false))!;
        Assert.That(e.Message, Does.Contain("transpose: 50000×50000").And.Contain("2147483647"));
        e = Assert.Throws<ArgumentException>(() => ops.Binary(tiny.View, tiny.View, tiny.View, new BroadcastShape(60_000, 60_000, 1, 1, 1, 1), BinaryCode.Add))!;
        Assert.That(e.Message, Does.Contain("binary op: 60000×60000"));
    }

    [Test]
    public void GemmWithMoreTilesThanAGridHoldsIsAClearError()
    {
        var acc = Devices.Get("ilgpu-cpu").RequireAccelerator();
        var ops = new MatMulOps(acc, tile: 1);
        using var tiny = acc.Allocate1D<float>(1);
        // Tile 1: 50,000 × 50,000 tiles > 2³¹ − 1 blocks. Checked before the view lengths, so nothing is allocated.
        var e = Assert.Throws<ArgumentException>(() => ops.Gemm(tiny.View, tiny.View, tiny.View, 50_000, 1, 50_000))!;
        Assert.That(e.Message, Does.Contain("GEMM tiles for C 50000×50000").And.Contain("2147483647"));
    }
}

/// <summary>
/// Kernels launched over more rows than CUDA's grid y holds (65,535 blocks): before the 1-D launches these threw on CUDA. On the
/// CPU accelerators they check the flat-index split on long thin shapes.
/// </summary>
[TestFixture]
public sealed class TallLaunchTests
{
    public static IEnumerable<TestCaseData> Cases() => Devices.AcceleratedCases();

    [TestCaseSource(nameof(Cases))]
    public void SquaredEuclideanOverMoreRowsThanGridY(string device)
    {
        const int n = 70_001, m = 3, dim = 2;
        var acc = Devices.Get(device).RequireAccelerator();
        var x = Close.RandomNormal(n * dim, seed: 5);
        var y = Close.RandomNormal(m * dim, seed: 6);
        var expected = new double[n * m];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++)
                for (int t = 0; t < dim; t++) { double e = (float)x[i * dim + t] - (float)y[j * dim + t]; expected[i * m + j] += e * e; }
        using var dx = HostBuffers.Upload(acc, x);
        using var dy = HostBuffers.Upload(acc, y);
        using var dd = HostBuffers.Allocate(acc, (long)n * m);
        new PointCloudOps(acc).SquaredEuclidean(dx.View, dy.View, dd.View, n, m, dim);
        Close.All(expected, HostBuffers.Download(acc, dd), 1e-5, 1e-5, $"{device} d ({n}×{m})");
    }

    [TestCaseSource(nameof(Cases))]
    public void SpMMOverMoreRowsThanGridY(string device)
    {
        // S: n×n with S_i,i = 1 and S_i,(i+1) mod n = 2 (2 entries a row); y = S·x for x n×p.
        const int n = 70_003, p = 2;
        var acc = Devices.Get(device).RequireAccelerator();
        var rowPtr = new int[n + 1];
        var col = new int[2 * n];
        var val = new double[2 * n];
        for (int i = 0; i < n; i++) { rowPtr[i + 1] = 2 * i + 2; col[2 * i] = i; val[2 * i] = 1; col[2 * i + 1] = (i + 1) % n; val[2 * i + 1] = 2; }
        var x = Close.RandomNormal(n * p, seed: 9);
        var expected = new double[n * p];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < p; j++) expected[i * p + j] = (float)x[i * p + j] + 2.0 * (float)x[(i + 1) % n * p + j];
        using var dRow = acc.Allocate1D(rowPtr);
        using var dCol = acc.Allocate1D(col);
        using var dVal = HostBuffers.Upload(acc, val);
        using var dx = HostBuffers.Upload(acc, x);
        using var dy = HostBuffers.Allocate(acc, (long)n * p);
        new TensorOps(acc).SpMM(dRow.View, dCol.View, dVal.View, dx.View, dy.View, n, p, accumulate: false);
        Close.All(expected, HostBuffers.Download(acc, dy), 1e-5, 1e-5, $"{device} S·x ({n}×{p})");
    }

    [TestCaseSource(nameof(Cases))]
    public void GemmOverMoreRowTilesThanGridY(string device)
    {
        // C (n×1) = A (n×2)·B (2×1): ⌈n/16⌉ = 65,626 row tiles on CUDA (16×16 tiles) — more than grid y's 65,535. The CPU
        // accelerator emulates ~1 ms a group, so there a column of 501 row tiles checks the same 1-D tile numbering.
        int n = device == "cuda" ? 1_050_000 : 2_001;
        const int k = 2, m = 1;
        var dev = Devices.Get(device);
        var acc = dev.RequireAccelerator();
        var a = Close.RandomNormal(n * k, seed: 12);
        var b = new[] { 0.5, -2.0 };
        var expected = new double[n];
        for (int i = 0; i < n; i++) expected[i] = (float)a[i * k] * 0.5 + (float)a[i * k + 1] * -2.0;
        using var da = HostBuffers.Upload(acc, a);
        using var db = HostBuffers.Upload(acc, b);
        using var dc = HostBuffers.Allocate(acc, n);
        dev.GetKernels(x => new MatMulOps(x)).Gemm(da.View, db.View, dc.View, n, k, m);
        Close.All(expected, HostBuffers.Download(acc, dc), 1e-5, 1e-5, $"{device} C ({n}×{m})");
    }
}
