using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GemmBench;

/// <summary>Exploration copy (AVX-512 only): block sizes, tile height, prefetch, store-first and alignment as runtime knobs.</summary>
internal static unsafe class VarGemm
{
    public static int Kc = 256, Mc = 192, Tile = 12;
    public static bool Prefetch = true, StoreFirst = true, Align = true, ColSplit = true;
    private static int Nr => Tile == 824 ? 24 : 16;
    private static int TileRows => Tile == 824 ? 8 : Tile;

    public static void Gemm(double[] a, double[] b, double[] c, int n, int k, int m, bool transA = false, bool transB = false, bool accumulate = false)
    {
        if (!StoreFirst && !accumulate) Array.Clear(c, 0, n * m);
        if (n == 0 || m == 0 || k == 0) { if (!accumulate) Array.Clear(c, 0, n * m); return; }
        bool store0 = StoreFirst && !accumulate;
        int panels = (m + Nr - 1) / Nr, mPad = panels * Nr;
        double[] bArr = ArrayPool<double>.Shared.Rent(k * mPad + 8);
        var hB = GCHandle.Alloc(bArr, GCHandleType.Pinned);
        try
        {
            nint pbAddr = AlignUp(hB.AddrOfPinnedObject());
            PackB(b, (double*)pbAddr, k, m, panels, transB);
            int threads = (long)n * k * m < 64 * 64 * 64 ? 1 : Environment.ProcessorCount;
            int mr = TileRows;
            int rowBlocks = threads * ((n + threads * Mc - 1) / (threads * Mc));
            int blockRows = (n + rowBlocks - 1) / rowBlocks;
            blockRows = (blockRows + mr - 1) / mr * mr;
            rowBlocks = (n + blockRows - 1) / blockRows;
            int colGroups = ColSplit && rowBlocks < 2 * threads ? Math.Min(panels, (2 * threads + rowBlocks - 1) / rowBlocks) : 1;
            int kcMax = Math.Min(Kc, k);
            int aLen = blockRows * kcMax + 8;
            Parallel.For(0, rowBlocks * colGroups, new ParallelOptions { MaxDegreeOfParallelism = threads },
                () => { var arr = ArrayPool<double>.Shared.Rent(aLen); return (arr, GCHandle.Alloc(arr, GCHandleType.Pinned)); },
                (item, _, s) =>
                {
                    int blk = item / colGroups, cg = item % colGroups;
                    int i0 = blk * blockRows;
                    RowBlock(a, (double*)pbAddr, c, n, k, m, mPad, transA, i0, Math.Min(blockRows, n - i0),
                        (int)((long)cg * panels / colGroups), (int)((long)(cg + 1) * panels / colGroups),
                        (double*)AlignUp(s.Item2.AddrOfPinnedObject()), store0, mr);
                    return s;
                },
                s => { s.Item2.Free(); ArrayPool<double>.Shared.Return(s.arr); });
        }
        finally
        {
            hB.Free();
            ArrayPool<double>.Shared.Return(bArr);
        }
    }

    private static nint AlignUp(nint p) => Align ? (p + 63) & ~(nint)63 : p;

    private static void PackB(double[] b, double* packed, int k, int m, int panels, bool transB)
    {
        int mPad = panels * Nr;
        nint pAddr = (nint)packed;
        Parallel.For(0, panels, new ParallelOptions { MaxDegreeOfParallelism = (long)k * m < 128 * 128 ? 1 : Environment.ProcessorCount }, panel =>
        {
            double* pk = (double*)pAddr;
            int j0 = panel * Nr;
            int cols = Math.Min(Nr, m - j0);
            for (int p0 = 0; p0 < k; p0 += Kc)
            {
                int kcLen = Math.Min(Kc, k - p0);
                long baseIdx = (long)p0 * mPad + (long)panel * kcLen * Nr;
                for (int p = 0; p < kcLen; p++)
                {
                    double* dst = pk + baseIdx + p * Nr;
                    if (!transB)
                    {
                        int src = (p0 + p) * m + j0;
                        for (int jj = 0; jj < cols; jj++) dst[jj] = b[src + jj];
                    }
                    else
                    {
                        for (int jj = 0; jj < cols; jj++) dst[jj] = b[(j0 + jj) * k + p0 + p];
                    }
                    for (int jj = cols; jj < Nr; jj++) dst[jj] = 0;
                }
            }
        });
    }

    private static void RowBlock(double[] a, double* pb, double[] c, int n, int k, int m, int mPad, bool transA,
        int i0, int rows, int panelLo, int panelHi, double* pa, bool store0, int mr)
    {
        int rowPanels = (rows + mr - 1) / mr;
        int nr = Nr;
        double* tile = stackalloc double[12 * 24];
        fixed (double* pc = c)
        {
            for (int p0 = 0; p0 < k; p0 += Kc)
            {
                int kcLen = Math.Min(Kc, k - p0);
                PackA(a, pa, n, k, transA, i0, rows, p0, kcLen, mr);
                bool store = store0 && p0 == 0;
                for (int panel = panelLo; panel < panelHi; panel++)
                {
                    double* bPanel = pb + (long)p0 * mPad + (long)panel * kcLen * nr;
                    int j0 = panel * nr;
                    int cols = Math.Min(nr, m - j0);
                    for (int rp = 0; rp < rowPanels; rp++)
                    {
                        int r0 = rp * mr, rr = Math.Min(mr, rows - r0);
                        double* cp = pc + (long)(i0 + r0) * m + j0;
                        double* ap = pa + (long)rp * kcLen * mr;
                        if (rr == mr && cols == nr)
                        {
                            Dispatch(kcLen, ap, bPanel, cp, m, store, nr, mr);
                            continue;
                        }
                        Dispatch(kcLen, ap, bPanel, tile, nr, true, nr, mr);
                        for (int i = 0; i < rr; i++)
                            for (int j = 0; j < cols; j++)
                                cp[(long)i * m + j] = store ? tile[i * nr + j] : cp[(long)i * m + j] + tile[i * nr + j];
                    }
                }
            }
        }
    }

    private static void PackA(double[] a, double* packed, int n, int k, bool transA, int i0, int rows, int p0, int kcLen, int mr)
    {
        int rowPanels = (rows + mr - 1) / mr;
        for (int rp = 0; rp < rowPanels; rp++)
        {
            double* dst = packed + (long)rp * kcLen * mr;
            int r0 = rp * mr, rr = Math.Min(mr, rows - r0);
            if (!transA)
            {
                for (int ii = 0; ii < rr; ii++)
                {
                    int src = (i0 + r0 + ii) * k + p0;
                    for (int p = 0; p < kcLen; p++) dst[p * mr + ii] = a[src + p];
                }
                for (int ii = rr; ii < mr; ii++)
                    for (int p = 0; p < kcLen; p++) dst[p * mr + ii] = 0;
            }
            else
            {
                for (int p = 0; p < kcLen; p++)
                {
                    int src = (p0 + p) * n + i0 + r0;
                    for (int ii = 0; ii < rr; ii++) dst[p * mr + ii] = a[src + ii];
                    for (int ii = rr; ii < mr; ii++) dst[p * mr + ii] = 0;
                }
            }
        }
    }

    private static void Dispatch(int kcLen, double* pa, double* pb, double* c, long ldc, bool store, int nr, int mr)
    {
        if (nr == 24) K8x24(kcLen, pa, pb, c, ldc, store);
        else if (mr == 12) K12(kcLen, pa, pb, c, ldc, store);
        else K8(kcLen, pa, pb, c, ldc, store);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put3(double* c, Vector512<double> x0, Vector512<double> x1, Vector512<double> x2, bool store)
    {
        if (!store) { x0 += Vector512.Load(c); x1 += Vector512.Load(c + 8); x2 += Vector512.Load(c + 16); }
        x0.Store(c); x1.Store(c + 8); x2.Store(c + 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void K8x24(int kcLen, double* pa, double* pb, double* c, long ldc, bool store)
    {
        if (Prefetch) for (int i = 0; i < 8; i++) { Sse.Prefetch0(c + i * ldc); Sse.Prefetch0(c + i * ldc + 12); Sse.Prefetch0(c + i * ldc + 23); }
        Vector512<double> c00 = default, c01 = default, c02 = default, c10 = default, c11 = default, c12 = default,
                          c20 = default, c21 = default, c22 = default, c30 = default, c31 = default, c32 = default,
                          c40 = default, c41 = default, c42 = default, c50 = default, c51 = default, c52 = default,
                          c60 = default, c61 = default, c62 = default, c70 = default, c71 = default, c72 = default;
        for (int p = 0; p < kcLen; p++)
        {
            var b0 = Vector512.Load(pb);
            var b1 = Vector512.Load(pb + 8);
            var b2 = Vector512.Load(pb + 16);
            var x = Vector512.Create(pa[0]); c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01); c02 = Vector512.FusedMultiplyAdd(x, b2, c02);
            x = Vector512.Create(pa[1]); c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11); c12 = Vector512.FusedMultiplyAdd(x, b2, c12);
            x = Vector512.Create(pa[2]); c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21); c22 = Vector512.FusedMultiplyAdd(x, b2, c22);
            x = Vector512.Create(pa[3]); c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31); c32 = Vector512.FusedMultiplyAdd(x, b2, c32);
            x = Vector512.Create(pa[4]); c40 = Vector512.FusedMultiplyAdd(x, b0, c40); c41 = Vector512.FusedMultiplyAdd(x, b1, c41); c42 = Vector512.FusedMultiplyAdd(x, b2, c42);
            x = Vector512.Create(pa[5]); c50 = Vector512.FusedMultiplyAdd(x, b0, c50); c51 = Vector512.FusedMultiplyAdd(x, b1, c51); c52 = Vector512.FusedMultiplyAdd(x, b2, c52);
            x = Vector512.Create(pa[6]); c60 = Vector512.FusedMultiplyAdd(x, b0, c60); c61 = Vector512.FusedMultiplyAdd(x, b1, c61); c62 = Vector512.FusedMultiplyAdd(x, b2, c62);
            x = Vector512.Create(pa[7]); c70 = Vector512.FusedMultiplyAdd(x, b0, c70); c71 = Vector512.FusedMultiplyAdd(x, b1, c71); c72 = Vector512.FusedMultiplyAdd(x, b2, c72);
            pa += 8;
            pb += 24;
        }
        Put3(c, c00, c01, c02, store); Put3(c + ldc, c10, c11, c12, store); Put3(c + 2 * ldc, c20, c21, c22, store);
        Put3(c + 3 * ldc, c30, c31, c32, store); Put3(c + 4 * ldc, c40, c41, c42, store); Put3(c + 5 * ldc, c50, c51, c52, store);
        Put3(c + 6 * ldc, c60, c61, c62, store); Put3(c + 7 * ldc, c70, c71, c72, store);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(double* c, Vector512<double> lo, Vector512<double> hi, bool store)
    {
        if (store) { lo.Store(c); hi.Store(c + 8); }
        else { (Vector512.Load(c) + lo).Store(c); (Vector512.Load(c + 8) + hi).Store(c + 8); }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchC(double* c, long ldc, int rows)
    {
        if (!Prefetch) return;
        for (int i = 0; i < rows; i++) { Sse.Prefetch0(c + i * ldc); Sse.Prefetch0(c + i * ldc + 15); }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void K12(int kcLen, double* pa, double* pb, double* c, long ldc, bool store)
    {
        PrefetchC(c, ldc, 12);
        Vector512<double> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
                          c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default,
                          c60 = default, c61 = default, c70 = default, c71 = default, c80 = default, c81 = default,
                          c90 = default, c91 = default, cA0 = default, cA1 = default, cB0 = default, cB1 = default;
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
            x = Vector512.Create(pa[8]); c80 = Vector512.FusedMultiplyAdd(x, b0, c80); c81 = Vector512.FusedMultiplyAdd(x, b1, c81);
            x = Vector512.Create(pa[9]); c90 = Vector512.FusedMultiplyAdd(x, b0, c90); c91 = Vector512.FusedMultiplyAdd(x, b1, c91);
            x = Vector512.Create(pa[10]); cA0 = Vector512.FusedMultiplyAdd(x, b0, cA0); cA1 = Vector512.FusedMultiplyAdd(x, b1, cA1);
            x = Vector512.Create(pa[11]); cB0 = Vector512.FusedMultiplyAdd(x, b0, cB0); cB1 = Vector512.FusedMultiplyAdd(x, b1, cB1);
            pa += 12;
            pb += 16;
        }
        Put(c, c00, c01, store); Put(c + ldc, c10, c11, store); Put(c + 2 * ldc, c20, c21, store);
        Put(c + 3 * ldc, c30, c31, store); Put(c + 4 * ldc, c40, c41, store); Put(c + 5 * ldc, c50, c51, store);
        Put(c + 6 * ldc, c60, c61, store); Put(c + 7 * ldc, c70, c71, store); Put(c + 8 * ldc, c80, c81, store);
        Put(c + 9 * ldc, c90, c91, store); Put(c + 10 * ldc, cA0, cA1, store); Put(c + 11 * ldc, cB0, cB1, store);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void K8(int kcLen, double* pa, double* pb, double* c, long ldc, bool store)
    {
        PrefetchC(c, ldc, 8);
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
            pa += 8;
            pb += 16;
        }
        Put(c, c00, c01, store); Put(c + ldc, c10, c11, store); Put(c + 2 * ldc, c20, c21, store);
        Put(c + 3 * ldc, c30, c31, store); Put(c + 4 * ldc, c40, c41, store); Put(c + 5 * ldc, c50, c51, store);
        Put(c + 6 * ldc, c60, c61, store); Put(c + 7 * ldc, c70, c71, store);
    }
}
