using System.Globalization;

namespace Glass.Kernels.Chebyshev;

/// <summary>
/// Exponentially scaled modified Bessel functions of the first kind, <c>e^{-x}·I_k(x)</c> for
/// integer orders <c>k = 0..kmax</c> (scipy's <c>ive</c>). The scaled values are what the Chebyshev
/// heat-kernel coefficients need and never overflow.
/// </summary>
internal static class Bessel
{
    /// <summary>Below this argument the power series is used; at and above it, Miller's backward recurrence.</summary>
    internal const double SeriesBelow = 1.0;

    /// <summary><c>e^{-x}·I_k(x)</c> for <c>k = 0..kmax</c>, <c>x ≥ 0</c> (relative accuracy ~1e-15).</summary>
    /// <exception cref="ArgumentException"><paramref name="x"/> negative or not finite, <paramref name="kmax"/> &lt; 0.</exception>
    public static double[] ScaledI(double x, int kmax)
    {
        if (!(x >= 0) || !double.IsFinite(x))
            throw new ArgumentException($"x = {x.ToString("R", CultureInfo.InvariantCulture)}; expected a finite value ≥ 0.", nameof(x));
        if (kmax < 0)
            throw new ArgumentException($"kmax = {kmax}; expected an order ≥ 0.", nameof(kmax));
        if (x == 0)
        {
            var r = new double[kmax + 1];
            r[0] = 1;
            return r;
        }
        return x < SeriesBelow ? ScaledISeries(x, kmax) : ScaledIMiller(x, kmax);
    }

    /// <summary>
    /// Power series <c>I_k(x) = Σ_m (x/2)^{2m+k} / (m!·(m+k)!)</c>, times <c>e^{-x}</c>. All terms are
    /// positive (no cancellation); the number of terms grows like <c>x</c>, so it is used for small
    /// <c>x</c> only (and as an independent check of <see cref="ScaledIMiller"/> in the tests).
    /// The leading term <c>(x/2)^k/k!</c> is built by products and underflows gracefully to 0.
    /// </summary>
    internal static double[] ScaledISeries(double x, int kmax)
    {
        var r = new double[kmax + 1];
        double half = 0.5 * x, q = half * half, scale = Math.Exp(-x);
        double lead = scale; // e^{-x}(x/2)^k / k!
        for (int k = 0; k <= kmax; k++)
        {
            if (k > 0) lead *= half / k;
            if (lead == 0) break;
            double term = lead, sum = lead;
            for (int m = 1; m < 100_000; m++)
            {
                term *= q / ((double)m * (m + k));
                sum += term;
                if (term <= 1e-17 * sum) break;
            }
            r[k] = sum;
        }
        return r;
    }

    /// <summary>
    /// Miller's backward recurrence <c>I_{k−1}(x) = I_{k+1}(x) + (2k/x)·I_k(x)</c> started at
    /// <c>N = kmax + 20 + ⌈√(80x)⌉</c> from <c>(b_{N+1}, b_N) = (0, 1)</c> and normalised by
    /// <c>e^{x} = I_0(x) + 2 Σ_{k≥1} I_k(x)</c>, which yields <c>e^{-x}·I_k(x)</c> directly.
    /// <para>
    /// I_k is the minimal solution of the recurrence run downwards, so the start error decays: the
    /// relative error at order k is about <c>(I_N/I_k)·(K_k/K_N) ≲ exp(−(N² − k²)/x)</c>, below
    /// 1e-30 with this N. Values are rescaled by 1e-250 when they pass 1e250. For <c>x ≥ 1</c>
    /// (each step grows by at most <c>2N/x + 1</c>) no overflow can occur.
    /// </para>
    /// </summary>
    internal static double[] ScaledIMiller(double x, int kmax)
    {
        const double big = 1e250, small = 1e-250;
        var r = new double[kmax + 1];
        int n = kmax + 20 + (int)Math.Ceiling(Math.Sqrt(80 * x));
        double bNext = 0, b = 1, sum = 0; // b_{k+1}, b_k
        for (int k = n; k >= 1; k--)
        {
            if (k <= kmax) r[k] = b;
            sum += 2 * b;
            double bPrev = bNext + 2.0 * k / x * b;
            bNext = b;
            b = bPrev;
            if (b > big)
            {
                b *= small; bNext *= small; sum *= small;
                for (int j = k; j <= kmax; j++) r[j] *= small;
            }
        }
        r[0] = b;
        sum += b;
        for (int k = 0; k <= kmax; k++) r[k] /= sum;
        return r;
    }
}
