using System.Globalization;

namespace Glass.Runner.Config;

/// <summary>An interval a config number must lie in; <see cref="Describe"/> says it in words for error messages.</summary>
internal readonly record struct NumberRange(double Min, bool MinInclusive, double Max, bool MaxInclusive)
{
    /// <summary>(0, ∞).</summary>
    public static NumberRange Positive => new(0, false, double.PositiveInfinity, false);

    /// <summary>[0, ∞).</summary>
    public static NumberRange NonNegative => new(0, true, double.PositiveInfinity, false);

    /// <summary>Any finite number.</summary>
    public static NumberRange Any => new(double.NegativeInfinity, false, double.PositiveInfinity, false);

    /// <summary>[0, 1]: probabilities.</summary>
    public static NumberRange Probability => new(0, true, 1, true);

    /// <summary>(a, b).</summary>
    public static NumberRange Open(double a, double b) => new(a, false, b, false);

    /// <summary>(a, b].</summary>
    public static NumberRange LeftOpen(double a, double b) => new(a, false, b, true);

    /// <summary>[a, b].</summary>
    public static NumberRange Closed(double a, double b) => new(a, true, b, true);

    /// <summary>True when x is finite and inside the interval.</summary>
    public bool Contains(double x) =>
        double.IsFinite(x)
        && (MinInclusive ? x >= Min : x > Min)
        && (MaxInclusive ? x <= Max : x < Max);

    /// <summary>"a number &gt; 0", "a number in (0, 1]", …</summary>
    public string Describe()
    {
        bool lo = !double.IsNegativeInfinity(Min), hi = !double.IsPositiveInfinity(Max);
        if (lo && hi)
            return $"a number in {(MinInclusive ? "[" : "(")}{F(Min)}, {F(Max)}{(MaxInclusive ? "]" : ")")}";
        if (lo) return $"a number {(MinInclusive ? "≥" : ">")} {F(Min)}";
        if (hi) return $"a number {(MaxInclusive ? "≤" : "<")} {F(Max)}";
        return "a finite number";
    }

    private static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
