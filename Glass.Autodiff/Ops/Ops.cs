using Glass.Autodiff.Device;
using Glass.Kernels.Linalg;

namespace Glass.Autodiff.Ops;

/// <summary>
/// Differentiable matrix ops on the tape. Each op checks shapes (errors name both shapes), computes
/// its value, and records one backward closure that captures only what it needs. Binary elementwise
/// ops broadcast a 1×1 scalar, a 1×cols row or a rows×1 column against the other operand; gradients
/// are summed back over broadcast dimensions. On the managed CPU path the ops compute in double
/// (SIMD, parallel blocks, buffers from the tape's <see cref="TapeArena"/> when it has one); on a tape
/// whose <see cref="Tape.Device"/> is an ILGPU accelerator every op here runs forward and backward
/// as float32 kernels on device-resident buffers.
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
        if (tape.Device.IsAccelerated) return DeviceOps.Binary(a, b, Enum.Parse<BinaryCode>(name));
        var y = tape.Alloc(rows * cols, clear: false);
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
        // Fast path for the hot cases (same shape; b a 1×cols bias row): SIMD, row blocks in parallel.
        if (a.Rows == b.Rows && a.Cols == b.Cols || b.Rows == 1 && b.Cols == a.Cols && a.Rows > 1)
        {
            var tape = TapeOf(a, b);
            if (tape.Device.IsAccelerated) return DeviceOps.Binary(a, b, BinaryCode.Add);
            int r = a.Rows, c = a.Cols;
            bool row = b.Rows == 1 && r > 1;
            var y = tape.Alloc(r * c, clear: false);
            var av = a.Value; var bv = b.Value;
            Elementwise.Rows(r, c, (i0, i1) =>
            {
                for (int i = i0; i < i1; i++)
                    Simd.Add(av.AsSpan(i * c, c), row ? bv.AsSpan(0, c) : bv.AsSpan(i * c, c), y.AsSpan(i * c, c));
            });
            return tape.Record(y, r, c, a.RequiresGrad || b.RequiresGrad, o =>
            {
                var g = o.Grad!;
                if (a.RequiresGrad) Elementwise.AccumulateInto(a, g);
                if (b.RequiresGrad)
                {
                    if (!row) Elementwise.AccumulateInto(b, g);
                    else Simd.ColumnSums(g, r, c, b.GradBuffer());
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

    private static Var Unary(Var a, Func<double, double> f, Func<double, double, double> dfdx, UnaryCode kind, double param = 0)
    {
        if (a.Tape.Device.IsAccelerated) return DeviceOps.Unary(a, kind, param);
        var x = a.Value;
        var y = a.Tape.Alloc(a.Length, clear: false);
        Elementwise.Blocks(y.Length, (k0, k1) => { for (int k = k0; k < k1; k++) y[k] = f(x[k]); });
        return a.Tape.Record(y, a.Rows, a.Cols, a.RequiresGrad, o =>
        {
            var g = o.Grad!;
            var ga = a.GradForWrite(out bool overwrite);
            Elementwise.Blocks(y.Length, (k0, k1) =>
            {
                if (overwrite) for (int k = k0; k < k1; k++) ga[k] = g[k] * dfdx(x[k], y[k]);
                else for (int k = k0; k < k1; k++) ga[k] += g[k] * dfdx(x[k], y[k]);
            });
        });
    }

    /// <summary>c·a for a constant c.</summary>
    public static Var Scale(Var a, double c) => Unary(a, x => c * x, (_, _) => c, UnaryCode.Scale, c);
    /// <summary>exp(a).</summary>
    public static Var Exp(Var a) => Unary(a, Math.Exp, (_, y) => y, UnaryCode.Exp);
    /// <summary>log(a).</summary>
    public static Var Log(Var a) => Unary(a, Math.Log, (x, _) => 1 / x, UnaryCode.Log);
    /// <summary>sqrt(a).</summary>
    public static Var Sqrt(Var a) => Unary(a, Math.Sqrt, (_, y) => 0.5 / y, UnaryCode.Sqrt);
    /// <summary>a^p for a constant p.</summary>
    public static Var Pow(Var a, double p) => Unary(a, x => Math.Pow(x, p), (x, _) => p * Math.Pow(x, p - 1), UnaryCode.Pow, p);
    /// <summary>|a| (subgradient 0 at 0).</summary>
    public static Var Abs(Var a) => Unary(a, Math.Abs, (x, _) => Math.Sign(x), UnaryCode.Abs);
    /// <summary>max(a, 0).</summary>
    public static Var Relu(Var a)
    {
        if (a.Tape.Device.IsAccelerated) return DeviceOps.Unary(a, UnaryCode.Relu, 0);
        var x = a.Value;
        var y = a.Tape.Alloc(a.Length, clear: false);
        Elementwise.Blocks(y.Length, (k0, k1) => Simd.Relu(x.AsSpan(k0, k1 - k0), y.AsSpan(k0, k1 - k0)));
        return a.Tape.Record(y, a.Rows, a.Cols, a.RequiresGrad, o =>
        {
            var g = o.Grad!;
            var ga = a.GradForWrite(out bool overwrite);
            Elementwise.Blocks(y.Length, (k0, k1) =>
                Simd.ReluBackward(x.AsSpan(k0, k1 - k0), g.AsSpan(k0, k1 - k0), ga.AsSpan(k0, k1 - k0), overwrite));
        });
    }
    /// <summary>a if a &gt; 0 else slope·a.</summary>
    public static Var LeakyRelu(Var a, double slope = 0.01) => Unary(a, x => x > 0 ? x : slope * x, (x, _) => x > 0 ? 1 : slope, UnaryCode.LeakyRelu, slope);
    /// <summary>tanh(a).</summary>
    public static Var Tanh(Var a) => Unary(a, Math.Tanh, (_, y) => 1 - y * y, UnaryCode.Tanh);
    /// <summary>log(1 + e^a), computed stably.</summary>
    public static Var Softplus(Var a) => Unary(a, x => Math.Max(x, 0) + Math.Log(1 + Math.Exp(-Math.Abs(x))), (x, _) => 1 / (1 + Math.Exp(-x)), UnaryCode.Softplus);
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
            }, UnaryCode.Gelu);
    }
    /// <summary>arccos(clamp(a, −1 + δ, 1 − δ)): finite gradient at the ends (δ = 1e-12).</summary>
    public static Var AcosClamped(Var a)
    {
        const double lim = 1 - 1e-12;
        return Unary(a, x => Math.Acos(Math.Clamp(x, -lim, lim)),
            (x, _) => Math.Abs(x) >= lim ? 0 : -1 / Math.Sqrt(1 - x * x), UnaryCode.AcosClamped);
    }

    /// <summary>A·B for A n×k, B k×m (blocked SIMD product); backward ∂A = G·Bᵀ, ∂B = Aᵀ·G.</summary>
    public static Var MatMul(Var a, Var b)
    {
        var tape = TapeOf(a, b);
        if (a.Cols != b.Rows) throw new ArgumentException($"MatMul: shapes {a.Shape} and {b.Shape} are not compatible (inner dimensions {a.Cols} ≠ {b.Rows}).");
        if (tape.Device.IsAccelerated) return DeviceOps.Linear(a, b, null);
        int n = a.Rows, k = a.Cols, m = b.Cols;
        var y = tape.Alloc(n * m, clear: false);
        MatMulCpu.Gemm(a.Value, b.Value, y, n, k, m);
        return tape.Record(y, n, m, a.RequiresGrad || b.RequiresGrad, o => LinearBackward(a, b, null, o.Grad!, n, k, m));
    }

    /// <summary>
    /// Fully connected layer x·W + b in one pass: x n×k, W k×m, b a 1×m row (or null). The bias is
    /// written first and the product accumulated onto it (no separate broadcast pass); backward
    /// ∂x = G·Wᵀ, ∂W = xᵀ·G (GEMMs accumulating straight into the gradients), ∂b = column sums of G.
    /// </summary>
    /// <exception cref="ArgumentException">x·W inner dimensions differ, or b is not 1×m (the message names the shapes).</exception>
    public static Var Linear(Var x, Var w, Var? b)
    {
        var tape = TapeOf(x, w);
        if (x.Cols != w.Rows) throw new ArgumentException($"Linear: shapes {x.Shape} and {w.Shape} are not compatible (inner dimensions {x.Cols} ≠ {w.Rows}).");
        if (b is not null)
        {
            TapeOf(x, b);
            if (b.Rows != 1 || b.Cols != w.Cols)
                throw new ArgumentException($"Linear: bias is {b.Shape}; expected 1×{w.Cols} for weights {w.Shape}.", nameof(b));
        }
        if (tape.Device.IsAccelerated) return DeviceOps.Linear(x, w, b);
        int n = x.Rows, k = x.Cols, m = w.Cols;
        var y = tape.Alloc(n * m, clear: false);
        if (b is not null)
        {
            var bv = b.Value;
            Elementwise.Rows(n, m, (i0, i1) => { for (int i = i0; i < i1; i++) bv.AsSpan(0, m).CopyTo(y.AsSpan(i * m, m)); });
        }
        MatMulCpu.Gemm(x.Value, w.Value, y, n, k, m, accumulate: b is not null);
        bool rg = x.RequiresGrad || w.RequiresGrad || (b?.RequiresGrad ?? false);
        return tape.Record(y, n, m, rg, o => LinearBackward(x, w, b, o.Grad!, n, k, m));
    }

    private static void LinearBackward(Var x, Var w, Var? b, double[] g, int n, int k, int m)
    {
        if (x.RequiresGrad)
        {
            var gx = x.GradForWrite(out bool overwrite);
            MatMulCpu.Gemm(g, w.Value, gx, n, m, k, transB: true, accumulate: !overwrite);
        }
        if (w.RequiresGrad)
        {
            var gw = w.GradForWrite(out bool overwrite);
            MatMulCpu.Gemm(x.Value, g, gw, k, n, m, transA: true, accumulate: !overwrite);
        }
        if (b is not null && b.RequiresGrad) Simd.ColumnSums(g, n, m, b.GradBuffer());
    }

    /// <summary>Aᵀ.</summary>
    public static Var Transpose(Var a)
    {
        if (a.Tape.Device.IsAccelerated) return DeviceOps.Transpose(a);
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
        if (a.Tape.Device.IsAccelerated) return DeviceOps.Sum(a, null);
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
        if (a.Tape.Device.IsAccelerated) return DeviceOps.Sum(a, axis);
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
        if (a.Tape.Device.IsAccelerated) return DeviceOps.LogSumExpRows(a);
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
        if (tape.Device.IsAccelerated) return DeviceOps.PairwiseSqEuclidean(x, y);
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
