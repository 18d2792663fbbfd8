using Glass.Kernels.Linalg;

namespace Glass.Kernels.Gw;

/// <summary>
/// Managed reference of the GW linearisation (square loss; Peyré, Cuturi, Solomon 2016, Prop. 1):
/// tens = s·(r·1ᵀ + 1·cᵀ) + t·D_X·Π·D_Y with r = (D_X⊙D_X)·a, c = (D_Y⊙D_Y)·b, by two blocked GEMMs in double.
/// </summary>
public static class GwLinearizationCpu
{
    /// <summary>output (n×m) = s·(r·1ᵀ + 1·cᵀ) + t·D_X·Π·D_Y; <paramref name="tmp"/> is n×m scratch.</summary>
    public static void Linearize(double[] dx, double[] dy, double[] plan, double[] r, double[] c, double[] tmp, double[] output,
        int n, int m, double s, double t)
    {
        MatMulCpu.Gemm(dx, plan, tmp, n, n, m);
        MatMulCpu.Gemm(tmp, dy, output, n, m, m);
        Parallel.For(0, n, i =>
        {
            var o = output.AsSpan(i * m, m);
            double ri = r[i];
            for (int j = 0; j < m; j++) o[j] = s * (ri + c[j]) + t * o[j];
        });
    }

    /// <summary>(D⊙D)·w: the marginal terms of the square loss.</summary>
    public static double[] SquaredTimes(double[] d, int n, double[] w)
    {
        var y = new double[n];
        Parallel.For(0, n, i =>
        {
            double acc = 0;
            for (int k = 0; k < n; k++) { double v = d[(long)i * n + k]; acc += v * v * w[k]; }
            y[i] = acc;
        });
        return y;
    }
}
