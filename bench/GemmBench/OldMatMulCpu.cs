using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;

namespace GemmBench;

/// <summary>
/// FROZEN COPY (benchmark baseline only) of the managed GEMM before the 12×16 kernel. Managed reference GEMM in <c>double</c>: <c>C (n×m) = op(A) (n×k) · op(B) (k×m)</c>, row-major,
/// <c>op</c> = identity or transpose. Also the CPU backend, so it is blocked for speed.
/// </summary>
/// <remarks>
/// The classic Goto/BLIS loop nest: <c>op(B)</c> is packed once into <see cref="Kc"/>×NR
/// micro-panels (NR = 2·<see cref="Vector{T}.Count"/>, zero padded); row blocks of <see cref="Mc"/>
/// rows of C go to <c>Parallel.For</c>, and each packs its slice of <c>op(A)</c> into
/// <see cref="Mr"/>×<see cref="Kc"/> micro-panels and runs an MR×NR register-tile micro-kernel
/// (8 <c>Vector&lt;double&gt;</c> accumulators, FMA where the hardware has it). Each entry of C is
/// written by one thread with a fixed summation order, so results are deterministic.
/// </remarks>
internal static class OldMatMulCpu
{
    /// <summary>Rows of a micro-tile.</summary>
    internal const int Mr = 4;
    /// <summary>Depth of a packed panel (keeps an NR-wide B micro-panel in L1).</summary>
    internal const int Kc = 256;
    /// <summary>Rows of C per parallel work item (the packed A block stays in L2).</summary>
    internal const int Mc = 64;

    /// <summary>512-bit micro-kernel (AVX-512): NR = 16, same per-entry summation order as the Vector&lt;T&gt; kernel.</summary>
    private static readonly bool Wide = Vector512.IsHardwareAccelerated && Vector<double>.Count < Vector512<double>.Count;

    private static int W => Vector<double>.Count;
    private static int Nr => Wide ? 2 * Vector512<double>.Count : 2 * Vector<double>.Count;

    /// <summary>
    /// <c>C = op(A)·op(B)</c>, or <c>C += op(A)·op(B)</c> when <paramref name="accumulate"/>.
    /// A is n×k (k×n when <paramref name="transA"/>), B is k×m (m×k when <paramref name="transB"/>),
    /// C is n×m. Shapes are trusted (the facade validates them).
    /// </summary>
    public static void Gemm(double[] a, double[] b, double[] c, int n, int k, int m,
        bool transA = false, bool transB = false, bool accumulate = false)
    {
        if (!accumulate) Array.Clear(c, 0, n * m);
        if (n == 0 || m == 0 || k == 0) return;

        int nr = Nr;
        int panels = (m + nr - 1) / nr;
        int mPad = panels * nr;
        double[] packedB = ArrayPool<double>.Shared.Rent(k * mPad);
        try
        {
            PackB(b, packedB, k, m, panels, transB);
            int rowBlocks = (n + Mc - 1) / Mc;
            var options = new ParallelOptions
            {
                MaxDegreeOfParallelism = (long)n * k * m < 64 * 64 * 64 ? 1 : Environment.ProcessorCount,
            };
            Parallel.For(0, rowBlocks, options,
                () => ArrayPool<double>.Shared.Rent(Mc * Kc),
                (blk, _, packedA) =>
                {
                    RowBlock(a, packedB, c, n, k, m, mPad, transA, blk * Mc, Math.Min(Mc, n - blk * Mc), packedA);
                    return packedA;
                },
                packedA => ArrayPool<double>.Shared.Return(packedA));
        }
        finally
        {
            ArrayPool<double>.Shared.Return(packedB);
        }
    }

    /// <summary>
    /// Packs op(B) (k×m) into <c>packed[p0·mPad + panel·kcLen·NR + p·NR + jj] = op(B)(p0 + p, panel·NR + jj)</c>,
    /// zero for columns ≥ m.
    /// </summary>
    private static void PackB(double[] b, double[] packed, int k, int m, int panels, bool transB)
    {
        int nr = Nr, mPad = panels * nr;
        Parallel.For(0, panels, new ParallelOptions { MaxDegreeOfParallelism = (long)k * m < 128 * 128 ? 1 : Environment.ProcessorCount }, panel =>
        {
            int j0 = panel * nr;
            int cols = Math.Min(nr, m - j0);
            for (int p0 = 0; p0 < k; p0 += Kc)
            {
                int kcLen = Math.Min(Kc, k - p0);
                int baseIdx = p0 * mPad + panel * kcLen * nr;
                for (int p = 0; p < kcLen; p++)
                {
                    int dst = baseIdx + p * nr;
                    if (!transB)
                    {
                        int src = (p0 + p) * m + j0;
                        for (int jj = 0; jj < cols; jj++) packed[dst + jj] = b[src + jj];
                    }
                    else
                    {
                        for (int jj = 0; jj < cols; jj++) packed[dst + jj] = b[(j0 + jj) * k + p0 + p];
                    }
                    for (int jj = cols; jj < nr; jj++) packed[dst + jj] = 0;
                }
            }
        });
    }

    /// <summary>Rows <c>[i0, i0 + rows)</c> of C: for each depth block, pack op(A) and sweep all B micro-panels.</summary>
    private static unsafe void RowBlock(double[] a, double[] packedB, double[] c, int n, int k, int m, int mPad,
        bool transA, int i0, int rows, double[] packedA)
    {
        int nr = Nr;
        int panels = mPad / nr;
        int rowPanels = (rows + Mr - 1) / Mr;
        for (int p0 = 0; p0 < k; p0 += Kc)
        {
            int kcLen = Math.Min(Kc, k - p0);
            PackA(a, packedA, n, k, transA, i0, rows, p0, kcLen);
            fixed (double* pa = packedA, pb = packedB, pc = c)
            {
                for (int panel = 0; panel < panels; panel++)
                {
                    double* bPanel = pb + (long)p0 * mPad + (long)panel * kcLen * nr;
                    int j0 = panel * nr;
                    int cols = Math.Min(nr, m - j0);
                    int rp = 0;
                    if (Wide && cols == nr)
                        for (; rp + 1 < rowPanels && (rp + 2) * Mr <= rows; rp += 2)
                            MicroKernel512x8(kcLen, pa + (long)rp * kcLen * Mr, pa + (long)(rp + 1) * kcLen * Mr, bPanel, pc + (long)(i0 + rp * Mr) * m + j0, m);
                    for (; rp < rowPanels; rp++)
                    {
                        int r0 = rp * Mr;
                        MicroKernel(kcLen, pa + (long)rp * kcLen * Mr, bPanel,
                            pc + (long)(i0 + r0) * m + j0, m, Math.Min(Mr, rows - r0), cols);
                    }
                }
            }
        }
    }

    /// <summary>
    /// Packs op(A) rows <c>[i0, i0+rows)</c>, depth <c>[p0, p0+kcLen)</c> into
    /// <c>packed[rp·kcLen·MR + p·MR + ii] = op(A)(i0 + rp·MR + ii, p0 + p)</c>, zero past the last row.
    /// </summary>
    private static void PackA(double[] a, double[] packed, int n, int k, bool transA, int i0, int rows, int p0, int kcLen)
    {
        int rowPanels = (rows + Mr - 1) / Mr;
        for (int rp = 0; rp < rowPanels; rp++)
        {
            int baseIdx = rp * kcLen * Mr;
            for (int ii = 0; ii < Mr; ii++)
            {
                int r = rp * Mr + ii;
                if (r >= rows)
                {
                    for (int p = 0; p < kcLen; p++) packed[baseIdx + p * Mr + ii] = 0;
                }
                else if (!transA)
                {
                    int src = (i0 + r) * k + p0;
                    for (int p = 0; p < kcLen; p++) packed[baseIdx + p * Mr + ii] = a[src + p];
                }
                else
                {
                    int col = i0 + r;
                    for (int p = 0; p < kcLen; p++) packed[baseIdx + p * Mr + ii] = a[(p0 + p) * n + col];
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<double> MulAdd(Vector<double> x, Vector<double> y, Vector<double> acc) =>
        System.Runtime.Intrinsics.X86.Fma.IsSupported || AdvSimd.Arm64.IsSupported
            ? Vector.FusedMultiplyAdd(x, y, acc)
            : x * y + acc;

    /// <summary>
    /// <c>C[0..mr, 0..nr) += Σ_p A[p, 0..MR) ⊗ B[p, 0..NR)</c> over <paramref name="kcLen"/> depth steps;
    /// <paramref name="pa"/>: kcLen×MR, <paramref name="pb"/>: kcLen×NR, C row stride <paramref name="ldc"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void MicroKernel(int kcLen, double* pa, double* pb, double* c, int ldc, int mr, int nr)
    {
        if (Wide)
        {
            MicroKernel512(kcLen, pa, pb, c, ldc, mr, nr);
            return;
        }
        int w = W;
        Vector<double> c00 = default, c01 = default, c10 = default, c11 = default,
                       c20 = default, c21 = default, c30 = default, c31 = default;
        for (int p = 0; p < kcLen; p++)
        {
            var b0 = Unsafe.ReadUnaligned<Vector<double>>(pb);
            var b1 = Unsafe.ReadUnaligned<Vector<double>>(pb + w);
            var a0 = new Vector<double>(pa[0]);
            c00 = MulAdd(a0, b0, c00); c01 = MulAdd(a0, b1, c01);
            var a1 = new Vector<double>(pa[1]);
            c10 = MulAdd(a1, b0, c10); c11 = MulAdd(a1, b1, c11);
            var a2 = new Vector<double>(pa[2]);
            c20 = MulAdd(a2, b0, c20); c21 = MulAdd(a2, b1, c21);
            var a3 = new Vector<double>(pa[3]);
            c30 = MulAdd(a3, b0, c30); c31 = MulAdd(a3, b1, c31);
            pa += Mr;
            pb += 2 * w;
        }

        if (mr == Mr && nr == 2 * w)
        {
            AddRow(c, w, c00, c01);
            AddRow(c + ldc, w, c10, c11);
            AddRow(c + 2 * ldc, w, c20, c21);
            AddRow(c + 3 * ldc, w, c30, c31);
            return;
        }

        // Edge tile: spill the register tile and add only the valid part.
        int stride = 2 * w;
        double* tile = stackalloc double[Mr * stride];
        Unsafe.WriteUnaligned(tile, c00); Unsafe.WriteUnaligned(tile + w, c01);
        Unsafe.WriteUnaligned(tile + stride, c10); Unsafe.WriteUnaligned(tile + stride + w, c11);
        Unsafe.WriteUnaligned(tile + 2 * stride, c20); Unsafe.WriteUnaligned(tile + 2 * stride + w, c21);
        Unsafe.WriteUnaligned(tile + 3 * stride, c30); Unsafe.WriteUnaligned(tile + 3 * stride + w, c31);
        for (int i = 0; i < mr; i++)
            for (int j = 0; j < nr; j++)
                c[(long)i * ldc + j] += tile[i * stride + j];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void AddRow(double* c, int w, Vector<double> lo, Vector<double> hi)
    {
        Unsafe.WriteUnaligned(c, Unsafe.ReadUnaligned<Vector<double>>(c) + lo);
        Unsafe.WriteUnaligned(c + w, Unsafe.ReadUnaligned<Vector<double>>(c + w) + hi);
    }

    /// <summary><see cref="MicroKernel"/> with <see cref="Vector512{T}"/> registers (MR×16 tile, 8 accumulators).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void MicroKernel512(int kcLen, double* pa, double* pb, double* c, int ldc, int mr, int nr)
    {
        const int w = 8;
        Vector512<double> c00 = default, c01 = default, c10 = default, c11 = default,
                          c20 = default, c21 = default, c30 = default, c31 = default;
        for (int p = 0; p < kcLen; p++)
        {
            var b0 = Vector512.Load(pb);
            var b1 = Vector512.Load(pb + w);
            var a0 = Vector512.Create(pa[0]);
            c00 = Vector512.FusedMultiplyAdd(a0, b0, c00); c01 = Vector512.FusedMultiplyAdd(a0, b1, c01);
            var a1 = Vector512.Create(pa[1]);
            c10 = Vector512.FusedMultiplyAdd(a1, b0, c10); c11 = Vector512.FusedMultiplyAdd(a1, b1, c11);
            var a2 = Vector512.Create(pa[2]);
            c20 = Vector512.FusedMultiplyAdd(a2, b0, c20); c21 = Vector512.FusedMultiplyAdd(a2, b1, c21);
            var a3 = Vector512.Create(pa[3]);
            c30 = Vector512.FusedMultiplyAdd(a3, b0, c30); c31 = Vector512.FusedMultiplyAdd(a3, b1, c31);
            pa += Mr;
            pb += 2 * w;
        }

        if (mr == Mr && nr == 2 * w)
        {
            AddRow512(c, c00, c01);
            AddRow512(c + ldc, c10, c11);
            AddRow512(c + 2 * ldc, c20, c21);
            AddRow512(c + 3 * ldc, c30, c31);
            return;
        }

        const int stride = 2 * w;
        double* tile = stackalloc double[Mr * stride];
        c00.Store(tile); c01.Store(tile + w);
        c10.Store(tile + stride); c11.Store(tile + stride + w);
        c20.Store(tile + 2 * stride); c21.Store(tile + 2 * stride + w);
        c30.Store(tile + 3 * stride); c31.Store(tile + 3 * stride + w);
        for (int i = 0; i < mr; i++)
            for (int j = 0; j < nr; j++)
                c[(long)i * ldc + j] += tile[i * stride + j];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void AddRow512(double* c, Vector512<double> lo, Vector512<double> hi)
    {
        (Vector512.Load(c) + lo).Store(c);
        (Vector512.Load(c + 8) + hi).Store(c + 8);
    }

    /// <summary>Two consecutive full MR-row panels at once (8×16 tile, 16 <see cref="Vector512{T}"/> accumulators: one B load
    /// feeds 8 rows); same per-entry summation order as <see cref="MicroKernel"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void MicroKernel512x8(int kcLen, double* pa0, double* pa1, double* pb, double* c, int ldc)
    {
        const int w = 8;
        Vector512<double> c00 = default, c01 = default, c10 = default, c11 = default,
                          c20 = default, c21 = default, c30 = default, c31 = default,
                          c40 = default, c41 = default, c50 = default, c51 = default,
                          c60 = default, c61 = default, c70 = default, c71 = default;
        for (int p = 0; p < kcLen; p++)
        {
            var b0 = Vector512.Load(pb);
            var b1 = Vector512.Load(pb + w);
            var a = Vector512.Create(pa0[0]);
            c00 = Vector512.FusedMultiplyAdd(a, b0, c00); c01 = Vector512.FusedMultiplyAdd(a, b1, c01);
            a = Vector512.Create(pa0[1]);
            c10 = Vector512.FusedMultiplyAdd(a, b0, c10); c11 = Vector512.FusedMultiplyAdd(a, b1, c11);
            a = Vector512.Create(pa0[2]);
            c20 = Vector512.FusedMultiplyAdd(a, b0, c20); c21 = Vector512.FusedMultiplyAdd(a, b1, c21);
            a = Vector512.Create(pa0[3]);
            c30 = Vector512.FusedMultiplyAdd(a, b0, c30); c31 = Vector512.FusedMultiplyAdd(a, b1, c31);
            a = Vector512.Create(pa1[0]);
            c40 = Vector512.FusedMultiplyAdd(a, b0, c40); c41 = Vector512.FusedMultiplyAdd(a, b1, c41);
            a = Vector512.Create(pa1[1]);
            c50 = Vector512.FusedMultiplyAdd(a, b0, c50); c51 = Vector512.FusedMultiplyAdd(a, b1, c51);
            a = Vector512.Create(pa1[2]);
            c60 = Vector512.FusedMultiplyAdd(a, b0, c60); c61 = Vector512.FusedMultiplyAdd(a, b1, c61);
            a = Vector512.Create(pa1[3]);
            c70 = Vector512.FusedMultiplyAdd(a, b0, c70); c71 = Vector512.FusedMultiplyAdd(a, b1, c71);
            pa0 += Mr; pa1 += Mr;
            pb += 2 * w;
        }
        AddRow512(c, c00, c01); AddRow512(c + ldc, c10, c11);
        AddRow512(c + 2 * ldc, c20, c21); AddRow512(c + 3 * ldc, c30, c31);
        AddRow512(c + 4 * ldc, c40, c41); AddRow512(c + 5 * ldc, c50, c51);
        AddRow512(c + 6 * ldc, c60, c61); AddRow512(c + 7 * ldc, c70, c71);
    }
}
