using System.Globalization;
using NUnit.Framework;

namespace Glass.Tests.Support;

/// <summary>Element-wise comparison <c>|x − ref| ≤ atol + rtol·|ref|</c>, reporting the first mismatch.</summary>
public static class Close
{
    public static void All(ReadOnlySpan<double> reference, ReadOnlySpan<double> actual, double atol, double rtol, string what)
    {
        Assert.That(actual.Length, Is.EqualTo(reference.Length), $"{what}: length");
        int bad = 0, first = -1;
        double worst = 0;
        for (int i = 0; i < reference.Length; i++)
        {
            double err = Math.Abs(actual[i] - reference[i]);
            double allowed = atol + rtol * Math.Abs(reference[i]);
            if (!(err <= allowed))
            {
                if (first < 0) first = i;
                bad++;
            }
            worst = Math.Max(worst, err);
        }
        if (bad > 0)
            Assert.Fail(string.Create(CultureInfo.InvariantCulture,
                $"{what}: {bad} of {reference.Length} entries differ; first at [{first}]: ref {reference[first]:R}, got {actual[first]:R} (atol {atol}, rtol {rtol}); max abs err {worst:E3}"));
    }

    public static void All(ReadOnlySpan<double> reference, ReadOnlySpan<float> actual, double atol, double rtol, string what)
    {
        var a = new double[actual.Length];
        for (int i = 0; i < a.Length; i++) a[i] = actual[i];
        All(reference, a, atol, rtol, what);
    }

    public static void Scalar(double reference, double actual, double atol, double rtol, string what)
    {
        double err = Math.Abs(actual - reference);
        Assert.That(err <= atol + rtol * Math.Abs(reference), Is.True,
            string.Create(CultureInfo.InvariantCulture, $"{what}: ref {reference:R}, got {actual:R}, |err| {err:E3} > atol {atol} + rtol {rtol}·|ref|"));
    }

    public static double[] RandomNormal(int n, int seed, double scale = 1)
    {
        var rng = new Random(seed);
        var x = new double[n];
        for (int i = 0; i < n; i++)
        {
            double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
            x[i] = scale * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
        }
        return x;
    }

    public static double[] RandomUniform(int n, int seed, double lo = 0, double hi = 1)
    {
        var rng = new Random(seed);
        var x = new double[n];
        for (int i = 0; i < n; i++) x[i] = lo + (hi - lo) * rng.NextDouble();
        return x;
    }
}
