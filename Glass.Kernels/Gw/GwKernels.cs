using Glass.Kernels.Linalg;
using ILGPU;
using ILGPU.Runtime;
using Glass.Kernels.Device;

namespace Glass.Kernels.Gw;

/// <summary>ILGPU kernels of the entropic-GW linearisation (square loss). The CPU reference is <see cref="GwLinearizationCpu"/>.</summary>
internal static class GwKernels
{
    // out[i·m + j] = s·(r[i] + c[j]) + t·g[i·m + j]   (tens = 2·constC − 4·D_X Π D_Y with s = 2, t = −4);
    // 1-D grid-stride over k < total = n·m (64-bit: n·m may pass 2³¹).
    internal static void Combine(Index1D thread, ArrayView<float> g, ArrayView<float> r, ArrayView<float> c, ArrayView<float> output,
        long total, int stride, int m, float s, float t)
    {
        for (long k = thread; k < total; k += stride)
        {
            long i = Launch.Row(k, m);
            int j = Launch.Col(k, m);
            output[k] = s * (r[i] + c[j]) + t * g[k];
        }
    }
}

/// <summary>
/// The GW linearisation kernels loaded once per accelerator (obtain through
/// <c>device.GetKernels(acc =&gt; new GwOps(acc))</c>): two GEMMs (<see cref="MatMulOps"/>) and one
/// element-wise combine. Calls are queued and do not synchronise.
/// </summary>
internal sealed class GwOps
{
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, int, int, float, float> _combine;

    public GwOps(Accelerator accelerator)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        MatMul = new MatMulOps(accelerator);
        _combine = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, int, int, float, float>(GwKernels.Combine);
    }

    /// <summary>The GEMM kernel.</summary>
    public MatMulOps MatMul { get; }

    /// <summary>tens (n×m) = s·(r_i + c_j) + t·(D_X·Π·D_Y), with tmp (n×m) scratch; all views on the device.</summary>
    public void Linearize(ArrayView<float> dx, ArrayView<float> dy, ArrayView<float> plan, ArrayView<float> r, ArrayView<float> c,
        ArrayView<float> tmp, ArrayView<float> g, ArrayView<float> output, int n, int m, float s, float t)
    {
        MatMul.Gemm(dx, plan, tmp, n, n, m);
        MatMul.Gemm(tmp, dy, g, n, m, m);
        long total = (long)n * m;
        int threads = Launch.StrideThreads(total);
        if (total > 0) _combine(threads, g, r, c, output, total, threads, m, s, t);
    }
}
