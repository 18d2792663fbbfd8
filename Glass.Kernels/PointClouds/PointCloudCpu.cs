using System.Numerics;
using System.Runtime.CompilerServices;

namespace Glass.Kernels.PointClouds;

/// <summary>
/// Managed reference for the sphere maps and pairwise distances, in <c>double</c>; also the CPU
/// backend (<c>Parallel.For</c> over rows). Inputs are trusted (the facades validate them).
/// </summary>
/// <remarks>
/// Angles are computed as <c>θ = atan2(‖x − ⟨p,x⟩p‖, ⟨p,x⟩)</c> (log map) and
/// <c>θ = atan2(‖x × y‖, ⟨x,y⟩)</c> (distances). For unit vectors both equal
/// <c>arccos(clamp(⟨p,x⟩, −1, 1))</c>, but they keep full relative accuracy near θ = 0 and θ = π,
/// where arccos of a rounded cosine loses half the digits (θ error ≈ √ε: 1e-8 in double,
/// 3e-4 in float32) — and they give exactly 0 on the diagonal of D(X, X).
/// </remarks>
internal static class PointCloudCpu
{
    /// <summary>Below this ‖x − ⟨p,x⟩p‖ with ⟨p,x⟩ &lt; 0, x is taken as antipodal to p (double path).</summary>
    internal const double AntipodalSin = 1e-12;

    /// <summary>Below this ‖v‖ the exp map uses the series sin r / r ≈ 1 − r²/6.</summary>
    internal const double SmallAngle = 1e-4;

    private const int ParallelRows = 256;

    /// <summary>
    /// <c>result_i = Log_{p_i}(x_i)</c> for n×3 arrays: <c>θ/‖w‖ · w</c>, <c>w = x − ⟨p,x⟩p</c>,
    /// <c>θ = atan2(‖w‖, ⟨p,x⟩)</c>; <c>‖w‖ = 0</c> gives the limit <c>w</c> (= 0);
    /// antipodal x gives <c>θ·u(p)</c> (see <see cref="AntipodalDirection"/>).
    /// </summary>
    public static void Log(double[] p, double[] x, double[] result)
    {
        int n = x.Length / 3;
        For(n, i =>
        {
            int o = 3 * i;
            double p0 = p[o], p1 = p[o + 1], p2 = p[o + 2];
            double c = p0 * x[o] + p1 * x[o + 1] + p2 * x[o + 2];
            double w0 = x[o] - c * p0, w1 = x[o + 1] - c * p1, w2 = x[o + 2] - c * p2;
            double s = Math.Sqrt(w0 * w0 + w1 * w1 + w2 * w2);
            double theta = Math.Atan2(s, c);
            if (c < 0 && s <= AntipodalSin)
            {
                AntipodalDirection(p0, p1, p2, out double u0, out double u1, out double u2);
                result[o] = theta * u0; result[o + 1] = theta * u1; result[o + 2] = theta * u2;
                return;
            }
            // θ and s are both accurate (no cancellation), so θ/s needs no series; s = 0 takes the limit 1.
            double f = s > 0 ? theta / s : 1;
            result[o] = f * w0; result[o + 1] = f * w1; result[o + 2] = f * w2;
        });
    }

    /// <summary>
    /// The tangent direction used for <c>Log_p(−p)</c>, where every direction is a geodesic:
    /// <c>u(p) = (e_k − p_k p)/‖e_k − p_k p‖</c> with <c>k = argmin_k |p_k|</c> (first on ties),
    /// a unit vector orthogonal to p (‖e_k − p_k p‖² = 1 − p_k² ≥ 2/3).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void AntipodalDirection(double p0, double p1, double p2, out double u0, out double u1, out double u2)
    {
        double a0 = Math.Abs(p0), a1 = Math.Abs(p1), a2 = Math.Abs(p2);
        int k = a0 <= a1 && a0 <= a2 ? 0 : a1 <= a2 ? 1 : 2;
        double pk = k == 0 ? p0 : k == 1 ? p1 : p2;
        u0 = (k == 0 ? 1 : 0) - pk * p0;
        u1 = (k == 1 ? 1 : 0) - pk * p1;
        u2 = (k == 2 ? 1 : 0) - pk * p2;
        double inv = 1 / Math.Sqrt(u0 * u0 + u1 * u1 + u2 * u2);
        u0 *= inv; u1 *= inv; u2 *= inv;
    }

    /// <summary>
    /// <c>result_i = Exp_{p_i}(v_i) = cos r · p + (sin r / r) · v</c>, <c>r = ‖v‖</c>, for n×3 arrays;
    /// <c>sin r / r ≈ 1 − r²/6</c> for r &lt; 1e-4 (exactly 1 at r = 0).
    /// </summary>
    public static void Exp(double[] p, double[] v, double[] result)
    {
        int n = v.Length / 3;
        For(n, i =>
        {
            int o = 3 * i;
            double r = Math.Sqrt(v[o] * v[o] + v[o + 1] * v[o + 1] + v[o + 2] * v[o + 2]);
            double cos = Math.Cos(r);
            double sinc = r < SmallAngle ? 1 - r * r / 6 : Math.Sin(r) / r;
            result[o] = cos * p[o] + sinc * v[o];
            result[o + 1] = cos * p[o + 1] + sinc * v[o + 1];
            result[o + 2] = cos * p[o + 2] + sinc * v[o + 2];
        });
    }

    /// <summary>
    /// <c>d_ij = ∠(x_i, y_j) = atan2(‖x_i × y_j‖, ⟨x_i, y_j⟩)</c> ∈ [0, π] (or its square when
    /// <paramref name="squared"/>); x n×3, y m×3, d n×m.
    /// </summary>
    public static void Geodesic(double[] x, double[] y, double[] d, bool squared)
    {
        int n = x.Length / 3, m = y.Length / 3;
        For(n, i =>
        {
            double x0 = x[3 * i], x1 = x[3 * i + 1], x2 = x[3 * i + 2];
            int row = i * m;
            for (int j = 0; j < m; j++)
            {
                double y0 = y[3 * j], y1 = y[3 * j + 1], y2 = y[3 * j + 2];
                double c0 = x1 * y2 - x2 * y1, c1 = x2 * y0 - x0 * y2, c2 = x0 * y1 - x1 * y0;
                double theta = Math.Atan2(Math.Sqrt(c0 * c0 + c1 * c1 + c2 * c2), x0 * y0 + x1 * y1 + x2 * y2);
                d[row + j] = squared ? theta * theta : theta;
            }
        }, m);
    }

    /// <summary>
    /// <c>d_ij = ‖x_i − y_j‖² = Σ_t (x_it − y_jt)²</c>; x n×dim, y m×dim, d n×m. Summed directly
    /// (not as ‖x‖² + ‖y‖² − 2⟨x,y⟩), so it is ≥ 0, exactly 0 for equal rows, and accurate to a few
    /// ulps of d_ij even for near-coincident points.
    /// </summary>
    public static void SquaredEuclidean(double[] x, double[] y, double[] d, int dim)
    {
        int n = x.Length / dim, m = y.Length / dim;
        int w = Vector<double>.Count;
        For(n, i =>
        {
            var xi = new ReadOnlySpan<double>(x, i * dim, dim);
            int row = i * m;
            for (int j = 0; j < m; j++)
            {
                var yj = new ReadOnlySpan<double>(y, j * dim, dim);
                double s = 0;
                int t = 0;
                if (dim >= 2 * w)
                {
                    var acc = Vector<double>.Zero;
                    for (; t <= dim - w; t += w)
                    {
                        var diff = new Vector<double>(xi.Slice(t, w)) - new Vector<double>(yj.Slice(t, w));
                        acc += diff * diff;
                    }
                    s = Vector.Sum(acc);
                }
                for (; t < dim; t++)
                {
                    double diff = xi[t] - yj[t];
                    s += diff * diff;
                }
                d[row + j] = s;
            }
        }, m * dim);
    }

    /// <summary>Runs <paramref name="body"/> for rows 0..n−1, in parallel when the work is large enough.</summary>
    private static void For(int n, Action<int> body, int workPerRow = 1)
    {
        if ((long)n * workPerRow < ParallelRows * 64)
        {
            for (int i = 0; i < n; i++) body(i);
            return;
        }
        Parallel.For(0, n, body);
    }
}
