using System.Collections.Concurrent;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
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
        CheckBlock(l, v, p, nameof(v));
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
        CheckBlock(l, x, p, nameof(x));
        CheckBlock(l, y, p, nameof(y));
        ForRanges(l.Rows, (lo, hi) =>
        {
            var acc = new double[p];
            for (int i = lo; i < hi; i++)
            {
                RowTimes(l, x, i, p, acc);
                int o = i * p;
                for (int c = 0; c < p; c++) y[o + c] = acc[c] - shift * x[o + c];
            }
        });
    }

    /// <summary><c>t1 = (L − I)·t0</c>; <c>y = c0·t0 + c1·t1</c>.</summary>
    private static void FirstStep(CsrMatrix l, double[] t0, double[] t1, double[] y, int p, double c0, double c1)
    {
        ForRanges(l.Rows, (lo, hi) =>
        {
            var acc = new double[p];
            for (int i = lo; i < hi; i++)
            {
                RowTimes(l, t0, i, p, acc);
                int o = i * p;
                for (int c = 0; c < p; c++)
                {
                    double t = acc[c] - t0[o + c];
                    t1[o + c] = t;
                    y[o + c] = c0 * t0[o + c] + c1 * t;
                }
            }
        });
    }

    /// <summary>
    /// <c>tPrev ← 2·(L − I)·tCur − tPrev</c> (the next Chebyshev block, written over the one before
    /// last, which each row reads only at its own index) and <c>y += ck·tPrev</c>.
    /// </summary>
    private static void Step(CsrMatrix l, double[] tCur, double[] tPrev, double[] y, int p, double ck)
    {
        ForRanges(l.Rows, (lo, hi) =>
        {
            var acc = new double[p];
            for (int i = lo; i < hi; i++)
            {
                RowTimes(l, tCur, i, p, acc);
                int o = i * p;
                for (int c = 0; c < p; c++)
                {
                    double t = 2 * (acc[c] - tCur[o + c]) - tPrev[o + c];
                    tPrev[o + c] = t;
                    y[o + c] += ck * t;
                }
            }
        });
    }

    /// <summary>
    /// <c>acc = L[i, :]·x</c>, one row of the <c>n × p</c> block product. Columns go in SIMD
    /// chunks with the chunk's sum kept in a register across the row's entries; the remainder
    /// (p not a multiple of the vector width) is scalar.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RowTimes(CsrMatrix l, double[] x, int i, int p, double[] acc)
    {
        int[] ci = l.ColIdx;
        double[] lv = l.Values;
        int start = l.RowPtr[i], end = l.RowPtr[i + 1];
        ref double x0 = ref MemoryMarshal.GetArrayDataReference(x);
        ref double a0 = ref MemoryMarshal.GetArrayDataReference(acc);
        int width = Vector<double>.Count, c = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; c + width <= p; c += width)
            {
                var s = Vector<double>.Zero;
                for (int k = start; k < end; k++)
                    s += new Vector<double>(lv[k]) * Vector.LoadUnsafe(ref x0, (nuint)((long)ci[k] * p + c));
                s.StoreUnsafe(ref a0, (nuint)c);
            }
        }
        for (; c < p; c++)
        {
            double s = 0;
            for (int k = start; k < end; k++) s += lv[k] * x[ci[k] * p + c];
            acc[c] = s;
        }
    }

    /// <summary>The row loops read x unchecked, so the block must be exactly square-n × p.</summary>
    private static void CheckBlock(CsrMatrix l, double[] x, int p, string name)
    {
        if (l.Rows != l.Cols || p <= 0 || (long)l.Rows * p != x.Length)
            throw new ArgumentException($"{name} has length {x.Length}; expected n·p = {l.Rows}·{p} for a square {l.Rows} × {l.Cols} matrix.", name);
    }

    /// <summary>Runs <paramref name="body"/>(lo, hi) over row ranges covering [0, n), in parallel when n is large.</summary>
    private static void ForRanges(int n, Action<int, int> body)
    {
        int block = Math.Max(256, n / (8 * Environment.ProcessorCount) + 1);
        if (n <= block) body(0, n);
        else Parallel.ForEach(Partitioner.Create(0, n, block), range => body(range.Item1, range.Item2));
    }
}
