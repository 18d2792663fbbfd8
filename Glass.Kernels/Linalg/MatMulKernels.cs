using ILGPU;
using ILGPU.Runtime;

namespace Glass.Kernels.Linalg;

/// <summary>Shape of one GEMM launch: <c>C (N×M) = op(A) (N×K) · op(B) (K×M)</c> [+ C].</summary>
internal readonly struct GemmShape
{
    public GemmShape(int n, int k, int m, bool transA, bool transB, bool accumulate, int tilesX = 1)
    {
        N = n; K = k; M = m; TilesX = tilesX;
        TransA = transA ? 1 : 0;
        TransB = transB ? 1 : 0;
        Accumulate = accumulate ? 1 : 0;
    }

    /// <summary>Rows of C and of op(A).</summary>
    public readonly int N;
    /// <summary>Inner dimension.</summary>
    public readonly int K;
    /// <summary>Columns of C and of op(B).</summary>
    public readonly int M;
    /// <summary>1: A is stored K×N and used transposed.</summary>
    public readonly int TransA;
    /// <summary>1: B is stored M×K and used transposed.</summary>
    public readonly int TransB;
    /// <summary>1: C += op(A)·op(B) instead of C = op(A)·op(B).</summary>
    public readonly int Accumulate;
    /// <summary>Tiles across C's columns, ⌈M/T⌉: the 1-D grid index g is tile (g mod TilesX, g div TilesX).</summary>
    public readonly int TilesX;
}

/// <summary>ILGPU GEMM kernel (float32, shared-memory tiling). The CPU reference is <see cref="MatMulCpu"/>.</summary>
internal static class MatMulKernels
{
    /// <summary>Largest tile edge; shared tiles are allocated at this size and used up to the group edge.</summary>
    internal const int MaxTile = 16;

    /// <summary>Row stride of a shared tile: one pad column so the transposed tile stores do not hit one bank.</summary>
    private const int Ld = MaxTile + 1;

    // C (N×M) = op(A)(N×K)·op(B)(K×M) [+C]; group (T, T), T ≤ 16; 1-D grid of ⌈M/T⌉·⌈N/T⌉ tiles (no grid-y limit on N);
    // one C entry per thread; 64-bit offsets (N·K, K·M, N·M may pass 2³¹).
    internal static void Gemm(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, GemmShape s)
    {
        var tileA = SharedMemory.Allocate<float>(MaxTile * Ld); // tileA[r·Ld + q] = op(A)(row0 + r, k0 + q)
        var tileB = SharedMemory.Allocate<float>(MaxTile * Ld); // tileB[q·Ld + j] = op(B)(k0 + q, col0 + j)
        int t = Group.DimX;
        int tx = Group.IdxX, ty = Group.IdxY;
        int tileRow = Grid.IdxX / s.TilesX;
        int row0 = tileRow * t, col0 = (Grid.IdxX - tileRow * s.TilesX) * t;
        float acc = 0f;

        for (int k0 = 0; k0 < s.K; k0 += t)
        {
            // Consecutive tx read consecutive addresses in every branch (coalesced loads).
            if (s.TransA == 0)
            {
                int i = row0 + ty, q = k0 + tx;
                tileA[ty * Ld + tx] = i < s.N && q < s.K ? a[(long)i * s.K + q] : 0f;
            }
            else
            {
                int i = row0 + tx, q = k0 + ty;
                tileA[tx * Ld + ty] = i < s.N && q < s.K ? a[(long)q * s.N + i] : 0f;
            }
            if (s.TransB == 0)
            {
                int q = k0 + ty, j = col0 + tx;
                tileB[ty * Ld + tx] = q < s.K && j < s.M ? b[(long)q * s.M + j] : 0f;
            }
            else
            {
                int q = k0 + tx, j = col0 + ty;
                tileB[tx * Ld + ty] = q < s.K && j < s.M ? b[(long)j * s.K + q] : 0f;
            }
            Group.Barrier();

            for (int q = 0; q < t; q++)
                acc += tileA[ty * Ld + q] * tileB[q * Ld + tx];
            Group.Barrier();
        }

        int row = row0 + ty, col = col0 + tx;
        if (row < s.N && col < s.M)
        {
            long idx = (long)row * s.M + col;
            c[idx] = s.Accumulate != 0 ? c[idx] + acc : acc;
        }
    }
}
