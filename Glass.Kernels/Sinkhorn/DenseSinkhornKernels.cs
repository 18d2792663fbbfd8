using Glass.Kernels.Device;
using Glass.Kernels.Device.LowLevel;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace Glass.Kernels.Sinkhorn;

/// <summary>Scalars of one dense half-iteration (passed by value to the kernels).</summary>
internal struct DenseParams
{
    public int N, M, D; // rows, columns (of the operand in its own orientation), point dimension.
    public double InvGamma, Gamma, Omega;
}

/// <summary>
/// ILGPU kernels of the dense log-domain Sinkhorn: one thread group per row (or column) computes an
/// exact log-sum-exp (one pass per thread with a running max, then shared-memory tree reductions) and updates that potential.
/// Costs are float32 (stored, or computed on the fly from points); potentials and sums are double,
/// because P_ij = exp((f_i + g_j − C_ij)/γ) amplifies potential errors by 1/γ.
/// Loaded once per accelerator (<see cref="Device.ComputeDevice.GetKernels{T}"/>).
/// <para>
/// Point clouds (the on-the-fly squared-Euclidean cost) have their own kernels: the points are uploaded transposed
/// (d×n, coordinate-major, transposed once at upload), so the threads of a group, which own consecutive columns, read
/// consecutive addresses; one group serves a block of <see cref="RowBlock"/> rows and streams the other cloud in tiles
/// of one column per thread and <see cref="DChunk"/> coordinates, staged in shared memory and used for every row of
/// the block, so the other cloud is read from global memory once per block of rows instead of once per row. Each
/// thread keeps its per-row running max and sum (and the finish pass its per-row partial sums) in shared memory;
/// global memory is written once per row at the end.
/// </para>
/// </summary>
internal sealed partial class DenseSinkhornKernels
{
    internal const int MaxGroup = 256;
    /// <summary>Rows served by one group in the point-cloud kernels.</summary>
    internal const int RowBlock = 8;
    /// <summary>Coordinates per shared-memory tile in the point-cloud kernels (larger d runs in chunks).</summary>
    internal const int DChunk = 8;
    /// <summary>Largest group of the point-cloud kernels (their shared tiles are sized for it).</summary>
    internal const int PointGroup = 128;
    private readonly Accelerator _acc;
    private readonly int _group;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<double>, ArrayView<double>, ArrayView<double>, DenseParams, ArrayView<double>> _rowUpdatePoints;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<double>, ArrayView<double>, ArrayView<double>, DenseParams, ArrayView<double>, ArrayView<double>, ArrayView<double>> _finishPoints;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<double>, ArrayView<double>, ArrayView<double>, DenseParams, ArrayView<double>> _rowUpdate;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<double>, ArrayView<double>, ArrayView<double>, DenseParams, ArrayView<double>, ArrayView<double>, ArrayView<double>> _finish;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, long, int, int, int> _transpose;

    public DenseSinkhornKernels(Accelerator acc)
    {
        _acc = acc;
        _group = Device.LowLevel.Launch.RowGroup(acc, Math.Min(MaxGroup, PointGroup)); // 128 on CUDA (and the CUDA-shaped CPU accelerator), 16 on the default CPU accelerator
        if (_group < RowBlock) throw new NotSupportedException($"Accelerator '{acc.Name}' allows groups of {_group} threads; the dense Sinkhorn kernels need at least {RowBlock}.");
        _rowUpdate = acc.LoadStreamKernel<ArrayView<float>, ArrayView<double>, ArrayView<double>, ArrayView<double>, DenseParams, ArrayView<double>>(RowUpdateKernel);
        _finish = acc.LoadStreamKernel<ArrayView<float>, ArrayView<double>, ArrayView<double>, ArrayView<double>, DenseParams, ArrayView<double>, ArrayView<double>, ArrayView<double>>(FinishKernel);
        _rowUpdatePoints = acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<double>, ArrayView<double>, ArrayView<double>, DenseParams, ArrayView<double>>(RowUpdatePointsKernel);
        _transpose = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, long, int, int, int>(TransposeKernel);
        _finishPoints = acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<double>, ArrayView<double>, ArrayView<double>, DenseParams, ArrayView<double>, ArrayView<double>, ArrayView<double>>(FinishPointsKernel);
    }

    /// <summary>The group size of every kernel here (a power of two; ≤ <see cref="PointGroup"/> and ≥ <see cref="RowBlock"/>).</summary>
    internal int GroupSize => _group;

    // Group-cooperative tile of the point cost: cost[rr·gs + t] ← Σ_k (x_{r0+rr,k} − y_{c0+t,k})² (in double) for the
    // block's RowBlock rows and the tile's gs columns. xT: d×R, yT: d×C (transposed). Per chunk of DChunk coordinates
    // the y tile (one column per thread, coalesced) and the block's x coordinates are staged in shared memory between
    // barriers; rows ≥ R and columns ≥ C read zeros (their entries are ignored by the callers).
    private static void TileCosts(ArrayView<float> xT, ArrayView<float> yT, int rows, int cols, int d, int r0, int c0,
        ArrayView<float> xTile, ArrayView<float> yTile, ArrayView<double> cost)
    {
        int t = Group.IdxX, gs = Group.DimX, c = c0 + t;
        for (int rr = 0; rr < RowBlock; rr++) cost[rr * gs + t] = 0;
        for (int k0 = 0; k0 < d; k0 += DChunk)
        {
            int dk = XMath.Min(DChunk, d - k0);
            Group.Barrier(); // the previous tile is consumed
            for (int kk = 0; kk < dk; kk++) yTile[kk * gs + t] = c < cols ? yT[(long)(k0 + kk) * cols + c] : 0f;
            for (int e = t; e < RowBlock * dk; e += gs)
            {
                int rr = e / dk, kk = e - rr * dk, r = r0 + rr;
                xTile[rr * DChunk + kk] = r < rows ? xT[(long)(k0 + kk) * rows + r] : 0f;
            }
            Group.Barrier();
            for (int rr = 0; rr < RowBlock; rr++)
            {
                double s = cost[rr * gs + t];
                for (int kk = 0; kk < dk; kk++)
                {
                    double e = (double)xTile[rr * DChunk + kk] - yTile[kk * gs + t];
                    s += e * e;
                }
                cost[rr * gs + t] = s;
            }
        }
    }

    internal static double ReduceMax(double v, ArrayView<double> sh)
    {
        int t = Group.IdxX;
        sh[t] = v;
        Group.Barrier();
        for (int s = Group.DimX / 2; s > 0; s >>= 1)
        {
            if (t < s) sh[t] = XMath.Max(sh[t], sh[t + s]);
            Group.Barrier();
        }
        double r = sh[0];
        Group.Barrier();
        return r;
    }

    // Group-wide sum of v (every thread gets it); sh: one double per thread.
    internal static double ReduceSum(double v, ArrayView<double> sh)
    {
        int t = Group.IdxX;
        sh[t] = v;
        Group.Barrier();
        for (int s = Group.DimX / 2; s > 0; s >>= 1)
        {
            if (t < s) sh[t] += sh[t + s];
            Group.Barrier();
        }
        double r = sh[0];
        Group.Barrier();
        return r;
    }

    // grid = rows R (one group per row r); own[r] ← own[r] + ω·γ·(logW[r] − LSE_c((own[r] + other[c] − C_rc)/γ)).
    // err[r] = (row marginal after the update − w_r)², with the marginal a^ω r^(1−ω) known in closed form.
    private static void RowUpdateKernel(ArrayView<float> cost,
        ArrayView<double> own, ArrayView<double> other, ArrayView<double> logW, DenseParams p, ArrayView<double> err)
    {
        var sh = SharedMemory.Allocate<double>(MaxGroup);
        int r = Grid.IdxX, t = Group.IdxX;
        double fr = own[r];
        // One pass, online log-sum-exp: each thread keeps its running max and the sum of exp(v − max), rescaling the
        // sum when the max grows, so every cost entry is evaluated (or read) once, not twice.
        double tmx = double.NegativeInfinity, ts = 0;
        for (int c = t; c < p.M; c += Group.DimX)
        {
            double v = (fr + other[c] - cost[(long)r * p.M + c]) * p.InvGamma;
            if (v > tmx) { ts = ts * KernelMath.Exp(tmx - v) + 1; tmx = v; }
            else if (v > double.NegativeInfinity) ts += KernelMath.Exp(v - tmx);
        }
        double mx = ReduceMax(tmx, sh);
        double s = ReduceSum(tmx > double.NegativeInfinity ? ts * KernelMath.Exp(tmx - mx) : 0, sh);
        if (t == 0) FinishRow(r, fr, mx, s, own, logW, p, err);
    }

    // grid = rows n; rowCost[i] = Σ_j P_ij C_ij, rowEnt[i] = −Σ_j P_ij log P_ij, plan row written if plan.Length > 0.
    private static void FinishKernel(ArrayView<float> cost,
        ArrayView<double> f, ArrayView<double> g, ArrayView<double> plan, DenseParams p,
        ArrayView<double> rowCost, ArrayView<double> rowEnt, ArrayView<double> rowSum)
    {
        var sh = SharedMemory.Allocate<double>(MaxGroup);
        int i = Grid.IdxX, t = Group.IdxX;
        double c = 0, h = 0, z = 0;
        for (int j = t; j < p.M; j += Group.DimX)
        {
            double cij = cost[(long)i * p.M + j];
            double s = (f[i] + g[j] - cij) * p.InvGamma;
            double pij = KernelMath.Exp(s);
            if (plan.Length > 0) plan[(long)i * p.M + j] = pij;
            if (pij > 0) { c += pij * cij; h -= pij * s; z += pij; }
        }
        c = ReduceSum(c, sh);
        h = ReduceSum(h, sh);
        z = ReduceSum(z, sh);
        if (t == 0) { rowCost[i] = c; rowEnt[i] = h; rowSum[i] = z; }
    }

    // The row update's finish for one row (thread 0): own[r] ← own[r] + ω·γ·(logW[r] − lse), err[r] from the closed-form marginal.
    private static void FinishRow(int r, double fr, double mx, double s, ArrayView<double> own, ArrayView<double> logW, DenseParams p, ArrayView<double> err)
    {
        double lw = logW[r];
        if (lw == double.NegativeInfinity || mx == double.NegativeInfinity)
        {
            err[r] = 0;
            return;
        }
        double lse = mx + KernelMath.Log(s);
        double step = lw - lse;
        own[r] = fr + p.Omega * p.Gamma * step;
        double marg = KernelMath.Exp(lse + p.Omega * step);
        double w = KernelMath.Exp(lw);
        err[r] = (marg - w) * (marg - w);
    }

    // grid = ⌈R / RowBlock⌉ groups, each one block of rows; xT: d×R, yT: d×C (transposed). The row update of
    // RowUpdateKernel with C_rc = ‖x_r − y_c‖²: per thread and row a running max and sum (shared memory), one pass over
    // the tiles of y, then per row a max and a sum reduction and thread 0 writes own[r] and err[r].
    private static void RowUpdatePointsKernel(ArrayView<float> xT, ArrayView<float> yT,
        ArrayView<double> own, ArrayView<double> other, ArrayView<double> logW, DenseParams p, ArrayView<double> err)
    {
        var sh = SharedMemory.Allocate<double>(PointGroup);
        var fb = SharedMemory.Allocate<double>(RowBlock);
        var xTile = SharedMemory.Allocate<float>(RowBlock * DChunk);
        var yTile = SharedMemory.Allocate<float>(DChunk * PointGroup);
        var cost = SharedMemory.Allocate<double>(RowBlock * PointGroup);
        var runMax = SharedMemory.Allocate<double>(RowBlock * PointGroup);
        var runSum = SharedMemory.Allocate<double>(RowBlock * PointGroup);
        int t = Group.IdxX, gs = Group.DimX, r0 = Grid.IdxX * RowBlock;
        if (t < RowBlock) fb[t] = r0 + t < p.N ? own[r0 + t] : double.NegativeInfinity;
        for (int rr = 0; rr < RowBlock; rr++) { runMax[rr * gs + t] = double.NegativeInfinity; runSum[rr * gs + t] = 0; }
        for (int c0 = 0; c0 < p.M; c0 += gs)
        {
            TileCosts(xT, yT, p.N, p.M, p.D, r0, c0, xTile, yTile, cost); // its barriers also publish fb
            int c = c0 + t;
            if (c >= p.M) continue;
            double oc = other[c];
            for (int rr = 0; rr < RowBlock; rr++)
            {
                // Online log-sum-exp, as RowUpdateKernel (rows past R have f = −∞ and stay empty).
                int e = rr * gs + t;
                double v = (fb[rr] + oc - cost[e]) * p.InvGamma, tmx = runMax[e];
                if (v > tmx) { runSum[e] = runSum[e] * KernelMath.Exp(tmx - v) + 1; runMax[e] = v; }
                else if (v > double.NegativeInfinity) runSum[e] += KernelMath.Exp(v - tmx);
            }
        }
        for (int rr = 0; rr < RowBlock; rr++)
        {
            double tmx = runMax[rr * gs + t];
            double mx = ReduceMax(tmx, sh);
            double s = ReduceSum(tmx > double.NegativeInfinity ? runSum[rr * gs + t] * KernelMath.Exp(tmx - mx) : 0, sh);
            if (t == 0 && r0 + rr < p.N) FinishRow(r0 + rr, fb[rr], mx, s, own, logW, p, err);
        }
    }

    // grid = ⌈n / RowBlock⌉ groups; FinishKernel with C_ij = ‖x_i − y_j‖² from transposed points (xT: d×n, yT: d×m);
    // per thread and row partial sums in shared memory, reduced per row at the end.
    private static void FinishPointsKernel(ArrayView<float> xT, ArrayView<float> yT,
        ArrayView<double> f, ArrayView<double> g, ArrayView<double> plan, DenseParams p,
        ArrayView<double> rowCost, ArrayView<double> rowEnt, ArrayView<double> rowSum)
    {
        var sh = SharedMemory.Allocate<double>(PointGroup);
        var fb = SharedMemory.Allocate<double>(RowBlock);
        var xTile = SharedMemory.Allocate<float>(RowBlock * DChunk);
        var yTile = SharedMemory.Allocate<float>(DChunk * PointGroup);
        var cost = SharedMemory.Allocate<double>(RowBlock * PointGroup);
        var accC = SharedMemory.Allocate<double>(RowBlock * PointGroup);
        var accH = SharedMemory.Allocate<double>(RowBlock * PointGroup);
        var accZ = SharedMemory.Allocate<double>(RowBlock * PointGroup);
        int t = Group.IdxX, gs = Group.DimX, r0 = Grid.IdxX * RowBlock;
        if (t < RowBlock) fb[t] = r0 + t < p.N ? f[r0 + t] : double.NegativeInfinity;
        for (int rr = 0; rr < RowBlock; rr++) { accC[rr * gs + t] = 0; accH[rr * gs + t] = 0; accZ[rr * gs + t] = 0; }
        for (int c0 = 0; c0 < p.M; c0 += gs)
        {
            TileCosts(xT, yT, p.N, p.M, p.D, r0, c0, xTile, yTile, cost);
            int j = c0 + t;
            if (j >= p.M) continue;
            double gj = g[j];
            for (int rr = 0; rr < RowBlock && r0 + rr < p.N; rr++)
            {
                int e = rr * gs + t;
                double cij = cost[e];
                double s = (fb[rr] + gj - cij) * p.InvGamma;
                double pij = KernelMath.Exp(s);
                if (plan.Length > 0) plan[(long)(r0 + rr) * p.M + j] = pij;
                if (pij > 0) { accC[e] += pij * cij; accH[e] -= pij * s; accZ[e] += pij; }
            }
        }
        for (int rr = 0; rr < RowBlock; rr++)
        {
            double c = ReduceSum(accC[rr * gs + t], sh);
            double h = ReduceSum(accH[rr * gs + t], sh);
            double z = ReduceSum(accZ[rr * gs + t], sh);
            if (t == 0 && r0 + rr < p.N) { rowCost[r0 + rr] = c; rowEnt[r0 + rr] = h; rowSum[r0 + rr] = z; }
        }
    }

    // Grid-stride over k < total = n·m: costT[j·n + i] ← cost[i·m + j] (the column operand of a device-resident cost).
    private static void TransposeKernel(Index1D thread, ArrayView<float> cost, ArrayView<float> costT, long total, int stride, int n, int m)
    {
        for (long k = thread; k < total; k += stride)
        {
            long i = Device.LowLevel.Launch.Row(k, m);
            int j = Device.LowLevel.Launch.Col(k, m);
            costT[(long)j * n + i] = cost[k];
        }
    }
}
