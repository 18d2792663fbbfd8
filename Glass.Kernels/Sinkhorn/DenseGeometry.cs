using System.Numerics;
using System.Runtime.InteropServices;
using Glass.Kernels.Validation;

namespace Glass.Kernels.Sinkhorn;

/// <summary>
/// How the dense cost C (n×m) is known: given as a matrix, or computed on the fly from two point
/// sets as squared Euclidean distances C_ij = ‖x_i − y_j‖² without ever storing n×m.
/// (The "geometry" layer of OTT-JAX: the solver sees only rows/columns of C.)
/// </summary>
public abstract class DenseGeometry
{
    private protected DenseGeometry(int n, int m) { N = n; M = m; }

    /// <summary>Rows of C (first marginal's support size).</summary>
    public int N { get; }
    /// <summary>Columns of C.</summary>
    public int M { get; }

    /// <summary>A given cost matrix, row-major n×m.</summary>
    /// <exception cref="ArgumentException">Wrong length, n or m ≤ 0, or a non-finite entry.</exception>
    public static DenseGeometry FromCostMatrix(double[] cost, int n, int m)
    {
        ArgumentNullException.ThrowIfNull(cost);
        Guard.Positive(n, nameof(n));
        Guard.Positive(m, nameof(m));
        Guard.Length<double>(cost, checked(n * m), nameof(cost), $"n·m = {n}·{m}");
        Guard.Finite(cost, nameof(cost));
        return new CostMatrixGeometry(cost, n, m);
    }

    /// <summary>Squared Euclidean cost between x (n×d) and y (m×d), row-major; C is never stored.</summary>
    /// <exception cref="ArgumentException">Lengths not multiples of d, empty sets, or non-finite coordinates.</exception>
    public static DenseGeometry FromPoints(double[] x, double[] y, int d)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        Guard.Positive(d, nameof(d));
        Guard.NonEmpty<double>(x, nameof(x));
        Guard.NonEmpty<double>(y, nameof(y));
        if (x.Length % d != 0) throw new ArgumentException($"x has length {x.Length}, not a multiple of d = {d}.", nameof(x));
        if (y.Length % d != 0) throw new ArgumentException($"y has length {y.Length}, not a multiple of d = {d}.", nameof(y));
        Guard.Finite(x, nameof(x));
        Guard.Finite(y, nameof(y));
        return new PointGeometry(x, y, d);
    }

    /// <summary>Row i of C: a view of the stored matrix, or computed into <paramref name="scratch"/> (length ≥ M).</summary>
    public abstract ReadOnlySpan<double> Row(int i, Span<double> scratch);

    /// <summary>Rows computed together by <see cref="Rows"/> (and cached by <see cref="RowReader"/>).</summary>
    internal const int RowBlock = 4;

    /// <summary>Rows i0 … i0 + count − 1 of C into <paramref name="block"/> (count·M, row-major), count ≤ <see cref="RowBlock"/>.</summary>
    internal virtual void Rows(int i0, int count, Span<double> block)
    {
        for (int r = 0; r < count; r++)
        {
            var dst = block.Slice(r * M, M);
            var row = Row(i0 + r, dst);
            if (!row.Overlaps(dst)) row.CopyTo(dst);
        }
    }

    /// <summary>C_ij for one entry (slow path: fallbacks only).</summary>
    internal abstract double Entry(int i, int j);

    /// <summary>The geometry of Cᵀ (points swapped; a stored matrix is transposed into a copy).</summary>
    internal abstract DenseGeometry Transposed();
}

internal sealed class CostMatrixGeometry : DenseGeometry
{
    public CostMatrixGeometry(double[] cost, int n, int m) : base(n, m) => Cost = cost;
    public double[] Cost { get; }
    public override ReadOnlySpan<double> Row(int i, Span<double> scratch) => Cost.AsSpan(i * M, M);
    internal override double Entry(int i, int j) => Cost[(long)i * M + j];

    internal override DenseGeometry Transposed()
    {
        var t = new double[Cost.Length];
        for (int i = 0; i < N; i++) for (int j = 0; j < M; j++) t[(long)j * N + i] = Cost[(long)i * M + j];
        return new CostMatrixGeometry(t, M, N);
    }
}

internal sealed class PointGeometry : DenseGeometry
{
    private readonly double[] _xNorm, _yNorm, _yT;

    public PointGeometry(double[] x, double[] y, int d) : base(x.Length / d, y.Length / d)
    {
        X = x; Y = y; D = d;
        _xNorm = new double[N];
        _yNorm = new double[M];
        _yT = new double[d * M];
        for (int i = 0; i < N; i++) { double s = 0; for (int k = 0; k < d; k++) s += x[i * d + k] * x[i * d + k]; _xNorm[i] = s; }
        for (int j = 0; j < M; j++)
        {
            double s = 0;
            for (int k = 0; k < d; k++) { double v = y[j * d + k]; s += v * v; _yT[k * M + j] = v; }
            _yNorm[j] = s;
        }
        // Panels of W = Vector<double>.Count columns, each holding its d coordinates contiguously (k-major inside):
        // the blocked rows stream one panel at a time, in order.
        int w = Vector<double>.Count, panels = Vector.IsHardwareAccelerated && d > 1 ? M / w : 0;
        _yP = new double[(long)panels * d * w];
        for (int p = 0; p < panels; p++)
            for (int k = 0; k < d; k++)
                for (int l = 0; l < w; l++) _yP[((long)p * d + k) * w + l] = y[(long)(p * w + l) * d + k];
    }

    private readonly double[] _yP;

    /// <summary>
    /// Four rows at a time (register-blocked): each panel of W columns is loaded once and updates four accumulators,
    /// so the coordinates of Y are streamed once per four rows instead of once per row, and the accumulators stay in
    /// registers. Same operations in the same order per entry as <see cref="Row"/>, so the values are identical.
    /// </summary>
    internal override void Rows(int i0, int count, Span<double> block)
    {
        if (count != RowBlock || D == 1 || _yP.Length == 0) { base.Rows(i0, count, block); return; }
        int w = Vector<double>.Count, d = D, panels = M / w, mv = panels * w;
        var ynv = MemoryMarshal.Cast<double, Vector<double>>(_yNorm.AsSpan(0, mv));
        var yp = MemoryMarshal.Cast<double, Vector<double>>(_yP.AsSpan());
        var b0 = MemoryMarshal.Cast<double, Vector<double>>(block.Slice(0, mv));
        var b1 = MemoryMarshal.Cast<double, Vector<double>>(block.Slice(M, mv));
        var b2 = MemoryMarshal.Cast<double, Vector<double>>(block.Slice(2 * M, mv));
        var b3 = MemoryMarshal.Cast<double, Vector<double>>(block.Slice(3 * M, mv));
        var x0 = X.AsSpan(i0 * d, d);
        var x1 = X.AsSpan((i0 + 1) * d, d);
        var x2 = X.AsSpan((i0 + 2) * d, d);
        var x3 = X.AsSpan((i0 + 3) * d, d);
        Vector<double> n0 = new(_xNorm[i0]), n1 = new(_xNorm[i0 + 1]), n2 = new(_xNorm[i0 + 2]), n3 = new(_xNorm[i0 + 3]);
        for (int p = 0; p < panels; p++)
        {
            var yn = ynv[p];
            Vector<double> a0 = n0 + yn, a1 = n1 + yn, a2 = n2 + yn, a3 = n3 + yn;
            var py = yp.Slice(p * d, d);
            for (int k = 0; k < d; k++)
            {
                var yk = py[k];
                a0 += new Vector<double>(-2 * x0[k]) * yk;
                a1 += new Vector<double>(-2 * x1[k]) * yk;
                a2 += new Vector<double>(-2 * x2[k]) * yk;
                a3 += new Vector<double>(-2 * x3[k]) * yk;
            }
            b0[p] = Vector.Max(a0, Vector<double>.Zero);
            b1[p] = Vector.Max(a1, Vector<double>.Zero);
            b2[p] = Vector.Max(a2, Vector<double>.Zero);
            b3[p] = Vector.Max(a3, Vector<double>.Zero);
        }
        for (int r = 0; r < RowBlock; r++)
        {
            int i = i0 + r;
            var row = block.Slice(r * M, M);
            for (int j = mv; j < M; j++)
            {
                double v = _xNorm[i] + _yNorm[j];
                for (int k = 0; k < d; k++) v += -2 * X[(long)i * d + k] * _yT[k * M + j];
                row[j] = v < 0 ? 0 : v;
            }
        }
    }

    public double[] X { get; }
    public double[] Y { get; }
    public int D { get; }

    public override ReadOnlySpan<double> Row(int i, Span<double> scratch)
    {
        var row = scratch[..M];
        if (D == 1)
        {
            // 1-D scores: (s_i − t_j)² exactly, no cancellation.
            double s = X[i];
            for (int j = 0; j < M; j++) { double e = s - _yT[j]; row[j] = e * e; }
            return row;
        }
        // ‖x‖² + ‖y‖² − 2⟨x, y⟩, SIMD over j (Vector<double>), clamped at 0.
        double xn = _xNorm[i];
        int vw = Vector<double>.Count, mv = Vector.IsHardwareAccelerated ? M - M % vw : 0;
        var rv = MemoryMarshal.Cast<double, Vector<double>>(row[..mv]);
        var ynv = MemoryMarshal.Cast<double, Vector<double>>(_yNorm.AsSpan(0, mv));
        var vxn = new Vector<double>(xn);
        for (int q = 0; q < rv.Length; q++) rv[q] = vxn + ynv[q];
        for (int j = mv; j < M; j++) row[j] = xn + _yNorm[j];
        for (int k = 0; k < D; k++)
        {
            double c = -2 * X[(long)i * D + k];
            var yk = _yT.AsSpan(k * M, M);
            var ykv = MemoryMarshal.Cast<double, Vector<double>>(yk[..mv]);
            var vc = new Vector<double>(c);
            for (int q = 0; q < rv.Length; q++) rv[q] += vc * ykv[q];
            for (int j = mv; j < M; j++) row[j] += c * yk[j];
        }
        for (int q = 0; q < rv.Length; q++) rv[q] = Vector.Max(rv[q], Vector<double>.Zero);
        for (int j = mv; j < M; j++) if (row[j] < 0) row[j] = 0;
        return row;
    }

    internal override DenseGeometry Transposed() => new PointGeometry(Y, X, D);

    internal override double Entry(int i, int j)
    {
        double s = 0;
        for (int k = 0; k < D; k++) { double e = X[i * D + k] - Y[j * D + k]; s += e * e; }
        return s;
    }
}

/// <summary>
/// Sequential row access for one thread's range of rows: rows are computed <see cref="DenseGeometry.RowBlock"/> at a
/// time (<see cref="DenseGeometry.Rows"/>) and served from that block; a stored cost matrix is served as views. The
/// block is rented from the shared array pool (a pass over a large cloud would otherwise leave one large array per
/// worker behind every time): dispose the reader when the range is done.
/// </summary>
internal sealed class RowReader : IDisposable
{
    private readonly DenseGeometry _geom;
    private double[]? _block;
    private int _first = -1, _count;

    public RowReader(DenseGeometry geom)
    {
        _geom = geom;
        if (geom is not CostMatrixGeometry) _block = System.Buffers.ArrayPool<double>.Shared.Rent(DenseGeometry.RowBlock * geom.M);
    }

    /// <summary>Row i of C (valid until the next call that leaves the current block).</summary>
    public ReadOnlySpan<double> Row(int i)
    {
        if (_geom is CostMatrixGeometry cm) return cm.Row(i, default);
        ObjectDisposedException.ThrowIf(_block is null, this);
        if (i < _first || i >= _first + _count)
        {
            _count = Math.Min(DenseGeometry.RowBlock, _geom.N - i);
            _geom.Rows(i, _count, _block);
            _first = i;
        }
        return _block.AsSpan((i - _first) * _geom.M, _geom.M);
    }

    /// <summary>Returns the block to the pool.</summary>
    public void Dispose()
    {
        if (_block is not null) System.Buffers.ArrayPool<double>.Shared.Return(_block);
        _block = null;
    }
}
