using Glass.Kernels.Device.LowLevel;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace Glass.Kernels.Sinkhorn;

/// <summary>Scalars of the point-cloud plan kernels (passed by value).</summary>
internal struct PointPlanParams
{
    public int R, C, D, K, Q;
    public double InvGamma;
}

/// <summary>
/// ILGPU kernels over the on-the-fly squared-Euclidean cost of two point clouds, for the large-N inductive path
/// (<see cref="CandidateSinkhorn"/>, <see cref="PlanRows"/>): nothing of size R×C is stored, and the O(R·C·d) passes
/// that the managed backend streams on the host run on the device. Costs are computed in double as the managed
/// reference does, C_rc = max(0, ‖x_r‖² + ‖y_c‖² − 2⟨x_r, y_c⟩). Both clouds are uploaded transposed (d×R and d×C,
/// coordinate-major), so consecutive threads read consecutive addresses.
/// <list type="bullet">
/// <item><b>Nearest</b>: one thread per row keeps a max-heap of its k smallest costs (k ≤ <see cref="MaxK"/>), then
/// writes them ascending. The columns come in tiles of <see cref="NearTile"/> columns × <see cref="DenseSinkhornKernels.DChunk"/>
/// coordinates, loaded cooperatively into shared memory once per group and read there by every row of the group;
/// each thread's partial inner products for the tile also sit in shared memory.</item>
/// <item><b>Rows</b>: one group serves a block of <see cref="DenseSinkhornKernels.RowBlock"/> rows and streams the
/// columns in tiles of one column per thread (the cost tile computed as in the dense point kernels, the column
/// coordinates staged in shared memory and used for every row of the block), turning them into plan entries
/// P_rc = exp((f_r + g_c − C_rc)/γ) in shared memory. Thread rr of the group keeps row rr's k largest (descending,
/// ties to the lower column, as the managed scan does); every thread accumulates its output coordinates of
/// Σ_c P_rc Z_c for all rows of the block in shared memory (each row of Z read once per block, coalesced); row sums
/// are per-thread partials reduced at the end, and each output is written to global memory once, normalised. A Z
/// wider than <see cref="QChunk"/> columns is projected in chunks, re-evaluating the plan per chunk. The entries are
/// unshifted (they are what the kernel returns); <see cref="Device.LowLevel.KernelMath.Exp"/> costs the same for every
/// argument and is exactly 0 below −745, so a far-away column costs no more than a near one.</item>
/// </list>
/// </summary>
internal sealed class PointPlanKernels
{
    /// <summary>Largest k of either kernel (a thread's local heap).</summary>
    internal const int MaxK = 64;
    /// <summary>Columns per shared-memory tile of the nearest search.</summary>
    internal const int NearTile = 16;
    /// <summary>Projection columns accumulated in shared memory per pass of the rows kernel.</summary>
    internal const int QChunk = 64;
    private const int RowBlock = DenseSinkhornKernels.RowBlock, DChunk = DenseSinkhornKernels.DChunk, PointGroup = DenseSinkhornKernels.PointGroup;
    private const int MaxGroup = 256;
    private readonly Accelerator _acc;
    private readonly int _group;
    private readonly Action<KernelConfig, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>, PointPlanParams, ArrayView<int>, ArrayView<double>> _nearest;
    private readonly Action<KernelConfig, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>, PointPlanParams,
        ArrayView<int>, ArrayView<double>, ArrayView<double>, ArrayView<double>> _rows;

    public PointPlanKernels(Accelerator acc)
    {
        _acc = acc;
        _group = Device.LowLevel.Launch.RowGroup(acc, Math.Min(MaxGroup, PointGroup)); // 128 on CUDA (and the CUDA-shaped CPU accelerator), 16 on the default CPU accelerator
        if (_group < RowBlock) throw new NotSupportedException($"Accelerator '{acc.Name}' allows groups of {_group} threads; the point-plan kernels need at least {RowBlock}.");
        _nearest = acc.LoadStreamKernel<ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>, PointPlanParams, ArrayView<int>, ArrayView<double>>(NearestKernel);
        _rows = acc.LoadStreamKernel<ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>, PointPlanParams,
            ArrayView<int>, ArrayView<double>, ArrayView<double>, ArrayView<double>>(RowsKernel);
    }

    /// <summary>The group size of both kernels.</summary>
    internal int GroupSize => _group;

    // Group-cooperative cost tile: cost[rr·gs + t] ← C(r0+rr, c0+t) for the block's RowBlock rows and the tile's gs
    // columns (xT: d×R, yT: d×C). Per chunk of DChunk coordinates the column tile (one column per thread, coalesced) and
    // the block's row coordinates are staged in shared memory between barriers. Summed in the order of the managed
    // reference: ‖x‖² + ‖y‖², then −2·x_k·y_k for k = 0 … d−1; d = 1 is (x − y)² exactly. Entries of rows ≥ R or
    // columns ≥ C are not meaningful.
    private static void TileCosts(ArrayView<double> xT, ArrayView<double> yT, ArrayView<double> xn, ArrayView<double> yn,
        PointPlanParams p, int r0, int c0, ArrayView<double> xTile, ArrayView<double> yTile, ArrayView<double> cost)
    {
        int t = Group.IdxX, gs = Group.DimX, c = c0 + t;
        double ync = c < p.C ? yn[c] : 0;
        for (int rr = 0; rr < RowBlock; rr++) cost[rr * gs + t] = p.D == 1 || r0 + rr >= p.R ? 0 : xn[r0 + rr] + ync;
        for (int k0 = 0; k0 < p.D; k0 += DChunk)
        {
            int dk = XMath.Min(DChunk, p.D - k0);
            Group.Barrier(); // the previous tile is consumed
            for (int kk = 0; kk < dk; kk++) yTile[kk * gs + t] = c < p.C ? yT[(long)(k0 + kk) * p.C + c] : 0;
            for (int e = t; e < RowBlock * dk; e += gs)
            {
                int rr = e / dk, kk = e - rr * dk, r = r0 + rr;
                xTile[rr * DChunk + kk] = r < p.R ? xT[(long)(k0 + kk) * p.R + r] : 0;
            }
            Group.Barrier();
            for (int rr = 0; rr < RowBlock; rr++)
            {
                double s = cost[rr * gs + t];
                for (int kk = 0; kk < dk; kk++)
                {
                    double xv = xTile[rr * DChunk + kk], yv = yTile[kk * gs + t];
                    if (p.D == 1) { double e = xv - yv; s = e * e; }
                    else s += -2 * xv * yv;
                }
                cost[rr * gs + t] = p.D == 1 || s > 0 ? s : 0;
            }
        }
    }

    // Pushes (v, c) into the max-heap of the k smallest (hv, hi; `filled` entries so far); returns the new fill.
    private static int HeapPush(ArrayView<double> hv, ArrayView<int> hi, int filled, int k, double v, int c)
    {
        if (filled < k)
        {
            // Sift up.
            hv[filled] = v; hi[filled] = c;
            int q = filled;
            while (q > 0)
            {
                int par = (q - 1) / 2;
                if (hv[par] >= hv[q]) break;
                double tv = hv[par]; hv[par] = hv[q]; hv[q] = tv;
                int ti = hi[par]; hi[par] = hi[q]; hi[q] = ti;
                q = par;
            }
            return filled + 1;
        }
        if (v >= hv[0]) return filled;
        hv[0] = v; hi[0] = c;
        int s = 0;
        for (; ; )
        {
            int l = 2 * s + 1, rr = l + 1, big = s;
            if (l < k && hv[l] > hv[big]) big = l;
            if (rr < k && hv[rr] > hv[big]) big = rr;
            if (big == s) break;
            double tv = hv[s]; hv[s] = hv[big]; hv[big] = tv;
            int ti = hi[s]; hi[s] = hi[big]; hi[big] = ti;
            s = big;
        }
        return filled;
    }

    // grid = ⌈R / gs⌉ groups, one thread per row r: idx/val[r·K …] ← the K smallest C_rc, ascending (xT: d×R, yT: d×C).
    private static void NearestKernel(ArrayView<double> xT, ArrayView<double> yT, ArrayView<double> xn, ArrayView<double> yn,
        PointPlanParams p, ArrayView<int> idx, ArrayView<double> val)
    {
        var yTile = SharedMemory.Allocate<double>(DChunk * NearTile);
        var part = SharedMemory.Allocate<double>(NearTile * PointGroup);
        var hv = LocalMemory.Allocate<double>(MaxK);
        var hi = LocalMemory.Allocate<int>(MaxK);
        int t = Group.IdxX, gs = Group.DimX, r = Grid.IdxX * gs + t, k = p.K, filled = 0;
        bool live = r < p.R;
        for (int c0 = 0; c0 < p.C; c0 += NearTile)
        {
            int nt = XMath.Min(NearTile, p.C - c0);
            for (int u = 0; u < nt; u++) part[u * gs + t] = p.D == 1 || !live ? 0 : xn[r] + yn[c0 + u];
            for (int k0 = 0; k0 < p.D; k0 += DChunk)
            {
                int dk = XMath.Min(DChunk, p.D - k0);
                Group.Barrier(); // the previous tile is consumed
                for (int e = t; e < dk * nt; e += gs)
                {
                    int kk = e / nt, u = e - kk * nt;
                    yTile[kk * NearTile + u] = yT[(long)(k0 + kk) * p.C + c0 + u];
                }
                Group.Barrier();
                if (!live) continue;
                for (int kk = 0; kk < dk; kk++)
                {
                    double xv = xT[(long)(k0 + kk) * p.R + r];
                    for (int u = 0; u < nt; u++)
                    {
                        double yv = yTile[kk * NearTile + u];
                        if (p.D == 1) { double e = xv - yv; part[u * gs + t] = e * e; }
                        else part[u * gs + t] += -2 * xv * yv;
                    }
                }
            }
            if (!live) continue;
            for (int u = 0; u < nt; u++)
            {
                double v = part[u * gs + t];
                filled = HeapPush(hv, hi, filled, k, p.D == 1 || v > 0 ? v : 0, c0 + u);
            }
        }
        if (!live) return;
        // Ascending by cost (insertion sort of k ≤ 64), then out.
        for (int a = 1; a < k; a++)
        {
            double v = hv[a];
            int iv = hi[a], b = a - 1;
            while (b >= 0 && (hv[b] > v || (hv[b] == v && hi[b] > iv))) { hv[b + 1] = hv[b]; hi[b + 1] = hi[b]; b--; }
            hv[b + 1] = v; hi[b + 1] = iv;
        }
        for (int a = 0; a < k; a++) { idx[(long)r * k + a] = hi[a]; val[(long)r * k + a] = hv[a]; }
    }

    // grid = ⌈R / RowBlock⌉ groups, one block of rows each: top-K of P_r·, Σ_c P_rc and Σ_c P_rc Z_c / Σ_c P_rc
    // (Z: C×Q row-major, may be empty; xT: d×R, yT: d×C).
    private static void RowsKernel(ArrayView<double> xT, ArrayView<double> yT, ArrayView<double> xn, ArrayView<double> yn,
        ArrayView<double> f, ArrayView<double> g, ArrayView<double> z, PointPlanParams p,
        ArrayView<int> topI, ArrayView<double> topV, ArrayView<double> rowSum, ArrayView<double> proj)
    {
        var sh = SharedMemory.Allocate<double>(PointGroup);
        var fb = SharedMemory.Allocate<double>(RowBlock);
        var inv = SharedMemory.Allocate<double>(RowBlock);
        var xTile = SharedMemory.Allocate<double>(RowBlock * DChunk);
        var yTile = SharedMemory.Allocate<double>(DChunk * PointGroup);
        var pt = SharedMemory.Allocate<double>(RowBlock * PointGroup);
        var sums = SharedMemory.Allocate<double>(RowBlock * PointGroup);
        var acc = SharedMemory.Allocate<double>(RowBlock * QChunk);
        var tv = LocalMemory.Allocate<double>(MaxK);
        var ti = LocalMemory.Allocate<int>(MaxK);
        int t = Group.IdxX, gs = Group.DimX, r0 = Grid.IdxX * RowBlock, k = p.K, filled = 0;
        if (t < RowBlock) fb[t] = r0 + t < p.R ? f[r0 + t] : double.NegativeInfinity;
        for (int rr = 0; rr < RowBlock; rr++) sums[rr * gs + t] = 0;
        // Projection columns in chunks; the first pass also keeps the top-k and the row sums.
        for (int q0 = 0; q0 == 0 || q0 < p.Q; q0 += QChunk)
        {
            int qc = XMath.Min(QChunk, p.Q - q0);
            for (int e = t; e < RowBlock * QChunk; e += gs) acc[e] = 0;
            for (int c0 = 0; c0 < p.C; c0 += gs)
            {
                TileCosts(xT, yT, xn, yn, p, r0, c0, xTile, yTile, pt); // its barriers also publish fb
                int c = c0 + t, bl = XMath.Min(gs, p.C - c0);
                double gc = c < p.C ? g[c] : double.NegativeInfinity;
                for (int rr = 0; rr < RowBlock; rr++)
                {
                    int e = rr * gs + t;
                    double v = c < p.C ? KernelMath.Exp((fb[rr] + gc - pt[e]) * p.InvGamma) : 0;
                    pt[e] = v;
                    if (q0 == 0) sums[e] += v;
                }
                Group.Barrier(); // the plan tile is complete
                if (q0 == 0 && t < RowBlock && r0 + t < p.R)
                {
                    // Row r0 + t's k largest, columns in ascending order (ties keep the lower column first).
                    for (int u = 0; u < bl; u++)
                    {
                        double w = pt[t * gs + u];
                        if (filled < k || w > tv[k - 1])
                        {
                            int pos = filled < k ? filled++ : k - 1;
                            while (pos > 0 && tv[pos - 1] < w) { tv[pos] = tv[pos - 1]; ti[pos] = ti[pos - 1]; pos--; }
                            tv[pos] = w; ti[pos] = c0 + u;
                        }
                    }
                }
                for (int q = t; q < qc; q += gs)
                    for (int u = 0; u < bl; u++)
                    {
                        double zv = z[(long)(c0 + u) * p.Q + q0 + q];
                        for (int rr = 0; rr < RowBlock; rr++) acc[rr * QChunk + q] += pt[rr * gs + u] * zv;
                    }
                Group.Barrier(); // the plan tile is consumed before the next one overwrites it
            }
            if (q0 == 0)
            {
                // Row sums: per-thread partials reduced once per row.
                for (int rr = 0; rr < RowBlock; rr++)
                {
                    double total = DenseSinkhornKernels.ReduceSum(sums[rr * gs + t], sh);
                    if (t == 0)
                    {
                        inv[rr] = total > 0 ? 1 / total : 0;
                        if (r0 + rr < p.R) rowSum[r0 + rr] = total;
                    }
                }
                Group.Barrier();
            }
            for (int rr = 0; rr < RowBlock && r0 + rr < p.R; rr++)
                for (int q = t; q < qc; q += gs) proj[(long)(r0 + rr) * p.Q + q0 + q] = acc[rr * QChunk + q] * inv[rr];
            Group.Barrier(); // acc is read before the next chunk clears it
        }
        if (t < RowBlock && r0 + t < p.R)
            for (int a = 0; a < k; a++) { topI[(long)(r0 + t) * k + a] = ti[a]; topV[(long)(r0 + t) * k + a] = tv[a]; }
    }

    /// <summary>Row-major n×d doubles as d×n (coordinate-major): the device layout of both kernels.</summary>
    private static double[] Transposed(double[] x, int d)
    {
        int n = x.Length / d;
        var t = new double[x.Length];
        for (int i = 0; i < n; i++)
            for (int k = 0; k < d; k++) t[(long)k * n + i] = x[(long)i * d + k];
        return t;
    }

    private static double[] SquaredNorms(double[] x, int rows, int d)
    {
        var s = new double[rows];
        for (int i = 0; i < rows; i++) { double v = 0; for (int k = 0; k < d; k++) v += x[(long)i * d + k] * x[(long)i * d + k]; s[i] = v; }
        return s;
    }

    /// <summary>The k nearest columns of every row of the cost between x (R×d) and y (C×d): indices and costs, ascending.</summary>
    public (int[] Idx, double[] Cost) Nearest(double[] x, double[] y, int d, int k)
    {
        int rows = x.Length / d, cols = y.Length / d;
        using var xs = _acc.Allocate1D(Transposed(x, d));
        using var ys = _acc.Allocate1D(Transposed(y, d));
        using var xn = _acc.Allocate1D(SquaredNorms(x, rows, d));
        using var yn = _acc.Allocate1D(SquaredNorms(y, cols, d));
        using var idx = _acc.Allocate1D<int>((long)rows * k);
        using var val = _acc.Allocate1D<double>((long)rows * k);
        _nearest(new KernelConfig((rows + _group - 1) / _group, _group), xs.View, ys.View, xn.View, yn.View, new PointPlanParams { R = rows, C = cols, D = d, K = k }, idx.View, val.View);
        _acc.Synchronize();
        return (idx.GetAsArray1D(), val.GetAsArray1D());
    }

    /// <summary>Per row of P_rc = exp((f_r + g_c − C_rc)/γ): the k largest entries, the sum, and Σ_c P_rc Z_c / Σ_c P_rc.</summary>
    public (int[] TopI, double[] TopV, double[] RowSum, double[] Projection) Rows(double[] x, double[] y, int d, double[] f, double[] g,
        double gamma, int k, double[]? z, int q)
    {
        int rows = x.Length / d, cols = y.Length / d;
        using var xs = _acc.Allocate1D(Transposed(x, d));
        using var ys = _acc.Allocate1D(Transposed(y, d));
        using var xn = _acc.Allocate1D(SquaredNorms(x, rows, d));
        using var yn = _acc.Allocate1D(SquaredNorms(y, cols, d));
        using var fs = _acc.Allocate1D(f);
        using var gs = _acc.Allocate1D(g);
        using var zs = _acc.Allocate1D(z is null || q == 0 ? new double[1] : z);
        using var ti = _acc.Allocate1D<int>((long)rows * k);
        using var tv = _acc.Allocate1D<double>((long)rows * k);
        using var sum = _acc.Allocate1D<double>(rows);
        using var proj = _acc.Allocate1D<double>(Math.Max(1, (long)rows * q));
        var p = new PointPlanParams { R = rows, C = cols, D = d, K = k, Q = z is null ? 0 : q, InvGamma = 1 / gamma };
        _rows(new KernelConfig((rows + RowBlock - 1) / RowBlock, _group), xs.View, ys.View, xn.View, yn.View, fs.View, gs.View, zs.View, p, ti.View, tv.View, sum.View, proj.View);
        _acc.Synchronize();
        var pr = proj.GetAsArray1D();
        if (pr.Length != (long)rows * q) pr = new double[(long)rows * q];
        return (ti.GetAsArray1D(), tv.GetAsArray1D(), sum.GetAsArray1D(), pr);
    }
}
