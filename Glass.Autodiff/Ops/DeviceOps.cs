using Glass.Autodiff.Device;
using Glass.Kernels.Device.LowLevel;
using Glass.Kernels.Linalg;
using ILGPU;
using ILGPU.Runtime;

namespace Glass.Autodiff.Ops;

/// <summary>
/// The tape's heavy ops on an ILGPU accelerator (<see cref="Tape.Device"/> accelerated): forward and
/// backward run as float32 kernels (<see cref="TensorOps"/>, <see cref="MatMulOps"/>, <see cref="PointCloudOps"/>,
/// each loaded once per device). Values and gradients of op results stay in device buffers owned by
/// the tape; a host input (leaf, or the result of a host-only op) is uploaded once and cached on its
/// node; host mirrors are downloaded only when read (<see cref="Var.Value"/>, <see cref="Var.Grad"/>,
/// or a host-only op such as gather or soft rank consuming the node). Gradients move between host and
/// device only when an op on the other side contributes to them.
/// </summary>
internal static class DeviceOps
{
    /// <summary>Kernels and scratch buffers of one op call (scratch rented from the tape's pool and handed back at the end; node buffers belong to the tape).</summary>
    private sealed class Scope : IDisposable
    {
        private readonly List<MemoryBuffer1D<float, Stride1D.Dense>> _scratch = new();

        public Scope(Tape tape)
        {
            T = tape;
            Acc = tape.Device.RequireAccelerator();
            Tensor = tape.Device.GetKernels(a => new TensorOps(a));
        }

        public Tape T { get; }
        public Accelerator Acc { get; }
        public TensorOps Tensor { get; }
        public MatMulOps Gemm => T.Device.GetKernels(a => new MatMulOps(a));
        public PointCloudOps Geometry => T.Device.GetKernels(a => new PointCloudOps(a));

        /// <summary>The node's value on the device (uploaded once if it was a host value).</summary>
        public ArrayView<float> Val(Var v) => T.DeviceValueOf(v).View;

        /// <summary>Scratch of <paramref name="length"/> floats for this call (contents undefined).</summary>
        public ArrayView<float> Scratch(long length)
        {
            var buf = T.DevicePool.Rent(length);
            _scratch.Add(buf);
            return buf.View;
        }

        /// <summary>A new node buffer (owned by the tape).</summary>
        public MemoryBuffer1D<float, Stride1D.Dense> Output(long length) => T.DeviceAlloc(length);

        /// <summary>The upstream gradient of <paramref name="o"/> on the device (uploaded if it was accumulated on the host).</summary>
        public ArrayView<float> GradRead(Var o)
        {
            if (o.GradState == GradPlace.Host)
            {
                o.DeviceGrad ??= T.DeviceAlloc(o.Length);
                T.Upload(o.Grad!, o.DeviceGrad);
                o.GradState = GradPlace.Both;
            }
            return o.DeviceGrad!.View;
        }

        /// <summary>The device gradient buffer a kernel writes into: accumulate onto the current gradient, or overwrite when there is none.</summary>
        public (ArrayView<float> View, bool Accumulate) GradIn(Var v)
        {
            bool acc = v.GradState != GradPlace.None;
            if (v.GradState == GradPlace.Host)
            {
                v.DeviceGrad ??= T.DeviceAlloc(v.Length);
                T.Upload(v.Grad!, v.DeviceGrad);
            }
            else v.DeviceGrad ??= T.DeviceAlloc(v.Length);
            return (v.DeviceGrad.View, acc);
        }

        /// <summary>Marks the device gradient as the current one after a kernel wrote it.</summary>
        public void GradDone(Var v)
        {
            v.GradState = GradPlace.Device;
            T.TrackDeviceLeaf(v);
        }

        public void Dispose()
        {
            if (_scratch.Count == 0) return;
            // No wait: a later rent of these buffers is used by work queued after this call's kernels.
            var pool = T.DevicePool;
            foreach (var b in _scratch) pool.Return(b);
            _scratch.Clear();
        }
    }

    public static Var Unary(Var a, UnaryCode code, double param)
    {
        var tape = a.Tape;
        float p = (float)param;
        using var d = new Scope(tape);
        var y = d.Output(a.Length);
        d.Tensor.Unary(d.Val(a), y.View, a.Length, code, p);
        return tape.RecordDevice(y, a.Rows, a.Cols, a.RequiresGrad, o =>
        {
            using var d = new Scope(tape);
            var (ga, acc) = d.GradIn(a);
            d.Tensor.UnaryBackward(d.Val(a), d.Val(o), d.GradRead(o), ga, a.Length, code, p, acc);
            d.GradDone(a);
        });
    }

    public static Var Binary(Var a, Var b, BinaryCode code)
    {
        var tape = a.Tape;
        int rows = Math.Max(a.Rows, b.Rows), cols = Math.Max(a.Cols, b.Cols);
        var shape = new BroadcastShape(rows, cols, a.Rows, a.Cols, b.Rows, b.Cols);
        using var d = new Scope(tape);
        var y = d.Output(rows * cols);
        d.Tensor.Binary(d.Val(a), d.Val(b), y.View, shape, code);
        return tape.RecordDevice(y, rows, cols, a.RequiresGrad || b.RequiresGrad, o =>
        {
            using var d = new Scope(tape);
            var da = d.Scratch(rows * cols);
            var db = d.Scratch(rows * cols);
            d.Tensor.BinaryBackward(d.Val(a), d.Val(b), d.GradRead(o), da, db, shape, code);
            foreach (var (v, full) in new[] { (a, da), (b, db) })
            {
                if (!v.RequiresGrad) continue;
                var (gv, acc) = d.GradIn(v);
                d.Tensor.ReduceTo(full, gv, rows, cols, v.Rows, v.Cols, acc);
                d.GradDone(v);
            }
        });
    }

    /// <summary>x·W (+ b broadcast over rows): bias written first, GEMM accumulated onto it.</summary>
    public static Var Linear(Var x, Var w, Var? b)
    {
        var tape = x.Tape;
        int n = x.Rows, k = x.Cols, m = w.Cols;
        using var d = new Scope(tape);
        var y = d.Output((long)n * m);
        if (b is not null) d.Tensor.BroadcastTo(d.Val(b), y.View, n, m, 1, m, 1f, accumulate: false);
        d.Gemm.Gemm(d.Val(x), d.Val(w), y.View, n, k, m, accumulate: b is not null);
        bool rg = x.RequiresGrad || w.RequiresGrad || (b?.RequiresGrad ?? false);
        return tape.RecordDevice(y, n, m, rg, o =>
        {
            using var d = new Scope(tape);
            var g = d.GradRead(o);
            if (x.RequiresGrad)
            {
                var (gx, acc) = d.GradIn(x);
                d.Gemm.Gemm(g, d.Val(w), gx, n, m, k, transB: true, accumulate: acc);
                d.GradDone(x);
            }
            if (w.RequiresGrad)
            {
                var (gw, acc) = d.GradIn(w);
                d.Gemm.Gemm(d.Val(x), g, gw, k, n, m, transA: true, accumulate: acc);
                d.GradDone(w);
            }
            if (b is not null && b.RequiresGrad)
            {
                var (gb, acc) = d.GradIn(b);
                d.Tensor.ReduceTo(g, gb, n, m, 1, m, acc);
                d.GradDone(b);
            }
        });
    }

    public static Var Transpose(Var a)
    {
        var tape = a.Tape;
        int r = a.Rows, c = a.Cols;
        using var d = new Scope(tape);
        var y = d.Output(a.Length);
        d.Tensor.Transpose(d.Val(a), y.View, r, c, accumulate: false);
        return tape.RecordDevice(y, c, r, a.RequiresGrad, o =>
        {
            using var d = new Scope(tape);
            var (ga, acc) = d.GradIn(a);
            d.Tensor.Transpose(d.GradRead(o), ga, c, r, acc);
            d.GradDone(a);
        });
    }

    /// <summary>Σ of all entries (row sums, then their sum) or per axis (0: column sums 1×cols, 1: row sums rows×1).</summary>
    public static Var Sum(Var a, int? axis)
    {
        var tape = a.Tape;
        int r = a.Rows, c = a.Cols;
        int tr = axis is null ? 1 : axis == 0 ? 1 : r, tc = axis is null ? 1 : axis == 0 ? c : 1;
        using var d = new Scope(tape);
        var y = d.Output(tr * tc);
        if (axis is null)
        {
            var rowSums = d.Scratch(r);
            d.Tensor.ReduceTo(d.Val(a), rowSums, r, c, r, 1, accumulate: false);
            d.Tensor.ReduceTo(rowSums, y.View, r, 1, 1, 1, accumulate: false);
        }
        else d.Tensor.ReduceTo(d.Val(a), y.View, r, c, tr, tc, accumulate: false);
        return tape.RecordDevice(y, tr, tc, a.RequiresGrad, o =>
        {
            using var d = new Scope(tape);
            var (ga, acc) = d.GradIn(a);
            d.Tensor.BroadcastTo(d.GradRead(o), ga, r, c, tr, tc, 1f, acc);
            d.GradDone(a);
        });
    }

    public static Var LogSumExpRows(Var a)
    {
        var tape = a.Tape;
        int r = a.Rows, c = a.Cols;
        using var d = new Scope(tape);
        var y = d.Output(r);
        d.Tensor.LogSumExpRows(d.Val(a), y.View, r, c);
        return tape.RecordDevice(y, r, 1, a.RequiresGrad, o =>
        {
            using var d = new Scope(tape);
            var (ga, acc) = d.GradIn(a);
            d.Tensor.LogSumExpRowsBackward(d.Val(a), d.Val(o), d.GradRead(o), ga, r, c, acc);
            d.GradDone(a);
        });
    }

    public static Var RowNorms(Var a)
    {
        var tape = a.Tape;
        int r = a.Rows, c = a.Cols;
        using var d = new Scope(tape);
        var y = d.Output(r);
        d.Tensor.RowNorms(d.Val(a), y.View, r, c);
        return tape.RecordDevice(y, r, 1, a.RequiresGrad, o =>
        {
            using var d = new Scope(tape);
            var (ga, acc) = d.GradIn(a);
            d.Tensor.RowNormsBackward(d.Val(a), d.Val(o), d.GradRead(o), ga, r, c, acc);
            d.GradDone(a);
        });
    }

    /// <summary>
    /// S·X for a constant CSR S; backward Sᵀ·G. S and its transposed pattern (built on the host) are uploaded once
    /// per device pool and cached by identity (<see cref="DeviceBufferPool.Csr"/>), not per call.
    /// </summary>
    public static Var SpMM(CsrMatrix s, Var x)
    {
        var tape = x.Tape;
        int n = s.Rows, p = x.Cols;
        using var d = new Scope(tape);
        var y = d.Output((long)n * p);
        var sd = tape.DevicePool.Csr(s);
        d.Tensor.SpMM(sd.RowPtr, sd.ColIdx, sd.Values, d.Val(x), y.View, n, p, accumulate: false);
        return tape.RecordDevice(y, n, p, x.RequiresGrad, o =>
        {
            using var d = new Scope(tape);
            var st = tape.DevicePool.CsrTransposed(s);
            var (gx, acc) = d.GradIn(x);
            d.Tensor.SpMM(st.RowPtr, st.ColIdx, st.Values, d.GradRead(o), gx, s.Cols, p, acc);
            d.GradDone(x);
        });
    }

    /// <summary>D_ij = ‖x_i − y_j‖²; backward ∂x_i = 2(Σ_j G_ij x_i − (G·y)_i), ∂y_j = 2(Σ_i G_ij y_j − (Gᵀ·x)_j).</summary>
    public static Var PairwiseSqEuclidean(Var x, Var y)
    {
        var tape = x.Tape;
        int n = x.Rows, m = y.Rows, dim = x.Cols;
        using var d = new Scope(tape);
        var dist = d.Output((long)n * m);
        d.Geometry.SquaredEuclidean(d.Val(x), d.Val(y), dist.View, n, m, dim);
        return tape.RecordDevice(dist, n, m, x.RequiresGrad || y.RequiresGrad, o =>
        {
            using var d = new Scope(tape);
            var g = d.GradRead(o);
            if (x.RequiresGrad)
            {
                var rs = d.Scratch(n);
                d.Tensor.ReduceTo(g, rs, n, m, n, 1, accumulate: false);
                var z = d.Scratch((long)n * dim);
                d.Gemm.Gemm(g, d.Val(y), z, n, m, dim);
                var (gx, acc) = d.GradIn(x);
                d.Tensor.ScaledRowsMinus(rs, d.Val(x), z, gx, n, dim, 2f, acc);
                d.GradDone(x);
            }
            if (y.RequiresGrad)
            {
                var cs = d.Scratch(m);
                d.Tensor.ReduceTo(g, cs, n, m, 1, m, accumulate: false);
                var z = d.Scratch((long)m * dim);
                d.Gemm.Gemm(g, d.Val(x), z, m, n, dim, transA: true);
                var (gy, acc) = d.GradIn(y);
                d.Tensor.ScaledRowsMinus(cs, d.Val(y), z, gy, m, dim, 2f, acc);
                d.GradDone(y);
            }
        });
    }
}
