using Glass.Kernels.Device.LowLevel;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace Glass.Kernels.Sinkhorn;

/// <summary>Scalars of one banded half-iteration.</summary>
internal struct BandParams
{
    public double InvGamma, Gamma, Omega;
    public int ErrBefore; // 1: err holds the marginal error before the update (probe); 0: after.
}

/// <summary>
/// ILGPU kernels of the banded log-domain Sinkhorn: one thread per sorted row (column) runs an
/// exact two-pass log-sum-exp over its contiguous band segment, with the cost (s_i − t_j)²
/// recomputed on the fly — the iteration stores nothing of size nnz. Scores and potentials are
/// double (P amplifies potential errors by 1/γ). Loaded once per accelerator.
/// </summary>
internal sealed class BandedSinkhornKernels
{
    private readonly Accelerator _acc;
    private readonly Action<Index1D, ArrayView<double>, ArrayView<double>, ArrayView<int>, ArrayView<int>, ArrayView<double>, ArrayView<double>, ArrayView<double>, BandParams, ArrayView<double>> _update;
    private readonly Action<Index1D, ArrayView<double>, ArrayView<double>, ArrayView<int>, ArrayView<int>, ArrayView<int>, ArrayView<double>, ArrayView<double>, BandParams, ArrayView<double>, ArrayView<double>, ArrayView<double>> _plan;

    public BandedSinkhornKernels(Accelerator acc)
    {
        _acc = acc;
        _update = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, ArrayView<double>, ArrayView<int>, ArrayView<int>, ArrayView<double>, ArrayView<double>, ArrayView<double>, BandParams, ArrayView<double>>(UpdateKernel);
        _plan = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, ArrayView<double>, ArrayView<int>, ArrayView<int>, ArrayView<int>, ArrayView<double>, ArrayView<double>, BandParams, ArrayView<double>, ArrayView<double>, ArrayView<double>>(PlanKernel);
    }

    // R threads (one per sorted row r of this orientation): x = own scores (R), y = other scores,
    // [lo_r, hi_r) the band segment; own[r] ← own[r] + ω·γ·(logW[r] − LSE_c((own[r] + other[c] − (x_r − y_c)²)/γ)).
    private static void UpdateKernel(Index1D r, ArrayView<double> x, ArrayView<double> y, ArrayView<int> lo, ArrayView<int> hi,
        ArrayView<double> own, ArrayView<double> other, ArrayView<double> logW, BandParams p, ArrayView<double> err)
    {
        double lw = logW[r];
        if (lw == double.NegativeInfinity) { err[r] = 0; return; }
        double xr = x[r], fr = own[r], mx = double.NegativeInfinity;
        int l = lo[r], h = hi[r];
        for (int c = l; c < h; c++)
        {
            double d = xr - y[c];
            mx = XMath.Max(mx, (fr + other[c] - d * d) * p.InvGamma);
        }
        double s = 0;
        for (int c = l; c < h; c++)
        {
            double d = xr - y[c];
            s += KernelMath.Exp((fr + other[c] - d * d) * p.InvGamma - mx);
        }
        double lse = mx + KernelMath.Log(s);
        double step = lw - lse;
        own[r] = fr + p.Omega * p.Gamma * step;
        double marg = p.ErrBefore != 0 ? KernelMath.Exp(lse) : KernelMath.Exp(lse + p.Omega * step);
        double w = KernelMath.Exp(lw);
        err[r] = (marg - w) * (marg - w);
    }

    // n threads (sorted rows): P on row i's segment into values[rowPtr_i + k]; per-row cost and entropy.
    private static void PlanKernel(Index1D i, ArrayView<double> s, ArrayView<double> t, ArrayView<int> lo, ArrayView<int> hi, ArrayView<int> rowPtr,
        ArrayView<double> f, ArrayView<double> g, BandParams p, ArrayView<double> values, ArrayView<double> rowCost, ArrayView<double> rowEnt)
    {
        double si = s[i], fi = f[i], c = 0, h = 0;
        int l = lo[i], off = rowPtr[i];
        for (int j = l; j < hi[i]; j++)
        {
            double d = si - t[j], cij = d * d;
            double z = (fi + g[j] - cij) * p.InvGamma;
            double pij = KernelMath.Exp(z);
            values[off + j - l] = pij;
            if (pij > 0) { c += pij * cij; h -= pij * z; }
        }
        rowCost[i] = c;
        rowEnt[i] = h;
    }

    public BandSolution Solve(Band band, SinkhornOptions o, double[]? fInit, double[]? gInit)
    {
        int n = band.N, m = band.M;
        var p = new BandParams { InvGamma = 1 / o.Gamma, Gamma = o.Gamma, Omega = 1 };
        var f0 = fInit is null ? new double[n] : (double[])fInit.Clone();
        var g0 = gInit is null ? new double[m] : (double[])gInit.Clone();
        for (int i = 0; i < n; i++) if (band.A[i] == 0) f0[i] = double.NegativeInfinity;
        for (int j = 0; j < m; j++) if (band.B[j] == 0) g0[j] = double.NegativeInfinity;
        using var s = _acc.Allocate1D(band.S);
        using var t = _acc.Allocate1D(band.T);
        using var lo = _acc.Allocate1D(band.Lo);
        using var hi = _acc.Allocate1D(band.Hi);
        using var rlo = _acc.Allocate1D(band.RLo);
        using var rhi = _acc.Allocate1D(band.RHi);
        using var f = _acc.Allocate1D(f0);
        using var g = _acc.Allocate1D(g0);
        using var logA = _acc.Allocate1D(Array.ConvertAll(band.A, Math.Log));
        using var logB = _acc.Allocate1D(Array.ConvertAll(band.B, Math.Log));
        using var state = new DeviceIterate(this, band, s.View, t.View, lo.View, hi.View, rlo.View, rhi.View, f.View, g.View, logA.View, logB.View, p);
        var loop = SinkhornSolver.Run(state, o);
        int it = loop.Iterations;
        double err = loop.MarginalError;
        bool converged = loop.Converged;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        _acc.Synchronize();
        double loopSeconds = loop.Seconds + clock.Elapsed.TotalSeconds;
        using var rowPtr = _acc.Allocate1D(band.RowPtr);
        using var values = _acc.Allocate1D<double>(Math.Max(1, band.Nnz));
        using var rowCost = _acc.Allocate1D<double>(n);
        using var rowEnt = _acc.Allocate1D<double>(n);
        _plan(n, s.View, t.View, lo.View, hi.View, rowPtr.View, f.View, g.View, p, values.View, rowCost.View, rowEnt.View);
        _acc.Synchronize();
        var P = values.GetAsArray1D();
        if (P.Length != band.Nnz) Array.Resize(ref P, band.Nnz);
        return new BandSolution(f.GetAsArray1D(), g.GetAsArray1D(), P, Sum(rowCost.GetAsArray1D()), Sum(rowEnt.GetAsArray1D()),
            it, err, converged, loopSeconds);
    }

    /// <summary>Launch bodies of the banded half-updates (one thread per sorted row or column); a check is a zero-step column pass.</summary>
    private sealed class DeviceIterate : ISinkhornIterate, IDisposable
    {
        private readonly BandedSinkhornKernels _k;
        private readonly int _n, _m;
        private readonly ArrayView<double> _s, _t, _f, _g, _logA, _logB;
        private readonly ArrayView<int> _lo, _hi, _rlo, _rhi;
        private readonly BandParams _p;
        private readonly MemoryBuffer1D<double, Stride1D.Dense> _errRow, _errCol;

        public DeviceIterate(BandedSinkhornKernels k, Band band, ArrayView<double> s, ArrayView<double> t, ArrayView<int> lo, ArrayView<int> hi,
            ArrayView<int> rlo, ArrayView<int> rhi, ArrayView<double> f, ArrayView<double> g, ArrayView<double> logA, ArrayView<double> logB, BandParams p)
        {
            _k = k; _n = band.N; _m = band.M; _s = s; _t = t; _lo = lo; _hi = hi; _rlo = rlo; _rhi = rhi;
            _f = f; _g = g; _logA = logA; _logB = logB; _p = p;
            _errRow = k._acc.Allocate1D<double>(_n);
            _errCol = k._acc.Allocate1D<double>(_m);
            _errRow.MemSetToZero();
        }

        public double MarginalError()
        {
            _k._update(_m, _t, _s, _rlo, _rhi, _g, _f, _logB, _p with { Omega = 0, ErrBefore = 1 }, _errCol.View);
            _k._acc.Synchronize();
            return Math.Sqrt(Sum(_errCol.GetAsArray1D()) + Sum(_errRow.GetAsArray1D()));
        }

        public bool UpdateG(double omega)
        {
            _k._update(_m, _t, _s, _rlo, _rhi, _g, _f, _logB, _p with { Omega = omega }, _errCol.View);
            return true;
        }

        public bool UpdateF(double omega)
        {
            _k._update(_n, _s, _t, _lo, _hi, _f, _g, _logA, _p with { Omega = omega }, _errRow.View);
            return true;
        }

        public void Dispose() { _errRow.Dispose(); _errCol.Dispose(); }
    }

    private static double Sum(double[] x)
    {
        double s = 0;
        foreach (var v in x) s += v;
        return s;
    }
}
