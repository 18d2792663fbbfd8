using ILGPU;

namespace Glass.Kernels.Chebyshev;

/// <summary>
/// ILGPU kernels of the Chebyshev heat kernel (float32). One thread per entry <c>(i, c)</c> of an
/// <c>n × p</c> row-major block, <c>index = i·p + c</c>; L is CSR (<c>rowPtr</c> n+1, <c>colIdx</c>
/// and <c>values</c> nnz). Neighbouring threads read neighbouring columns of the same rows of x,
/// so loads coalesce when p is large. CPU reference: <see cref="HeatKernelCpu"/>.
/// </summary>
internal static class HeatKernelKernels
{
    /// <summary>Σ_k L[i, colIdx[k]]·x[colIdx[k], c] over the stored entries of row i.</summary>
    private static float RowDot(int i, int c, int p, ArrayView<int> rowPtr, ArrayView<int> colIdx, ArrayView<float> values, ArrayView<float> x)
    {
        float s = 0;
        int end = rowPtr[i + 1];
        for (int k = rowPtr[i]; k < end; k++)
            s += values[k] * x[colIdx[k] * p + c];
        return s;
    }

    // [n·p] y = (L − shift·I)·x, x and y n × p
    public static void ShiftedSpmm(Index1D index, ArrayView<int> rowPtr, ArrayView<int> colIdx, ArrayView<float> values,
        ArrayView<float> x, ArrayView<float> y, int p, float shift)
    {
        int i = index / p, c = index - i * p;
        y[index] = RowDot(i, c, p, rowPtr, colIdx, values, x) - shift * x[index];
    }

    // [n·p] t1 = (L − I)·t0; y = c0·t0 + c1·t1
    public static void FirstStep(Index1D index, ArrayView<int> rowPtr, ArrayView<int> colIdx, ArrayView<float> values,
        ArrayView<float> t0, ArrayView<float> t1, ArrayView<float> y, int p, float c0, float c1)
    {
        int i = index / p, c = index - i * p;
        float t0i = t0[index];
        float t = RowDot(i, c, p, rowPtr, colIdx, values, t0) - t0i;
        t1[index] = t;
        y[index] = c0 * t0i + c1 * t;
    }

    // [n·p] tPrev ← 2·(L − I)·tCur − tPrev (in place: each thread reads tPrev only at its own index); y += ck·tPrev
    public static void Step(Index1D index, ArrayView<int> rowPtr, ArrayView<int> colIdx, ArrayView<float> values,
        ArrayView<float> tCur, ArrayView<float> tPrev, ArrayView<float> y, int p, float ck)
    {
        int i = index / p, c = index - i * p;
        float t = 2f * (RowDot(i, c, p, rowPtr, colIdx, values, tCur) - tCur[index]) - tPrev[index];
        tPrev[index] = t;
        y[index] += ck * t;
    }
}
