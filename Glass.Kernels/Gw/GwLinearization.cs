using Glass.Kernels.Device;
using ILGPU;
using ILGPU.Runtime;

namespace Glass.Kernels.Gw;

/// <summary>
/// The linearised GW cost of the square loss on one device (Peyré, Cuturi, Solomon 2016, Prop. 1;
/// learned-GW paper, Appendix: C_{k+1} from D_X Π_k D_Y):
/// tens(Π) = 2·(constC − 2·D_X·Π·D_Y), constC_ij = ((D_X⊙D_X)a)_i + ((D_Y⊙D_Y)b)_j — POT's
/// <c>gwggrad</c> for <c>loss_fun='square_loss'</c>; the GW loss is ½⟨tens(Π), Π⟩.
/// D_X, D_Y stay on the device for the life of the object; the host <see cref="Tens(double[], double[])"/> moves Π up
/// and tens down, the device <see cref="Tens(ArrayView{float}, ArrayView{float})"/> moves nothing.
/// On the managed CPU backend the two products are the blocked double GEMM; on an ILGPU accelerator
/// they are the float32 tiled GEMM kernel (<see cref="GwDeviceOps"/>, loaded once per device).
/// </summary>
public sealed class GwLinearization : IDisposable
{
    private readonly ComputeDevice _device;
    private readonly int _n, _m;
    private readonly double[] _dx, _dy, _r, _c;
    private readonly double[]? _tmp;
    private readonly MemoryBuffer1D<float, Stride1D.Dense>? _ddx, _ddy, _dr, _dc, _dtmp, _dg;
    private MemoryBuffer1D<float, Stride1D.Dense>? _dplan, _dout; // host-array Tens only, allocated on its first call

    /// <summary>Prepares D_X (n×n), D_Y (m×m) and the marginal terms r = (D_X⊙D_X)a, c = (D_Y⊙D_Y)b on <paramref name="device"/>.</summary>
    public GwLinearization(ComputeDevice device, double[] dx, double[] dy, int n, int m, double[] a, double[] b)
    {
        _device = device; _n = n; _m = m; _dx = dx; _dy = dy;
        _r = GwLinearizationCpu.SquaredTimes(dx, n, a);
        _c = GwLinearizationCpu.SquaredTimes(dy, m, b);
        if (!device.IsAccelerated)
        {
            _tmp = new double[(long)n * m];
            return;
        }
        var acc = device.RequireAccelerator();
        device.GetKernels(x => new GwDeviceOps(x));
        _ddx = HostBuffers.Upload(acc, dx);
        _ddy = HostBuffers.Upload(acc, dy);
        _dr = HostBuffers.Upload(acc, _r);
        _dc = HostBuffers.Upload(acc, _c);
        _dtmp = HostBuffers.Allocate(acc, (long)n * m);
        _dg = HostBuffers.Allocate(acc, (long)n * m);
    }

    /// <summary>tens(Π) on the device: <paramref name="plan"/> and <paramref name="output"/> are n×m float views on this
    /// object's accelerator (distinct). Queued; nothing is copied to or from the host.</summary>
    /// <exception cref="InvalidOperationException">The device is the managed CPU backend.</exception>
    internal void Tens(ArrayView<float> plan, ArrayView<float> output)
    {
        if (!_device.IsAccelerated) throw new InvalidOperationException("GwLinearization.Tens(views) needs an accelerator; use Tens(double[], double[]) on the managed CPU backend.");
        long total = (long)_n * _m;
        if (plan.Length != total || output.Length != total)
            throw new ArgumentException($"Tens: plan and output must hold n·m = {total} entries (have {plan.Length}, {output.Length}).");
        var ops = _device.GetKernels(x => new GwDeviceOps(x));
        ops.Linearize(_ddx!.View, _ddy!.View, plan, _dr!.View, _dc!.View, _dtmp!.View, _dg!.View, output, _n, _m, 2f, -4f);
    }

    /// <summary>r = (D_X⊙D_X)a (length n).</summary>
    public double[] RowTerm => _r;
    /// <summary>c = (D_Y⊙D_Y)b (length m).</summary>
    public double[] ColTerm => _c;

    /// <summary>tens(Π) into <paramref name="output"/> (n×m).</summary>
    public void Tens(double[] plan, double[] output)
    {
        if (!_device.IsAccelerated)
        {
            GwLinearizationCpu.Linearize(_dx, _dy, plan, _r, _c, _tmp!, output, _n, _m, 2.0, -4.0);
            return;
        }
        var acc = _device.RequireAccelerator();
        var ops = _device.GetKernels(x => new GwDeviceOps(x));
        var single = new float[plan.Length];
        for (int k = 0; k < plan.Length; k++) single[k] = (float)plan[k];
        _dplan ??= HostBuffers.Allocate(acc, (long)_n * _m);
        _dout ??= HostBuffers.Allocate(acc, (long)_n * _m);
        _dplan.View.CopyFromCPU(single);
        ops.Linearize(_ddx!.View, _ddy!.View, _dplan.View, _dr!.View, _dc!.View, _dtmp!.View, _dg!.View, _dout.View, _n, _m, 2f, -4f);
        acc.Synchronize();
        var back = _dout.GetAsArray1D();
        for (int k = 0; k < back.Length; k++) output[k] = back[k];
    }

    /// <summary>Frees the device buffers.</summary>
    public void Dispose()
    {
        _ddx?.Dispose(); _ddy?.Dispose(); _dr?.Dispose(); _dc?.Dispose();
        _dplan?.Dispose(); _dtmp?.Dispose(); _dg?.Dispose(); _dout?.Dispose();
    }
}
