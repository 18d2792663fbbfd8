using System.Globalization;

namespace Glass.Kernels.Validation;

/// <summary>
/// Argument checks shared by every primitive. Each throws <see cref="ArgumentException"/> naming
/// the argument, the offending value (and index) and what was expected.
/// </summary>
public static class Guard
{
    private static string Fmt(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Every entry finite (no NaN, no ±Inf).</summary>
    public static void Finite(ReadOnlySpan<double> x, string name)
    {
        for (int i = 0; i < x.Length; i++)
            if (!double.IsFinite(x[i]))
                throw new ArgumentException($"{name}[{i}] = {Fmt(x[i])}; expected a finite number.", name);
    }

    /// <inheritdoc cref="Finite(ReadOnlySpan{double}, string)"/>
    public static void Finite(ReadOnlySpan<float> x, string name)
    {
        for (int i = 0; i < x.Length; i++)
            if (!float.IsFinite(x[i]))
                throw new ArgumentException($"{name}[{i}] = {Fmt(x[i])}; expected a finite number.", name);
    }

    /// <summary>Non-empty.</summary>
    public static void NonEmpty<T>(ReadOnlySpan<T> x, string name)
    {
        if (x.Length == 0)
            throw new ArgumentException($"{name} is empty; expected at least one entry.", name);
    }

    /// <summary>Exact length.</summary>
    public static void Length<T>(ReadOnlySpan<T> x, int expected, string name, string what)
    {
        if (x.Length != expected)
            throw new ArgumentException($"{name} has length {x.Length}; expected {expected} ({what}).", name);
    }

    /// <summary>Strictly positive finite scalar.</summary>
    public static void Positive(double v, string name)
    {
        if (!(v > 0) || !double.IsFinite(v))
            throw new ArgumentException($"{name} = {Fmt(v)}; expected a finite value > 0.", name);
    }

    /// <summary>Positive integer.</summary>
    public static void Positive(int v, string name)
    {
        if (v <= 0)
            throw new ArgumentException($"{name} = {v}; expected an integer > 0.", name);
    }

    /// <summary>Value in the open interval (lo, hi).</summary>
    public static void InOpen(double v, double lo, double hi, string name)
    {
        if (!(v > lo && v < hi))
            throw new ArgumentException($"{name} = {Fmt(v)}; expected a value in ({Fmt(lo)}, {Fmt(hi)}).", name);
    }

    /// <summary>
    /// A probability vector: finite, non-negative, sum 1 within 1e-6 relative
    /// (POT and OTT accept the same slack).
    /// </summary>
    public static void Marginal(ReadOnlySpan<double> a, int expected, string name)
    {
        Length(a, expected, name, "one weight per point");
        double sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            if (!double.IsFinite(a[i]) || a[i] < 0)
                throw new ArgumentException($"{name}[{i}] = {Fmt(a[i])}; expected a finite weight ≥ 0.", name);
            sum += a[i];
        }
        if (Math.Abs(sum - 1) > 1e-6)
            throw new ArgumentException($"{name} sums to {Fmt(sum)}; expected a probability vector summing to 1.", name);
    }
}
