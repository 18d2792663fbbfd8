using Glass.Kernels.Device.LowLevel;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace Glass.Kernels.PointClouds;

/// <summary>
/// ILGPU kernels (float32) for the sphere maps and pairwise distances; same formulas and
/// conventions as the reference <see cref="PointCloudCpu"/>. Point sets are row-major n×dim.
/// </summary>
internal static class PointCloudKernels
{
    /// <summary>
    /// Antipodal test in float32: below this ‖x − ⟨p,x⟩p‖ (with ⟨p,x⟩ &lt; 0) the direction of w is
    /// rounding noise (≈ 1e-7 for x = −p), so the fixed direction u(p) is used.
    /// </summary>
    internal const float AntipodalSin = 1e-6f;

    // result (n×3): result_i = Log_{p_i}(x_i); p, x n×3; one thread per row.
    internal static void Log(Index1D i, ArrayView<float> p, ArrayView<float> x, ArrayView<float> result)
    {
        long o = 3L * i;
        float p0 = p[o], p1 = p[o + 1], p2 = p[o + 2];
        float c = p0 * x[o] + p1 * x[o + 1] + p2 * x[o + 2];
        float w0 = x[o] - c * p0, w1 = x[o + 1] - c * p1, w2 = x[o + 2] - c * p2;
        float s = XMath.Sqrt(w0 * w0 + w1 * w1 + w2 * w2);
        float theta = KernelMath.Atan2(s, c);
        if (c < 0f && s <= AntipodalSin)
        {
            // u(p) = normalize(e_k − p_k p), k = argmin |p_k| (first on ties), as in PointCloudCpu.AntipodalDirection.
            float a0 = XMath.Abs(p0), a1 = XMath.Abs(p1), a2 = XMath.Abs(p2);
            int k = a0 <= a1 && a0 <= a2 ? 0 : a1 <= a2 ? 1 : 2;
            float pk = k == 0 ? p0 : k == 1 ? p1 : p2;
            float u0 = (k == 0 ? 1f : 0f) - pk * p0;
            float u1 = (k == 1 ? 1f : 0f) - pk * p1;
            float u2 = (k == 2 ? 1f : 0f) - pk * p2;
            float g = theta / XMath.Sqrt(u0 * u0 + u1 * u1 + u2 * u2);
            result[o] = g * u0; result[o + 1] = g * u1; result[o + 2] = g * u2;
            return;
        }
        float f = s > 0f ? theta / s : 1f;
        result[o] = f * w0; result[o + 1] = f * w1; result[o + 2] = f * w2;
    }

    // result (n×3): result_i = Exp_{p_i}(v_i) = cos r·p + (sin r/r)·v, r = ‖v_i‖; p, v n×3; one thread per row.
    internal static void Exp(Index1D i, ArrayView<float> p, ArrayView<float> v, ArrayView<float> result)
    {
        long o = 3L * i;
        float v0 = v[o], v1 = v[o + 1], v2 = v[o + 2];
        float r = XMath.Sqrt(v0 * v0 + v1 * v1 + v2 * v2);
        float cos = XMath.Cos(r);
        float sinc = r < (float)PointCloudCpu.SmallAngle ? 1f - r * r / 6f : XMath.Sin(r) / r;
        result[o] = cos * p[o] + sinc * v0;
        result[o + 1] = cos * p[o + 1] + sinc * v1;
        result[o + 2] = cos * p[o + 2] + sinc * v2;
    }

    // d (n×m): d_ij = atan2(‖x_i × y_j‖, ⟨x_i, y_j⟩) (squared if squared ≠ 0); x n×3, y m×3;
    // 1-D grid-stride over k = i·m + j < total = n·m (64-bit: no grid-y limit, no int overflow).
    internal static void Geodesic(Index1D thread, ArrayView<float> x, ArrayView<float> y, ArrayView<float> d, long total, int stride, int m, int squared)
    {
        for (long k = thread; k < total; k += stride)
        {
            long i = Launch.Row(k, m);
            int j = Launch.Col(k, m);
            float x0 = x[3 * i], x1 = x[3 * i + 1], x2 = x[3 * i + 2];
            float y0 = y[3L * j], y1 = y[3L * j + 1], y2 = y[3L * j + 2];
            float c0 = x1 * y2 - x2 * y1, c1 = x2 * y0 - x0 * y2, c2 = x0 * y1 - x1 * y0;
            float theta = KernelMath.Atan2(XMath.Sqrt(c0 * c0 + c1 * c1 + c2 * c2), x0 * y0 + x1 * y1 + x2 * y2);
            d[k] = squared != 0 ? theta * theta : theta;
        }
    }

    // d (n×m): d_ij = Σ_t (x_it − y_jt)²; x n×dim, y m×dim; 1-D grid-stride over k = i·m + j < total = n·m (64-bit).
    internal static void SquaredEuclidean(Index1D thread, ArrayView<float> x, ArrayView<float> y, ArrayView<float> d, long total, int stride, int m, int dim)
    {
        for (long k = thread; k < total; k += stride)
        {
            long i = Launch.Row(k, m);
            int j = Launch.Col(k, m);
            float s = 0f;
            for (int t = 0; t < dim; t++)
            {
                float diff = x[i * dim + t] - y[(long)j * dim + t];
                s += diff * diff;
            }
            d[k] = s;
        }
    }
}
