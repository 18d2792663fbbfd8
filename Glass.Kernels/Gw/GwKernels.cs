using Glass.Kernels.Linalg;
using ILGPU;
using ILGPU.Runtime;
using Glass.Kernels.Device.LowLevel;

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

    // Grid-stride over k < total: y[k] ← (float)x[k] (the double plan as the GEMM's float operand).
    internal static void Narrow(Index1D thread, ArrayView<double> x, ArrayView<float> y, long total, int stride)
    {
        for (long k = thread; k < total; k += stride) y[k] = (float)x[k];
    }

    // grid = rows n (one group per row i): rows[i] ← Σ_j (x_ij − y_ij)² in double (the plan change ‖Π_k − Π_{k−1}‖²).
    internal static void RowSquaredDiff(ArrayView<double> x, ArrayView<double> y, int m, ArrayView<double> rows)
    {
        var sh = SharedMemory.Allocate<double>(Sinkhorn.DenseSinkhornKernels.MaxGroup);
        int i = Grid.IdxX, t = Group.IdxX;
        double s = 0;
        for (int j = t; j < m; j += Group.DimX)
        {
            double d = x[(long)i * m + j] - y[(long)i * m + j];
            s += d * d;
        }
        s = Sinkhorn.DenseSinkhornKernels.ReduceSum(s, sh);
        if (t == 0) rows[i] = s;
    }

    // grid = rows n (one group per row i): rows[i] ← Σ_j tens_ij·x_ij in double (the GW loss ½⟨tens(Π), Π⟩ by rows).
    internal static void RowDot(ArrayView<float> tens, ArrayView<double> x, int m, ArrayView<double> rows)
    {
        var sh = SharedMemory.Allocate<double>(Sinkhorn.DenseSinkhornKernels.MaxGroup);
        int i = Grid.IdxX, t = Group.IdxX;
        double s = 0;
        for (int j = t; j < m; j += Group.DimX) s += (double)tens[(long)i * m + j] * x[(long)i * m + j];
        s = Sinkhorn.DenseSinkhornKernels.ReduceSum(s, sh);
        if (t == 0) rows[i] = s;
    }
}

/// <summary>
/// The GW linearisation kernels loaded once per accelerator (obtain through
/// <c>device.GetKernels(acc =&gt; new GwDeviceOps(acc))</c>): two GEMMs (<see cref="MatMulOps"/>) and one
/// element-wise combine. Calls are queued and do not synchronise.
/// </summary>
internal sealed class GwDeviceOps
{
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, int, int, float, float> _combine;
    private readonly Action<Index1D, ArrayView<double>, ArrayView<float>, long, int> _narrow;
    private readonly Action<KernelConfig, ArrayView<double>, ArrayView<double>, int, ArrayView<double>> _rowSquaredDiff;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<double>, int, ArrayView<double>> _rowDot;
    private readonly int _group;

    public GwDeviceOps(Accelerator accelerator)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        MatMul = new MatMulOps(accelerator);
        _combine = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, int, int, float, float>(GwKernels.Combine);
        _narrow = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, ArrayView<float>, long, int>(GwKernels.Narrow);
        _rowSquaredDiff = accelerator.LoadStreamKernel<ArrayView<double>, ArrayView<double>, int, ArrayView<double>>(GwKernels.RowSquaredDiff);
        _rowDot = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<double>, int, ArrayView<double>>(GwKernels.RowDot);
        _group = Launch.RowGroup(accelerator, Sinkhorn.DenseSinkhornKernels.MaxGroup);
    }

    /// <summary>y ← (float)x, element-wise (queued).</summary>
    public void Narrow(ArrayView<double> x, ArrayView<float> y)
    {
        long total = x.Length;
        int threads = Launch.StrideThreads(total);
        if (total > 0) _narrow(threads, x, y, total, threads);
    }

    /// <summary>rows[i] ← Σ_j (x_ij − y_ij)², x and y n×m row-major (queued).</summary>
    public void RowSquaredDiff(ArrayView<double> x, ArrayView<double> y, int n, int m, ArrayView<double> rows) =>
        _rowSquaredDiff(new KernelConfig(n, _group), x, y, m, rows);

    /// <summary>rows[i] ← Σ_j tens_ij·x_ij, tens and x n×m row-major (queued).</summary>
    public void RowDot(ArrayView<float> tens, ArrayView<double> x, int n, int m, ArrayView<double> rows) =>
        _rowDot(new KernelConfig(n, _group), tens, x, m, rows);

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
