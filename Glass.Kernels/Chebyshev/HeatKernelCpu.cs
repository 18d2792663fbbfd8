using System.Collections.Concurrent;
using System.Numerics;
using Glass.Kernels.Linalg;

namespace Glass.Kernels.Chebyshev;

/// <summary>
/// Managed CPU Chebyshev heat kernel (double precision, <c>Parallel.ForEach</c> over row blocks).
/// The reference the ILGPU kernels in <see cref="HeatKernelKernels"/> are tested against.
/// </summary>
internal static class HeatKernelCpu
{
    /// <summary>
    /// <c>Y = Σ_{k=0..q} c_k·T_k(L − I)·V</c> by the three-term recurrence; <paramref name="v"/> is
    /// <c>n × p</c> row-major, <paramref name="coefficients"/> has length <c>q + 1 ≥ 2</c>.
    /// Three n·p scratch blocks in all (the output and two recurrence blocks), allocated once.
    /// </summary>
    public static double[] Apply(CsrMatrix l, double[] v, int p, double[] coefficients)
    {
        int q = coefficients.Length - 1;
        var y = new double[v.Length];
        var tPrev = (double[])v.Clone();   // T_0 V
        var tCur = new double[v.Length];    // T_1 V
        FirstStep(l, v, tCur, y, p, coefficients[0], coefficients[1]);
        for (int k = 2; k <= q; k++)
        {
            Step(l, tCur, tPrev, y, p, coefficients[k]); // tPrev ← T_k V
            (tCur, tPrev) = (tPrev, tCur);
        }
        return y;
    }

    /// <summary><c>y = (L − shift·I)·x</c>, both <c>n × p</c> row-major.</summary>
    public static void ShiftedSpmm(CsrMatrix l, double[] x, double[] y, int p, double shift)
    {
        ForRows(l.Rows, p, (i, acc) =>
        {
            RowTimes(l, x, i, p, acc);
            int o = i * p;
            for (int c = 0; c < p; c++) y[o + c] = acc[c] - shift * x[o + c];
        });
    }

    /// <summary><c>t1 = (L − I)·t0</c>; <c>y = c0·t0 + c1·t1</c>.</summary>
    private static void FirstStep(CsrMatrix l, double[] t0, double[] t1, double[] y, int p, double c0, double c1)
    {
        ForRows(l.Rows, p, (i, acc) =>
        {
            RowTimes(l, t0, i, p, acc);
            int o = i * p;
            for (int c = 0; c < p; c++)
            {
                double t = acc[c] - t0[o + c];
                t1[o + c] = t;
                y[o + c] = c0 * t0[o + c] + c1 * t;
            }
        });
    }

    /// <summary>
    /// <c>tPrev ← 2·(L − I)·tCur − tPrev</c> (the next Chebyshev block, written over the one before
    /// last, which each row reads only at its own index) and <c>y += ck·tPrev</c>.
    /// </summary>
    private static void Step(CsrMatrix l, double[] tCur, double[] tPrev, double[] y, int p, double ck)
    {
        ForRows(l.Rows, p, (i, acc) =>
        {
            RowTimes(l, tCur, i, p, acc);
            int o = i * p;
            for (int c = 0; c < p; c++)
            {
                double t = 2 * (acc[c] - tCur[o + c]) - tPrev[o + c];
                tPrev[o + c] = t;
                y[o + c] += ck * t;
            }
        });
    }

    /// <summary><c>acc = L[i, :]·x</c> (a row of the <c>n × p</c> block product).</summary>
    private static void RowTimes(CsrMatrix l, double[] x, int i, int p, double[] acc)
    {
        Array.Clear(acc);
        int[] rp = l.RowPtr, ci = l.ColIdx;
        double[] lv = l.Values;
        var a = acc.AsSpan(0, p);
        int width = Vector<double>.Count, simd = Vector.IsHardwareAccelerated ? p - p % width : 0;
        for (int k = rp[i]; k < rp[i + 1]; k++)
        {
            double w = lv[k];
            var xr = new ReadOnlySpan<double>(x, ci[k] * p, p);
            int c = 0;
            if (simd > 0)
            {
                var wv = new Vector<double>(w);
                for (; c < simd; c += width)
                    (new Vector<double>(a[c..]) + wv * new Vector<double>(xr[c..])).CopyTo(a[c..]);
            }
            for (; c < p; c++) a[c] += w * xr[c];
        }
    }

    /// <summary>Runs <paramref name="body"/> for every row, in parallel blocks, with one accumulator per block.</summary>
    private static void ForRows(int n, int p, Action<int, double[]> body)
    {
        int block = Math.Max(256, n / (8 * Environment.ProcessorCount) + 1);
        if (n <= block)
        {
            var acc = new double[p];
            for (int i = 0; i < n; i++) body(i, acc);
            return;
        }
        Parallel.ForEach(Partitioner.Create(0, n, block), range =>
        {
            var acc = new double[p];
            for (int i = range.Item1; i < range.Item2; i++) body(i, acc);
        });
    }
}
