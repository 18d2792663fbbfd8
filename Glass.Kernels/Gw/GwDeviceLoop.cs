using Glass.Kernels.Device;
using Glass.Kernels.Sinkhorn;
using ILGPU;
using ILGPU.Runtime;

namespace Glass.Kernels.Gw;

/// <summary>
/// The state of entropic GW's outer loop (Π_{k+1} = Sinkhorn_ε(tens(Π_k)), see <c>EntropicGw</c>) resident on an
/// accelerator: the plans Π_k and Π_{k−1} (n×m double, as the Sinkhorn kernels write them), Π_k narrowed to float (the
/// GEMM operand), the linearised cost tens(Π_k) and its transpose (n×m float). One <see cref="Step"/> is narrow →
/// two GEMMs + combine (<see cref="GwLinearization.Tens(ArrayView{float}, ArrayView{float})"/>) → dense Sinkhorn
/// (<see cref="DenseSinkhornKernels.SolveResident"/>), all queued on the device. n×m data crosses to the host twice per
/// solve: Π_0 = abᵀ up (<see cref="GwDeviceLoop(ComputeDevice, GwLinearization, double[], double[], double[])"/>)
/// and the final plan down (<see cref="Finish"/>). The change ‖Π_k − Π_{k−1}‖_F and the GW loss are reduced on the
/// device by rows; n doubles come back per call. Same arithmetic as the host-round-trip path it replaces (double plan,
/// float costs), so the same iterates.
/// </summary>
public sealed class GwDeviceLoop : IDisposable
{
    private readonly Accelerator _acc;
    private readonly GwLinearization _lin;
    private readonly GwDeviceOps _ops;
    private readonly DenseSinkhornKernels _sinkhorn;
    private readonly double[] _a, _b;
    private readonly int _n, _m;
    private MemoryBuffer1D<double, Stride1D.Dense> _plan, _prev;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _planF, _tens, _tensT;
    private readonly MemoryBuffer1D<double, Stride1D.Dense> _rows;

    /// <summary>Uploads a, b and the starting plan Π₀ (n×m) next to <paramref name="lin"/>'s device data.</summary>
    public GwDeviceLoop(ComputeDevice device, GwLinearization lin, double[] a, double[] b, double[] plan0)
    {
        _acc = device.RequireAccelerator();
        _lin = lin;
        _ops = device.GetKernels(x => new GwDeviceOps(x));
        _sinkhorn = device.GetKernels(x => new DenseSinkhornKernels(x));
        _a = a; _b = b; _n = a.Length; _m = b.Length;
        long total = (long)_n * _m;
        if (plan0.Length != total) throw new ArgumentException($"plan0 has {plan0.Length} entries; expected n·m = {total}.", nameof(plan0));
        _plan = _acc.Allocate1D(plan0);
        PlanSizedTransfers++;
        _prev = _acc.Allocate1D<double>(total);
        _planF = _acc.Allocate1D<float>(total);
        _tens = _acc.Allocate1D<float>(total);
        _tensT = _acc.Allocate1D<float>(total);
        _rows = _acc.Allocate1D<double>(_n);
    }

    /// <summary>Host ↔ device copies of n×m arrays made so far (Π_0 up, the final plan down: 2 per solve).</summary>
    public int PlanSizedTransfers { get; private set; }

    /// <summary>Sinkhorn iterations summed over the steps.</summary>
    public long InnerIterations { get; private set; }

    /// <summary>One outer iteration: Π_{k−1} ← Π_k, Π_k ← Sinkhorn_ε(tens(Π_{k−1})).</summary>
    public void Step(SinkhornOptions options)
    {
        (_plan, _prev) = (_prev, _plan);
        _ops.Narrow(_prev.View, _planF.View);
        _lin.Tens(_planF.View, _tens.View);
        var r = _sinkhorn.SolveResident(_tens.View, _tensT.View, _n, _m, _a, _b, options, _plan.View);
        InnerIterations += r.Iterations;
    }

    /// <summary>‖Π_k − Π_{k−1}‖_F: squared row differences on the device, summed on the host.</summary>
    public double Change()
    {
        _ops.RowSquaredDiff(_plan.View, _prev.View, _n, _m, _rows.View);
        return Math.Sqrt(SumRows());
    }

    /// <summary>The plan Π (downloaded once) and the GW loss ½⟨tens(Π), Π⟩ (tens and the products on the device).</summary>
    public (double[] Plan, double Loss) Finish()
    {
        _ops.Narrow(_plan.View, _planF.View);
        _lin.Tens(_planF.View, _tens.View);
        _ops.RowDot(_tens.View, _plan.View, _n, _m, _rows.View);
        double loss = 0.5 * SumRows();
        var plan = _plan.GetAsArray1D();
        PlanSizedTransfers++;
        return (plan, loss);
    }

    private double SumRows()
    {
        _acc.Synchronize();
        double s = 0;
        foreach (double v in _rows.GetAsArray1D()) s += v;
        return s;
    }

    /// <summary>Frees the device buffers.</summary>
    public void Dispose()
    {
        _plan.Dispose(); _prev.Dispose(); _planF.Dispose(); _tens.Dispose(); _tensT.Dispose(); _rows.Dispose();
    }
}
