using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Glass.Kernels.Linalg;

// The register-tile micro-kernels of MatMulCpu.
public static partial class MatMulCpu
{
    /// <summary>
    /// <c>C[0..MR, 0..NR) (+)= Σ_p A[p, 0..MR) ⊗ B[p, 0..NR)</c> over <paramref name="kcLen"/> depth steps: the
    /// 8×16 AVX-512 kernel or the 4×(2·W) <see cref="Vector{T}"/> kernel. <paramref name="pa"/>: kcLen×MR,
    /// <paramref name="pb"/>: kcLen×NR, C row stride <paramref name="ldc"/>; <paramref name="store"/> overwrites C.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Tile(int kcLen, double* pa, double* pb, double* c, long ldc, bool store)
    {
        if (Wide) Kernel8x16(kcLen, pa, pb, c, ldc, store);
        else Kernel4xW(kcLen, pa, pb, c, ldc, store);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<double> MulAdd(Vector<double> x, Vector<double> y, Vector<double> acc) =>
        Fma.IsSupported || AdvSimd.Arm64.IsSupported
            ? Vector.FusedMultiplyAdd(x, y, acc)
            : x * y + acc;

    /// <summary>MR = 4, NR = 2·<see cref="Vector{T}.Count"/>: 8 <c>Vector&lt;double&gt;</c> accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Kernel4xW(int kcLen, double* pa, double* pb, double* c, long ldc, bool store)
    {
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
        PutRow(c, w, c00, c01, store);
        PutRow(c + ldc, w, c10, c11, store);
        PutRow(c + 2 * ldc, w, c20, c21, store);
        PutRow(c + 3 * ldc, w, c30, c31, store);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void PutRow(double* c, int w, Vector<double> lo, Vector<double> hi, bool store)
    {
        if (!store)
        {
            lo += Unsafe.ReadUnaligned<Vector<double>>(c);
            hi += Unsafe.ReadUnaligned<Vector<double>>(c + w);
        }
        Unsafe.WriteUnaligned(c, lo);
        Unsafe.WriteUnaligned(c + w, hi);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void PutRow512(double* c, Vector512<double> lo, Vector512<double> hi, bool store)
    {
        if (!store)
        {
            lo += Vector512.Load(c);
            hi += Vector512.Load(c + 8);
        }
        lo.Store(c);
        hi.Store(c + 8);
    }

    /// <summary>
    /// MR = 8, NR = 16 (AVX-512): 16 <see cref="Vector512{T}"/> accumulators, so one pair of B loads feeds 8 rows
    /// (16 FMAs per 2 vector loads and 8 broadcasts). The C tile's rows are prefetched while the tile is computed.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Kernel8x16(int kcLen, double* pa, double* pb, double* c, long ldc, bool store)
    {
        if (Sse.IsSupported)
            for (int i = 0; i < MrWide; i++)
            {
                Sse.Prefetch0(c + i * ldc);
                Sse.Prefetch0(c + i * ldc + 15);
            }
        Vector512<double> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
                          c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default,
                          c60 = default, c61 = default, c70 = default, c71 = default;
        for (int p = 0; p < kcLen; p++)
        {
            var b0 = Vector512.Load(pb);
            var b1 = Vector512.Load(pb + 8);
            var x = Vector512.Create(pa[0]); c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(pa[1]); c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(pa[2]); c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(pa[3]); c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(pa[4]); c40 = Vector512.FusedMultiplyAdd(x, b0, c40); c41 = Vector512.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(pa[5]); c50 = Vector512.FusedMultiplyAdd(x, b0, c50); c51 = Vector512.FusedMultiplyAdd(x, b1, c51);
            x = Vector512.Create(pa[6]); c60 = Vector512.FusedMultiplyAdd(x, b0, c60); c61 = Vector512.FusedMultiplyAdd(x, b1, c61);
            x = Vector512.Create(pa[7]); c70 = Vector512.FusedMultiplyAdd(x, b0, c70); c71 = Vector512.FusedMultiplyAdd(x, b1, c71);
            pa += MrWide;
            pb += 16;
        }
        PutRow512(c, c00, c01, store); PutRow512(c + ldc, c10, c11, store);
        PutRow512(c + 2 * ldc, c20, c21, store); PutRow512(c + 3 * ldc, c30, c31, store);
        PutRow512(c + 4 * ldc, c40, c41, store); PutRow512(c + 5 * ldc, c50, c51, store);
        PutRow512(c + 6 * ldc, c60, c61, store); PutRow512(c + 7 * ldc, c70, c71, store);
    }
}
