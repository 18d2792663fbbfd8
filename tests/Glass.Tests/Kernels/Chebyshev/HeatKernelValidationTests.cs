using Glass.Kernels.Chebyshev;
using Glass.Kernels.Device;
using Glass.Kernels.Linalg;
using NUnit.Framework;

namespace Glass.Tests.Kernels.Chebyshev;

public class HeatKernelValidationTests
{
    private static readonly CsrMatrix L = Laplacian.Normalized(TestGraphs.Ring(7));
    private static readonly double[] V = new double[7 * 2];

    private static ArgumentException Throws(TestDelegate call) => Assert.Throws<ArgumentException>(call)!;

    [Test]
    public void NaNInV()
    {
        var v = (double[])V.Clone();
        v[5] = double.NaN;
        var e = Throws(() => HeatKernel.Apply(ComputeDevice.Cpu, L, v, 2, 1, 8));
        Assert.That(e.ParamName, Is.EqualTo("v"));
        Assert.That(e.Message, Does.Contain("v[5] = NaN"));
    }

    [Test]
    public void NegativeTau()
    {
        var e = Throws(() => HeatKernel.Apply(ComputeDevice.Cpu, L, V, 2, -0.5, 8));
        Assert.That(e.ParamName, Is.EqualTo("tau"));
        Assert.That(e.Message, Does.Contain("tau = -0.5"));
    }

    [Test]
    public void InfiniteTauInCoefficients()
    {
        var e = Throws(() => HeatKernel.Coefficients(double.PositiveInfinity, 8));
        Assert.That(e.ParamName, Is.EqualTo("tau"));
    }

    [TestCase(0)]
    [TestCase(-3)]
    public void DegreeBelowOne(int degree)
    {
        var e = Throws(() => HeatKernel.Apply(ComputeDevice.Cpu, L, V, 2, 1, degree));
        Assert.That(e.ParamName, Is.EqualTo("degree"));
        Assert.That(e.Message, Does.Contain($"degree = {degree}"));
        Assert.That(Throws(() => HeatKernel.TruncationBound(1, degree)).ParamName, Is.EqualTo("degree"));
    }

    [Test]
    public void WrongVLength()
    {
        var e = Throws(() => HeatKernel.Apply(ComputeDevice.Cpu, L, new double[13], 2, 1, 8));
        Assert.That(e.ParamName, Is.EqualTo("v"));
        Assert.That(e.Message, Does.Contain("length 13").And.Contain("14"));
    }

    [Test]
    public void NonPositiveP()
    {
        var e = Throws(() => HeatKernel.Apply(ComputeDevice.Cpu, L, V, 0, 1, 8));
        Assert.That(e.ParamName, Is.EqualTo("p"));
    }

    [Test]
    public void NonSquareLaplacian()
    {
        var rect = new CsrMatrix(7, 8, new int[8], [], []);
        var e = Throws(() => HeatKernel.Apply(ComputeDevice.Cpu, rect, V, 2, 1, 8));
        Assert.That(e.ParamName, Is.EqualTo("laplacian"));
        Assert.That(e.Message, Does.Contain("7 × 8"));
    }
}
