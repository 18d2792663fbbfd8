using Glass.Kernels.Linalg;

namespace Glass.Autodiff.Ops;

/// <summary>Indexing, slicing, concatenation, row norms, sparse products and S² distances on the tape.</summary>
public static class StructOp
{
    /// <summary>Rows of <paramref name="a"/> at <paramref name="index"/> (index-select / gather); repeated indices accumulate.</summary>
    public static Var GatherRows(Var a, int[] index)
    {
        ArgumentNullException.ThrowIfNull(index);
        int c = a.Cols;
        for (int k = 0; k < index.Length; k++)
            if (index[k] < 0 || index[k] >= a.Rows)
                throw new ArgumentException($"GatherRows: index[{k}] = {index[k]}; expected a row in [0, {a.Rows}) of a {a.Shape} input.", nameof(index));
        if (index.Length == 0) throw new ArgumentException("GatherRows: index is empty.", nameof(index));
        var y = new double[index.Length * c];
        for (int k = 0; k < index.Length; k++) Array.Copy(a.Value, index[k] * c, y, k * c, c);
        return a.Tape.Record(y, index.Length, c, a.RequiresGrad, o =>
        {
            var ga = a.GradBuffer();
            for (int k = 0; k < index.Length; k++)
                for (int j = 0; j < c; j++) ga[index[k] * c + j] += o.Grad![k * c + j];
        });
    }

    /// <summary>Columns [start, start + count) of <paramref name="a"/>.</summary>
    public static Var SliceCols(Var a, int start, int count)
    {
        if (start < 0 || count < 1 || start + count > a.Cols)
            throw new ArgumentException($"SliceCols: columns [{start}, {start + count}) are outside a {a.Shape} input.");
        int r = a.Rows, c = a.Cols;
        var y = new double[r * count];
        for (int i = 0; i < r; i++) Array.Copy(a.Value, i * c + start, y, i * count, count);
        return a.Tape.Record(y, r, count, a.RequiresGrad, o =>
        {
            var ga = a.GradBuffer();
            for (int i = 0; i < r; i++) for (int j = 0; j < count; j++) ga[i * c + start + j] += o.Grad![i * count + j];
        });
    }

    /// <summary>[a, b] side by side (same rows).</summary>
    public static Var ConcatCols(Var a, Var b)
    {
        if (!ReferenceEquals(a.Tape, b.Tape)) throw new InvalidOperationException("Operands were recorded on different tapes.");
        if (a.Rows != b.Rows) throw new ArgumentException($"ConcatCols: shapes {a.Shape} and {b.Shape} have different row counts.");
        int r = a.Rows, ca = a.Cols, cb = b.Cols, c = ca + cb;
        var y = new double[r * c];
        for (int i = 0; i < r; i++)
        {
            Array.Copy(a.Value, i * ca, y, i * c, ca);
            Array.Copy(b.Value, i * cb, y, i * c + ca, cb);
        }
        return a.Tape.Record(y, r, c, a.RequiresGrad || b.RequiresGrad, o =>
        {
            var g = o.Grad!;
            if (a.RequiresGrad) { var ga = a.GradBuffer(); for (int i = 0; i < r; i++) for (int j = 0; j < ca; j++) ga[i * ca + j] += g[i * c + j]; }
            if (b.RequiresGrad) { var gb = b.GradBuffer(); for (int i = 0; i < r; i++) for (int j = 0; j < cb; j++) gb[i * cb + j] += g[i * c + ca + j]; }
        });
    }

    /// <summary>Euclidean norm of each row (rows×1), sqrt(Σ_j a_ij² + δ) with δ = 1e-24 so the gradient stays finite at 0.</summary>
    public static Var RowNorms(Var a)
    {
        if (a.Tape.Device.IsAccelerated) return DeviceOps.RowNorms(a);
        int r = a.Rows, c = a.Cols;
        var y = new double[r];
        for (int i = 0; i < r; i++)
        {
            double s = 1e-24;
            for (int j = 0; j < c; j++) s += a.Value[i * c + j] * a.Value[i * c + j];
            y[i] = Math.Sqrt(s);
        }
        return a.Tape.Record(y, r, 1, a.RequiresGrad, o =>
        {
            var ga = a.GradBuffer();
            for (int i = 0; i < r; i++) for (int j = 0; j < c; j++) ga[i * c + j] += o.Grad![i] * a.Value[i * c + j] / y[i];
        });
    }

    /// <summary>Each row divided by its norm (projection onto the unit sphere).</summary>
    public static Var NormalizeRows(Var a) => Op.Div(a, RowNorms(a));

    /// <summary>Sparse · dense: S·X for a constant CSR matrix S (n×k) and X (k×p); backward Sᵀ·G.</summary>
    public static Var SpMM(CsrMatrix s, Var x)
    {
        ArgumentNullException.ThrowIfNull(s);
        if (s.Cols != x.Rows) throw new ArgumentException($"SpMM: shapes {s.Rows}×{s.Cols} (sparse) and {x.Shape} are not compatible.");
        if (x.Tape.Device.IsAccelerated) return DeviceOps.SpMM(s, x);
        int n = s.Rows, p = x.Cols;
        var y = new double[n * p];
        Parallel.For(0, n, i =>
        {
            for (int k = s.RowPtr[i]; k < s.RowPtr[i + 1]; k++)
            {
                double v = s.Values[k];
                int col = s.ColIdx[k];
                for (int j = 0; j < p; j++) y[i * p + j] += v * x.Value[col * p + j];
            }
        });
        return x.Tape.Record(y, n, p, x.RequiresGrad, o =>
        {
            var gx = x.GradBuffer();
            var g = o.Grad!;
            for (int i = 0; i < n; i++)
                for (int k = s.RowPtr[i]; k < s.RowPtr[i + 1]; k++)
                {
                    double v = s.Values[k];
                    int col = s.ColIdx[k];
                    for (int j = 0; j < p; j++) gx[col * p + j] += v * g[i * p + j];
                }
        });
    }

    /// <summary>Geodesic distances on S² between unit rows of x (n×3) and y (m×3): arccos(clamp(⟨x_i, y_j⟩)).</summary>
    public static Var Geodesic(Var x, Var y)
    {
        if (x.Cols != 3 || y.Cols != 3) throw new ArgumentException($"Geodesic: shapes {x.Shape} and {y.Shape}; expected points on S² as n×3 and m×3.");
        return Op.AcosClamped(Op.MatMul(x, Op.Transpose(y)));
    }
}

/// <summary>Soft ranking on the tape (Blondel et al. 2020, quadratic regularisation; see <see cref="SoftRanking"/>).</summary>
public static class RankOp
{
    /// <summary>Row-wise soft ranks R_δ of an n×m matrix (descending: the largest entry of a row tends to rank 1 as δ → 0).</summary>
    public static Var SoftRankRows(Var x, double delta)
    {
        var (values, state) = SoftSortOps.RankRows(x.Value, x.Rows, x.Cols, delta);
        return x.Tape.Record(values, x.Rows, x.Cols, x.RequiresGrad, o =>
        {
            var g = SoftSortOps.RankRowsVjp(state, o.Grad!);
            var gx = x.GradBuffer();
            for (int k = 0; k < g.Length; k++) gx[k] += g[k];
        });
    }

    /// <summary>Row-wise soft sort (non-increasing) of an n×m matrix.</summary>
    public static Var SoftSortRows(Var x, double delta)
    {
        var (values, state) = SoftSortOps.SortRows(x.Value, x.Rows, x.Cols, delta);
        return x.Tape.Record(values, x.Rows, x.Cols, x.RequiresGrad, o =>
        {
            var g = SoftSortOps.SortRowsVjp(state, o.Grad!);
            var gx = x.GradBuffer();
            for (int k = 0; k < g.Length; k++) gx[k] += g[k];
        });
    }
}
