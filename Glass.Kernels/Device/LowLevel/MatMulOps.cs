using Glass.Kernels.Linalg;
using ILGPU;
using ILGPU.Runtime;

namespace Glass.Kernels.Device.LowLevel;

/// <summary>
/// The float32 GEMM kernel (shared-memory tiling) loaded once on one accelerator, with typed calls on device buffers
/// (obtain through <c>device.GetKernels(acc =&gt; new MatMulOps(acc))</c>). Calls are queued on the
/// accelerator's default stream and do not synchronise. Low-level: for code that keeps its own data in ILGPU buffers
/// on a Glass device (Glass's autodiff tape and GW loop use it); the host-array entry point is
/// <see cref="Linalg.MatMul"/>. Tested against <see cref="Linalg.MatMulCpu"/>.
/// </summary>
public sealed class MatMulOps
{
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmShape> _gemm;

    /// <summary>Loads the kernel. <paramref name="tile"/>: tile edge T (0 = the largest T ≤ 16 with T² threads per group allowed).</summary>
    public MatMulOps(Accelerator accelerator, int tile = 0)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        int t = tile;
        if (t == 0)
        {
            t = MatMulKernels.MaxTile;
            while (t > 1 && t * t > accelerator.MaxNumThreadsPerGroup) t /= 2;
        }
        if (t < 1 || t > MatMulKernels.MaxTile || t * t > accelerator.MaxNumThreadsPerGroup)
            throw new ArgumentException(
                $"tile = {tile}; expected 1..{MatMulKernels.MaxTile} with tile² ≤ {accelerator.MaxNumThreadsPerGroup} threads per group.", nameof(tile));
        Tile = t;
        _gemm = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmShape>(MatMulKernels.Gemm);
    }

    /// <summary>Tile edge T: each group computes a T×T block of C.</summary>
    public int Tile { get; }

    /// <summary>
    /// <c>C = op(A)·op(B)</c> (or <c>C += …</c> when <paramref name="accumulate"/>); C is n×m,
    /// A is n×k (k×n when <paramref name="transA"/>), B is k×m (m×k when <paramref name="transB"/>).
    /// </summary>
    public void Gemm(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, int n, int k, int m,
        bool transA = false, bool transB = false, bool accumulate = false)
    {
        int tilesX = (int)(((long)m + Tile - 1) / Tile), tilesY = (int)(((long)n + Tile - 1) / Tile);
        int tiles = Launch.CheckedCount(tilesX, tilesY, $"GEMM tiles for C {n}×{m} (tile {Tile})");
        if (a.Length < (long)n * k || b.Length < (long)k * m || c.Length < (long)n * m)
            throw new ArgumentException(
                $"GEMM views too short for n={n}, k={k}, m={m}: a {a.Length} (need {(long)n * k}), b {b.Length} (need {(long)k * m}), c {c.Length} (need {(long)n * m}).");
        if (n == 0 || m == 0) return;
        _gemm(new KernelConfig(new Index2D(tiles, 1), new Index2D(Tile, Tile)), a, b, c, new GemmShape(n, k, m, transA, transB, accumulate, tilesX));
    }
}
