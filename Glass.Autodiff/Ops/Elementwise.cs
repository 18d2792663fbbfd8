using System.Numerics;
using System.Runtime.InteropServices;

namespace Glass.Autodiff.Ops;

/// <summary>Splits elementwise work into blocks for <c>Parallel.For</c> (serial below one block).</summary>
internal static class Elementwise
{
    /// <summary>Entries per work item: large enough that scheduling is noise, small enough to balance two to a few cores.</summary>
    private const int Block = 1 << 15;

    /// <summary>Runs <paramref name="body"/>(k0, k1) over [0, length) in blocks, in parallel when there is more than one.</summary>
    public static void Blocks(int length, Action<int, int> body)
    {
        int blocks = (length + Block - 1) / Block;
        if (blocks <= 1) { body(0, length); return; }
        Parallel.For(0, blocks, blk => body(blk * Block, Math.Min(length, (blk + 1) * Block)));
    }

    /// <summary>Runs <paramref name="body"/>(i0, i1) over row ranges of a rows×cols matrix, about <see cref="Block"/> entries each.</summary>
    public static void Rows(int rows, int cols, Action<int, int> body)
    {
        int per = Math.Max(1, Block / Math.Max(1, cols));
        int blocks = (rows + per - 1) / per;
        if (blocks <= 1) { body(0, rows); return; }
        Parallel.For(0, blocks, blk => body(blk * per, Math.Min(rows, (blk + 1) * per)));
    }

    /// <summary>v.Grad (+)= g for a gradient of v's own shape (overwrites when it is the first contribution).</summary>
    public static void AccumulateInto(Var v, double[] g)
    {
        var gv = v.GradForWrite(out bool overwrite);
        Blocks(g.Length, (k0, k1) =>
        {
            if (overwrite) g.AsSpan(k0, k1 - k0).CopyTo(gv.AsSpan(k0, k1 - k0));
            else Simd.AddInPlace(gv.AsSpan(k0, k1 - k0), g.AsSpan(k0, k1 - k0));
        });
    }
}

/// <summary><see cref="Vector{T}"/> loops for the hot elementwise ops (scalar tail).</summary>
internal static class Simd
{
    /// <summary>y = a + b.</summary>
    public static void Add(ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> y)
    {
        var va = MemoryMarshal.Cast<double, Vector<double>>(a);
        var vb = MemoryMarshal.Cast<double, Vector<double>>(b);
        var vy = MemoryMarshal.Cast<double, Vector<double>>(y);
        int nv = Math.Min(va.Length, Math.Min(vb.Length, vy.Length));
        for (int k = 0; k < nv; k++) vy[k] = va[k] + vb[k];
        for (int k = nv * Vector<double>.Count; k < y.Length; k++) y[k] = a[k] + b[k];
    }

    /// <summary>y += x.</summary>
    public static void AddInPlace(Span<double> y, ReadOnlySpan<double> x) => Add(y, x, y);

    /// <summary>y = max(x, 0).</summary>
    public static void Relu(ReadOnlySpan<double> x, Span<double> y)
    {
        var vx = MemoryMarshal.Cast<double, Vector<double>>(x);
        var vy = MemoryMarshal.Cast<double, Vector<double>>(y);
        for (int k = 0; k < vx.Length; k++) vy[k] = Vector.Max(vx[k], Vector<double>.Zero);
        for (int k = vx.Length * Vector<double>.Count; k < x.Length; k++) y[k] = x[k] > 0 ? x[k] : 0;
    }

    /// <summary>ga (+)= g where x &gt; 0 (0 elsewhere); overwrite or accumulate.</summary>
    public static void ReluBackward(ReadOnlySpan<double> x, ReadOnlySpan<double> g, Span<double> ga, bool overwrite)
    {
        var vx = MemoryMarshal.Cast<double, Vector<double>>(x);
        var vg = MemoryMarshal.Cast<double, Vector<double>>(g);
        var va = MemoryMarshal.Cast<double, Vector<double>>(ga);
        int nv = vx.Length;
        if (overwrite)
        {
            for (int k = 0; k < nv; k++) va[k] = Vector.ConditionalSelect(Vector.GreaterThan(vx[k], Vector<double>.Zero), vg[k], Vector<double>.Zero);
            for (int k = nv * Vector<double>.Count; k < x.Length; k++) ga[k] = x[k] > 0 ? g[k] : 0;
        }
        else
        {
            for (int k = 0; k < nv; k++) va[k] += Vector.ConditionalSelect(Vector.GreaterThan(vx[k], Vector<double>.Zero), vg[k], Vector<double>.Zero);
            for (int k = nv * Vector<double>.Count; k < x.Length; k++) if (x[k] > 0) ga[k] += g[k];
        }
    }

    /// <summary>acc[j] += Σ_i g[i·cols + j] (column sums of a rows×cols matrix, accumulated).</summary>
    public static void ColumnSums(double[] g, int rows, int cols, double[] acc)
    {
        var tmp = new double[cols];
        for (int i = 0; i < rows; i++) AddInPlace(tmp, g.AsSpan(i * cols, cols));
        AddInPlace(acc, tmp);
    }
}
