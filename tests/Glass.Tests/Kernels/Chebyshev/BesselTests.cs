using Glass.Kernels.Chebyshev;
using Glass.Tests.Support;
using NUnit.Framework;

namespace Glass.Tests.Kernels.Chebyshev;

public class BesselTests
{
    // Unscaled I_k(1): Abramowitz & Stegun Table 9.8 / mpmath.besseli(k, 1).
    [TestCase(0, 1.2660658777520082)]
    [TestCase(1, 0.5651591039924851)]
    [TestCase(2, 0.1357476697670383)]
    public void UnscaledAtOneMatchesTables(int k, double expected)
    {
        double got = Bessel.ScaledI(1.0, 2)[k] * Math.E;
        Close.Scalar(expected, got, 0, 2e-15, $"I_{k}(1)");
    }

    // e^{-x}·I_k(x) from mpmath 1.3.0 at 40 digits: besseli(k, x) * exp(-x). x < 1 takes the
    // power series, x ≥ 1 Miller's recurrence.
    [TestCase(0.01, 0, 0.9900745851497075)]
    [TestCase(0.01, 1, 0.0049503110471182756)]
    [TestCase(0.01, 5, 2.5782655181358727e-14)]
    [TestCase(0.01, 40, 1.103601863852447e-140)]
    [TestCase(0.2, 0, 0.82693855163432931)]
    [TestCase(0.2, 2, 0.004107316346207898)]
    [TestCase(0.2, 20, 3.3668463042583719e-39)]
    [TestCase(1, 0, 0.46575960759364044)]
    [TestCase(1, 5, 9.9865714112086907e-5)]
    [TestCase(1, 20, 1.4593174056818686e-25)]
    [TestCase(1, 40, 4.1258037690935588e-61)]
    [TestCase(5, 0, 0.18354081260932835)]
    [TestCase(5, 1, 0.16397226694454236)]
    [TestCase(5, 10, 3.0860096549865416e-5)]
    [TestCase(5, 40, 7.953654429953234e-35)]
    [TestCase(20, 0, 0.089780311884826022)]
    [TestCase(20, 10, 0.0072968964849783255)]
    [TestCase(20, 20, 6.5725042913687707e-6)]
    [TestCase(20, 40, 2.710647708188198e-16)]
    [TestCase(50, 0, 0.056561626647454193)]
    [TestCase(50, 1, 0.0559931238928954)]
    [TestCase(50, 2, 0.054321901691738377)]
    [TestCase(50, 5, 0.043947497024623271)]
    [TestCase(50, 20, 0.0010496272879428207)]
    [TestCase(50, 40, 1.1586345533413894e-8)]
    public void ScaledMatchesMpmath(double x, int k, double expected)
    {
        double got = Bessel.ScaledI(x, 40)[k];
        Close.Scalar(expected, got, 0, 1e-13, $"e^-x I_{k}({x})");
    }

    [Test]
    public void UnscaledI0At50MatchesMpmath()
    {
        // mpmath.besseli(0, 50) = 2.9325537838493363e+20
        Close.Scalar(2.9325537838493363e20, Bessel.ScaledI(50, 0)[0] * Math.Exp(50), 0, 1e-13, "I_0(50)");
    }

    [TestCase(1.0)]
    [TestCase(2.5)]
    [TestCase(7.0)]
    [TestCase(30.0)]
    public void MillerAgreesWithSeries(double x)
    {
        // Two independent algorithms: the all-positive power series and the normalised backward recurrence.
        double[] series = Bessel.ScaledISeries(x, 80), miller = Bessel.ScaledIMiller(x, 80);
        for (int k = 0; k <= 80; k++)
        {
            if (series[k] < 1e-250) continue;
            Close.Scalar(series[k], miller[k], 0, 1e-12, $"e^-x I_{k}({x}) Miller vs series");
        }
    }

    [TestCase(0.3)]
    [TestCase(0.9)]
    [TestCase(3.0)]
    public void SatisfiesGeneratingFunctionSum(double x)
    {
        // e^{x} = I_0(x) + 2 Σ_{k≥1} I_k(x) (A&S 9.6.37 at θ = 0), checked on the series path,
        // where nothing normalises by it.
        double[] s = Bessel.ScaledISeries(x, 60);
        double sum = s[0];
        for (int k = 1; k <= 60; k++) sum += 2 * s[k];
        Close.Scalar(1.0, sum, 0, 1e-14, $"Σ at x = {x}");
    }

    [Test]
    public void ZeroArgumentIsDelta()
    {
        Assert.That(Bessel.ScaledI(0, 3), Is.EqualTo(new double[] { 1, 0, 0, 0 }));
    }

    [TestCase(-1.0)]
    [TestCase(double.NaN)]
    [TestCase(double.PositiveInfinity)]
    public void RejectsBadArgument(double x)
    {
        var e = Assert.Throws<ArgumentException>(() => Bessel.ScaledI(x, 3));
        Assert.That(e!.ParamName, Is.EqualTo("x"));
    }
}
