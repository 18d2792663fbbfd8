using Glass.Kernels.Device;
using Glass.Kernels.PointClouds;
using Glass.Tests.Support;
using NUnit.Framework;

namespace Glass.Tests.Kernels.PointClouds;

/// <summary>The managed pairwise distances against closed forms, their invariants, and bad input.</summary>
[TestFixture]
public sealed class PairwiseDistancesCpuTests
{
    private static readonly ComputeDevice Cpu = ComputeDevice.Cpu;

    [Test]
    public void GeodesicMatchesArccosClosedForm()
    {
        const int n = 37, m = 29;
        var x = SpherePoints.Random(n, seed: 1);
        var y = SpherePoints.Random(m, seed: 2);
        var expected = new double[n * m];
        var expectedSq = new double[n * m];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++)
            {
                expected[i * m + j] = Math.Acos(Math.Clamp(SpherePoints.Dot(x, i, y, j), -1, 1));
                expectedSq[i * m + j] = expected[i * m + j] * expected[i * m + j];
            }
        // arccos loses √ε only at θ ≈ 0, π, which random pairs avoid.
        Close.All(expected, PairwiseDistances.Geodesic(Cpu, x, y), 1e-9, 1e-9, "D");
        Close.All(expectedSq, PairwiseDistances.GeodesicSquared(Cpu, x, y), 1e-9, 1e-9, "D²");
    }

    [Test]
    public void GeodesicSelfDistancesAreSymmetricBoundedWithZeroDiagonal()
    {
        const int n = 31;
        var x = SpherePoints.Random(n, seed: 3);
        // Two antipodal pairs to touch the upper bound π.
        for (int t = 0; t < 3; t++) x[3 + t] = -x[t];
        var d = PairwiseDistances.Geodesic(Cpu, x, x);
        for (int i = 0; i < n; i++)
        {
            Assert.That(d[i * n + i], Is.EqualTo(0.0), $"D[{i},{i}]");
            for (int j = 0; j < n; j++)
            {
                Assert.That(d[i * n + j], Is.InRange(0.0, Math.PI), $"D[{i},{j}]");
                Assert.That(d[i * n + j], Is.EqualTo(d[j * n + i]), $"D[{i},{j}] = D[{j},{i}]");
            }
        }
        Assert.That(d[1], Is.EqualTo(Math.PI).Within(1e-15), "antipodal pair");
    }

    [Test]
    public void GeodesicIsAccurateForNearlyCoincidentPoints()
    {
        // θ = 1e-9: the arccos form gives 0 (cos θ rounds to 1); atan2(‖x × y‖, ⟨x, y⟩) keeps it.
        var x = new[] { 0.6, 0.0, 0.8 };
        var y = new[] { 0.6 * Math.Cos(1e-9) + 0.8 * Math.Sin(1e-9), 0.0, 0.8 * Math.Cos(1e-9) - 0.6 * Math.Sin(1e-9) };
        Close.Scalar(1e-9, PairwiseDistances.Geodesic(Cpu, x, y)[0], 0, 1e-6, "D at θ = 1e-9");
    }

    [TestCase(3)]
    [TestCase(13)] // ≥ 2 SIMD widths: vector path plus scalar tail
    [TestCase(1)]
    public void SquaredEuclideanMatchesExpandedClosedForm(int dim)
    {
        const int n = 37, m = 29;
        var x = Close.RandomNormal(n * dim, seed: 4);
        var y = Close.RandomNormal(m * dim, seed: 5);
        var expected = new double[n * m];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++)
            {
                double xx = 0, yy = 0, xy = 0;
                for (int t = 0; t < dim; t++)
                {
                    xx += x[i * dim + t] * x[i * dim + t];
                    yy += y[j * dim + t] * y[j * dim + t];
                    xy += x[i * dim + t] * y[j * dim + t];
                }
                expected[i * m + j] = xx + yy - 2 * xy;
            }
        // The expanded form's own error is ε·(‖x‖² + ‖y‖²) ≈ 1e-14 here.
        Close.All(expected, PairwiseDistances.SquaredEuclidean(Cpu, x, y, dim), 1e-12, 1e-12, $"‖x − y‖², dim {dim}");
    }

    [Test]
    public void SquaredEuclideanSelfDistancesAreSymmetricNonNegativeWithZeroDiagonal()
    {
        const int n = 23, dim = 9;
        var x = Close.RandomNormal(n * dim, seed: 6, scale: 100);
        var d = PairwiseDistances.SquaredEuclidean(Cpu, x, x, dim);
        for (int i = 0; i < n; i++)
        {
            Assert.That(d[i * n + i], Is.EqualTo(0.0), $"C[{i},{i}]");
            for (int j = 0; j < n; j++)
            {
                Assert.That(d[i * n + j], Is.GreaterThanOrEqualTo(0.0), $"C[{i},{j}]");
                Assert.That(d[i * n + j], Is.EqualTo(d[j * n + i]), $"C[{i},{j}] = C[{j},{i}]");
            }
        }
    }

    [Test]
    public void NonUnitSpherePointIsRejectedNamingArgumentAndRow()
    {
        var x = SpherePoints.Random(4, seed: 1);
        var y = SpherePoints.Random(3, seed: 2);
        y[3] += 1e-3;
        var e = Assert.Throws<ArgumentException>(() => PairwiseDistances.Geodesic(Cpu, x, y))!;
        Assert.That(e.ParamName, Is.EqualTo("y"));
        Assert.That(e.Message, Does.Contain("y row 1"));
    }

    [Test]
    public void BadEuclideanInputIsRejectedNamingTheArgument()
    {
        var x = Close.RandomNormal(12, seed: 1);
        var e = Assert.Throws<ArgumentException>(() => PairwiseDistances.SquaredEuclidean(Cpu, x, new double[10], 4))!;
        Assert.That(e.ParamName, Is.EqualTo("y"));
        Assert.That(e.Message, Does.Contain("length 10").And.Contain("dimension 4"));

        x[7] = double.PositiveInfinity;
        var e2 = Assert.Throws<ArgumentException>(() => PairwiseDistances.SquaredEuclidean(Cpu, x, new double[8], 4))!;
        Assert.That(e2.ParamName, Is.EqualTo("x"));
        Assert.That(e2.Message, Does.Contain("x[7]"));

        var e3 = Assert.Throws<ArgumentException>(() => PairwiseDistances.SquaredEuclidean(Cpu, new double[4], Array.Empty<double>(), 2))!;
        Assert.That(e3.ParamName, Is.EqualTo("y"));
    }
}

/// <summary>The pairwise-distance kernels against the managed reference, on each accelerator.</summary>
[TestFixtureSource(typeof(Devices), nameof(Devices.Accelerated))]
public sealed class PairwiseDistancesKernelTests
{
    private readonly string _deviceName;
    private ComputeDevice _device = null!;

    public PairwiseDistancesKernelTests(string deviceName) => _deviceName = deviceName;

    [OneTimeSetUp]
    public void Open() => _device = Devices.Get(_deviceName);

    [Test]
    public void GeodesicMatchesCpu()
    {
        const int n = 37, m = 29;
        var x = SpherePoints.Random(n, seed: 21);
        var y = SpherePoints.Random(m, seed: 22);
        for (int t = 0; t < 3; t++) { y[t] = x[t]; y[3 + t] = -x[3 + t]; } // θ = 0 and θ = π entries
        Close.All(PairwiseDistances.Geodesic(ComputeDevice.Cpu, x, y), PairwiseDistances.Geodesic(_device, x, y), 2e-6, 1e-5, $"{_deviceName} D");
        Close.All(PairwiseDistances.GeodesicSquared(ComputeDevice.Cpu, x, y), PairwiseDistances.GeodesicSquared(_device, x, y), 1e-5, 1e-5, $"{_deviceName} D²");
    }

    [Test]
    public void GeodesicSelfDistancesHaveExactZeroDiagonal()
    {
        const int n = 19;
        var x = SpherePoints.Random(n, seed: 23);
        var d = PairwiseDistances.Geodesic(_device, x, x);
        for (int i = 0; i < n; i++)
            Assert.That(d[i * n + i], Is.EqualTo(0.0), $"{_deviceName} D[{i},{i}]");
    }

    [Test]
    public void SquaredEuclideanMatchesCpu()
    {
        const int n = 37, m = 29, dim = 13;
        var x = Close.RandomNormal(n * dim, seed: 24);
        var y = Close.RandomNormal(m * dim, seed: 25);
        Close.All(PairwiseDistances.SquaredEuclidean(ComputeDevice.Cpu, x, y, dim), PairwiseDistances.SquaredEuclidean(_device, x, y, dim),
            1e-5, 1e-5, $"{_deviceName} ‖x − y‖²");
    }

    [Test]
    public void SquaredEuclideanHasNoCancellationForNearbyPointsFarFromTheOrigin()
    {
        // 1024 + 2⁻¹⁰ is exact in float32; ‖x − y‖² = 2⁻²⁰ exactly, where the expanded
        // ‖x‖² + ‖y‖² − 2⟨x,y⟩ in float32 has error ≈ 2²¹·2⁻²⁴ = 0.125.
        var x = new[] { 1024.0, 1024.0 };
        var y = new[] { 1024.0 + 1.0 / 1024, 1024.0 };
        Assert.That(PairwiseDistances.SquaredEuclidean(_device, x, y, 2)[0], Is.EqualTo(1.0 / (1 << 20)));
    }
}
