using System.Numerics;
using System.Runtime.InteropServices;
using Glass.Kernels.Linalg;

namespace Glass.Kernels.Sinkhorn;

/// <summary>
/// Managed banded Sinkhorn (reference for the banded kernels), log-stabilised scaling
/// (Schmitzer 2019): the band stores K̃_ij = exp((f_i + g_j − C_ij)/γ) for absorbed potentials
/// f, g; iterations update scalings u, v by sparse products over the band only (no exp per entry),
/// and u, v are absorbed into f, g (K̃ rebuilt) whenever they leave [e^−30, e^30] or a sum
/// degenerates. One pass over the band per iteration: each row's SIMD dot product gives its sum, its
/// scaling steps, and the row (still in cache) accumulates into its block's column partials — a block of
/// rows covers one contiguous range of columns (the band is a staircase, so no transpose is stored).
/// Column products alone (after a rebuild) run by blocks of columns. Work per iteration O(nnz); memory O(nnz).
/// The loop is <see cref="SinkhornSolver"/>'s.
/// </summary>
internal static class BandedSinkhornCpu
{
    private const double AbsorbLog = 30;
    private const int ColBlock = 256;

    public static BandSolution Solve(Band band, SinkhornOptions o, double[]? fInit, double[]? gInit)
    {
        var state = new BandScalingIterate(band, o.Gamma, fInit, gInit);
        var r = SinkhornSolver.Run(state, o);
        // Fold the scalings into the potentials; the plan is built from f, g by Plan, into K's storage.
        var (f, g, K) = state.Potentials();
        return new BandSolution(f, g, null, double.NaN, double.NaN, r.Iterations, r.MarginalError, r.Converged, r.Seconds, K);
    }

    /// <summary>
    /// Stabilised scaling on the band (Schmitzer 2019): K̃ on the band for absorbed potentials f̃, g̃; the half-updates
    /// are sparse products with scalings u, v; the column products q = K̃ᵀu are computed at a check and reused by the
    /// next g-update. A scaling leaving [e^−30, e^30] is absorbed (K̃ rebuilt); a degenerate sum restarts from exact
    /// log-domain steps.
    /// </summary>
    private sealed class BandScalingIterate : ISinkhornIterate
    {
        private readonly Band _band;
        private readonly double[] _f, _g, _logA, _logB, _K, _u, _v, _q, _rowMarg;
        private readonly double _gamma, _invG;
        private bool _colValid;
        private readonly double[][] _partial;
        private readonly int[] _partLo, _partHi;

        public BandScalingIterate(Band band, double gamma, double[]? fInit, double[]? gInit)
        {
            int n = band.N, m = band.M;
            _band = band; _gamma = gamma; _invG = 1 / gamma;
            _f = fInit is null ? new double[n] : (double[])fInit.Clone();
            _g = gInit is null ? new double[m] : (double[])gInit.Clone();
            _logA = new double[n];
            _logB = new double[m];
            for (int i = 0; i < n; i++) { _logA[i] = Math.Log(band.A[i]); if (band.A[i] == 0) _f[i] = double.NegativeInfinity; }
            for (int j = 0; j < m; j++) { _logB[j] = Math.Log(band.B[j]); if (band.B[j] == 0) _g[j] = double.NegativeInfinity; }
            _K = GC.AllocateUninitializedArray<double>(band.Nnz);
            _u = new double[n];
            _v = new double[m];
            _q = new double[m];
            _rowMarg = new double[n];
            int blocks = Math.Max(1, Math.Min(n, Environment.ProcessorCount * 4));
            _partial = new double[blocks][];
            for (int k = 0; k < blocks; k++) _partial[k] = [];
            _partLo = new int[blocks];
            _partHi = new int[blocks];
            for (int i = 0; i < n; i++) _u[i] = band.A[i] == 0 ? 0 : 1;
            for (int j = 0; j < m; j++) _v[j] = band.B[j] == 0 ? 0 : 1;
            Restart();
        }

        public double MarginalError()
        {
            Columns();
            double e = 0;
            for (int j = 0; j < _band.M; j++) { double d = _v[j] * _q[j] - _band.B[j]; e += d * d; }
            for (int i = 0; i < _band.N; i++) { double d = _rowMarg[i] - _band.A[i]; e += d * d; }
            return Math.Sqrt(e);
        }

        private void Columns()
        {
            if (!_colValid) ColumnProducts(_band, _K, _u, _q); // q = K̃ᵀu; column sums v ⊙ q
            _colValid = true;
        }

        public bool UpdateG(double w)
        {
            Columns();
            bool absorb = false;
            for (int j = 0; j < _band.M; j++)
            {
                if (_band.B[j] == 0) continue;
                double cs = _v[j] * _q[j];
                if (!(cs > 1e-300) || !double.IsFinite(cs)) { Restart(); return false; }
                _v[j] *= Math.Exp(w * (_logB[j] - Math.Log(cs)));
                if (Math.Abs(Math.Log(_v[j])) > AbsorbLog) absorb = true;
            }
            _absorb = absorb;
            return true;
        }

        private bool _absorb;

        public bool UpdateF(double w)
        {
            // One pass over the band: row i's dot product K̃_i·v gives its sum, u_i steps, and u_i·K̃_i accumulates into
            // its block's column partial (the block's columns are one contiguous range: the band is a staircase).
            int blocks = _partial.Length, n = _band.N;
            int bad = 0, absorb = _absorb ? 1 : 0;
            Parallel.For(0, blocks, k =>
            {
                int i0 = (int)((long)n * k / blocks), i1 = (int)((long)n * (k + 1) / blocks);
                if (i0 >= i1) { _partLo[k] = _partHi[k] = 0; return; }
                int c0 = _band.Lo[i0], c1 = _band.Hi[i1 - 1];
                _partLo[k] = c0; _partHi[k] = c1;
                if (_partial[k].Length < c1 - c0) _partial[k] = new double[c1 - c0];
                var acc = _partial[k].AsSpan(0, c1 - c0);
                acc.Clear();
                for (int i = i0; i < i1; i++)
                {
                    if (_band.A[i] == 0) { _rowMarg[i] = 0; continue; }
                    int lo = _band.Lo[i], len = _band.Hi[i] - lo;
                    var row = _K.AsSpan(_band.RowPtr[i], len);
                    double rs = _u[i] * StoredKernelIterate.Dot(row, _v.AsSpan(lo, len));
                    if (!(rs > 1e-300) || !double.IsFinite(rs)) { Volatile.Write(ref bad, 1); return; }
                    double step = _logA[i] - Math.Log(rs);
                    double scale = Math.Exp(w * step);
                    _u[i] *= scale;
                    _rowMarg[i] = rs * scale;
                    if (Math.Abs(Math.Log(_u[i])) > AbsorbLog) Volatile.Write(ref absorb, 1);
                    StoredKernelIterate.Axpy(_u[i], row, acc.Slice(lo - c0, len));
                }
            });
            if (bad != 0) { Restart(); return false; }
            Array.Clear(_q);
            for (int k = 0; k < blocks; k++)
                if (_partHi[k] > _partLo[k])
                    StoredKernelIterate.Axpy(1.0, _partial[k].AsSpan(0, _partHi[k] - _partLo[k]), _q.AsSpan(_partLo[k], _partHi[k] - _partLo[k]));
            _colValid = true;
            if (absorb != 0)
            {
                Absorb(_f, _u, _gamma);
                Absorb(_g, _v, _gamma);
                BuildKernel(_band, _f, _g, _invG, _K);
                _colValid = false;
            }
            return true;
        }

        /// <summary>Absorbed potentials (scalings folded in) and the spent kernel array.</summary>
        public (double[] F, double[] G, double[] K) Potentials()
        {
            Absorb(_f, _u, _gamma);
            Absorb(_g, _v, _gamma);
            return (_f, _g, _K);
        }

        // Start, or a sum left double range: fold scalings in, take exact log-domain steps (every row and column then
        // carries its mass), rebuild K̃.
        private void Restart()
        {
            Absorb(_f, _u, _gamma);
            Absorb(_g, _v, _gamma);
            ExactColumnStep(_band, _f, _g, _logB, _invG, _gamma);
            ExactRowStep(_band, _f, _g, _logA, _invG, _gamma);
            BuildKernel(_band, _f, _g, _invG, _K);
            for (int i = 0; i < _band.N; i++) _u[i] = _band.A[i] == 0 ? 0 : 1;
            for (int j = 0; j < _band.M; j++) _v[j] = _band.B[j] == 0 ? 0 : 1;
            Array.Copy(_band.A, _rowMarg, _band.N);
            _colValid = false;
        }
    }

    /// <summary>
    /// The plan P_ij = exp((f_i + g_j − (s_i − t_j)²)/γ) on the band, in the callers' order (CSR, columns ascending
    /// within each row), with its cost ⟨P, C⟩ and entropy H(P): each sorted row is evaluated (SIMD) straight into its
    /// caller-order slot (<see cref="Band.ToOriginalOrder(Band.RowValues, double[])"/>). The values are written into
    /// <paramref name="scratch"/> (the solve's spent kernel array), so at large n the only fresh O(nnz) array is the
    /// column indices.
    /// </summary>
    public static (CsrMatrix Plan, double Cost, double Entropy) Plan(Band band, double[] f, double[] g, double gamma, double[]? scratch)
    {
        double invG = 1 / gamma;
        var rowCost = new double[band.N];
        var rowEnt = new double[band.N];
        var plan = band.ToOriginalOrder((i, slot) =>
        {
            int lo = band.Lo[i];
            (rowCost[i], rowEnt[i]) = PlanRow(band.S[i], band.T.AsSpan(lo, slot.Length), f[i], g.AsSpan(lo, slot.Length), invG, slot);
        }, scratch);
        double cost = 0, ent = 0;
        for (int i = 0; i < band.N; i++) { cost += rowCost[i]; ent += rowEnt[i]; }
        return (plan, cost, ent);
    }

    private static void Absorb(double[] pot, double[] scale, double gamma)
    {
        for (int i = 0; i < pot.Length; i++)
        {
            if (double.IsNegativeInfinity(pot[i])) continue;
            pot[i] += gamma * Math.Log(scale[i]);
            scale[i] = 1;
        }
    }

    private static void BuildKernel(Band band, double[] f, double[] g, double invG, double[] K)
    {
        Parallel.For(0, band.N, i =>
        {
            int lo = band.Lo[i], len = band.Hi[i] - lo;
            KernelRow(band.S[i], band.T.AsSpan(lo, len), f[i], g.AsSpan(lo, len), invG, K.AsSpan(band.RowPtr[i], len));
        });
    }

    /// <summary>k_j = exp((f_i + g_j − (s_i − t_j)²)/γ) over one band row, SIMD (Vector.Exp) with a scalar tail.</summary>
    internal static void KernelRow(double si, ReadOnlySpan<double> t, double fi, ReadOnlySpan<double> g, double invG, Span<double> k)
    {
        int len = k.Length, j = 0;
        if (Vector.IsHardwareAccelerated && len >= Vector<double>.Count)
        {
            int mv = len - len % Vector<double>.Count;
            var tv = MemoryMarshal.Cast<double, Vector<double>>(t[..mv]);
            var gv = MemoryMarshal.Cast<double, Vector<double>>(g[..mv]);
            var kv = MemoryMarshal.Cast<double, Vector<double>>(k[..mv]);
            Vector<double> vs = new(si), vf = new(fi), vi = new(invG);
            for (int q = 0; q < kv.Length; q++)
            {
                var d = vs - tv[q];
                kv[q] = Vector.Exp((vf + gv[q] - d * d) * vi);
            }
            j = mv;
        }
        for (; j < len; j++)
        {
            double d = si - t[j];
            k[j] = Math.Exp((fi + g[j] - d * d) * invG);
        }
    }

    /// <summary>
    /// Plan entries p_j = exp(z_j), z_j = (f_i + g_j − c_j)/γ, c_j = (s_i − t_j)², of one band row, with the row's
    /// cost Σ p_j c_j and entropy −Σ p_j z_j (p·z taken as 0 where p = 0: z = −∞ for a zero-mass column), SIMD.
    /// </summary>
    internal static (double Cost, double Entropy) PlanRow(double si, ReadOnlySpan<double> t, double fi, ReadOnlySpan<double> g, double invG, Span<double> p)
    {
        int len = p.Length, j = 0;
        double c = 0, h = 0;
        if (Vector.IsHardwareAccelerated && len >= Vector<double>.Count)
        {
            int mv = len - len % Vector<double>.Count;
            var tv = MemoryMarshal.Cast<double, Vector<double>>(t[..mv]);
            var gv = MemoryMarshal.Cast<double, Vector<double>>(g[..mv]);
            var pv = MemoryMarshal.Cast<double, Vector<double>>(p[..mv]);
            Vector<double> vs = new(si), vf = new(fi), vi = new(invG), vc = Vector<double>.Zero, vh = Vector<double>.Zero;
            for (int q = 0; q < pv.Length; q++)
            {
                var d = vs - tv[q];
                var cij = d * d;
                var z = (vf + gv[q] - cij) * vi;
                var e = Vector.Exp(z);
                pv[q] = e;
                var live = Vector.GreaterThan(e, Vector<double>.Zero);
                vc += Vector.ConditionalSelect(live, e * cij, Vector<double>.Zero);
                vh -= Vector.ConditionalSelect(live, e * z, Vector<double>.Zero);
            }
            c = Vector.Sum(vc);
            h = Vector.Sum(vh);
            j = mv;
        }
        for (; j < len; j++)
        {
            double d = si - t[j], cij = d * d;
            double z = (fi + g[j] - cij) * invG;
            double e = Math.Exp(z);
            p[j] = e;
            if (e > 0) { c += e * cij; h -= e * z; }
        }
        return (c, h);
    }

    private static void ExactRowStep(Band band, double[] f, double[] g, double[] logA, double invG, double gamma)
    {
        Parallel.For(0, band.N, i =>
        {
            if (double.IsNegativeInfinity(f[i])) return;
            int lo = band.Lo[i], hi = band.Hi[i];
            double si = band.S[i], mx = double.NegativeInfinity;
            for (int j = lo; j < hi; j++) { double d = si - band.T[j]; mx = Math.Max(mx, (g[j] - d * d) * invG); }
            double s = 0;
            for (int j = lo; j < hi; j++) { double d = si - band.T[j]; s += Math.Exp((g[j] - d * d) * invG - mx); }
            f[i] = gamma * (logA[i] - mx - Math.Log(s));
        });
    }

    private static void ExactColumnStep(Band band, double[] f, double[] g, double[] logB, double invG, double gamma)
    {
        Parallel.For(0, band.M, j =>
        {
            if (double.IsNegativeInfinity(g[j])) return;
            int lo = band.RLo[j], hi = band.RHi[j];
            double tj = band.T[j], mx = double.NegativeInfinity;
            for (int i = lo; i < hi; i++) { double d = band.S[i] - tj; mx = Math.Max(mx, (f[i] - d * d) * invG); }
            double s = 0;
            for (int i = lo; i < hi; i++) { double d = band.S[i] - tj; s += Math.Exp((f[i] - d * d) * invG - mx); }
            g[j] = gamma * (logB[j] - mx - Math.Log(s));
        });
    }

    /// <summary>r_i = Σ_{j ∈ band(i)} K̃_ij v_j (contiguous segments, SIMD dot).</summary>
    internal static void RowProducts(Band band, double[] K, double[] v, double[] r)
    {
        int n = band.N;
        int chunks = Math.Max(1, Math.Min(n, Environment.ProcessorCount * 16));
        Parallel.For(0, chunks, c =>
        {
            int i0 = (int)((long)n * c / chunks), i1 = (int)((long)n * (c + 1) / chunks);
            for (int i = i0; i < i1; i++)
            {
                int lo = band.Lo[i], len = band.Hi[i] - lo;
                r[i] = Dot(K.AsSpan(band.RowPtr[i], len), v.AsSpan(lo, len));
            }
        });
    }

    /// <summary>q_j = Σ_{i ∈ band(·,j)} K̃_ij u_i, by column blocks (each block owns its outputs).</summary>
    internal static void ColumnProducts(Band band, double[] K, double[] u, double[] q)
    {
        int m = band.M;
        int blocks = (m + ColBlock - 1) / ColBlock;
        Parallel.For(0, blocks, bIdx =>
        {
            int j0 = bIdx * ColBlock, j1 = Math.Min(m, j0 + ColBlock);
            var acc = q.AsSpan(j0, j1 - j0);
            acc.Clear();
            int iStart = band.RLo[j0], iEnd = band.RHi[j1 - 1];
            for (int i = iStart; i < iEnd; i++)
            {
                double ui = u[i];
                if (ui == 0) continue;
                int lo = band.Lo[i];
                int a0 = Math.Max(lo, j0), a1 = Math.Min(band.Hi[i], j1);
                if (a0 >= a1) continue;
                Axpy(ui, K.AsSpan(band.RowPtr[i] + a0 - lo, a1 - a0), acc.Slice(a0 - j0, a1 - a0));
            }
        });
    }

    private static double Dot(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        int n = x.Length, k = 0;
        double s = 0;
        if (Vector.IsHardwareAccelerated && n >= 2 * Vector<double>.Count)
        {
            var xv = MemoryMarshal.Cast<double, Vector<double>>(x);
            var yv = MemoryMarshal.Cast<double, Vector<double>>(y);
            Vector<double> a0 = Vector<double>.Zero, a1 = Vector<double>.Zero;
            int t = 0;
            for (; t + 1 < xv.Length; t += 2) { a0 += xv[t] * yv[t]; a1 += xv[t + 1] * yv[t + 1]; }
            for (; t < xv.Length; t++) a0 += xv[t] * yv[t];
            s = Vector.Sum(a0 + a1);
            k = xv.Length * Vector<double>.Count;
        }
        for (; k < n; k++) s += x[k] * y[k];
        return s;
    }

    private static void Axpy(double alpha, ReadOnlySpan<double> x, Span<double> y)
    {
        int n = x.Length, k = 0;
        if (Vector.IsHardwareAccelerated && n >= Vector<double>.Count)
        {
            var xv = MemoryMarshal.Cast<double, Vector<double>>(x);
            var yv = MemoryMarshal.Cast<double, Vector<double>>(y);
            var av = new Vector<double>(alpha);
            for (int t = 0; t < xv.Length; t++) yv[t] += av * xv[t];
            k = xv.Length * Vector<double>.Count;
        }
        for (; k < n; k++) y[k] += alpha * x[k];
    }
}
