using Glass.Kernels.Device;
using Glass.Kernels.Geometry;
using Glass.Kernels.Linalg;
using Glass.Kernels.Tensor;
using ILGPU;
using ILGPU.Runtime;

namespace Glass.Autodiff.Ops;

/// <summary>
/// The tape's heavy ops on an ILGPU accelerator (<see cref="Tape.Device"/> accelerated): forward and
/// backward run as float32 kernels (<see cref="TensorOps"/>, <see cref="MatMulOps"/>, <see cref="GeometryOps"/>,
/// each loaded once per device). Intermediate design: every <see cref="Var"/> keeps its host
/// <c>double[]</c> mirror; an op uploads its operands (and the gradient it accumulates into), runs its
/// kernels and downloads the result, so each op pays its transfers. Device-resident values with
/// lazy host mirrors are the next step.
/// </summary>
internal static class DeviceOps
{
    internal enum UnaryKind { Scale, Exp, Log, Sqrt, Pow, Abs, Relu, LeakyRelu, Tanh, Softplus, Gelu, AcosClamped }
    internal enum BinaryKind { Add, Sub, Mul, Div }

    private static UnaryCode Code(UnaryKind k) => Enum.Parse<UnaryCode>(k.ToString());
    private static BinaryCode Code(BinaryKind k) => Enum.Parse<BinaryCode>(k.ToString());

    /// <summary>Device buffers of one op call; disposed together.</summary>
    private sealed class Scope : IDisposable
    {
        private readonly List<IDisposable> _owned = new();

        public Scope(ComputeDevice device)
        {
            Acc = device.RequireAccelerator();
            Tensor = device.GetKernels(a => new TensorOps(a));
            Device = device;
        }

        public Accelerator Acc { get; }
        public TensorOps Tensor { get; }
        public ComputeDevice Device { get; }
        public MatMulOps Gemm => Device.GetKernels(a => new MatMulOps(a));
        public GeometryOps Geometry => Device.GetKernels(a => new GeometryOps(a));

        public ArrayView<float> Up(double[] host) => Own(HostBuffers.Upload(Acc, host)).View;
        public ArrayView<int> Up(int[] host) => Own(Acc.Allocate1D(host)).View;
        public ArrayView<float> New(long length) => Own(HostBuffers.Allocate(Acc, Math.Max(1, length))).View;

        /// <summary>The buffer a gradient kernel writes: the current gradient uploaded (accumulate) or a fresh one (overwrite).</summary>
        public (ArrayView<float> View, bool Accumulate) GradIn(Var v) =>
            v.Grad is null ? (New(v.Length), false) : (Up(v.Grad), true);

        /// <summary>Copies a device result into <paramref name="host"/> (widened to double).</summary>
        public void Down(ArrayView<float> view, double[] host)
        {
            Acc.Synchronize();
            var single = new float[host.Length];
            view.SubView(0, host.Length).CopyToCPU(single);
            for (int k = 0; k < host.Length; k++) host[k] = single[k];
        }

        /// <summary>Writes the gradient kernel's output back into v's host gradient (which it already includes when accumulating).</summary>
        public void GradOut(Var v, ArrayView<float> view) => Down(view, v.GradForWrite(out _));

        private T Own<T>(T buffer) where T : IDisposable
        {
            _owned.Add(buffer);
            return buffer;
        }

        public void Dispose()
        {
            foreach (var b in _owned) b.Dispose();
            _owned.Clear();
        }
    }

    private static double[] Result(Tape tape, Scope d, ArrayView<float> y, int length)
    {
        var host = tape.Alloc(length, clear: false);
        d.Down(y, host);
        return host;
    }

    public static Var Unary(Var a, UnaryKind kind, double param)
    {
        var tape = a.Tape;
        var code = Code(kind);
        float p = (float)param;
        double[] y;
        using (var d = new Scope(tape.Device))
        {
            var yv = d.New(a.Length);
            d.Tensor.Unary(d.Up(a.Value), yv, a.Length, code, p);
            y = Result(tape, d, yv, a.Length);
        }
        return tape.Record(y, a.Rows, a.Cols, a.RequiresGrad, o =>
        {
            using var d = new Scope(tape.Device);
            var (ga, acc) = d.GradIn(a);
            d.Tensor.UnaryBackward(d.Up(a.Value), d.Up(y), d.Up(o.Grad!), ga, a.Length, code, p, acc);
            d.GradOut(a, ga);
        });
    }

    public static Var Binary(Var a, Var b, BinaryKind kind)
    {
        var tape = a.Tape;
        int rows = Math.Max(a.Rows, b.Rows), cols = Math.Max(a.Cols, b.Cols);
        var shape = new BroadcastShape(rows, cols, a.Rows, a.Cols, b.Rows, b.Cols);
        var code = Code(kind);
        double[] y;
        using (var d = new Scope(tape.Device))
        {
            var yv = d.New(rows * cols);
            d.Tensor.Binary(d.Up(a.Value), d.Up(b.Value), yv, shape, code);
            y = Result(tape, d, yv, rows * cols);
        }
        return tape.Record(y, rows, cols, a.RequiresGrad || b.RequiresGrad, o =>
        {
            using var d = new Scope(tape.Device);
            var da = d.New(rows * cols);
            var db = d.New(rows * cols);
            d.Tensor.BinaryBackward(d.Up(a.Value), d.Up(b.Value), d.Up(o.Grad!), da, db, shape, code);
            foreach (var (v, full) in new[] { (a, da), (b, db) })
            {
                if (!v.RequiresGrad) continue;
                var (gv, acc) = d.GradIn(v);
                d.Tensor.ReduceTo(full, gv, rows, cols, v.Rows, v.Cols, acc);
                d.GradOut(v, gv);
            }
        });
    }

    /// <summary>x·W (+ b broadcast over rows): bias written first, GEMM accumulated onto it.</summary>
    public static Var Linear(Var x, Var w, Var? b)
    {
        var tape = x.Tape;
        int n = x.Rows, k = x.Cols, m = w.Cols;
        double[] y;
        using (var d = new Scope(tape.Device))
        {
            var yv = d.New((long)n * m);
            if (b is not null) d.Tensor.BroadcastTo(d.Up(b.Value), yv, n, m, 1, m, 1f, accumulate: false);
            d.Gemm.Gemm(d.Up(x.Value), d.Up(w.Value), yv, n, k, m, accumulate: b is not null);
            y = Result(tape, d, yv, n * m);
        }
        bool rg = x.RequiresGrad || w.RequiresGrad || (b?.RequiresGrad ?? false);
        return tape.Record(y, n, m, rg, o =>
        {
            using var d = new Scope(tape.Device);
            var g = d.Up(o.Grad!);
            if (x.RequiresGrad)
            {
                var (gx, acc) = d.GradIn(x);
                d.Gemm.Gemm(g, d.Up(w.Value), gx, n, m, k, transB: true, accumulate: acc);
                d.GradOut(x, gx);
            }
            if (w.RequiresGrad)
            {
                var (gw, acc) = d.GradIn(w);
                d.Gemm.Gemm(d.Up(x.Value), g, gw, k, n, m, transA: true, accumulate: acc);
                d.GradOut(w, gw);
            }
            if (b is not null && b.RequiresGrad)
            {
                var (gb, acc) = d.GradIn(b);
                d.Tensor.ReduceTo(g, gb, n, m, 1, m, acc);
                d.GradOut(b, gb);
            }
        });
    }

    public static Var Transpose(Var a)
    {
        var tape = a.Tape;
        int r = a.Rows, c = a.Cols;
        double[] y;
        using (var d = new Scope(tape.Device))
        {
            var yv = d.New(a.Length);
            d.Tensor.Transpose(d.Up(a.Value), yv, r, c, accumulate: false);
            y = Result(tape, d, yv, a.Length);
        }
        return tape.Record(y, c, r, a.RequiresGrad, o =>
        {
            using var d = new Scope(tape.Device);
            var (ga, acc) = d.GradIn(a);
            d.Tensor.Transpose(d.Up(o.Grad!), ga, c, r, acc);
            d.GradOut(a, ga);
        });
    }

    /// <summary>Σ of all entries (row sums, then their sum) or per axis (0: column sums 1×cols, 1: row sums rows×1).</summary>
    public static Var Sum(Var a, int? axis)
    {
        var tape = a.Tape;
        int r = a.Rows, c = a.Cols;
        int tr = axis is null ? 1 : axis == 0 ? 1 : r, tc = axis is null ? 1 : axis == 0 ? c : 1;
        double[] y;
        using (var d = new Scope(tape.Device))
        {
            var yv = d.New(tr * tc);
            if (axis is null)
            {
                var rowSums = d.New(r);
                d.Tensor.ReduceTo(d.Up(a.Value), rowSums, r, c, r, 1, accumulate: false);
                d.Tensor.ReduceTo(rowSums, yv, r, 1, 1, 1, accumulate: false);
            }
            else d.Tensor.ReduceTo(d.Up(a.Value), yv, r, c, tr, tc, accumulate: false);
            y = Result(tape, d, yv, tr * tc);
        }
        return tape.Record(y, tr, tc, a.RequiresGrad, o =>
        {
            using var d = new Scope(tape.Device);
            var (ga, acc) = d.GradIn(a);
            d.Tensor.BroadcastTo(d.Up(o.Grad!), ga, r, c, tr, tc, 1f, acc);
            d.GradOut(a, ga);
        });
    }

    public static Var LogSumExpRows(Var a)
    {
        var tape = a.Tape;
        int r = a.Rows, c = a.Cols;
        double[] y;
        using (var d = new Scope(tape.Device))
        {
            var yv = d.New(r);
            d.Tensor.LogSumExpRows(d.Up(a.Value), yv, r, c);
            y = Result(tape, d, yv, r);
        }
        return tape.Record(y, r, 1, a.RequiresGrad, o =>
        {
            using var d = new Scope(tape.Device);
            var (ga, acc) = d.GradIn(a);
            d.Tensor.LogSumExpRowsBackward(d.Up(a.Value), d.Up(y), d.Up(o.Grad!), ga, r, c, acc);
            d.GradOut(a, ga);
        });
    }

    public static Var RowNorms(Var a)
    {
        var tape = a.Tape;
        int r = a.Rows, c = a.Cols;
        double[] y;
        using (var d = new Scope(tape.Device))
        {
            var yv = d.New(r);
            d.Tensor.RowNorms(d.Up(a.Value), yv, r, c);
            y = Result(tape, d, yv, r);
        }
        return tape.Record(y, r, 1, a.RequiresGrad, o =>
        {
            using var d = new Scope(tape.Device);
            var (ga, acc) = d.GradIn(a);
            d.Tensor.RowNormsBackward(d.Up(a.Value), d.Up(y), d.Up(o.Grad!), ga, r, c, acc);
            d.GradOut(a, ga);
        });
    }

    /// <summary>S·X for a constant CSR S; backward Sᵀ·G with the transposed pattern built once on the host.</summary>
    public static Var SpMM(CsrMatrix s, Var x)
    {
        var tape = x.Tape;
        int n = s.Rows, p = x.Cols;
        double[] y;
        using (var d = new Scope(tape.Device))
        {
            var yv = d.New((long)n * p);
            d.Tensor.SpMM(d.Up(s.RowPtr), d.Up(s.ColIdx), d.Up(s.Values), d.Up(x.Value), yv, n, p, accumulate: false);
            y = Result(tape, d, yv, n * p);
        }
        return tape.Record(y, n, p, x.RequiresGrad, o =>
        {
            var (rp, ci, v) = TransposeCsr(s);
            using var d = new Scope(tape.Device);
            var (gx, acc) = d.GradIn(x);
            d.Tensor.SpMM(d.Up(rp), d.Up(ci), d.Up(v), d.Up(o.Grad!), gx, s.Cols, p, acc);
            d.GradOut(x, gx);
        });
    }

    /// <summary>D_ij = ‖x_i − y_j‖²; backward ∂x_i = 2(Σ_j G_ij x_i − (G·y)_i), ∂y_j = 2(Σ_i G_ij y_j − (Gᵀ·x)_j).</summary>
    public static Var PairwiseSqEuclidean(Var x, Var y)
    {
        var tape = x.Tape;
        int n = x.Rows, m = y.Rows, dim = x.Cols;
        double[] dist;
        using (var d = new Scope(tape.Device))
        {
            var dv = d.New((long)n * m);
            d.Geometry.SquaredEuclidean(d.Up(x.Value), d.Up(y.Value), dv, n, m, dim);
            dist = Result(tape, d, dv, n * m);
        }
        return tape.Record(dist, n, m, x.RequiresGrad || y.RequiresGrad, o =>
        {
            using var d = new Scope(tape.Device);
            var g = d.Up(o.Grad!);
            var xv = d.Up(x.Value);
            var yv = d.Up(y.Value);
            if (x.RequiresGrad)
            {
                var rs = d.New(n);
                d.Tensor.ReduceTo(g, rs, n, m, n, 1, accumulate: false);
                var z = d.New((long)n * dim);
                d.Gemm.Gemm(g, yv, z, n, m, dim);
                var (gx, acc) = d.GradIn(x);
                d.Tensor.ScaledRowsMinus(rs, xv, z, gx, n, dim, 2f, acc);
                d.GradOut(x, gx);
            }
            if (y.RequiresGrad)
            {
                var cs = d.New(m);
                d.Tensor.ReduceTo(g, cs, n, m, 1, m, accumulate: false);
                var z = d.New((long)m * dim);
                d.Gemm.Gemm(g, xv, z, m, n, dim, transA: true);
                var (gy, acc) = d.GradIn(y);
                d.Tensor.ScaledRowsMinus(cs, yv, z, gy, m, dim, 2f, acc);
                d.GradOut(y, gy);
            }
        });
    }

    private static (int[] RowPtr, int[] ColIdx, double[] Values) TransposeCsr(CsrMatrix s)
    {
        var rp = new int[s.Cols + 1];
        for (int k = 0; k < s.Nnz; k++) rp[s.ColIdx[k] + 1]++;
        for (int j = 0; j < s.Cols; j++) rp[j + 1] += rp[j];
        var next = (int[])rp.Clone();
        var ci = new int[Math.Max(1, s.Nnz)];
        var v = new double[Math.Max(1, s.Nnz)];
        for (int i = 0; i < s.Rows; i++)
            for (int k = s.RowPtr[i]; k < s.RowPtr[i + 1]; k++)
            {
                int dst = next[s.ColIdx[k]]++;
                ci[dst] = i;
                v[dst] = s.Values[k];
            }
        return (rp, ci, v);
    }
}
