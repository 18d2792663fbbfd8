using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.InteropServices;

namespace Glass.Kernels.Gw;

/// <summary>
/// POT's <c>sinkhorn_knopp</c> (exp domain, v ← b/(Kᵀu), u ← a/(Kv), error ‖v⊙Kᵀu − b‖₂ checked at
/// iterations 0, 10, 20, …; stops when below tol; on a zero or non-finite scaling it keeps the previous
/// scalings and stops — reported as <see cref="Numerical"/>). Used inside the entropic GW loop, where
/// matching POT's iterates matters.
/// </summary>
/// <remarks>
/// One pass over K per iteration instead of two: row i of K gives (Kv)_i, hence u_i, and while the row is still in
/// L1 it adds u_i·K_i,: to Kᵀu for the next iteration's v-update (and the error check, which POT computes with the new u).
/// Each worker keeps its own partial Kᵀu over a fixed row range; the partials are summed in a fixed order, so results
/// are deterministic for a given core count. K is formed once per call (the first Kᵀu rides on that pass); no Kᵀ copy.
/// Scratch is allocated once per instance, none per call.
/// </remarks>
public sealed class ScalingSinkhornCpu
{
    private readonly int _n, _m, _chunks;
    private readonly double[] _k;
    private readonly double[] _u, _v, _uPrev, _vPrev, _ktu, _partial;
    private bool _hasScalings;

    /// <summary>Scratch for n×m problems (K, the scalings, per-worker partial sums).</summary>
    public ScalingSinkhornCpu(int n, int m)
    {
        _n = n; _m = m;
        _chunks = (long)n * m < 1 << 16 ? 1 : Math.Clamp(Environment.ProcessorCount, 1, Math.Min(n, 64));
        _k = new double[(long)n * m];
        _u = new double[n]; _uPrev = new double[n];
        _v = new double[m]; _vPrev = new double[m];
        _ktu = new double[m];
        _partial = new double[(long)_chunks * m];
    }

    /// <summary>The last solve stopped on a zero/non-finite scaling (the exp-domain iteration broke down).</summary>
    public bool Numerical { get; private set; }
    /// <summary>Iterations of the last solve.</summary>
    public int Iterations { get; private set; }
    /// <summary>Last marginal error.</summary>
    public double Error { get; private set; }

    /// <summary>Solves with cost M (n×m) and γ, writing the plan into <paramref name="plan"/>.
    /// With <paramref name="warmStart"/> the iteration starts from the previous call's scalings (u, v) — the same fixed
    /// point, far fewer iterations when consecutive costs are close (the outer GW loop); otherwise from POT's u = 1/n, v = 1/m.</summary>
    public void Solve(double[] cost, double[] a, double[] b, double gamma, int maxIter, double tol, double[] plan, bool warmStart = false)
    {
        int n = _n, m = _m;
        double[] u = _u, v = _v;
        if (!(warmStart && _hasScalings))
        {
            Array.Fill(u, 1.0 / n);
            Array.Fill(v, 1.0 / m);
        }
        BuildKernel(cost, -1.0 / gamma, u);
        Numerical = false;
        Error = double.PositiveInfinity;
        int it = 0;
        for (; it < maxIter; it++)
        {
            Array.Copy(u, _uPrev, n);
            Array.Copy(v, _vPrev, m);
            bool bad = false;
            for (int j = 0; j < m; j++)
            {
                if (_ktu[j] == 0) bad = true;
                v[j] = b[j] / _ktu[j];
            }
            UpdateRowsAndKtu(a, bad);
            if (!bad) bad = !AllFinite(u) || !AllFinite(v);
            if (bad)
            {
                Array.Copy(_uPrev, u, n);
                Array.Copy(_vPrev, v, m);
                Numerical = true;
                break;
            }
            if (it % 10 == 0)
            {
                double e = 0;
                for (int j = 0; j < m; j++) { double d = v[j] * _ktu[j] - b[j]; e += d * d; }
                Error = Math.Sqrt(e);
                if (Error < tol) { it++; break; }
            }
        }
        Iterations = it;
        _hasScalings = !Numerical;
        Parallel.For(0, _chunks, ch =>
        {
            var (r0, r1) = Rows(ch);
            for (int i = r0; i < r1; i++)
            {
                double ui = u[i];
                var k = _k.AsSpan((int)((long)i * m), m);
                var p = plan.AsSpan((int)((long)i * m), m);
                for (int j = 0; j < m; j++) p[j] = ui * k[j] * v[j];
            }
        });
    }

    private (int R0, int R1) Rows(int chunk) => ((int)((long)_n * chunk / _chunks), (int)((long)_n * (chunk + 1) / _chunks));

    /// <summary>K = exp(cost·<paramref name="scale"/>) and, on the same pass, Kᵀu for the first v-update.</summary>
    private void BuildKernel(double[] cost, double scale, double[] u)
    {
        int m = _m;
        Parallel.For(0, _chunks, ch =>
        {
            var (r0, r1) = Rows(ch);
            var part = _partial.AsSpan(ch * m, m);
            part.Clear();
            for (int i = r0; i < r1; i++)
            {
                var src = cost.AsSpan((int)((long)i * m), m);
                var k = _k.AsSpan((int)((long)i * m), m);
                for (int j = 0; j < m; j++) k[j] = Math.Exp(src[j] * scale);
                Axpy(u[i], k, part);
            }
        });
        ReducePartials();
    }

    /// <summary>u_i = a_i/(K v)_i row by row, and Kᵀu (new u) accumulated on the same pass over K.
    /// When <paramref name="skip"/> (a zero in Kᵀu already broke the iteration) nothing is computed.</summary>
    private void UpdateRowsAndKtu(double[] a, bool skip)
    {
        if (skip) return;
        int m = _m;
        double[] u = _u, v = _v;
        Parallel.For(0, _chunks, ch =>
        {
            var (r0, r1) = Rows(ch);
            var part = _partial.AsSpan(ch * m, m);
            part.Clear();
            for (int i = r0; i < r1; i++)
            {
                var k = _k.AsSpan((int)((long)i * m), m);
                double ui = 1.0 / (Dot(k, v) / a[i]);
                u[i] = ui;
                Axpy(ui, k, part);
            }
        });
        ReducePartials();
    }

    private void ReducePartials()
    {
        int m = _m;
        Array.Copy(_partial, _ktu, m);
        for (int ch = 1; ch < _chunks; ch++)
        {
            var part = _partial.AsSpan(ch * m, m);
            for (int j = 0; j < m; j++) _ktu[j] += part[j];
        }
    }

    private static bool AllFinite(double[] x)
    {
        foreach (double t in x) if (!double.IsFinite(t)) return false;
        return true;
    }

    // Four independent accumulators (an FMA chain per accumulator is latency-bound), 512-bit lanes where the hardware
    // has them: the inner loop is a dot and an axpy per row of K, and on a 2,000² K this pass is most of the solve.
    private static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        int n = a.Length, j = 0;
        double s = 0;
        if (Vector512.IsHardwareAccelerated && n >= 4 * Vector512<double>.Count)
        {
            const int W = 8;
            var a0 = Vector512<double>.Zero; var a1 = Vector512<double>.Zero; var a2 = Vector512<double>.Zero; var a3 = Vector512<double>.Zero;
            ref double ra = ref MemoryMarshal.GetReference(a);
            ref double rb = ref MemoryMarshal.GetReference(b);
            for (; j + 4 * W <= n; j += 4 * W)
            {
                a0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref ra, (nuint)j), Vector512.LoadUnsafe(ref rb, (nuint)j), a0);
                a1 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref ra, (nuint)(j + W)), Vector512.LoadUnsafe(ref rb, (nuint)(j + W)), a1);
                a2 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref ra, (nuint)(j + 2 * W)), Vector512.LoadUnsafe(ref rb, (nuint)(j + 2 * W)), a2);
                a3 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref ra, (nuint)(j + 3 * W)), Vector512.LoadUnsafe(ref rb, (nuint)(j + 3 * W)), a3);
            }
            for (; j + W <= n; j += W)
                a0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref ra, (nuint)j), Vector512.LoadUnsafe(ref rb, (nuint)j), a0);
            s = Vector512.Sum((a0 + a1) + (a2 + a3));
        }
        else if (Vector.IsHardwareAccelerated && n >= 4 * Vector<double>.Count)
        {
            int w = Vector<double>.Count;
            var av = MemoryMarshal.Cast<double, Vector<double>>(a);
            var bv = MemoryMarshal.Cast<double, Vector<double>>(b[..n]);
            Vector<double> c0 = default, c1 = default, c2 = default, c3 = default;
            int k = 0;
            for (; k + 4 <= av.Length; k += 4)
            {
                c0 += av[k] * bv[k]; c1 += av[k + 1] * bv[k + 1]; c2 += av[k + 2] * bv[k + 2]; c3 += av[k + 3] * bv[k + 3];
            }
            for (; k < av.Length; k++) c0 += av[k] * bv[k];
            s = Vector.Sum((c0 + c1) + (c2 + c3));
            j = av.Length * w;
        }
        for (; j < n; j++) s += a[j] * b[j];
        return s;
    }

    /// <summary>y += alpha·x.</summary>
    private static void Axpy(double alpha, ReadOnlySpan<double> x, Span<double> y)
    {
        int n = x.Length, j = 0;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<double>.Count)
        {
            const int W = 8;
            var av = Vector512.Create(alpha);
            ref double rx = ref MemoryMarshal.GetReference(x);
            ref double ry = ref MemoryMarshal.GetReference(y);
            for (; j + W <= n; j += W)
                Vector512.FusedMultiplyAdd(av, Vector512.LoadUnsafe(ref rx, (nuint)j), Vector512.LoadUnsafe(ref ry, (nuint)j)).StoreUnsafe(ref ry, (nuint)j);
        }
        else if (Vector.IsHardwareAccelerated && n >= Vector<double>.Count)
        {
            var xv = MemoryMarshal.Cast<double, Vector<double>>(x);
            var yv = MemoryMarshal.Cast<double, Vector<double>>(y[..n]);
            var av = new Vector<double>(alpha);
            for (int k = 0; k < xv.Length; k++) yv[k] += av * xv[k];
            j = xv.Length * Vector<double>.Count;
        }
        for (; j < n; j++) y[j] += alpha * x[j];
    }
}
