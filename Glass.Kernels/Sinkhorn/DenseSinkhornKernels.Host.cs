using ILGPU;
using ILGPU.Runtime;

namespace Glass.Kernels.Sinkhorn;

// Host side of the dense kernels: uploads, the iterate behind the one Sinkhorn loop, and the plan read-out.
internal sealed partial class DenseSinkhornKernels
{
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
        int threads = Device.LowLevel.Launch.StrideThreads(total);
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

    // The Sinkhorn iterate on device operands (rows of C or x-then-y points; columns of Cᵀ or y-then-x), run by the
    // one loop; the marginal error is read back at checks only.
    private (int Iterations, double MarginalError, bool Converged) Iterate(ArrayView<float> opR, ArrayView<float> opC, bool points, DenseParams p,
        ArrayView<double> f, ArrayView<double> g, ArrayView<double> logA, ArrayView<double> logB, SinkhornOptions o)
    {
        using var state = new DeviceIterate(this, opR, opC, points, p, f, g, logA, logB);
        var r = SinkhornSolver.Run(state, o);
        return (r.Iterations, r.MarginalError, r.Converged);
    }

    /// <summary>Launch bodies of the dense half-updates: one kernel launch per half-update; a check is a zero-step column pass.</summary>
    private sealed class DeviceIterate : ISinkhornIterate, IDisposable
    {
        private readonly DenseSinkhornKernels _k;
        private readonly ArrayView<float> _opR, _opC;
        private readonly ArrayView<double> _f, _g, _logA, _logB;
        private readonly bool _points;
        private readonly DenseParams _p, _pc;
        private readonly KernelConfig _rowCfg, _colCfg;
        private readonly MemoryBuffer1D<double, Stride1D.Dense> _errRow, _errCol;

        public DeviceIterate(DenseSinkhornKernels k, ArrayView<float> opR, ArrayView<float> opC, bool points, DenseParams p,
            ArrayView<double> f, ArrayView<double> g, ArrayView<double> logA, ArrayView<double> logB)
        {
            _k = k; _opR = opR; _opC = opC; _points = points; _p = p; _f = f; _g = g; _logA = logA; _logB = logB;
            int n = p.N, m = p.M;
            _errRow = k._acc.Allocate1D<double>(n);
            _errCol = k._acc.Allocate1D<double>(m);
            _errRow.MemSetToZero();
            _pc = p with { N = m, M = n };
            _rowCfg = new KernelConfig(points ? (n + RowBlock - 1) / RowBlock : n, k._group);
            _colCfg = new KernelConfig(points ? (m + RowBlock - 1) / RowBlock : m, k._group);
        }

        // One half-iteration: the rows of the operand update `own` against `other`.
        private void Update(bool cols, double omega, ArrayView<double> err)
        {
            if (cols && _points) _k._rowUpdatePoints(_colCfg, _opC, _opR, _g, _f, _logB, _pc with { Omega = omega }, err);
            else if (cols) _k._rowUpdate(_colCfg, _opC, _g, _f, _logB, _pc with { Omega = omega }, err);
            else if (_points) _k._rowUpdatePoints(_rowCfg, _opR, _opC, _f, _g, _logA, _p with { Omega = omega }, err);
            else _k._rowUpdate(_rowCfg, _opR, _f, _g, _logA, _p with { Omega = omega }, err);
        }

        public double MarginalError()
        {
            // Column error of the current plan needs its column sums: a zero-step column pass.
            Update(cols: true, omega: 0, _errCol.View);
            _k._acc.Synchronize();
            return Math.Sqrt(Sum(_errCol.GetAsArray1D()) + Sum(_errRow.GetAsArray1D()));
        }

        public bool UpdateG(double omega) { Update(cols: true, omega, _errCol.View); return true; }

        public bool UpdateF(double omega) { Update(cols: false, omega, _errRow.View); return true; }

        public void Dispose() { _errRow.Dispose(); _errCol.Dispose(); }
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
