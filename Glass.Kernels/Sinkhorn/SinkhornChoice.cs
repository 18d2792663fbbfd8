using Glass.Kernels.Device;

namespace Glass.Kernels.Sinkhorn;

/// <summary>The solver a 1-D score problem is best run with (<see cref="SinkhornChoice.For1D"/>).</summary>
public enum ScoreMethod
{
    /// <summary>Banded log-stabilised scaling on |s_i − t_j| ≤ r (<see cref="BandedSinkhorn"/>).</summary>
    Banded,
    /// <summary>Dense, kernel stored in memory, exp-domain scaling (<see cref="DenseKernel.Stored"/>).</summary>
    Stored,
    /// <summary>Dense log domain, cost computed on the fly (<see cref="DenseKernel.Online"/>).</summary>
    Dense,
}

/// <summary>
/// Picks the Sinkhorn method for 1-D scores from the problem's shape alone (never from labels or a known answer):
/// the band's density ρ = nnz/(n·m) at radius r = sqrt(−γ·log ε) is counted exactly in O((n + m)·log) by sorting; the
/// band pays when it keeps at most <see cref="BandDensityMax"/> of the pairs (its sweep costs about twice a stored
/// kernel's per entry: two passes per iteration instead of one fused pass); otherwise the stored kernel when n·m fits
/// <see cref="SinkhornOptions.StoredKernelMaxEntries"/> on the managed backend; otherwise the online log-domain solver.
/// </summary>
public static class SinkhornChoice
{
    /// <summary>Largest band density at which the band is chosen.</summary>
    public const double BandDensityMax = 0.4;

    /// <summary>The method for scores <paramref name="s"/>, <paramref name="t"/> at γ with band truncation ε, on <paramref name="device"/>.</summary>
    public static (ScoreMethod Method, double BandDensity) For1D(ComputeDevice device, double[] s, double[] t, double gamma, double bandEps)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(s);
        ArgumentNullException.ThrowIfNull(t);
        double density = BandDensity(s, t, Math.Sqrt(-gamma * Math.Log(bandEps)));
        if (density <= BandDensityMax) return (ScoreMethod.Banded, density);
        if (!device.IsAccelerated && (long)s.Length * t.Length <= SinkhornOptions.StoredKernelMaxEntries) return (ScoreMethod.Stored, density);
        return (ScoreMethod.Dense, density);
    }

    /// <summary>Fraction of pairs (i, j) with |s_i − t_j| ≤ r (two pointers over sorted copies).</summary>
    internal static double BandDensity(double[] s, double[] t, double r)
    {
        var ss = (double[])s.Clone();
        var ts = (double[])t.Clone();
        Array.Sort(ss);
        Array.Sort(ts);
        long count = 0;
        int lo = 0, hi = 0;
        foreach (double x in ss)
        {
            while (lo < ts.Length && ts[lo] < x - r) lo++;
            if (hi < lo) hi = lo;
            while (hi < ts.Length && ts[hi] <= x + r) hi++;
            count += hi - lo;
        }
        return (double)count / ((long)s.Length * t.Length);
    }
}
