using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Algorithms;

namespace Glass.Kernels.Device.LowLevel;

/// <summary>
/// Elementary functions for the ILGPU kernels, written so that the PTX backend compiles them to straight-line
/// arithmetic. ILGPU.Algorithms 1.5.3 maps double <c>XMath.Exp</c> / <c>XMath.Log</c> and float
/// <c>XMath.Atan2</c> / <c>XMath.Acos</c> on PTX to its software CORDIC routines (<c>XMath.Cordic</c>: 24–53
/// non-inlined calls per evaluation, each with a division, and an argument-dependent loop), which would dominate the
/// Sinkhorn inner loops. These replace them in every kernel; on ILGPU's CPU accelerator the same code runs, so the
/// CPU-accelerator kernel tests exercise it too. Float <c>Exp</c>/<c>Log</c>/<c>Sin</c>/<c>Cos</c>/<c>Sqrt</c> stay on
/// <c>XMath</c>: PTX maps them to the hardware instructions <c>ex2.approx.f32</c>, <c>lg2.approx.f32</c>,
/// <c>sin/cos.approx.f32</c> and <c>sqrt.rn.f32</c> (checked by <c>PtxKernelTests</c>).
/// <para>Accuracy, measured against <see cref="Math.Exp"/>, <see cref="Math.Log(double)"/>, <see cref="Math.Atan2"/> and
/// <see cref="Math.Acos"/> by <c>KernelMathTests</c>:
/// <list type="bullet">
/// <item><see cref="Exp"/>: ≤ 2 ulp asserted, max relative error ≤ 2.3e-16 asserted (measured: 1.00 ulp, 2.22e-16) on
/// x ∈ [−745, 709.78], subnormal results included; exp(x) = 0 exactly for x &lt; −745.14 (the log-domain Sinkhorn
/// relies on exp(−huge) = 0), +∞ above ln(double.MaxValue), NaN passes through.</item>
/// <item><see cref="Log"/>: ≤ 2 ulp, relative error ≤ 2.3e-16 asserted (measured: 1.00 ulp, 2.22e-16) on all x &gt; 0
/// including subnormals; log ±0 = −∞, log(x &lt; 0) = NaN, log ∞ = ∞.</item>
/// <item><see cref="Atan2"/>, <see cref="Acos"/> (float): ≤ 4 float ulp, relative error ≤ 4.8e-7 asserted (measured:
/// atan2 2.85 ulp / 2.0e-7, acos 3.31 ulp / 2.4e-7).</item>
/// </list></para>
/// Every member is aggressively inlined, so no PTX <c>call</c> remains. Public (in the low-level namespace) so that
/// kernels outside this assembly — the autodiff tape's, or your own launched on a Glass device — use the same functions.
/// </summary>
public static class KernelMath
{
    /// <summary>1/ln 2.</summary>
    private const double Log2E = 1.4426950408889634;
    /// <summary>ln 2 split for Cody–Waite (fdlibm): the high part has 21 trailing zero bits, so k·Ln2Hi is exact for |k| &lt; 2¹¹.</summary>
    private const double Ln2Hi = 6.93147180369123816490e-01;
    private const double Ln2Lo = 1.90821492927058770002e-10;
    /// <summary>Arguments are clamped into [ExpLo, ExpHi]; e^ExpHi overflows to +∞ and e^ExpLo rounds to 0, so the clamp changes no result.</summary>
    private const double ExpLo = -746.0, ExpHi = 710.0;

    /// <summary>
    /// e^x in double. Cody–Waite reduction x = k·ln 2 + r with k = round(x/ln 2), |r| ≤ ln2/2 (ln 2 in two parts, so r
    /// carries an absolute error below 1e-20); e^r by its Taylor polynomial of degree 13 (truncation &lt; 5e-18 on |r| ≤ 0.347), evaluated as
    /// 1 + (r + r²·q(r)); 2^k assembled from exponent bits in two halves, 2^⌊k/2⌋·2^(k−⌊k/2⌋), so k = 1024 (overflow)
    /// and k &lt; −1022 (subnormal results, rounded once) need no special path. Fixed cost for every argument.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Exp(double x)
    {
        // NaN fails both comparisons and stays NaN; ±∞ land on the clamp ends (→ +∞, 0).
        double xc = x < ExpLo ? ExpLo : x > ExpHi ? ExpHi : x;
        int k = (int)(xc * Log2E + (xc >= 0 ? 0.5 : -0.5));
        double kd = k;
        double r = (xc - kd * Ln2Hi) - kd * Ln2Lo;
        double q = 1.0 / 6227020800.0;          // 1/13!
        q = q * r + 1.0 / 479001600.0;          // 1/12!
        q = q * r + 1.0 / 39916800.0;           // 1/11!
        q = q * r + 1.0 / 3628800.0;            // 1/10!
        q = q * r + 1.0 / 362880.0;             // 1/9!
        q = q * r + 1.0 / 40320.0;              // 1/8!
        q = q * r + 1.0 / 5040.0;               // 1/7!
        q = q * r + 1.0 / 720.0;                // 1/6!
        q = q * r + 1.0 / 120.0;                // 1/5!
        q = q * r + 1.0 / 24.0;                 // 1/4!
        q = q * r + 1.0 / 6.0;                  // 1/3!
        q = q * r + 0.5;                        // 1/2!
        double er = 1.0 + (r + r * r * q);
        int k1 = k >> 1;
        return er * Pow2(k1) * Pow2(k - k1);
    }

    /// <summary>2^k for k ∈ [−1022, 1023], from the exponent bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double Pow2(int k) => Interop.IntAsFloat((ulong)(long)(k + 1023) << 52);

    /// <summary>√2 as the bit pattern of a double in [1, 2) (0x3FF6A09E667F3BCD).</summary>
    private const ulong Sqrt2Bits = 0x3FF6A09E667F3BCDUL;

    /// <summary>
    /// log x in double (fdlibm's scheme, with the Taylor coefficients of atanh). x = 2^e·m split by its bits (subnormals
    /// scaled by 2⁵⁴ first), m folded into [√2/2, √2); with f = m − 1 and s = f/(2 + f) (|s| ≤ 0.1716),
    /// log m = 2·atanh s = f − f²/2 + s·(f²/2 + R), R = Σ_{j=1..10} 2 s^{2j}/(2j + 1) (truncation &lt; 1e-18 relative);
    /// log x = e·ln 2 + log m with ln 2 in two parts. One division.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Log(double x)
    {
        if (!(x > 0)) return x == 0 ? double.NegativeInfinity : double.NaN;
        if (x == double.PositiveInfinity) return x;
        ulong bits = Interop.FloatAsInt(x);
        int e = -1023;
        if (bits < 0x0010000000000000UL)
        {
            bits = Interop.FloatAsInt(x * 18014398509481984.0); // 2⁵⁴
            e -= 54;
        }
        e += (int)(bits >> 52);
        ulong mBits = (bits & 0x000FFFFFFFFFFFFFUL) | 0x3FF0000000000000UL;
        if (mBits > Sqrt2Bits)
        {
            mBits -= 0x0010000000000000UL; // m/2
            e++;
        }
        double f = Interop.IntAsFloat(mBits) - 1.0;
        double s = f / (2.0 + f);
        double z = s * s;
        double p = 2.0 / 21.0;
        p = p * z + 2.0 / 19.0;
        p = p * z + 2.0 / 17.0;
        p = p * z + 2.0 / 15.0;
        p = p * z + 2.0 / 13.0;
        p = p * z + 2.0 / 11.0;
        p = p * z + 2.0 / 9.0;
        p = p * z + 2.0 / 7.0;
        p = p * z + 2.0 / 5.0;
        p = p * z + 2.0 / 3.0;
        double rr = z * p;
        double hfsq = 0.5 * f * f;
        double kd = e;
        return kd * Ln2Hi - ((hfsq - (s * (hfsq + rr) + kd * Ln2Lo)) - f);
    }

    private const float PiF = 3.14159265358979f, PiHalfF = 1.57079632679490f, PiQuarterF = 0.785398163397448f;
    /// <summary>tan(π/8).</summary>
    private const float TanPi8 = 0.414213562373095f;

    /// <summary>
    /// atan2(y, x) in float (quadrants as <see cref="MathF.Atan2"/>; atan2(±0, x) = ±0 for x ≥ 0, ±π for x &lt; 0).
    /// t = min(|x|, |y|)/max(|x|, |y|) ∈ [0, 1], reduced once more by π/4 when t &gt; tan(π/8) —
    /// folded into the same single division, u = (min − max)/(min + max) — then Cephes' atanf polynomial
    /// u + u·z·P(z), z = u², on |u| ≤ tan(π/8). Both infinite gives NaN (unused here).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Atan2(float y, float x)
    {
        if (XMath.IsNaN(x) || XMath.IsNaN(y)) return x + y;
        float ax = x < 0 ? -x : x, ay = y < 0 ? -y : y;
        float mx = ax > ay ? ax : ay, mn = ax > ay ? ay : ax;
        bool big = mn > TanPi8 * mx;
        float num = big ? mn - mx : mn, den = big ? mn + mx : mx;
        float u = den > 0 ? num / den : 0f;
        float z = u * u;
        float a = (((8.05374449538e-2f * z - 1.38776856032e-1f) * z + 1.99777106478e-1f) * z - 3.33329491539e-1f) * z * u + u;
        if (big) a += PiQuarterF;
        if (ay > ax) a = PiHalfF - a;
        if (Interop.FloatAsInt(x) >= 0x80000000u) a = PiF - a; // x < 0 or x = −0
        return Interop.FloatAsInt(y) >= 0x80000000u ? -a : a;
    }

    /// <summary>arccos x in float for x ∈ [−1, 1], as atan2(√((1 − x)(1 + x)), x) (well conditioned at both ends); NaN outside.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Acos(float x)
    {
        if (!(x >= -1f && x <= 1f)) return float.NaN;
        float s = (1f - x) * (1f + x);
        return Atan2(s > 0 ? XMath.Sqrt(s) : 0f, x);
    }
}
