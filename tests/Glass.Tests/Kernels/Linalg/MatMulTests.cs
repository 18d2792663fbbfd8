using Glass.Kernels.Device;
using Glass.Kernels.Device.LowLevel;
using Glass.Kernels.Linalg;
using Glass.Tests.Support;
using NUnit.Framework;

namespace Glass.Tests.Kernels.Linalg;

/// <summary>The managed GEMM against a naive triple loop, and bad input.</summary>
[TestFixture]
public sealed class MatMulCpuTests
{
    /// <summary>Independent oracle: C_ij = Σ_p op(A)_ip op(B)_pj, straight from the definition.</summary>
    internal static double[] Naive(double[] a, double[] b, int n, int k, int m, bool transA, bool transB)
    {
        var c = new double[n * m];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++)
                    s += (transA ? a[p * n + i] : a[i * k + p]) * (transB ? b[j * k + p] : b[p * m + j]);
                c[i * m + j] = s;
            }
        return c;
    }

    private static double[] Facade(double[] a, double[] b, int n, int k, int m, bool transA, bool transB) =>
        (transA, transB) switch
        {
            (false, false) => MatMul.Multiply(ComputeDevice.Cpu, a, b, n, k, m),
            (true, false) => MatMul.MultiplyTransposedA(ComputeDevice.Cpu, a, b, n, k, m),
            (false, true) => MatMul.MultiplyTransposedB(ComputeDevice.Cpu, a, b, n, k, m),
            _ => throw new ArgumentException("no Aᵀ·Bᵀ facade"),
        };

    // Sizes: odd everywhere; 70 rows = two row blocks (64 + 6) on 2 cores; 300 > Kc = 256 depth block; 1×1×1; m < and > the NR micro-panel.
    [TestCase(37, 29, 13, false, false)]
    [TestCase(37, 29, 13, true, false)]
    [TestCase(37, 29, 13, false, true)]
    [TestCase(70, 300, 19, false, false)]
    [TestCase(70, 300, 19, true, false)]
    [TestCase(70, 300, 19, false, true)]
    [TestCase(1, 1, 1, false, false)]
    [TestCase(5, 3, 2, true, false)]
    [TestCase(130, 17, 67, false, true)]
    public void MatchesNaiveTripleLoop(int n, int k, int m, bool transA, bool transB)
    {
        var a = Close.RandomNormal(n * k, seed: 11 + n);
        var b = Close.RandomNormal(k * m, seed: 23 + m);
        var expected = Naive(a, b, n, k, m, transA, transB);
        Close.All(expected, Facade(a, b, n, k, m, transA, transB), 1e-12, 1e-12, $"C {n}×{k}×{m} tA={transA} tB={transB}");
    }

    // The AVX-512 path (where the CPU has it): 8×16 tiles, computed aside and written in part at the row and column
    // edges. 75 rows = 9 full 8-row tiles + a 3-row edge (4-row tiles elsewhere); 50 columns = 3 full 16-wide panels
    // + a 2-column edge; depth 300 crosses the 256 depth block.
    [TestCase(75, 300, 50, false, false)]
    [TestCase(75, 300, 50, true, false)]
    [TestCase(75, 300, 50, false, true)]
    [TestCase(16, 8, 32, false, false)]
    public void WideTilesMatchNaiveTripleLoop(int n, int k, int m, bool transA, bool transB)
    {
        var a = Close.RandomNormal(n * k, seed: 31 + n);
        var b = Close.RandomNormal(k * m, seed: 37 + m);
        var c = Close.RandomNormal(n * m, seed: 41);
        var c0 = (double[])c.Clone();
        MatMulCpu.Gemm(a, b, c, n, k, m, transA, transB, accumulate: true);
        var prod = Naive(a, b, n, k, m, transA, transB);
        var expected = new double[n * m];
        for (int i = 0; i < expected.Length; i++) expected[i] = c0[i] + prod[i];
        Close.All(expected, c, 1e-12, 1e-12, $"C += op(A)·op(B) {n}×{k}×{m} tA={transA} tB={transB}");
    }

    // The work split and the first-depth-block store. Without accumulate C starts as NaN, so every entry must be
    // overwritten, never added to. On 2 cores: 1100 rows = 8 row blocks of 144 (the last 92 rows end in a 4-row edge
    // tile); 397 rows = 6 row blocks of 64 + one of 13 ending in a 5-row edge tile; depth 530 = two 256 blocks
    // + 18; 45 columns = two 16-wide panels + a 13-column edge. 20×730×300: one row block in 4 column groups.
    [TestCase(1100, 40, 20, false, false, false)]
    [TestCase(1100, 40, 20, true, true, true)]
    [TestCase(397, 530, 45, false, false, false)]
    [TestCase(397, 530, 45, true, false, false)]
    [TestCase(397, 530, 45, false, true, true)]
    [TestCase(20, 730, 300, false, false, false)]
    [TestCase(20, 730, 300, true, true, true)]
    [TestCase(20, 730, 300, false, true, false)]
    public void EveryBlockAndColumnGroupMatchesNaive(int n, int k, int m, bool transA, bool transB, bool accumulate)
    {
        var a = Close.RandomNormal(n * k, seed: 51 + n);
        var b = Close.RandomNormal(k * m, seed: 53 + m);
        var c0 = Close.RandomNormal(n * m, seed: 57);
        var c = accumulate ? (double[])c0.Clone() : Enumerable.Repeat(double.NaN, n * m).ToArray();
        MatMulCpu.Gemm(a, b, c, n, k, m, transA, transB, accumulate);
        var expected = Naive(a, b, n, k, m, transA, transB);
        if (accumulate)
            for (int i = 0; i < expected.Length; i++) expected[i] += c0[i];
        // Sums of up to 730 products of N(0,1) entries, reassociated by depth block: rounding ≲ 1e-12 absolute.
        Close.All(expected, c, 1e-10, 1e-12, $"C {(accumulate ? "+" : "")}= op(A)·op(B) {n}×{k}×{m} tA={transA} tB={transB}");
    }

    [Test]
    public void BothTransposedAndAccumulateInternal()
    {
        const int n = 9, k = 11, m = 10;
        var a = Close.RandomNormal(k * n, seed: 5);
        var b = Close.RandomNormal(m * k, seed: 6);
        var c0 = Close.RandomNormal(n * m, seed: 7);
        var c = (double[])c0.Clone();
        MatMulCpu.Gemm(a, b, c, n, k, m, transA: true, transB: true, accumulate: true);
        var prod = Naive(a, b, n, k, m, true, true);
        var expected = new double[n * m];
        for (int i = 0; i < expected.Length; i++) expected[i] = c0[i] + prod[i];
        Close.All(expected, c, 1e-12, 1e-12, "C += Aᵀ·Bᵀ");
    }

    [Test]
    public void IdentityLeavesMatrixUnchanged()
    {
        const int n = 13, m = 21;
        var eye = new double[n * n];
        for (int i = 0; i < n; i++) eye[i * n + i] = 1;
        var b = Close.RandomNormal(n * m, seed: 3);
        var c = MatMul.Multiply(ComputeDevice.Cpu, eye, b, n, n, m);
        Assert.That(c, Is.EqualTo(b));
    }

    [Test]
    public void NaNEntryIsRejectedNamingTheArgument()
    {
        var a = Close.RandomNormal(6, seed: 1);
        var b = Close.RandomNormal(6, seed: 2);
        b[4] = double.NaN;
        var e = Assert.Throws<ArgumentException>(() => MatMul.Multiply(ComputeDevice.Cpu, a, b, 2, 3, 2))!;
        Assert.That(e.ParamName, Is.EqualTo("b"));
        Assert.That(e.Message, Does.Contain("b[4]"));
    }

    [Test]
    public void MismatchedLengthIsRejectedNamingTheArgument()
    {
        var a = new double[2 * 3];
        var b = new double[4 * 2];
        var e = Assert.Throws<ArgumentException>(() => MatMul.Multiply(ComputeDevice.Cpu, a, b, 2, 3, 2))!;
        Assert.That(e.ParamName, Is.EqualTo("b"));
        Assert.That(e.Message, Does.Contain("length 8").And.Contain("expected 6"));
        var e2 = Assert.Throws<ArgumentException>(() => MatMul.MultiplyTransposedA(ComputeDevice.Cpu, new double[5], new double[6], 2, 3, 2))!;
        Assert.That(e2.ParamName, Is.EqualTo("a"));
    }

    [Test]
    public void NonPositiveDimensionIsRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => MatMul.Multiply(ComputeDevice.Cpu, new double[1], new double[1], 1, 0, 1))!;
        Assert.That(e.ParamName, Is.EqualTo("k"));
    }
}

/// <summary>The tiled ILGPU kernel against the managed GEMM, on each accelerator.</summary>
[TestFixtureSource(typeof(Devices), nameof(Devices.Accelerated))]
public sealed class MatMulKernelTests
{
    private readonly string _deviceName;
    private ComputeDevice _device = null!;

    public MatMulKernelTests(string deviceName) => _deviceName = deviceName;

    [OneTimeSetUp]
    public void Open() => _device = Devices.Get(_deviceName);

    [TestCase(37, 29, 13, false, false)]
    [TestCase(37, 29, 13, true, false)]
    [TestCase(37, 29, 13, false, true)]
    [TestCase(1, 1, 1, false, false)]
    [TestCase(3, 40, 5, true, false)]
    public void FacadeMatchesCpuReference(int n, int k, int m, bool transA, bool transB)
    {
        var a = Close.RandomNormal(n * k, seed: 100 + k);
        var b = Close.RandomNormal(k * m, seed: 200 + m);
        var expected = MatMulCpuTests.Naive(a, b, n, k, m, transA, transB);
        double[] actual = (transA, transB) switch
        {
            (false, false) => MatMul.Multiply(_device, a, b, n, k, m),
            (true, false) => MatMul.MultiplyTransposedA(_device, a, b, n, k, m),
            _ => MatMul.MultiplyTransposedB(_device, a, b, n, k, m),
        };
        // float32 products of N(0,1) entries summed over k ≤ 40 terms: error ≲ k·2⁻²⁴·Σ|a||b| ≈ 1e-5.
        Close.All(expected, actual, 1e-4, 1e-4, $"{_deviceName} C {n}×{k}×{m} tA={transA} tB={transB}");
    }

    // Tile 3 does not divide any size and exercises the partial tiles; tile 1 degenerates to one thread per group.
    [TestCase(3, true, true, true)]
    [TestCase(3, false, false, false)]
    [TestCase(1, true, false, true)]
    public void OpsWithExplicitTileAndAccumulate(int tile, bool transA, bool transB, bool accumulate)
    {
        const int n = 11, k = 7, m = 8;
        var acc = _device.RequireAccelerator();
        var ops = new MatMulOps(acc, tile);
        var a = Close.RandomNormal(n * k, seed: 31);
        var b = Close.RandomNormal(k * m, seed: 32);
        var c0 = Close.RandomNormal(n * m, seed: 33);
        var expected = (double[])c0.Clone();
        MatMulCpu.Gemm(a, b, expected, n, k, m, transA, transB, accumulate);

        using var da = HostBuffers.Upload(acc, a);
        using var db = HostBuffers.Upload(acc, b);
        using var dc = HostBuffers.Upload(acc, c0);
        ops.Gemm(da.View, db.View, dc.View, n, k, m, transA, transB, accumulate);
        Close.All(expected, HostBuffers.Download(acc, dc), 1e-4, 1e-4, $"{_deviceName} tile {tile}");
    }
}
