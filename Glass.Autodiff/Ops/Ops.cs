using Glass.Kernels.Linalg;

namespace Glass.Autodiff.Ops;

/// <summary>
/// Differentiable matrix ops on the tape (managed CPU path, double). Each op checks shapes
/// (errors name both shapes), computes its value, and records one backward closure that captures
/// only what it needs. Binary elementwise ops broadcast a 1×1 scalar, a 1×cols row or a rows×1
/// column against the other operand; gradients are summed back over broadcast dimensions.
/// </summary>
public static class Op
{
    private static Tape TapeOf(Var a, Var b)
    {
        if (!ReferenceEquals(a.Tape, b.Tape)) throw new InvalidOperationException("Operands were recorded on different tapes.");
        return a.Tape;
    }

    private static (int Rows, int Cols) Broadcast(Var a, Var b, string op)
    {
        int r = a.Rows == b.Rows ? a.Rows : a.Rows == 1 ? b.Rows : b.Rows == 1 ? a.Rows : -1;
        int c = a.Cols == b.Cols ? a.Cols : a.Cols == 1 ? b.Cols : b.Cols == 1 ? a.Cols : -1;
        if (r < 0 || c < 0)
            throw new ArgumentException($"{op}: shapes {a.Shape} and {b.Shape} do not broadcast (each dimension must match or be 1).");
        return (r, c);
    }

    private static int Idx(Var v, int i, int j) => (v.Rows == 1 ? 0 : i) * v.Cols + (v.Cols == 1 ? 0 : j);

    private static Var Binary(Var a, Var b, string name, Func<double, double, double> f,
        Func<double, double, double, double, double> dA, Func<double, double, double, double, double> dB)
    {
        var tape = TapeOf(a, b);
        var (rows, cols) = Broadcast(a, b, name);
        var y = new double[rows * cols];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                y[i * cols + j] = f(a.Value[Idx(a, i, j)], b.Value[Idx(b, i, j)]);
        return tape.Record(y, rows, cols, a.RequiresGrad || b.RequiresGrad, o =>
        {
            var g = o.Grad!;
            double[]? ga = a.RequiresGrad ? a.GradBuffer() : null, gb = b.RequiresGrad ? b.GradBuffer() : null;
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < cols; j++)
                {
                    int k = i * cols + j, ia = Idx(a, i, j), ib = Idx(b, i, j);
                    double av = a.Value[ia], bv = b.Value[ib];
                    if (ga is not null) ga[ia] += dA(av, bv, y[k], g[k]);
                    if (gb is not null) gb[ib] += dB(av, bv, y[k], g[k]);
                }
        });
    }

    /// <summary>a + b (broadcasting).</summary>
    public static Var Add(Var a, Var b)
    {
        // Fast path for the hot cases (same shape; b a 1×cols bias row): no per-element delegates.
        if (a.Rows == b.Rows && a.Cols == b.Cols || b.Rows == 1 && b.Cols == a.Cols && a.Rows > 1)
        {
            var tape = TapeOf(a, b);
            int r = a.Rows, c = a.Cols;
            bool row = b.Rows == 1 && r > 1;
            var y = new double[r * c];
            Parallel.For(0, r, i =>
            {
                var ya = y.AsSpan(i * c, c);
                var av = a.Value.AsSpan(i * c, c);
                var bv = row ? b.Value.AsSpan(0, c) : b.Value.AsSpan(i * c, c);
                for (int j = 0; j < c; j++) ya[j] = av[j] + bv[j];
            });
            return tape.Record(y, r, c, a.RequiresGrad || b.RequiresGrad, o =>
            {
                var g = o.Grad!;
                if (a.RequiresGrad) { var ga = a.GradBuffer(); for (int k = 0; k < g.Length; k++) ga[k] += g[k]; }
                if (b.RequiresGrad)
                {
                    var gb = b.GradBuffer();
                    if (!row) for (int k = 0; k < g.Length; k++) gb[k] += g[k];
                    else for (int i = 0; i < r; i++) for (int j = 0; j < c; j++) gb[j] += g[i * c + j];
                }
            });
        }
        return Binary(a, b, "Add", (x, y) => x + y, (_, _, _, g) => g, (_, _, _, g) => g);
    }
    /// <summary>a − b (broadcasting).</summary>
    public static Var Sub(Var a, Var b) => Binary(a, b, "Sub", (x, y) => x - y, (_, _, _, g) => g, (_, _, _, g) => -g);
    /// <summary>a ⊙ b (broadcasting).</summary>
    public static Var Mul(Var a, Var b) => Binary(a, b, "Mul", (x, y) => x * y, (_, y, _, g) => g * y, (x, _, _, g) => g * x);
    /// <summary>a ⊘ b (broadcasting).</summary>
    public static Var Div(Var a, Var b) => Binary(a, b, "Div", (x, y) => x / y, (_, y, _, g) => g / y, (x, y, _, g) => -g * x / (y * y));

    private static Var Unary(Var a, Func<double, double> f, Func<double, double, double> dfdx)
    {
        var y = new double[a.Length];
        for (int k = 0; k < y.Length; k++) y[k] = f(a.Value[k]);
        return a.Tape.Record(y, a.Rows, a.Cols, a.RequiresGrad, o =>
        {
            var g = o.Grad!;
            var ga = a.GradBuffer();
            for (int k = 0; k < y.Length; k++) ga[k] += g[k] * dfdx(a.Value[k], y[k]);
        });
    }

    /// <summary>c·a for a constant c.</summary>
    public static Var Scale(Var a, double c) => Unary(a, x => c * x, (_, _) => c);
    /// <summary>exp(a).</summary>
    public static Var Exp(Var a) => Unary(a, Math.Exp, (_, y) => y);
    /// <summary>log(a).</summary>
    public static Var Log(Var a) => Unary(a, Math.Log, (x, _) => 1 / x);
    /// <summary>sqrt(a).</summary>
    public static Var Sqrt(Var a) => Unary(a, Math.Sqrt, (_, y) => 0.5 / y);
    /// <summary>a^p for a constant p.</summary>
    public static Var Pow(Var a, double p) => Unary(a, x => Math.Pow(x, p), (x, _) => p * Math.Pow(x, p - 1));
    /// <summary>|a| (subgradient 0 at 0).</summary>
    public static Var Abs(Var a) => Unary(a, Math.Abs, (x, _) => Math.Sign(x));
    /// <summary>max(a, 0).</summary>
    public static Var Relu(Var a)
    {
        var y = new double[a.Length];
        var x = a.Value;
        for (int k = 0; k < y.Length; k++) y[k] = x[k] > 0 ? x[k] : 0;
        return a.Tape.Record(y, a.Rows, a.Cols, a.RequiresGrad, o =>
        {
            var g = o.Grad!;
            var ga = a.GradBuffer();
            for (int k = 0; k < y.Length; k++) if (x[k] > 0) ga[k] += g[k];
        });
    }
    /// <summary>a if a &gt; 0 else slope·a.</summary>
    public static Var LeakyRelu(Var a, double slope = 0.01) => Unary(a, x => x > 0 ? x : slope * x, (x, _) => x > 0 ? 1 : slope);
    /// <summary>tanh(a).</summary>
    public static Var Tanh(Var a)
    {
        var y = new double[a.Length];
        Parallel.For(0, (y.Length + 4095) / 4096, blk =>
        {
            int end = Math.Min(y.Length, (blk + 1) * 4096);
            for (int k = blk * 4096; k < end; k++) y[k] = Math.Tanh(a.Value[k]);
        });
        return a.Tape.Record(y, a.Rows, a.Cols, a.RequiresGrad, o =>
        {
            var g = o.Grad!;
            var ga = a.GradBuffer();
            for (int k = 0; k < y.Length; k++) ga[k] += g[k] * (1 - y[k] * y[k]);
        });
    }
    /// <summary>log(1 + e^a), computed stably.</summary>
    public static Var Softplus(Var a) => Unary(a, x => Math.Max(x, 0) + Math.Log(1 + Math.Exp(-Math.Abs(x))), (x, _) => 1 / (1 + Math.Exp(-x)));
    /// <summary>GELU, tanh approximation: ½x(1 + tanh(√(2/π)(x + 0.044715x³))).</summary>
    public static Var Gelu(Var a)
    {
        const double c = 0.7978845608028654; // sqrt(2/π)
        return Unary(a,
            x => 0.5 * x * (1 + Math.Tanh(c * (x + 0.044715 * x * x * x))),
            (x, _) =>
            {
                double u = c * (x + 0.044715 * x * x * x), t = Math.Tanh(u);
                return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x);
            });
    }
    /// <summary>arccos(clamp(a, −1 + δ, 1 − δ)): finite gradient at the ends (δ = 1e-12).</summary>
    public static Var AcosClamped(Var a)
    {
        const double lim = 1 - 1e-12;
        return Unary(a, x => Math.Acos(Math.Clamp(x, -lim, lim)),
            (x, _) => Math.Abs(x) >= lim ? 0 : -1 / Math.Sqrt(1 - x * x));
    }

    /// <summary>A·B for A n×k, B k×m (blocked SIMD product); backward ∂A = G·Bᵀ, ∂B = Aᵀ·G.</summary>
    public static Var MatMul(Var a, Var b)
    {
        var tape = TapeOf(a, b);
        if (a.Cols != b.Rows) throw new ArgumentException($"MatMul: shapes {a.Shape} and {b.Shape} are not compatible (inner dimensions {a.Cols} ≠ {b.Rows}).");
        int n = a.Rows, k = a.Cols, m = b.Cols;
        var y = new double[n * m];
        MatMulCpu.Gemm(a.Value, b.Value, y, n, k, m);
        return tape.Record(y, n, m, a.RequiresGrad || b.RequiresGrad, o =>
        {
            if (a.RequiresGrad) MatMulCpu.Gemm(o.Grad!, b.Value, a.GradBuffer(), n, m, k, transB: true, accumulate: true);
            if (b.RequiresGrad) MatMulCpu.Gemm(a.Value, o.Grad!, b.GradBuffer(), k, n, m, transA: true, accumulate: true);
        });
    }

    /// <summary>Aᵀ.</summary>
    public static Var Transpose(Var a)
    {
        int r = a.Rows, c = a.Cols;
        var y = new double[r * c];
        for (int i = 0; i < r; i++) for (int j = 0; j < c; j++) y[j * r + i] = a.Value[i * c + j];
        return a.Tape.Record(y, c, r, a.RequiresGrad, o =>
        {
            var ga = a.GradBuffer();
            for (int i = 0; i < r; i++) for (int j = 0; j < c; j++) ga[i * c + j] += o.Grad![j * r + i];
        });
    }

    /// <summary>Σ of all entries (1×1).</summary>
    public static Var Sum(Var a)
    {
        double s = 0;
        foreach (var v in a.Value) s += v;
        return a.Tape.Record(new[] { s }, 1, 1, a.RequiresGrad, o =>
        {
            var ga = a.GradBuffer();
            double g = o.Grad![0];
            for (int k = 0; k < ga.Length; k++) ga[k] += g;
        });
    }

    /// <summary>Mean of all entries (1×1).</summary>
    public static Var Mean(Var a) => Scale(Sum(a), 1.0 / a.Length);

    /// <summary>Sum over an axis: axis 0 → 1×cols (column sums), axis 1 → rows×1 (row sums).</summary>
    public static Var Sum(Var a, int axis)
    {
        if (axis is not (0 or 1)) throw new ArgumentException($"axis = {axis}; expected 0 (down columns) or 1 (along rows).", nameof(axis));
        int r = a.Rows, c = a.Cols;
        var y = new double[axis == 0 ? c : r];
        for (int i = 0; i < r; i++) for (int j = 0; j < c; j++) y[axis == 0 ? j : i] += a.Value[i * c + j];
        return a.Tape.Record(y, axis == 0 ? 1 : r, axis == 0 ? c : 1, a.RequiresGrad, o =>
        {
            var ga = a.GradBuffer();
            for (int i = 0; i < r; i++) for (int j = 0; j < c; j++) ga[i * c + j] += o.Grad![axis == 0 ? j : i];
        });
    }

    /// <summary>Row-wise log Σ_j exp(a_ij) (rows×1), max-shifted.</summary>
    public static Var LogSumExpRows(Var a)
    {
        int r = a.Rows, c = a.Cols;
        var y = new double[r];
        var p = new double[r * c];
        for (int i = 0; i < r; i++)
        {
            double mx = double.NegativeInfinity;
            for (int j = 0; j < c; j++) mx = Math.Max(mx, a.Value[i * c + j]);
            double s = 0;
            for (int j = 0; j < c; j++) s += p[i * c + j] = Math.Exp(a.Value[i * c + j] - mx);
            for (int j = 0; j < c; j++) p[i * c + j] /= s;
            y[i] = mx + Math.Log(s);
        }
        return a.Tape.Record(y, r, 1, a.RequiresGrad, o =>
        {
            var ga = a.GradBuffer();
            for (int i = 0; i < r; i++) for (int j = 0; j < c; j++) ga[i * c + j] += o.Grad![i] * p[i * c + j];
        });
    }

    /// <summary>Row-wise softmax (also the simplex parametrisation of weights).</summary>
    public static Var SoftmaxRows(Var a) => Exp(Sub(a, LogSumExpRows(a)));

    /// <summary>Pairwise squared Euclidean distances D_ij = ‖x_i − y_j‖² for x n×d, y m×d (n×m).</summary>
    public static Var PairwiseSqEuclidean(Var x, Var y)
    {
        var tape = TapeOf(x, y);
        if (x.Cols != y.Cols) throw new ArgumentException($"PairwiseSqEuclidean: shapes {x.Shape} and {y.Shape} have different dimensions {x.Cols} ≠ {y.Cols}.");
        int n = x.Rows, m = y.Rows, d = x.Cols;
        var D = new double[n * m];
        Parallel.For(0, n, i =>
        {
            for (int j = 0; j < m; j++)
            {
                double s = 0;
                for (int k = 0; k < d; k++) { double e = x.Value[i * d + k] - y.Value[j * d + k]; s += e * e; }
                D[i * m + j] = s;
            }
        });
        return tape.Record(D, n, m, x.RequiresGrad || y.RequiresGrad, o =>
        {
            // ∂/∂x_i = 2 Σ_j G_ij (x_i − y_j); ∂/∂y_j = −2 Σ_i G_ij (x_i − y_j).
            var G = o.Grad!;
            if (x.RequiresGrad)
            {
                var gx = x.GradBuffer();
                Parallel.For(0, n, i =>
                {
                    for (int j = 0; j < m; j++)
                    {
                        double w = 2 * G[i * m + j];
                        for (int k = 0; k < d; k++) gx[i * d + k] += w * (x.Value[i * d + k] - y.Value[j * d + k]);
                    }
                });
            }
            if (y.RequiresGrad)
            {
                var gy = y.GradBuffer();
                Parallel.For(0, m, j =>
                {
                    for (int i = 0; i < n; i++)
                    {
                        double w = 2 * G[i * m + j];
                        for (int k = 0; k < d; k++) gy[j * d + k] -= w * (x.Value[i * d + k] - y.Value[j * d + k]);
                    }
                });
            }
        });
    }
}
