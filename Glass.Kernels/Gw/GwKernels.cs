using Glass.Kernels.Linalg;
using ILGPU;
using ILGPU.Runtime;

namespace Glass.Kernels.Gw;

/// <summary>ILGPU kernels of the entropic-GW linearisation (square loss). The CPU reference is <see cref="GwLinearizationCpu"/>.</summary>
internal static class GwKernels
{
    // grid = n·m; out[i·m + j] = s·(r[i] + c[j]) + t·g[i·m + j]   (tens = 2·constC − 4·D_X Π D_Y with s = 2, t = −4).
    internal static void Combine(Index1D k, ArrayView<float> g, ArrayView<float> r, ArrayView<float> c, ArrayView<float> output, int m, float s, float t)
    {
        int i = k / m, j = k - i * m;
        output[k] = s * (r[i] + c[j]) + t * g[k];
    }
}

/// <summary>
/// The GW linearisation kernels loaded once per accelerator (obtain through
/// <c>device.GetKernels(acc =&gt; new GwOps(acc))</c>): two GEMMs (<see cref="MatMulOps"/>) and one
/// element-wise combine. Calls are queued and do not synchronise.
/// </summary>
internal sealed class GwOps
{
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float, float> _combine;

    public GwOps(Accelerator accelerator)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        MatMul = new MatMulOps(accelerator);
        _combine = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float, float>(GwKernels.Combine);
    }

    /// <summary>The GEMM kernel.</summary>
    public MatMulOps MatMul { get; }

    /// <summary>tens (n×m) = s·(r_i + c_j) + t·(D_X·Π·D_Y), with tmp (n×m) scratch; all views on the device.</summary>
    public void Linearize(ArrayView<float> dx, ArrayView<float> dy, ArrayView<float> plan, ArrayView<float> r, ArrayView<float> c,
        ArrayView<float> tmp, ArrayView<float> g, ArrayView<float> output, int n, int m, float s, float t)
    {
        MatMul.Gemm(dx, plan, tmp, n, n, m);
        MatMul.Gemm(tmp, dy, g, n, m, m);
        _combine((int)((long)n * m), g, r, c, output, m, s, t);
    }
}
