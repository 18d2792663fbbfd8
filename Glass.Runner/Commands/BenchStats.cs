namespace Glass.Runner.Commands;

/// <summary>The statistics the benchmarks report (one copy for every <c>glass bench</c> command).</summary>
internal static class BenchStats
{
    /// <summary>Median of <paramref name="xs"/> (mean of the two middle values for an even count).</summary>
    /// <exception cref="ArgumentException"><paramref name="xs"/> is empty.</exception>
    public static double Median(IReadOnlyCollection<double> xs)
    {
        if (xs.Count == 0) throw new ArgumentException("Median of no values.", nameof(xs));
        var s = xs.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : 0.5 * (s[s.Length / 2 - 1] + s[s.Length / 2]);
    }
}
