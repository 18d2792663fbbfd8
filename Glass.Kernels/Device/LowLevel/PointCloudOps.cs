using Glass.Kernels.PointClouds;
using ILGPU;
using ILGPU.Runtime;

namespace Glass.Kernels.Device.LowLevel;

/// <summary>
/// The float32 point-cloud kernels (S² log and exp maps, pairwise geodesic and squared Euclidean distances) loaded once
/// on one accelerator, with typed calls on device buffers (obtain through
/// <c>device.GetKernels(acc =&gt; new PointCloudOps(acc))</c>). Calls are queued on the accelerator's default stream and
/// do not synchronise. Low-level: for code that keeps its own data in ILGPU buffers on a Glass device (Glass's autodiff
/// tape uses it); the host-array entry points are <see cref="PointClouds.Sphere"/> and
/// <see cref="PointClouds.PairwiseDistances"/>, and the formulas and conventions are those of
/// <see cref="PointClouds.PointCloudCpu"/>, the reference these kernels are tested against.
/// </summary>
public sealed class PointCloudOps
{
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>> _log;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>> _exp;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, int, int, int> _geodesic;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, int, int, int> _squaredEuclidean;

    /// <summary>Compiles and loads the kernels on <paramref name="accelerator"/>.</summary>
    public PointCloudOps(Accelerator accelerator)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        _log = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>>(PointCloudKernels.Log);
        _exp = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>>(PointCloudKernels.Exp);
        _geodesic = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, int, int, int>(PointCloudKernels.Geodesic);
        _squaredEuclidean = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, int, int, int>(PointCloudKernels.SquaredEuclidean);
    }

    /// <summary><c>result_i = Log_{p_i}(x_i)</c> for n rows; p, x, result n×3.</summary>
    public void Log(ArrayView<float> p, ArrayView<float> x, ArrayView<float> result, int n)
    {
        Check(n * 3L, "p", p, "x", x, "result", result);
        if (n > 0) _log(n, p, x, result);
    }

    /// <summary><c>result_i = Exp_{p_i}(v_i)</c> for n rows; p, v, result n×3.</summary>
    public void Exp(ArrayView<float> p, ArrayView<float> v, ArrayView<float> result, int n)
    {
        Check(n * 3L, "p", p, "v", v, "result", result);
        if (n > 0) _exp(n, p, v, result);
    }

    /// <summary><c>d_ij = ∠(x_i, y_j)</c> (or its square); x n×3, y m×3, d n×m.</summary>
    public void Geodesic(ArrayView<float> x, ArrayView<float> y, ArrayView<float> d, int n, int m, bool squared)
    {
        Check(n * 3L, "x", x);
        Check(m * 3L, "y", y);
        Check((long)n * m, "d", d);
        long total = (long)n * m;
        int threads = Launch.StrideThreads(total);
        if (total > 0) _geodesic(threads, x, y, d, total, threads, m, squared ? 1 : 0);
    }

    /// <summary><c>d_ij = ‖x_i − y_j‖²</c>; x n×dim, y m×dim, d n×m.</summary>
    public void SquaredEuclidean(ArrayView<float> x, ArrayView<float> y, ArrayView<float> d, int n, int m, int dim)
    {
        Check((long)n * dim, "x", x);
        Check((long)m * dim, "y", y);
        Check((long)n * m, "d", d);
        long total = (long)n * m;
        int threads = Launch.StrideThreads(total);
        if (total > 0) _squaredEuclidean(threads, x, y, d, total, threads, m, dim);
    }

    private static void Check(long need, string name, ArrayView<float> view)
    {
        if (view.Length < need)
            throw new ArgumentException($"{name} view has {view.Length} entries; expected at least {need}.", name);
    }

    private static void Check(long need, string n1, ArrayView<float> v1, string n2, ArrayView<float> v2, string n3, ArrayView<float> v3)
    {
        Check(need, n1, v1);
        Check(need, n2, v2);
        Check(need, n3, v3);
    }
}
