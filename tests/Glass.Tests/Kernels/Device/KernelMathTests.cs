using System.Globalization;
using Glass.Kernels.Device;
using Glass.Kernels.Device.LowLevel;
using NUnit.Framework;

namespace Glass.Tests.Kernels.Device;

/// <summary>
/// <see cref="KernelMath"/> (the kernels' exp, log, atan2, acos) against <see cref="Math"/> in double over the whole
/// range the kernels use, dense and random, plus the special values the solvers rely on (exp(−huge) = 0, log 0 = −∞).
/// Errors are measured in units in the last place of the reference (<see cref="Math.BitIncrement"/>), which also covers
/// subnormal results, and as relative errors; both maxima are printed and asserted. <see cref="Math.Exp"/> and
/// <see cref="Math.Log(double)"/> are themselves within about 0.5 ulp, so the bounds include the reference's error.
/// </summary>
[TestFixture]
public sealed class KernelMathTests
{
    /// <summary>Largest double with e^x normal is ln(2⁻¹⁰²²) ≈ −708.40; e^x = 0 below ln(2⁻¹⁰⁷⁵) ≈ −745.13.</summary>
    private const double ExpNormalLo = -708.3964185322641, ExpZero = -745.1332191019412, ExpMax = 709.782712893384;

    private struct Worst
    {
        public double Ulps, Rel, UlpsAt, RelAt;

        public void Add(double x, double reference, double actual, double ulp)
        {
            double err = Math.Abs(actual - reference);
            double u = err / ulp;
            if (!(u <= Ulps)) { Ulps = u; UlpsAt = x; }
            if (reference != 0 && double.IsNormal(reference))
            {
                double r = err / Math.Abs(reference);
                if (!(r <= Rel)) { Rel = r; RelAt = x; }
            }
        }

        public readonly string Describe(string what) => string.Create(CultureInfo.InvariantCulture,
            $"{what}: max {Ulps:F3} ulp (at x = {UlpsAt:R}), max relative error {Rel:E3} (at x = {RelAt:R})");
    }

    private static double Ulp(double v)
    {
        double a = Math.Abs(v);
        return Math.BitIncrement(a) - a;
    }

    private static float UlpF(float v)
    {
        float a = Math.Abs(v);
        return MathF.BitIncrement(a) - a;
    }

    [Test]
    public void ExpIsWithinTwoUlpOverTheWholeRange()
    {
        var w = new Worst();
        int subnormal = 0;
        void Check(double x)
        {
            double reference = Math.Exp(x), actual = KernelMath.Exp(x);
            w.Add(x, reference, actual, Ulp(reference));
            if (reference < double.Epsilon * 4503599627370496.0) subnormal++; // below 2⁻¹⁰²²
        }
        // Dense: 4·10⁶ equally spaced points on [−745, 709.78] (spacing ≈ 3.6e-4, many per reduction interval ln2).
        const int dense = 4_000_000;
        for (int i = 0; i <= dense; i++) Check(-745.0 + (ExpMax + 745.0) * i / dense);
        // Random, and the ends of every reduction interval (x = (k ± ½)·ln 2, where |r| is largest).
        var rng = new Random(20240611);
        for (int i = 0; i < 1_000_000; i++) Check(ExpZero + (ExpMax - ExpZero) * rng.NextDouble());
        for (int i = 0; i < 200_000; i++) Check((rng.NextDouble() * 2 - 1) * Math.Pow(2, -60 + 60 * rng.NextDouble()));
        for (int k = -1075; k <= 1024; k++)
        {
            double edge = (k + 0.5) * Math.Log(2);
            for (int j = -4; j <= 4; j++)
            {
                double x = edge + j * 1e-12;
                if (x > ExpZero && x < ExpMax) Check(x);
            }
        }
        TestContext.Progress.WriteLine(w.Describe("KernelMath.Exp vs Math.Exp") + $"; {subnormal} subnormal results");
        Assert.That(subnormal, Is.GreaterThan(1000), "the sample reaches the subnormal results");
        Assert.That(w.Ulps, Is.LessThanOrEqualTo(2.0), w.Describe("Exp"));
        Assert.That(w.Rel, Is.LessThanOrEqualTo(2.3e-16), w.Describe("Exp"));
    }

    [Test]
    public void ExpSpecialValues()
    {
        Assert.That(KernelMath.Exp(0), Is.EqualTo(1.0));
        Assert.That(KernelMath.Exp(-0.0), Is.EqualTo(1.0));
        Assert.That(KernelMath.Exp(1), Is.EqualTo(Math.E).Within(1).Ulps);
        Assert.That(double.IsNaN(KernelMath.Exp(double.NaN)), Is.True, "exp NaN");
        Assert.That(KernelMath.Exp(double.PositiveInfinity), Is.EqualTo(double.PositiveInfinity));
        // The log-domain Sinkhorn relies on exp(−huge) being exactly 0 (entries of a row far beyond the max).
        foreach (double x in new[] { double.NegativeInfinity, double.MinValue, -1e300, -1e10, -746.0, -745.2, ExpZero - 1e-9 })
            Assert.That(KernelMath.Exp(x), Is.EqualTo(0.0), $"exp({x:R})");
        foreach (double x in new[] { double.MaxValue, 1e300, 1e10, 710.0, 709.7828 })
            Assert.That(KernelMath.Exp(x), Is.EqualTo(double.PositiveInfinity), $"exp({x:R})");
        Assert.That(KernelMath.Exp(ExpMax), Is.EqualTo(Math.Exp(ExpMax)).Within(2).Ulps, "largest finite");
        Assert.That(KernelMath.Exp(-745.0), Is.EqualTo(Math.Exp(-745.0)), "smallest subnormal");
        Assert.That(KernelMath.Exp(ExpNormalLo), Is.EqualTo(Math.Exp(ExpNormalLo)).Within(2).Ulps, "smallest normal");
    }

    [Test]
    public void LogIsWithinTwoUlpOverAllPositiveDoubles()
    {
        var w = new Worst();
        void Check(double x) => w.Add(x, Math.Log(x), KernelMath.Log(x), Ulp(Math.Log(x)));
        var rng = new Random(7);
        // Random bit patterns: every binade from the smallest subnormal to double.MaxValue equally often.
        for (int i = 0; i < 1_500_000; i++)
            Check(BitConverter.Int64BitsToDouble(1 + (long)(rng.NextDouble() * 0x7FEFFFFFFFFFFFFEL)));
        // Dense on [0.5, 2] (the fold at √2 and the cancellation near 1), and 1 ± tiny.
        const int dense = 2_000_000;
        for (int i = 0; i <= dense; i++) Check(0.5 + 1.5 * i / dense);
        for (int i = 1; i <= 200_000; i++)
        {
            double d = Math.Pow(2, -52 + 50.0 * i / 200_000);
            Check(1 + d);
            Check(1 - d / 2);
        }
        // The sums the Sinkhorn kernels take the log of: [1, group size · columns].
        for (int i = 0; i < 500_000; i++) Check(1 + 1e7 * rng.NextDouble());
        TestContext.Progress.WriteLine(w.Describe("KernelMath.Log vs Math.Log"));
        Assert.That(w.Ulps, Is.LessThanOrEqualTo(2.0), w.Describe("Log"));
        Assert.That(w.Rel, Is.LessThanOrEqualTo(2.3e-16), w.Describe("Log"));
    }

    [Test]
    public void LogSpecialValues()
    {
        Assert.That(KernelMath.Log(1), Is.EqualTo(0.0));
        Assert.That(KernelMath.Log(0.0), Is.EqualTo(double.NegativeInfinity));
        Assert.That(KernelMath.Log(-0.0), Is.EqualTo(double.NegativeInfinity));
        Assert.That(KernelMath.Log(double.PositiveInfinity), Is.EqualTo(double.PositiveInfinity));
        foreach (double x in new[] { double.NaN, -1.0, -1e-300, double.NegativeInfinity })
            Assert.That(double.IsNaN(KernelMath.Log(x)), Is.True, $"log({x:R})");
        Assert.That(KernelMath.Log(double.Epsilon), Is.EqualTo(Math.Log(double.Epsilon)).Within(1).Ulps, "smallest subnormal");
        Assert.That(KernelMath.Log(double.MaxValue), Is.EqualTo(Math.Log(double.MaxValue)).Within(1).Ulps, "largest");
        Assert.That(KernelMath.Log(Math.E), Is.EqualTo(1.0).Within(1).Ulps);
        // Exp ∘ Log round trip on the kernels' own functions.
        foreach (double x in new[] { 1e-300, 3e-5, 0.7, 1.5, 12345.678, 1e300 })
            Assert.That(KernelMath.Exp(KernelMath.Log(x)), Is.EqualTo(x).Within(1e-13 * x), $"exp(log({x:R}))");
    }

    [Test]
    public void Atan2IsWithinFourFloatUlp()
    {
        double worstUlps = 0, worstRel = 0;
        float atY = 0, atX = 0;
        void Check(float y, float x)
        {
            double reference = Math.Atan2(y, x); // exact enough: the float result is compared with the double angle
            float actual = KernelMath.Atan2(y, x);
            double err = Math.Abs(actual - reference);
            double u = err / UlpF((float)reference);
            if (u > worstUlps) { worstUlps = u; atY = y; atX = x; }
            if (reference != 0) worstRel = Math.Max(worstRel, err / Math.Abs(reference));
        }
        var rng = new Random(11);
        // All four quadrants, magnitudes 2⁻⁴⁰ … 2⁴⁰ and ratios from tiny to huge.
        for (int i = 0; i < 1_000_000; i++)
        {
            float y = (float)((rng.Next(2) * 2 - 1) * Math.Pow(2, 80 * rng.NextDouble() - 40));
            float x = (float)((rng.Next(2) * 2 - 1) * Math.Pow(2, 80 * rng.NextDouble() - 40));
            Check(y, x);
        }
        // Dense around the reduction breakpoints (t = tan(π/8), t = 1) and the geodesic use (y = ‖x × y‖ ≥ 0, x = ⟨x, y⟩).
        for (int i = 0; i <= 400_000; i++)
        {
            double angle = Math.PI * i / 400_000;
            Check((float)Math.Sin(angle), (float)Math.Cos(angle));
            Check(-(float)Math.Sin(angle), (float)Math.Cos(angle));
        }
        string msg = string.Create(CultureInfo.InvariantCulture,
            $"KernelMath.Atan2 vs Math.Atan2: max {worstUlps:F3} float ulp (at y = {atY:R}, x = {atX:R}), max relative error {worstRel:E3}");
        TestContext.Progress.WriteLine(msg);
        Assert.That(worstUlps, Is.LessThanOrEqualTo(4.0), msg);
        Assert.That(worstRel, Is.LessThanOrEqualTo(4.8e-7), msg);
    }

    [Test]
    public void Atan2SpecialValuesMatchMathF()
    {
        var cases = new (float Y, float X)[]
        {
            (0f, 0f), (-0f, 0f), (0f, -0f), (-0f, -0f), (0f, -1f), (-0f, -1f), (0f, 1f), (-0f, 1f),
            (1f, 0f), (-1f, 0f), (1f, -0f), (1f, 1f), (-1f, -1f), (1e-30f, -1f), (-1e-30f, -1f), (1f, 1e-30f),
            (float.MaxValue, 1f), (1f, float.PositiveInfinity), (1f, float.NegativeInfinity), (float.PositiveInfinity, 1f),
        };
        foreach (var (y, x) in cases)
        {
            float expected = MathF.Atan2(y, x), actual = KernelMath.Atan2(y, x);
            Assert.That(actual, Is.EqualTo(expected).Within(2).Ulps, $"atan2({y:R}, {x:R})");
            Assert.That(float.IsNegative(actual), Is.EqualTo(float.IsNegative(expected)), $"sign of atan2({y:R}, {x:R})");
        }
        Assert.That(float.IsNaN(KernelMath.Atan2(float.NaN, 1f)), Is.True);
        Assert.That(float.IsNaN(KernelMath.Atan2(1f, float.NaN)), Is.True);
    }

    [Test]
    public void AcosIsWithinFourFloatUlp()
    {
        double worstUlps = 0, worstRel = 0;
        float at = 0;
        void Check(float x)
        {
            double reference = Math.Acos(x);
            float actual = KernelMath.Acos(x);
            double err = Math.Abs(actual - reference);
            double u = reference == 0 ? (actual == 0 ? 0 : double.PositiveInfinity) : err / UlpF((float)reference);
            if (u > worstUlps) { worstUlps = u; at = x; }
            if (reference != 0) worstRel = Math.Max(worstRel, err / reference);
        }
        const int dense = 2_000_000;
        for (int i = 0; i <= dense; i++) Check((float)(-1.0 + 2.0 * i / dense));
        // Every float in the last 2¹⁶ ulps below 1 and above −1 (acos is steep there).
        float up = 1f, down = -1f;
        for (int i = 0; i < 65_536; i++) { Check(up); Check(down); up = MathF.BitDecrement(up); down = MathF.BitIncrement(down); }
        string msg = string.Create(CultureInfo.InvariantCulture,
            $"KernelMath.Acos vs Math.Acos: max {worstUlps:F3} float ulp (at x = {at:R}), max relative error {worstRel:E3}");
        TestContext.Progress.WriteLine(msg);
        Assert.That(KernelMath.Acos(1f), Is.EqualTo(0f));
        Assert.That(KernelMath.Acos(-1f), Is.EqualTo(MathF.PI).Within(1).Ulps);
        Assert.That(float.IsNaN(KernelMath.Acos(1.0000001f)), Is.True, "acos outside [−1, 1]");
        Assert.That(float.IsNaN(KernelMath.Acos(float.NaN)), Is.True);
        Assert.That(worstUlps, Is.LessThanOrEqualTo(4.0), msg);
        Assert.That(worstRel, Is.LessThanOrEqualTo(4.8e-7), msg);
    }
}
