using Glass.Kernels.Device;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace Glass.Kernels.Sinkhorn;

/// <summary>Scalars of one dense half-iteration (passed by value to the kernels).</summary>
internal struct DenseParams
{
    public int N, M, D, Mode; // Mode 0: cost matrix, 1: squared Euclidean from points.
    public double InvGamma, Gamma, Omega;
}

/// <summary>
/// ILGPU kernels of the dense log-domain Sinkhorn: one thread group per row (or column) computes an
/// exact log-sum-exp (one pass per thread with a running max, then shared-memory tree reductions) and updates that potential.
/// Costs are float32 (stored, or computed on the fly from points); potentials and sums are double,
/// because P_ij = exp((f_i + g_j − C_ij)/γ) amplifies potential errors by 1/γ.
/// Loaded once per accelerator (<see cref="Device.ComputeDevice.GetKernels{T}"/>).
/// </summary>
internal sealed class DenseSinkhornKernels
{
    internal const int MaxGroup = 256;
    private readonly Accelerator _acc;
    private readonly int _group;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<double>, ArrayView<double>, ArrayView<double>, DenseParams, ArrayView<double>> _rowUpdate;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<double>, ArrayView<double>, ArrayView<double>, DenseParams, ArrayView<double>, ArrayView<double>, ArrayView<double>> _finish;

    public DenseSinkhornKernels(Accelerator acc)
    {
        _acc = acc;
        _group = Device.Launch.RowGroup(acc, MaxGroup); // 128 on CUDA (and the CUDA-shaped CPU accelerator), 16 on the default CPU accelerator
        _rowUpdate = acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<double>, ArrayView<double>, ArrayView<double>, DenseParams, ArrayView<double>>(RowUpdateKernel);
        _finish = acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<double>, ArrayView<double>, ArrayView<double>, DenseParams, ArrayView<double>, ArrayView<double>, ArrayView<double>>(FinishKernel);
    }

    // Cost of "row" r, column c for the operand in its own orientation: cost is R×Cc row-major,
    // or points px (R×d) and py (Cc×d).
    private static double Cost(ArrayView<float> cost, ArrayView<float> px, ArrayView<float> py, int r, int c, int cols, int d, int mode)
    {
        if (mode == 0) return cost[(long)r * cols + c];
        double s = 0;
        for (int k = 0; k < d; k++)
        {
            double e = (double)px[(long)r * d + k] - py[(long)c * d + k];
            s += e * e;
        }
        return s;
    }

    private static double ReduceMax(double v, ArrayView<double> sh)
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

    private static double ReduceSum(double v, ArrayView<double> sh)
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
    private static void RowUpdateKernel(ArrayView<float> cost, ArrayView<float> px, ArrayView<float> py,
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
            double v = (fr + other[c] - Cost(cost, px, py, r, c, p.M, p.D, p.Mode)) * p.InvGamma;
            if (v > tmx) { ts = ts * KernelMath.Exp(tmx - v) + 1; tmx = v; }
            else if (v > double.NegativeInfinity) ts += KernelMath.Exp(v - tmx);
        }
        double mx = ReduceMax(tmx, sh);
        double s = ReduceSum(tmx > double.NegativeInfinity ? ts * KernelMath.Exp(tmx - mx) : 0, sh);
        if (t == 0)
        {
            double lw = logW[r];
            if (lw == double.NegativeInfinity || mx == double.NegativeInfinity)
            {
                err[r] = 0;
            }
            else
            {
                double lse = mx + KernelMath.Log(s);
                double step = lw - lse;
                own[r] = fr + p.Omega * p.Gamma * step;
                double marg = KernelMath.Exp(lse + p.Omega * step);
                double w = KernelMath.Exp(lw);
                err[r] = (marg - w) * (marg - w);
            }
        }
    }

    // grid = rows n; rowCost[i] = Σ_j P_ij C_ij, rowEnt[i] = −Σ_j P_ij log P_ij, plan row written if plan.Length > 0.
    private static void FinishKernel(ArrayView<float> cost, ArrayView<float> px, ArrayView<float> py,
        ArrayView<double> f, ArrayView<double> g, ArrayView<double> plan, DenseParams p,
        ArrayView<double> rowCost, ArrayView<double> rowEnt, ArrayView<double> rowSum)
    {
        var sh = SharedMemory.Allocate<double>(MaxGroup);
        int i = Grid.IdxX, t = Group.IdxX;
        double c = 0, h = 0, z = 0;
        for (int j = t; j < p.M; j += Group.DimX)
        {
            double cij = Cost(cost, px, py, i, j, p.M, p.D, p.Mode);
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

    public DenseSinkhornResult Solve(DenseGeometry geom, double[] a, double[] b, SinkhornOptions o, double[] f0, double[] g0)
    {
        int n = geom.N, m = geom.M;
        var p = new DenseParams { N = n, M = m, InvGamma = 1.0 / o.Gamma, Gamma = o.Gamma, Omega = 1 };
        // Row orientation (rows of C) and column orientation (rows of Cᵀ).
        MemoryBuffer1D<float, Stride1D.Dense> costR, costC, xs, ys;
        switch (geom)
        {
            case CostMatrixGeometry cm:
            {
                var c = new float[(long)n * m];
                var ct = new float[(long)n * m];
                for (int i = 0; i < n; i++)
                    for (int j = 0; j < m; j++) { float v = (float)cm.Cost[(long)i * m + j]; c[(long)i * m + j] = v; ct[(long)j * n + i] = v; }
                costR = _acc.Allocate1D(c); costC = _acc.Allocate1D(ct);
                xs = _acc.Allocate1D<float>(1); ys = _acc.Allocate1D<float>(1);
                p.Mode = 0; p.D = 1;
                break;
            }
            case PointGeometry pg:
                costR = _acc.Allocate1D<float>(1); costC = _acc.Allocate1D<float>(1);
                xs = _acc.Allocate1D(Array.ConvertAll(pg.X, v => (float)v));
                ys = _acc.Allocate1D(Array.ConvertAll(pg.Y, v => (float)v));
                p.Mode = 1; p.D = pg.D;
                break;
            default:
                throw new ArgumentException($"Unsupported geometry {geom.GetType().Name}.", nameof(geom));
        }
        using (costR) using (costC) using (xs) using (ys)
        using (var f = _acc.Allocate1D(f0))
        using (var g = _acc.Allocate1D(g0))
        using (var logA = _acc.Allocate1D(Array.ConvertAll(a, Math.Log)))
        using (var logB = _acc.Allocate1D(Array.ConvertAll(b, Math.Log)))
        using (var errRow = _acc.Allocate1D<double>(n))
        using (var errCol = _acc.Allocate1D<double>(m))
        {
            errRow.MemSetToZero();
            var pc = p with { N = m, M = n };
            var relax = new Overrelaxation(o.Overrelax);
            bool converged = false;
            double err = double.PositiveInfinity;
            int it = 0;
            var rowCfg = new KernelConfig(n, _group);
            var colCfg = new KernelConfig(m, _group);
            for (; ; it++)
            {
                if (it > 0 && ((it - 1) % o.CheckEvery == 0 || it == o.MaxIter))
                {
                    // Column error of the current plan needs its column sums: a zero-step column pass.
                    var probe = pc with { Omega = 0 };
                    _rowUpdate(colCfg, costC.View, ys.View, xs.View, g.View, f.View, logB.View, probe, errCol.View);
                    _acc.Synchronize();
                    err = Math.Sqrt(Sum(errCol.GetAsArray1D()) + Sum(errRow.GetAsArray1D()));
                    if (err <= o.Tol) { converged = true; break; }
                    relax.Observe(err, it);
                }
                if (it == o.MaxIter) break;
                _rowUpdate(colCfg, costC.View, ys.View, xs.View, g.View, f.View, logB.View, pc with { Omega = relax.Omega }, errCol.View);
                _rowUpdate(rowCfg, costR.View, xs.View, ys.View, f.View, g.View, logA.View, p with { Omega = relax.Omega }, errRow.View);
            }
            using var plan = _acc.Allocate1D<double>(o.ReturnPlan ? (long)n * m : 0);
            using var rowCost = _acc.Allocate1D<double>(n);
            using var rowEnt = _acc.Allocate1D<double>(n);
            using var rowSum = _acc.Allocate1D<double>(n);
            _finish(rowCfg, costR.View, xs.View, ys.View, f.View, g.View, plan.View, p, rowCost.View, rowEnt.View, rowSum.View);
            _acc.Synchronize();
            return new DenseSinkhornResult(f.GetAsArray1D(), g.GetAsArray1D(), o.ReturnPlan ? plan.GetAsArray1D() : null,
                it, err, converged, Sum(rowCost.GetAsArray1D()), Sum(rowEnt.GetAsArray1D()));
        }
    }

    private static double Sum(double[] x)
    {
        double s = 0;
        foreach (var v in x) s += v;
        return s;
    }
}
