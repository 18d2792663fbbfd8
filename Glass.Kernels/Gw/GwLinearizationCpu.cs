using System.Numerics;
using System.Runtime.InteropServices;
using Glass.Kernels.Linalg;

namespace Glass.Kernels.Gw;

/// <summary>
/// Managed reference of the GW linearisation (square loss; Peyré, Cuturi, Solomon 2016, Prop. 1):
/// tens = s·(r·1ᵀ + 1·cᵀ) + t·D_X·Π·D_Y with r = (D_X⊙D_X)·a, c = (D_Y⊙D_Y)·b, by two blocked GEMMs in double.
/// </summary>
public static class GwLinearizationCpu
{
    /// <summary>output (n×m) = s·(r·1ᵀ + 1·cᵀ) + t·D_X·Π·D_Y; <paramref name="tmp"/> is n×m scratch.</summary>
    public static void Linearize(double[] dx, double[] dy, double[] plan, double[] r, double[] c, double[] tmp, double[] output,
        int n, int m, double s, double t)
    {
        MatMulCpu.Gemm(dx, plan, tmp, n, n, m);
        MatMulCpu.Gemm(tmp, dy, output, n, m, m);
        Parallel.For(0, n, i =>
        {
            var o = output.AsSpan(i * m, m);
            double ri = r[i];
            for (int j = 0; j < m; j++) o[j] = s * (ri + c[j]) + t * o[j];
        });
    }

    /// <summary>(D⊙D)·w: the marginal terms of the square loss.</summary>
    public static double[] SquaredTimes(double[] d, int n, double[] w)
    {
        var y = new double[n];
        Parallel.For(0, n, i =>
        {
            double acc = 0;
            for (int k = 0; k < n; k++) { double v = d[(long)i * n + k]; acc += v * v * w[k]; }
            y[i] = acc;
        });
        return y;
    }
}

/// <summary>
/// POT's <c>sinkhorn_knopp</c> (exp domain, u ← a/(Kv), v ← b/(Kᵀu), error ‖v⊙Kᵀu − b‖₂ checked at
/// iterations 0, 10, 20, …; stops when below tol; on a zero or non-finite scaling it keeps the previous
/// scalings and stops — reported as <see cref="Numerical"/>). Used inside the entropic GW loop, where
/// matching POT's iterates matters; K and Kᵀ are formed once per call, each iteration is two SIMD mat-vecs.
/// </summary>
public sealed class ScalingSinkhornCpu
{
    private readonly int _n, _m;
    private readonly double[] _k, _kt;
    private readonly double[] _u, _v;
    private bool _hasScalings;

    /// <summary>Scratch for n×m problems (K, Kᵀ and the scalings).</summary>
    public ScalingSinkhornCpu(int n, int m)
    {
        _n = n; _m = m;
        _k = new double[(long)n * m];
        _kt = new double[(long)n * m];
        _u = new double[n];
        _v = new double[m];
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
        double inv = -1.0 / gamma;
        Parallel.For(0, n, i =>
        {
            for (int j = 0; j < m; j++)
            {
                double v = Math.Exp(cost[(long)i * m + j] * inv);
                _k[(long)i * m + j] = v;
                _kt[(long)j * n + i] = v;
            }
        });
        var u = new double[n];
        var v = new double[m];
        if (warmStart && _hasScalings)
        {
            Array.Copy(_u, u, n);
            Array.Copy(_v, v, m);
        }
        else
        {
            Array.Fill(u, 1.0 / n);
            Array.Fill(v, 1.0 / m);
        }
        var ktu = new double[m];
        var kv = new double[n];
        var uPrev = new double[n];
        var vPrev = new double[m];
        Numerical = false;
        Error = double.PositiveInfinity;
        int it = 0;
        for (; it < maxIter; it++)
        {
            Array.Copy(u, uPrev, n);
            Array.Copy(v, vPrev, m);
            MatVec(_kt, u, ktu, m, n);
            bool bad = false;
            for (int j = 0; j < m; j++)
            {
                if (ktu[j] == 0) bad = true;
                v[j] = b[j] / ktu[j];
            }
            MatVec(_k, v, kv, n, m);
            for (int i = 0; i < n; i++) u[i] = a[i] / kv[i];
            if (!bad)
            {
                for (int i = 0; i < n && !bad; i++) if (!double.IsFinite(u[i])) bad = true;
                for (int j = 0; j < m && !bad; j++) if (!double.IsFinite(v[j])) bad = true;
            }
            if (bad)
            {
                Array.Copy(uPrev, u, n);
                Array.Copy(vPrev, v, m);
                Numerical = true;
                break;
            }
            if (it % 10 == 0)
            {
                MatVec(_kt, u, ktu, m, n);
                double e = 0;
                for (int j = 0; j < m; j++) { double d = v[j] * ktu[j] - b[j]; e += d * d; }
                Error = Math.Sqrt(e);
                if (Error < tol) { it++; break; }
            }
        }
        Iterations = it;
        Array.Copy(u, _u, n);
        Array.Copy(v, _v, m);
        _hasScalings = !Numerical;
        Parallel.For(0, n, i =>
        {
            double ui = u[i];
            for (int j = 0; j < m; j++) plan[(long)i * m + j] = ui * _k[(long)i * m + j] * v[j];
        });
    }

    /// <summary>y (rows) = A (rows×cols) · x, row-parallel SIMD.</summary>
    private static void MatVec(double[] a, double[] x, double[] y, int rows, int cols)
    {
        if ((long)rows * cols < 1 << 16)
        {
            for (int r = 0; r < rows; r++) y[r] = Dot(a.AsSpan(r * cols, cols), x);
            return;
        }
        int chunks = Math.Max(1, Math.Min(rows, Environment.ProcessorCount * 4));
        Parallel.For(0, chunks, ch =>
        {
            int r0 = (int)((long)rows * ch / chunks), r1 = (int)((long)rows * (ch + 1) / chunks);
            for (int r = r0; r < r1; r++) y[r] = Dot(a.AsSpan((int)((long)r * cols), cols), x);
        });
    }

    private static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        int n = a.Length, j = 0;
        double s = 0;
        if (Vector.IsHardwareAccelerated && n >= Vector<double>.Count)
        {
            var av = MemoryMarshal.Cast<double, Vector<double>>(a);
            var bv = MemoryMarshal.Cast<double, Vector<double>>(b[..n]);
            var acc = Vector<double>.Zero;
            for (int k = 0; k < av.Length; k++) acc += av[k] * bv[k];
            s = Vector.Sum(acc);
            j = av.Length * Vector<double>.Count;
        }
        for (; j < n; j++) s += a[j] * b[j];
        return s;
    }
}
