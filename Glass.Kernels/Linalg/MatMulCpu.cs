using System.Buffers;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Glass.Kernels.Linalg;

/// <summary>
/// Managed reference GEMM in <c>double</c>: <c>C (n×m) = op(A) (n×k) · op(B) (k×m)</c>, row-major,
/// <c>op</c> = identity or transpose. Also the CPU backend, so it is blocked for speed.
/// </summary>
/// <remarks>
/// The classic Goto/BLIS loop nest: <c>op(B)</c> is packed once into <see cref="Kc"/>×NR
/// micro-panels (zero padded, 64-byte aligned); C is cut into row blocks of at most <see cref="Mc"/> rows (an equal
/// number per core; when there are few, each row block is also cut into column groups) that go to
/// <c>Parallel.For</c>. Each work item packs its slice of <c>op(A)</c> into MR×<see cref="Kc"/> micro-panels and runs an
/// MR×NR register-tile micro-kernel: 8×16 with 16 <see cref="Vector512{T}"/> accumulators where the CPU has AVX-512,
/// else 4×(2·<see cref="Vector{T}.Count"/>) with 8 <c>Vector&lt;double&gt;</c> accumulators (FMA where the hardware
/// has it). The first depth block stores into C (no clearing pass) unless accumulating. Entry (i, j) is
/// <c>C_ij (+)= Σ_blocks Σ_{p in block} A_ip·B_pj</c>, each block summed in p order from zero, then added in block
/// order; the order depends only on <see cref="Kc"/>, not on the core count, so results are deterministic.
/// </remarks>
public static partial class MatMulCpu
{
    /// <summary>Rows of a micro-tile on the <see cref="Vector{T}"/> path.</summary>
    internal const int Mr = 4;
    /// <summary>Rows of a micro-tile on the AVX-512 path (8×16 tile, 16 accumulators).</summary>
    internal const int MrWide = 8;
    /// <summary>Depth of a packed panel (a 16-wide B micro-panel, 32 KB, stays in L1).</summary>
    internal const int Kc = 256;
    /// <summary>Most rows of C per work item (the packed A block, up to Mc×Kc doubles = 768 KB, stays in a 1 MB L2).</summary>
    internal const int Mc = 384;

    /// <summary>512-bit micro-kernel (AVX-512) when <see cref="Vector{T}"/> is narrower: NR = 16, MR = 8.</summary>
    private static readonly bool Wide = Vector512.IsHardwareAccelerated && Vector<double>.Count < Vector512<double>.Count;

    private static int W => Vector<double>.Count;
    private static int Nr => Wide ? 2 * Vector512<double>.Count : 2 * Vector<double>.Count;
    private static int TileRows => Wide ? MrWide : Mr;

    /// <summary>
    /// <c>C = op(A)·op(B)</c>, or <c>C += op(A)·op(B)</c> when <paramref name="accumulate"/>.
    /// A is n×k (k×n when <paramref name="transA"/>), B is k×m (m×k when <paramref name="transB"/>),
    /// C is n×m. Shapes are trusted (the facade validates them).
    /// </summary>
    public static unsafe void Gemm(double[] a, double[] b, double[] c, int n, int k, int m,
        bool transA = false, bool transB = false, bool accumulate = false)
    {
        if (n == 0 || m == 0 || k == 0)
        {
            if (!accumulate) Array.Clear(c, 0, n * m);
            return;
        }

        int nr = Nr, mr = TileRows;
        int panels = (m + nr - 1) / nr;
        int mPad = panels * nr;
        var work = WorkPlan.For(n, k, m, mr, panels);
        double[] bArr = ArrayPool<double>.Shared.Rent(k * mPad + 8);
        var hB = GCHandle.Alloc(bArr, GCHandleType.Pinned);
        try
        {
            nint pb = Align64(hB.AddrOfPinnedObject());
            PackB(b, (double*)pb, k, m, panels, transB);
            int aLen = work.BlockRows * Math.Min(Kc, k) + 8, items = work.RowBlocks * work.ColGroups;
            if (work.Threads == 1)
            {
                using var scratch = new Scratch(aLen);
                for (int item = 0; item < items; item++)
                    RowBlock(a, (double*)pb, c, n, k, m, mPad, transA, !accumulate, work.BlockOf(item, n, panels), scratch.Pointer);
                return;
            }
            Parallel.For(0, items, new ParallelOptions { MaxDegreeOfParallelism = work.Threads },
                () => new Scratch(aLen),
                (item, _, scratch) =>
                {
                    RowBlock(a, (double*)pb, c, n, k, m, mPad, transA, !accumulate, work.BlockOf(item, n, panels), scratch.Pointer);
                    return scratch;
                },
                scratch => scratch.Dispose());
        }
        finally
        {
            hB.Free();
            ArrayPool<double>.Shared.Return(bArr);
        }
    }

    /// <summary>Rows <c>[I0, I0 + Rows)</c> and B micro-panels <c>[PanelLo, PanelHi)</c> of C: one work item.</summary>
    private readonly record struct Block(int I0, int Rows, int PanelLo, int PanelHi);

    /// <summary>Fewest row blocks per core when n allows (dynamic scheduling then evens out a busy core).</summary>
    private const int MinBlocksPerCore = 4;

    /// <summary>Fewest rows per row block (each packed B micro-panel is reused by at least this many rows).</summary>
    private const int MinBlockRows = 64;

    /// <summary>Fewest multiply-adds (n·k·m) for which a row block is split into column groups (below, the extra
    /// work items and A packs cost more than they save).</summary>
    private const long MinSplitWork = 1L << 22;

    /// <summary>
    /// How C is cut: row blocks of <see cref="BlockRows"/> rows (a multiple of MR, at most about <see cref="Mc"/>), their
    /// count a multiple of the core count (at least <see cref="MinBlocksPerCore"/> per core while blocks keep
    /// <see cref="MinBlockRows"/> rows) so the cores get equal work; when there are fewer than two per core and the
    /// product has at least <see cref="MinSplitWork"/> multiply-adds, each row block is split into
    /// <see cref="ColGroups"/> ranges of B micro-panels as well.
    /// </summary>
    private readonly record struct WorkPlan(int Threads, int BlockRows, int RowBlocks, int ColGroups)
    {
        public static WorkPlan For(int n, int k, int m, int mr, int panels)
        {
            int threads = (long)n * k * m < 64 * 64 * 64 ? 1 : Environment.ProcessorCount;
            // At least 4 row blocks per core: a core slowed by other work on the box then holds up little.
            int rowBlocks = threads * Math.Max((n + threads * Mc - 1) / (threads * Mc), MinBlocksPerCore);
            int blockRows = Math.Max((n + rowBlocks - 1) / rowBlocks, Math.Min(n, MinBlockRows));
            blockRows = (blockRows + mr - 1) / mr * mr;
            rowBlocks = (n + blockRows - 1) / blockRows;
            int colGroups = rowBlocks < 2 * threads && (long)n * k * m >= MinSplitWork
                ? Math.Min(panels, (2 * threads + rowBlocks - 1) / rowBlocks) : 1;
            return new WorkPlan(threads, blockRows, rowBlocks, colGroups);
        }

        /// <summary>Work item <paramref name="item"/>: row block item / ColGroups, column group item % ColGroups.</summary>
        public Block BlockOf(int item, int n, int panels)
        {
            int blk = item / ColGroups, cg = item % ColGroups;
            int i0 = blk * BlockRows;
            return new Block(i0, Math.Min(BlockRows, n - i0), (int)((long)cg * panels / ColGroups), (int)((long)(cg + 1) * panels / ColGroups));
        }
    }

    /// <summary>A pinned, 64-byte aligned packed-A buffer from the shared pool, one per worker.</summary>
    private sealed class Scratch : IDisposable
    {
        private readonly double[] _array;
        private GCHandle _handle;

        public Scratch(int length)
        {
            _array = ArrayPool<double>.Shared.Rent(length);
            _handle = GCHandle.Alloc(_array, GCHandleType.Pinned);
        }

        public unsafe double* Pointer => (double*)Align64(_handle.AddrOfPinnedObject());

        public void Dispose()
        {
            _handle.Free();
            ArrayPool<double>.Shared.Return(_array);
        }
    }

    private static nint Align64(nint p) => (p + 63) & ~(nint)63;

    /// <summary>
    /// Packs op(B) (k×m) into <c>packed[p0·mPad + panel·kcLen·NR + p·NR + jj] = op(B)(p0 + p, panel·NR + jj)</c>,
    /// zero for columns ≥ m.
    /// </summary>
    private static unsafe void PackB(double[] b, double* packed, int k, int m, int panels, bool transB)
    {
        int nr = Nr, mPad = panels * nr;
        nint dstBase = (nint)packed;
        if ((long)k * m < 128 * 128)
        {
            for (int panel = 0; panel < panels; panel++) PackBPanel(b, (double*)dstBase, k, m, mPad, panel, transB);
            return;
        }
        Parallel.For(0, panels, panel => PackBPanel(b, (double*)dstBase, k, m, mPad, panel, transB));
    }

    /// <summary>One NR-wide column panel of <see cref="PackB"/>, all depth blocks.</summary>
    private static unsafe void PackBPanel(double[] b, double* packed, int k, int m, int mPad, int panel, bool transB)
    {
        int nr = Nr;
        int j0 = panel * nr;
        int cols = Math.Min(nr, m - j0);
        for (int p0 = 0; p0 < k; p0 += Kc)
        {
            int kcLen = Math.Min(Kc, k - p0);
            double* dst = packed + (long)p0 * mPad + (long)panel * kcLen * nr;
            for (int p = 0; p < kcLen; p++, dst += nr)
            {
                if (!transB)
                {
                    int src = (p0 + p) * m + j0;
                    for (int jj = 0; jj < cols; jj++) dst[jj] = b[src + jj];
                }
                else
                {
                    for (int jj = 0; jj < cols; jj++) dst[jj] = b[(j0 + jj) * k + p0 + p];
                }
                for (int jj = cols; jj < nr; jj++) dst[jj] = 0;
            }
        }
    }

    /// <summary>
    /// One work item: for each depth block, pack op(A) for the block's rows and sweep its B micro-panels; the first
    /// depth block stores into C when <paramref name="overwrite"/>, the others add.
    /// </summary>
    private static unsafe void RowBlock(double[] a, double* pb, double[] c, int n, int k, int m, int mPad,
        bool transA, bool overwrite, Block block, double* pa)
    {
        int nr = Nr, mr = TileRows;
        int rowPanels = (block.Rows + mr - 1) / mr;
        double* tile = stackalloc double[MrWide * 16]; // ≥ MR·NR on either path (Mr·2W ≤ 4·16)
        fixed (double* pc = c)
        {
            for (int p0 = 0; p0 < k; p0 += Kc)
            {
                int kcLen = Math.Min(Kc, k - p0);
                PackA(a, pa, n, k, transA, block.I0, block.Rows, p0, kcLen, mr);
                bool store = overwrite && p0 == 0;
                for (int panel = block.PanelLo; panel < block.PanelHi; panel++)
                {
                    double* bPanel = pb + (long)p0 * mPad + (long)panel * kcLen * nr;
                    int j0 = panel * nr;
                    int cols = Math.Min(nr, m - j0);
                    for (int rp = 0; rp < rowPanels; rp++)
                    {
                        int r0 = rp * mr, rows = Math.Min(mr, block.Rows - r0);
                        double* cp = pc + (long)(block.I0 + r0) * m + j0;
                        double* ap = pa + (long)rp * kcLen * mr;
                        if (rows == mr && cols == nr)
                        {
                            Tile(kcLen, ap, bPanel, cp, m, store);
                            continue;
                        }
                        // Edge tile: compute the full tile (zero-padded operands) aside, write only its valid part.
                        Tile(kcLen, ap, bPanel, tile, nr, store: true);
                        for (int i = 0; i < rows; i++)
                        {
                            double* ci = cp + (long)i * m;
                            for (int j = 0; j < cols; j++) ci[j] = store ? tile[i * nr + j] : ci[j] + tile[i * nr + j];
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// Packs op(A) rows <c>[i0, i0+rows)</c>, depth <c>[p0, p0+kcLen)</c> into
    /// <c>packed[rp·kcLen·MR + p·MR + ii] = op(A)(i0 + rp·MR + ii, p0 + p)</c>, zero past the last row.
    /// </summary>
    private static unsafe void PackA(double[] a, double* packed, int n, int k, bool transA, int i0, int rows, int p0, int kcLen, int mr)
    {
        int rowPanels = (rows + mr - 1) / mr;
        for (int rp = 0; rp < rowPanels; rp++)
        {
            double* dst = packed + (long)rp * kcLen * mr;
            int r0 = rp * mr, valid = Math.Min(mr, rows - r0);
            if (!transA)
            {
                for (int ii = 0; ii < valid; ii++)
                {
                    int src = (i0 + r0 + ii) * k + p0;
                    for (int p = 0; p < kcLen; p++) dst[p * mr + ii] = a[src + p];
                }
                for (int ii = valid; ii < mr; ii++)
                    for (int p = 0; p < kcLen; p++) dst[p * mr + ii] = 0;
            }
            else
            {
                for (int p = 0; p < kcLen; p++)
                {
                    int src = (p0 + p) * n + i0 + r0;
                    for (int ii = 0; ii < valid; ii++) dst[p * mr + ii] = a[src + ii];
                    for (int ii = valid; ii < mr; ii++) dst[p * mr + ii] = 0;
                }
            }
        }
    }
}
