using Glass.Kernels.Device;
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
internal sealed class DenseSinkhornKernels
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
        _group = Device.Launch.RowGroup(acc, Math.Min(MaxGroup, PointGroup)); // 128 on CUDA (and the CUDA-shaped CPU accelerator), 16 on the default CPU accelerator
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
            long i = Device.Launch.Row(k, m);
            int j = Device.Launch.Col(k, m);
            costT[(long)j * n + i] = cost[k];
        }
    }

    /// <summary>Points d×n (coordinate-major) as float, from row-major n×d doubles: the device layout of the point kernels.</summary>
    internal static float[] Transposed(double[] x, int d)
    {
        int n = x.Length / d;
        var t = new float[x.Length];
        for (int i = 0; i < n; i++)
            for (int k = 0; k < d; k++) t[(long)k * n + i] = (float)x[(long)i * d + k];
        return t;
    }

    public DenseSinkhornResult Solve(DenseGeometry geom, double[] a, double[] b, SinkhornOptions o, double[] f0, double[] g0)
    {
        int n = geom.N, m = geom.M;
        var p = new DenseParams { N = n, M = m, D = 1, InvGamma = 1.0 / o.Gamma, Gamma = o.Gamma, Omega = 1 };
        // Row orientation (rows of C, or points x then y) and column orientation (rows of Cᵀ, or y then x).
        MemoryBuffer1D<float, Stride1D.Dense> opR, opC;
        bool points;
        switch (geom)
        {
            case CostMatrixGeometry cm:
            {
                var c = new float[(long)n * m];
                var ct = new float[(long)n * m];
                for (int i = 0; i < n; i++)
                    for (int j = 0; j < m; j++) { float v = (float)cm.Cost[(long)i * m + j]; c[(long)i * m + j] = v; ct[(long)j * n + i] = v; }
                opR = _acc.Allocate1D(c); opC = _acc.Allocate1D(ct);
                points = false;
                break;
            }
            case PointGeometry pg:
                // Transposed once here (d×n, d×m): coalesced reads in the point kernels.
                opR = _acc.Allocate1D(Transposed(pg.X, pg.D));
                opC = _acc.Allocate1D(Transposed(pg.Y, pg.D));
                p.D = pg.D;
                points = true;
                break;
            default:
                throw new ArgumentException($"Unsupported geometry {geom.GetType().Name}.", nameof(geom));
        }
        using (opR) using (opC)
        using (var f = _acc.Allocate1D(f0))
        using (var g = _acc.Allocate1D(g0))
        using (var logA = _acc.Allocate1D(Array.ConvertAll(a, Math.Log)))
        using (var logB = _acc.Allocate1D(Array.ConvertAll(b, Math.Log)))
        {
            var (it, err, converged) = Iterate(opR.View, opC.View, points, p, f.View, g.View, logA.View, logB.View, o);
            using var plan = _acc.Allocate1D<double>(o.ReturnPlan ? (long)n * m : 0);
            var (cost, entropy) = Finish(opR.View, opC.View, points, p, f.View, g.View, plan.View);
            return new DenseSinkhornResult(f.GetAsArray1D(), g.GetAsArray1D(), o.ReturnPlan ? plan.GetAsArray1D() : null,
                it, err, converged, cost, entropy);
        }
    }

    /// <summary>
    /// Cost-matrix Sinkhorn on a device-resident cost: <paramref name="cost"/> (n×m, float, row-major) is read in
    /// place and transposed on the device into <paramref name="costT"/> (n·m scratch); the potentials start at 0 (−∞
    /// where the marginal is 0), live on the device as double, and the plan P_ij = exp((f_i + g_j − C_ij)/γ) is written
    /// into <paramref name="plan"/> (n·m, double). Nothing of size n×m crosses to the host; per convergence check
    /// (every <see cref="SinkhornOptions.CheckEvery"/> iterations) n + m doubles of marginal errors come back. Same
    /// iterates as <see cref="Solve"/> with a <see cref="CostMatrixGeometry"/> of the same float costs.
    /// </summary>
    /// <returns>Iterations, the last marginal error and whether it reached the tolerance.</returns>
    internal (int Iterations, double MarginalError, bool Converged) SolveResident(ArrayView<float> cost, ArrayView<float> costT, int n, int m,
        double[] a, double[] b, SinkhornOptions o, ArrayView<double> plan)
    {
        long total = (long)n * m;
        if (cost.Length != total || costT.Length != total || plan.Length != total)
            throw new ArgumentException($"SolveResident: cost, costT and plan must hold n·m = {total} entries (have {cost.Length}, {costT.Length}, {plan.Length}).");
        var p = new DenseParams { N = n, M = m, D = 1, InvGamma = 1.0 / o.Gamma, Gamma = o.Gamma, Omega = 1 };
        int threads = Device.Launch.StrideThreads(total);
        _transpose(threads, cost, costT, total, threads, n, m);
        using var f = _acc.Allocate1D(DenseSinkhorn.WarmStart(null, a, nameof(a)));
        using var g = _acc.Allocate1D(DenseSinkhorn.WarmStart(null, b, nameof(b)));
        using var logA = _acc.Allocate1D(Array.ConvertAll(a, Math.Log));
        using var logB = _acc.Allocate1D(Array.ConvertAll(b, Math.Log));
        var r = Iterate(cost, costT, points: false, p, f.View, g.View, logA.View, logB.View, o);
        using var rowCost = _acc.Allocate1D<double>(n);
        using var rowEnt = _acc.Allocate1D<double>(n);
        using var rowSum = _acc.Allocate1D<double>(n);
        _finish(new KernelConfig(n, _group), cost, f.View, g.View, plan, p, rowCost.View, rowEnt.View, rowSum.View);
        return r;
    }

    // The Sinkhorn loop on device operands (rows of C or x-then-y points; columns of Cᵀ or y-then-x): alternate column
    // and row half-iterations, reading the marginal error back every CheckEvery iterations (and at MaxIter).
    private (int Iterations, double MarginalError, bool Converged) Iterate(ArrayView<float> opR, ArrayView<float> opC, bool points, DenseParams p,
        ArrayView<double> f, ArrayView<double> g, ArrayView<double> logA, ArrayView<double> logB, SinkhornOptions o)
    {
        int n = p.N, m = p.M;
        using var errRow = _acc.Allocate1D<double>(n);
        using var errCol = _acc.Allocate1D<double>(m);
        errRow.MemSetToZero();
        var pc = p with { N = m, M = n };
        var rowCfg = new KernelConfig(points ? (n + RowBlock - 1) / RowBlock : n, _group);
        var colCfg = new KernelConfig(points ? (m + RowBlock - 1) / RowBlock : m, _group);
        // One half-iteration: the rows of the operand update `own` against `other`.
        void Update(bool cols, double omega, ArrayView<double> err)
        {
            if (cols && points) _rowUpdatePoints(colCfg, opC, opR, g, f, logB, pc with { Omega = omega }, err);
            else if (cols) _rowUpdate(colCfg, opC, g, f, logB, pc with { Omega = omega }, err);
            else if (points) _rowUpdatePoints(rowCfg, opR, opC, f, g, logA, p with { Omega = omega }, err);
            else _rowUpdate(rowCfg, opR, f, g, logA, p with { Omega = omega }, err);
        }
        var relax = new Overrelaxation(o.Overrelax);
        bool converged = false;
        double e = double.PositiveInfinity;
        int it = 0;
        for (; ; it++)
        {
            if (it > 0 && ((it - 1) % o.CheckEvery == 0 || it == o.MaxIter))
            {
                // Column error of the current plan needs its column sums: a zero-step column pass.
                Update(cols: true, omega: 0, errCol.View);
                _acc.Synchronize();
                e = Math.Sqrt(Sum(errCol.GetAsArray1D()) + Sum(errRow.GetAsArray1D()));
                if (e <= o.Tol) { converged = true; break; }
                relax.Observe(e, it);
            }
            if (it == o.MaxIter) break;
            Update(cols: true, relax.Omega, errCol.View);
            Update(cols: false, relax.Omega, errRow.View);
        }
        return (it, e, converged);
    }

    // Plan (when plan.Length > 0), ⟨P, C⟩ and H(P) from the final potentials.
    private (double Cost, double Entropy) Finish(ArrayView<float> opR, ArrayView<float> opC, bool points, DenseParams p,
        ArrayView<double> f, ArrayView<double> g, ArrayView<double> plan)
    {
        int n = p.N;
        using var rowCost = _acc.Allocate1D<double>(n);
        using var rowEnt = _acc.Allocate1D<double>(n);
        using var rowSum = _acc.Allocate1D<double>(n);
        var rowCfg = new KernelConfig(points ? (n + RowBlock - 1) / RowBlock : n, _group);
        if (points) _finishPoints(rowCfg, opR, opC, f, g, plan, p, rowCost.View, rowEnt.View, rowSum.View);
        else _finish(rowCfg, opR, f, g, plan, p, rowCost.View, rowEnt.View, rowSum.View);
        _acc.Synchronize();
        return (Sum(rowCost.GetAsArray1D()), Sum(rowEnt.GetAsArray1D()));
    }

    private static double Sum(double[] x)
    {
        double s = 0;
        foreach (var v in x) s += v;
        return s;
    }
}
