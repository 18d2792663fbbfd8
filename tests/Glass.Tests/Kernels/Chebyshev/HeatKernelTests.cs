using Glass.Kernels.Chebyshev;
using Glass.Kernels.Device;
using Glass.Kernels.Linalg;
using Glass.Tests.Support;
using NUnit.Framework;

namespace Glass.Tests.Kernels.Chebyshev;

/// <summary>The managed CPU heat kernel against exact dense references.</summary>
public class HeatKernelTests
{
    private static IEnumerable<TestCaseData> Cases()
    {
        foreach (double tau in new[] { 0.2, 1.0, 5.0 })
        {
            yield return new TestCaseData(TestGraphs.Ring(31), 3, tau).SetArgDisplayNames("ring31", $"tau={tau}");
            yield return new TestCaseData(TestGraphs.Path(45, 3), 2, tau).SetArgDisplayNames("path45", $"tau={tau}");
            yield return new TestCaseData(TestGraphs.ErdosRenyi(53, 0.1, 7), 5, tau).SetArgDisplayNames("er53", $"tau={tau}");
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void MatchesEigendecomposition(CsrMatrix w, int p, double tau)
    {
        var l = Laplacian.Normalized(w);
        double[] v = Close.RandomNormal(l.Rows * p, 17);
        double[] exact = TestGraphs.ExactHeat(l, v, p, tau);
        double[] y = HeatKernel.Apply(ComputeDevice.Cpu, l, v, p, tau, 40);
        Close.All(exact, y, 1e-11, 1e-10, $"exp(-{tau} L) V, q = 40");
    }

    [TestCase(1.0, 30, 1e-10)]
    [TestCase(5.0, 40, 1e-10)]
    [TestCase(0.2, 16, 1e-12)]
    public void ErrorFallsWithDegreeWithinBound(double tau, int finalDegree, double finalTol)
    {
        var l = Laplacian.Normalized(TestGraphs.ErdosRenyi(41, 0.15, 23));
        const int p = 3;
        double[] v = Close.RandomNormal(l.Rows * p, 29);
        double vNorm = Math.Sqrt(v.Sum(x => x * x));
        double[] exact = TestGraphs.ExactHeat(l, v, p, tau);
        int[] degrees = [1, 2, 4, 6, 8, 12, 16, 24, 30, 40];
        double previous = double.PositiveInfinity, first = double.NaN, last = double.NaN;
        foreach (int q in degrees.Where(q => q <= finalDegree))
        {
            double err = TestGraphs.FrobeniusDiff(exact, HeatKernel.Apply(ComputeDevice.Cpu, l, v, p, tau, q));
            double bound = HeatKernel.TruncationBound(tau, q) * vNorm;
            Assert.That(err, Is.LessThanOrEqualTo(bound * (1 + 1e-9) + 1e-12), $"q = {q}: error above the Bessel-tail bound");
            Assert.That(err, Is.LessThanOrEqualTo(previous * 1.05 + 1e-13), $"q = {q}: error rose");
            if (double.IsNaN(first)) first = err;
            previous = last = err;
        }
        Assert.That(first, Is.GreaterThan(1e-4), "q = 1 should be visibly inexact");
        Assert.That(last, Is.LessThan(finalTol), $"error at q = {finalDegree}");
    }

    [Test]
    public void ZeroTauIsIdentity()
    {
        var l = Laplacian.Normalized(TestGraphs.Ring(9));
        double[] v = Close.RandomNormal(9 * 2, 3);
        Close.All(v, HeatKernel.Apply(ComputeDevice.Cpu, l, v, 2, 0, 5), 1e-15, 0, "exp(0) V");
    }

    [Test]
    public void IsolatedNodeKeepsItsHeat()
    {
        var wd = new double[7, 7];
        for (int i = 0; i < 5; i++) wd[i, i + 1] = wd[i + 1, i] = 1 + i; // node 6 isolated
        var l = Laplacian.Normalized(TestGraphs.FromDense(wd));
        double[] v = Close.RandomNormal(7 * 2, 4);
        double[] y = HeatKernel.Apply(ComputeDevice.Cpu, l, v, 2, 1.0, 30);
        Close.All(v.AsSpan(12, 2), y.AsSpan(12, 2), 1e-14, 1e-14, "row of the isolated node");
    }

    [TestCase(1001, 5)]
    [TestCase(1200, 8)]
    public void LargeRingMatchesCirculantReference(int n, int p)
    {
        // C_n is circulant: exp(−τL) has kernel h_m = (1/n) Σ_k exp(−τ(1 − cos 2πk/n)) cos(2πkm/n).
        // Large enough that the parallel, SIMD row loop runs.
        const double tau = 2.0;
        var h = new double[n];
        for (int m = 0; m < n; m++)
        {
            double s = 0;
            for (int k = 0; k < n; k++) s += Math.Exp(-tau * (1 - Math.Cos(2 * Math.PI * k / n))) * Math.Cos(2 * Math.PI * k * m / n);
            h[m] = s / n;
        }
        double[] v = Close.RandomNormal(n * p, 8), expected = new double[n * p];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double hij = h[((i - j) % n + n) % n];
                for (int c = 0; c < p; c++) expected[i * p + c] += hij * v[j * p + c];
            }
        double[] y = HeatKernel.Apply(ComputeDevice.Cpu, Laplacian.Normalized(TestGraphs.Ring(n)), v, p, tau, 30);
        Close.All(expected, y, 1e-11, 1e-10, $"ring C_{n}");
    }

    [Test]
    public void CoefficientsReproduceScalarExponential()
    {
        // Σ c_k T_k(x) vs exp(−τ(x + 1)) on [−1, 1], T_k(cos θ) = cos kθ; error within the tail bound.
        foreach (double tau in new[] { 0.2, 1.0, 5.0, 20.0 })
        {
            const int q = 24;
            double[] c = HeatKernel.Coefficients(tau, q);
            double bound = HeatKernel.TruncationBound(tau, q), worst = 0;
            for (int s = 0; s <= 200; s++)
            {
                double theta = Math.PI * s / 200, x = Math.Cos(theta), f = 0;
                for (int k = 0; k <= q; k++) f += c[k] * Math.Cos(k * theta);
                worst = Math.Max(worst, Math.Abs(f - Math.Exp(-tau * (x + 1))));
            }
            Assert.That(worst, Is.LessThanOrEqualTo(bound + 1e-15), $"tau = {tau}: scalar error vs bound {bound:E3}");
            if (tau <= 5) Assert.That(worst, Is.LessThan(1e-13), $"tau = {tau}: scalar error");
        }
    }

    [Test]
    public void BoundShrinksWithDegree()
    {
        double b8 = HeatKernel.TruncationBound(5, 8), b16 = HeatKernel.TruncationBound(5, 16), b30 = HeatKernel.TruncationBound(1, 30);
        Assert.That(b8, Is.GreaterThan(1e-4));
        Assert.That(b16, Is.LessThan(b8 * 1e-4));
        Assert.That(b30, Is.LessThan(1e-30));
    }

    [Test]
    public void CoefficientsAlternateInSign()
    {
        double[] c = HeatKernel.Coefficients(1.0, 4);
        double[] s = Bessel.ScaledI(1.0, 4);
        Assert.That(c, Is.EqualTo(new[] { s[0], -2 * s[1], 2 * s[2], -2 * s[3], 2 * s[4] }));
    }
}
