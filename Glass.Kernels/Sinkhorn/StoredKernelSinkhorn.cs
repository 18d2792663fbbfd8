using System.Numerics;
using System.Runtime.InteropServices;

namespace Glass.Kernels.Sinkhorn;

/// <summary>
/// The stored-kernel geometry (managed CPU): K̃_ij = exp((f̃_i + g̃_j − C_ij)/γ) is kept in memory (n·m doubles) for
/// absorbed potentials f̃, g̃, and the iterations run in the exp domain on scalings u, v — one mat-vec per
/// half-iteration and no exp per entry (the scheme of POT's <c>ot.sinkhorn</c>), stabilised as in Schmitzer 2019
/// ("Stabilized sparse scaling algorithms for entropy regularized transport problems", Alg. 2): whenever a scaling
/// leaves [e^−τ, e^τ] it is absorbed, f̃ ← f̃ + γ·log u, g̃ ← g̃ + γ·log v, and K̃ rebuilt; a sum that leaves double
/// range restarts from exact log-domain half-steps. The potentials are f = f̃ + γ·log u, g = g̃ + γ·log v, so the
/// iterates are those of log-domain Sinkhorn up to rounding.
/// <para>
/// The f-update and the column products share one pass over K̃: row i's dot product K̃_i·v gives its sum, u_i steps,
/// and u_i·K̃_i accumulates into per-block column partials (the row is still in cache), so an iteration streams K̃ once.
/// </para>
/// </summary>
internal sealed class StoredKernelIterate : ISinkhornIterate
{
    /// <summary>Absorption threshold τ on |log u|, |log v|: entries of K̃ that underflowed at a rebuild stay below
    /// 1e-308·e^{2τ} ≈ 1e-265 in the plan, so nothing that matters is lost.</summary>
    private const double AbsorbLog = 50;

    private readonly DenseGeometry _geom;
    private readonly int _n, _m;
    private readonly double[] _a, _b, _f, _g, _logA, _logB, _K, _u, _v, _q, _rowMarg;
    private readonly double[][] _partial;
    private readonly double _gamma, _invG;
    private bool _colValid, _absorbG;

    /// <summary>Binds the geometry and marginals; <paramref name="f"/>, <paramref name="g"/> are the initial potentials (−∞ where the mass is 0), kept and updated.</summary>
    public StoredKernelIterate(DenseGeometry geom, double[] a, double[] b, double gamma, double[] f, double[] g)
    {
        if ((long)geom.N * geom.M > Array.MaxLength)
            throw new ArgumentException($"Kernel = Stored needs n·m = {(long)geom.N * geom.M} doubles in one array (at most {Array.MaxLength}); use DenseKernel.Online or Auto.", "Kernel");
        _geom = geom; _n = geom.N; _m = geom.M; _a = a; _b = b; _f = f; _g = g; _gamma = gamma; _invG = 1 / gamma;
        _logA = Array.ConvertAll(a, Math.Log);
        _logB = Array.ConvertAll(b, Math.Log);
        _K = GC.AllocateUninitializedArray<double>(_n * _m);
        _u = new double[_n];
        _v = new double[_m];
        _q = new double[_m];
        _rowMarg = new double[_n];
        int blocks = Math.Max(1, Math.Min(Environment.ProcessorCount * 2, _n));
        _partial = new double[blocks][];
        for (int k = 0; k < blocks; k++) _partial[k] = new double[_m];
        for (int i = 0; i < _n; i++) _u[i] = a[i] == 0 ? 0 : 1;
        for (int j = 0; j < _m; j++) _v[j] = b[j] == 0 ? 0 : 1;
        Rebuild();
        // Row marginal of the initial plan (needed only if the first check came before an f-update).
        RowSums(_rowMarg);
    }

    /// <summary>Number of times K̃ was rebuilt after the first build (absorptions and restarts).</summary>
    public int Rebuilds { get; private set; }

    public double MarginalError()
    {
        Columns();
        double e = 0;
        for (int j = 0; j < _m; j++) { double d = _v[j] * _q[j] - _b[j]; e += d * d; }
        for (int i = 0; i < _n; i++) { double d = _rowMarg[i] - _a[i]; e += d * d; }
        return Math.Sqrt(e);
    }

    public bool UpdateG(double w)
    {
        Columns();
        bool absorb = false;
        for (int j = 0; j < _m; j++)
        {
            if (_b[j] == 0) continue;
            double cs = _v[j] * _q[j];
            if (!SafeRange.Contains(cs) || !double.IsFinite(_v[j])) { Restart(); return false; }
            _v[j] *= Math.Exp(w * (_logB[j] - Math.Log(cs)));
            if (Math.Abs(Math.Log(_v[j])) > AbsorbLog) absorb = true;
        }
        // q = K̃ᵀu does not depend on v: it stays valid for the next check.
        _absorbG = absorb;
        return true;
    }

    public bool UpdateF(double w)
    {
        int blocks = _partial.Length;
        int bad = 0, absorb = _absorbG ? 1 : 0;
        Parallel.For(0, blocks, k =>
        {
            var acc = _partial[k];
            Array.Clear(acc);
            int i0 = (int)((long)_n * k / blocks), i1 = (int)((long)_n * (k + 1) / blocks);
            for (int i = i0; i < i1; i++)
            {
                if (_a[i] == 0) { _rowMarg[i] = 0; continue; }
                var row = _K.AsSpan(i * _m, _m);
                double rs = _u[i] * Dot(row, _v);
                if (!SafeRange.Contains(rs) || !double.IsFinite(_u[i])) { Volatile.Write(ref bad, 1); return; }
                double step = _logA[i] - Math.Log(rs);
                double scale = Math.Exp(w * step);
                _u[i] *= scale;
                _rowMarg[i] = rs * scale;
                if (Math.Abs(Math.Log(_u[i])) > AbsorbLog) Volatile.Write(ref absorb, 1);
                Axpy(_u[i], row, acc);
            }
        });
        if (bad != 0) { Restart(); return false; }
        ReducePartials();
        _colValid = true;
        if (absorb != 0)
        {
            Absorb();
            Rebuild();
            Rebuilds++;
        }
        return true;
    }

    /// <summary>The potentials f = f̃ + γ·log u, g = g̃ + γ·log v (scalings folded in; the arrays given at construction).</summary>
    public (double[] F, double[] G) Potentials()
    {
        Absorb();
        return (_f, _g);
    }

    private void Columns()
    {
        if (_colValid) return;
        int blocks = _partial.Length;
        Parallel.For(0, blocks, k =>
        {
            var acc = _partial[k];
            Array.Clear(acc);
            int i0 = (int)((long)_n * k / blocks), i1 = (int)((long)_n * (k + 1) / blocks);
            for (int i = i0; i < i1; i++)
                if (_u[i] != 0) Axpy(_u[i], _K.AsSpan(i * _m, _m), acc);
        });
        ReducePartials();
        _colValid = true;
    }

    private void ReducePartials()
    {
        Array.Copy(_partial[0], _q, _m);
        for (int k = 1; k < _partial.Length; k++) AddInto(_partial[k], _q);
    }

    private void RowSums(double[] output)
    {
        Parallel.For(0, _n, i => output[i] = _u[i] == 0 ? 0 : _u[i] * Dot(_K.AsSpan(i * _m, _m), _v));
    }

    private void Absorb()
    {
        for (int i = 0; i < _n; i++)
            if (_u[i] != 0 && !double.IsNegativeInfinity(_f[i])) { _f[i] += _gamma * Math.Log(_u[i]); _u[i] = 1; }
        for (int j = 0; j < _m; j++)
            if (_v[j] != 0 && !double.IsNegativeInfinity(_g[j])) { _g[j] += _gamma * Math.Log(_v[j]); _v[j] = 1; }
    }

    /// <summary>K̃_ij = exp((f̃_i + g̃_j − C_ij)/γ), rows in parallel (SIMD exp), C streamed from the geometry once.</summary>
    private void Rebuild()
    {
        int chunks = Math.Max(1, Math.Min(_n, Environment.ProcessorCount * 8));
        Parallel.For(0, chunks, k =>
        {
            using var reader = new RowReader(_geom);
            int i0 = (int)((long)_n * k / chunks), i1 = (int)((long)_n * (k + 1) / chunks);
            for (int i = i0; i < i1; i++)
            {
                var dst = _K.AsSpan(i * _m, _m);
                if (double.IsNegativeInfinity(_f[i])) { dst.Clear(); continue; }
                DenseSinkhornCpu.ExpRowSum(reader.Row(i), _g, _f[i], _invG, dst);
            }
        });
        _colValid = false;
    }

    // A sum left double range: fold the scalings in, take exact log-domain half-steps (every row and column then
    // carries its mass), rebuild K̃ with u = v = 1.
    private void Restart()
    {
        Absorb();
        var logCol = new double[_m];
        var logRow = new double[_n];
        DenseSinkhornCpu.LogColumnSums(_geom, _f, _g, _invG, logCol, _partial);
        for (int j = 0; j < _m; j++) if (_b[j] > 0) _g[j] += _gamma * (_logB[j] - logCol[j]);
        DenseSinkhornCpu.LogRowSums(_geom, _f, _g, _invG, logRow);
        for (int i = 0; i < _n; i++) if (_a[i] > 0) _f[i] += _gamma * (_logA[i] - logRow[i]);
        Rebuild();
        Rebuilds++;
        Array.Copy(_a, _rowMarg, _n);
    }

    /// <summary>Σ_k x_k·y_k, SIMD with four accumulators.</summary>
    internal static double Dot(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        int n = x.Length, k = 0;
        double s = 0;
        if (Vector.IsHardwareAccelerated && n >= 4 * Vector<double>.Count)
        {
            var xv = MemoryMarshal.Cast<double, Vector<double>>(x);
            var yv = MemoryMarshal.Cast<double, Vector<double>>(y[..n]);
            Vector<double> a0 = Vector<double>.Zero, a1 = a0, a2 = a0, a3 = a0;
            int t = 0;
            for (; t + 3 < xv.Length; t += 4)
            {
                a0 += xv[t] * yv[t]; a1 += xv[t + 1] * yv[t + 1];
                a2 += xv[t + 2] * yv[t + 2]; a3 += xv[t + 3] * yv[t + 3];
            }
            for (; t < xv.Length; t++) a0 += xv[t] * yv[t];
            s = Vector.Sum((a0 + a1) + (a2 + a3));
            k = xv.Length * Vector<double>.Count;
        }
        for (; k < n; k++) s += x[k] * y[k];
        return s;
    }

    /// <summary>y += α·x, SIMD.</summary>
    internal static void Axpy(double alpha, ReadOnlySpan<double> x, Span<double> y)
    {
        int n = x.Length, k = 0;
        if (Vector.IsHardwareAccelerated && n >= Vector<double>.Count)
        {
            var xv = MemoryMarshal.Cast<double, Vector<double>>(x);
            var yv = MemoryMarshal.Cast<double, Vector<double>>(y[..n]);
            var av = new Vector<double>(alpha);
            for (int t = 0; t < xv.Length; t++) yv[t] += av * xv[t];
            k = xv.Length * Vector<double>.Count;
        }
        for (; k < n; k++) y[k] += alpha * x[k];
    }

    private static void AddInto(ReadOnlySpan<double> x, Span<double> y) => Axpy(1.0, x, y);
}
