using ILGPU.Runtime;

namespace Glass.Kernels.Device.LowLevel;

/// <summary>
/// Launch shapes and index arithmetic shared by the kernels. CUDA caps grid y and z at 65,535 blocks and a 1-D
/// <c>Index1D</c> launch at 2³¹ − 1 threads, and <c>i·m + j</c> in <c>int</c> overflows once n·m passes 2³¹ (n = m =
/// 46,341). So element-wise kernels over an n×m matrix are launched 1-D and grid-stride
/// (<see cref="StrideThreads"/> threads, each visiting k, k + stride, …) with 64-bit flat indices split by
/// <see cref="Row"/> / <see cref="Col"/>; kernels whose index stays 32-bit check their size with <see cref="CheckedCount"/>
/// and name it when it is too large. Public (in the low-level namespace) for kernels outside this assembly — the autodiff
/// tape's, or your own launched on a Glass device.
/// </summary>
public static class Launch
{
    /// <summary>CUDA's limit on the y and z extents of a grid (blocks).</summary>
    internal const int MaxGridY = 65_535;

    /// <summary>Threads of one grid-stride launch at most (2²⁴: enough to fill any current GPU, far below the 2³¹ − 1 limit).</summary>
    public const int MaxStrideThreads = 1 << 24;

    /// <summary>Largest thread group the row kernels use (CUDA's 128; the default CPU accelerator has 16).</summary>
    internal const int MaxRowGroup = 128;

    /// <summary>Threads to launch for a grid-stride loop over <paramref name="total"/> elements (≥ 1 when total ≥ 1).</summary>
    public static int StrideThreads(long total) => (int)Math.Clamp(total, 0, MaxStrideThreads);

    /// <summary>Row of flat index k = i·cols + j in a row-major matrix with <paramref name="cols"/> columns (64-bit).</summary>
    public static long Row(long k, int cols) => k / cols;

    /// <summary>Column of flat index k = i·cols + j in a row-major matrix with <paramref name="cols"/> columns.</summary>
    public static int Col(long k, int cols) => (int)(k - k / cols * cols);

    /// <summary>
    /// rows·cols as an <c>int</c> element count for a kernel with a 32-bit index; an <see cref="ArgumentException"/> naming
    /// <paramref name="what"/>, both sizes and the limit when the product passes <see cref="int.MaxValue"/>.
    /// </summary>
    public static int CheckedCount(long rows, long cols, string what)
    {
        if (rows < 0 || cols < 0)
            throw new ArgumentException($"{what}: {rows}×{cols} has a negative size.", what);
        long count = rows * cols;
        if (rows != 0 && count / rows != cols || count > int.MaxValue)
            throw new ArgumentException(
                $"{what}: {rows}×{cols} = {(decimal)rows * cols} entries is more than this kernel's 32-bit index allows ({int.MaxValue}, 2^31 − 1). "
                + "Split the problem into blocks of rows.", what);
        return (int)count;
    }

    /// <summary>
    /// The thread-group size of the row kernels (one group per row, a shared-memory tree reduction): the largest power of two
    /// ≤ min(<paramref name="maxGroup"/>, <see cref="MaxRowGroup"/>, the accelerator's limit). 128 on CUDA and on the
    /// CUDA-shaped CPU accelerator; 16 on ILGPU's default CPU accelerator.
    /// </summary>
    internal static int RowGroup(Accelerator acc, int maxGroup)
    {
        int limit = Math.Min(Math.Min(maxGroup, MaxRowGroup), acc.MaxNumThreadsPerGroup);
        int g = 1;
        while (g * 2 <= limit) g *= 2;
        return g;
    }
}
