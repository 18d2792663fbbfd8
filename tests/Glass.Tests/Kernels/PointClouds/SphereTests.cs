using Glass.Kernels.Device;
using Glass.Kernels.PointClouds;
using Glass.Tests.Support;
using NUnit.Framework;

namespace Glass.Tests.Kernels.PointClouds;

/// <summary>Test data on S².</summary>
internal static class SpherePoints
{
    /// <summary>n uniform points on S² (normalised Gaussians), rows of an n×3 array.</summary>
    public static double[] Random(int n, int seed)
    {
        var x = Close.RandomNormal(3 * n, seed);
        for (int i = 0; i < n; i++)
        {
            double r = Math.Sqrt(x[3 * i] * x[3 * i] + x[3 * i + 1] * x[3 * i + 1] + x[3 * i + 2] * x[3 * i + 2]);
            x[3 * i] /= r; x[3 * i + 1] /= r; x[3 * i + 2] /= r;
        }
        return x;
    }

    public static double Dot(double[] a, int i, double[] b, int j) =>
        a[3 * i] * b[3 * j] + a[3 * i + 1] * b[3 * j + 1] + a[3 * i + 2] * b[3 * j + 2];

    public static double Norm(double[] a, int i) => Math.Sqrt(Dot(a, i, a, i));

    /// <summary>Tangent vectors at p: Gaussian rows with the normal component removed, scaled by <paramref name="scale"/>.</summary>
    public static double[] Tangents(double[] p, int seed, double scale)
    {
        int n = p.Length / 3;
        var v = Close.RandomNormal(3 * n, seed, scale);
        for (int i = 0; i < n; i++)
        {
            double c = Dot(p, i, v, i);
            for (int t = 0; t < 3; t++) v[3 * i + t] -= c * p[3 * i + t];
        }
        return v;
    }
}

/// <summary>The managed sphere maps against closed forms, their invariants, and bad input.</summary>
[TestFixture]
public sealed class SphereCpuTests
{
    private static readonly ComputeDevice Cpu = ComputeDevice.Cpu;

    [Test]
    public void LogMatchesArccosClosedForm()
    {
        const int n = 41;
        var p = SpherePoints.Random(n, seed: 1);
        var x = SpherePoints.Random(n, seed: 2);
        var expected = new double[3 * n];
        for (int i = 0; i < n; i++)
        {
            double theta = Math.Acos(Math.Clamp(SpherePoints.Dot(p, i, x, i), -1, 1));
            double f = theta / Math.Sin(theta);
            for (int t = 0; t < 3; t++) expected[3 * i + t] = f * (x[3 * i + t] - Math.Cos(theta) * p[3 * i + t]);
        }
        // Random pairs stay away from θ = 0, π, where the arccos form itself is well conditioned.
        Close.All(expected, Sphere.Log(Cpu, p, x), 1e-10, 1e-10, "Log_p(x)");
    }

    [Test]
    public void ExpMatchesRodriguesRotation()
    {
        const int n = 41;
        var p = SpherePoints.Random(n, seed: 3);
        var v = SpherePoints.Tangents(p, seed: 4, scale: 1.5);
        var expected = new double[3 * n];
        for (int i = 0; i < n; i++)
        {
            // Rotate p by angle ‖v‖ about k = p × v / ‖p × v‖: R p = p cos r + (k × p) sin r (k ⟂ p).
            double p0 = p[3 * i], p1 = p[3 * i + 1], p2 = p[3 * i + 2];
            double v0 = v[3 * i], v1 = v[3 * i + 1], v2 = v[3 * i + 2];
            double k0 = p1 * v2 - p2 * v1, k1 = p2 * v0 - p0 * v2, k2 = p0 * v1 - p1 * v0;
            double kn = Math.Sqrt(k0 * k0 + k1 * k1 + k2 * k2);
            k0 /= kn; k1 /= kn; k2 /= kn;
            double r = Math.Sqrt(v0 * v0 + v1 * v1 + v2 * v2);
            expected[3 * i] = p0 * Math.Cos(r) + (k1 * p2 - k2 * p1) * Math.Sin(r);
            expected[3 * i + 1] = p1 * Math.Cos(r) + (k2 * p0 - k0 * p2) * Math.Sin(r);
            expected[3 * i + 2] = p2 * Math.Cos(r) + (k0 * p1 - k1 * p0) * Math.Sin(r);
        }
        Close.All(expected, Sphere.Exp(Cpu, p, v), 1e-12, 1e-12, "Exp_p(v)");
    }

    [Test]
    public void ExpOfLogIsIdentityAndLogNormIsDistance()
    {
        const int n = 53;
        var p = SpherePoints.Random(n, seed: 5);
        var x = SpherePoints.Random(n, seed: 6);
        var log = Sphere.Log(Cpu, p, x);
        Close.All(x, Sphere.Exp(Cpu, p, log), 1e-12, 0, "Exp_p(Log_p(x))");

        var dist = PairwiseDistances.Geodesic(Cpu, p, x); // n×n; the pairs are on the diagonal
        var norms = new double[n];
        var diag = new double[n];
        var normal = new double[n];
        for (int i = 0; i < n; i++)
        {
            norms[i] = SpherePoints.Norm(log, i);
            diag[i] = dist[i * n + i];
            normal[i] = SpherePoints.Dot(p, i, log, i);
        }
        Close.All(diag, norms, 1e-13, 1e-13, "‖Log_p(x)‖ = d(p, x)");
        Close.All(new double[n], normal, 1e-13, 0, "⟨p, Log_p(x)⟩ = 0");
    }

    [Test]
    public void LogNearZeroAngleKeepsFullAccuracy()
    {
        // x at angle ε = 1e-9 from p: arccos(⟨p,x⟩) would return 0 in double (cos ε rounds to 1).
        var p = new[] { 0.6, 0.0, 0.8 };
        var t = new[] { 0.8, 0.0, -0.6 }; // unit, ⟂ p
        const double eps = 1e-9;
        var x = new double[3];
        for (int k = 0; k < 3; k++) x[k] = Math.Cos(eps) * p[k] + Math.Sin(eps) * t[k];
        var log = Sphere.Log(Cpu, p, x);
        Close.All(new[] { eps * t[0], eps * t[1], eps * t[2] }, log, 1e-24, 1e-7, "Log_p(x) at θ = 1e-9");

        Assert.That(Sphere.Log(Cpu, p, p), Is.EqualTo(new double[3]), "Log_p(p) = 0");
        Assert.That(Sphere.Exp(Cpu, p, new double[3]), Is.EqualTo(p), "Exp_p(0) = p");
        var tiny = new[] { 1e-10 * t[0], 0, 1e-10 * t[2] };
        Close.All(new[] { p[0] + tiny[0], p[1], p[2] + tiny[2] }, Sphere.Exp(Cpu, p, tiny), 1e-16, 0, "Exp_p(v), ‖v‖ = 1e-10");
    }

    [Test]
    public void LogOfAntipodeIsTheDocumentedTangent()
    {
        // p = (0.6, 0, 0.8): smallest |p_k| is k = 1, so u(p) = e_1 and Log_p(−p) = (0, π, 0).
        var p = new[] { 0.6, 0.0, 0.8 };
        var minusP = new[] { -0.6, -0.0, -0.8 };
        Close.All(new[] { 0, Math.PI, 0 }, Sphere.Log(Cpu, p, minusP), 1e-15, 1e-15, "Log_p(−p)");

        var ps = SpherePoints.Random(7, seed: 9);
        var anti = ps.Select(v => -v).ToArray();
        var log = Sphere.Log(Cpu, ps, anti);
        for (int i = 0; i < 7; i++)
        {
            Assert.That(SpherePoints.Norm(log, i), Is.EqualTo(Math.PI).Within(1e-14), $"‖Log‖ row {i}");
            Assert.That(SpherePoints.Dot(ps, i, log, i), Is.EqualTo(0).Within(1e-14), $"⟨p, Log⟩ row {i}");
        }
        Close.All(anti, Sphere.Exp(Cpu, ps, log), 1e-14, 0, "Exp_p(Log_p(−p)) = −p");
    }

    [Test]
    public void NaNIsRejectedNamingArgumentAndIndex()
    {
        var p = SpherePoints.Random(3, seed: 1);
        var x = SpherePoints.Random(3, seed: 2);
        x[4] = double.NaN;
        var e = Assert.Throws<ArgumentException>(() => Sphere.Log(Cpu, p, x))!;
        Assert.That(e.ParamName, Is.EqualTo("x"));
        Assert.That(e.Message, Does.Contain("x[4]"));
    }

    [Test]
    public void NonUnitPointIsRejectedNamingArgumentAndRow()
    {
        var p = SpherePoints.Random(3, seed: 1);
        var x = SpherePoints.Random(3, seed: 2);
        for (int t = 0; t < 3; t++) p[6 + t] *= 1 + 1e-5;
        var e = Assert.Throws<ArgumentException>(() => Sphere.Log(Cpu, p, x))!;
        Assert.That(e.ParamName, Is.EqualTo("p"));
        Assert.That(e.Message, Does.Contain("p row 2"));

        // Inside the 1e-6 slack is accepted.
        for (int t = 0; t < 3; t++) p[6 + t] /= (1 + 1e-5) * (1 + 5e-7);
        Assert.DoesNotThrow(() => Sphere.Log(Cpu, p, x));
    }

    [Test]
    public void MismatchedShapesAreRejected()
    {
        var p = SpherePoints.Random(3, seed: 1);
        var e = Assert.Throws<ArgumentException>(() => Sphere.Log(Cpu, p, SpherePoints.Random(2, seed: 2)))!;
        Assert.That(e.ParamName, Is.EqualTo("x"));
        Assert.That(e.Message, Does.Contain("length 6").And.Contain("expected 9"));

        var e2 = Assert.Throws<ArgumentException>(() => Sphere.Exp(Cpu, p, new double[8]))!;
        Assert.That(e2.ParamName, Is.EqualTo("v"));
        Assert.That(e2.Message, Does.Contain("multiple of the dimension 3"));
    }

    [Test]
    public void NonTangentVectorIsRejected()
    {
        var p = SpherePoints.Random(2, seed: 1);
        var v = SpherePoints.Tangents(p, seed: 2, scale: 1);
        for (int t = 0; t < 3; t++) v[3 + t] += 0.01 * p[3 + t];
        var e = Assert.Throws<ArgumentException>(() => Sphere.Exp(Cpu, p, v))!;
        Assert.That(e.ParamName, Is.EqualTo("v"));
        Assert.That(e.Message, Does.Contain("v row 1"));
    }
}

/// <summary>The sphere-map kernels against the managed reference, on each accelerator.</summary>
[TestFixtureSource(typeof(Devices), nameof(Devices.Accelerated))]
public sealed class SphereKernelTests
{
    private readonly string _deviceName;
    private ComputeDevice _device = null!;

    public SphereKernelTests(string deviceName) => _deviceName = deviceName;

    [OneTimeSetUp]
    public void Open() => _device = Devices.Get(_deviceName);

    [Test]
    public void LogMatchesCpu()
    {
        const int n = 37;
        var p = SpherePoints.Random(n, seed: 11);
        var x = SpherePoints.Random(n, seed: 12);
        // Include x = p (θ = 0), x = −p (antipodal convention) and θ = π − 0.1 (near-antipodal, w small but defined) rows.
        for (int t = 0; t < 3; t++) { x[t] = p[t]; x[3 + t] = -p[3 + t]; }
        var u = SpherePoints.Tangents(p, seed: 15, scale: 1);
        double un = SpherePoints.Norm(u, 2), nearPi = Math.PI - 0.1;
        for (int t = 0; t < 3; t++) x[6 + t] = Math.Cos(nearPi) * p[6 + t] + Math.Sin(nearPi) * u[6 + t] / un;
        var expected = Sphere.Log(ComputeDevice.Cpu, p, x);
        // float32: inputs rounded by 6e-8, θ ≤ π, so components are good to a few 1e-7.
        Close.All(expected, Sphere.Log(_device, p, x), 2e-6, 1e-5, $"{_deviceName} Log");
    }

    [Test]
    public void ExpMatchesCpu()
    {
        const int n = 37;
        var p = SpherePoints.Random(n, seed: 13);
        var v = SpherePoints.Tangents(p, seed: 14, scale: 1.2);
        for (int t = 0; t < 3; t++) { v[t] = 0; v[3 + t] *= 1e-6; } // r = 0 and the small-r series
        var expected = Sphere.Exp(ComputeDevice.Cpu, p, v);
        Close.All(expected, Sphere.Exp(_device, p, v), 2e-6, 1e-5, $"{_deviceName} Exp");
    }
}
