using System.Globalization;
using ILGPU;
using ILGPU.Runtime;
using Glass.Kernels.Device.LowLevel;
using DeviceBuffer = ILGPU.Runtime.MemoryBuffer1D<float, ILGPU.Stride1D.Dense>;

namespace Glass.Autodiff;

/// <summary>
/// Reverse-mode tape (micrograd's design on matrices): every op records its value and one backward
/// closure that captures only what it needs; <see cref="Backward"/> runs the closures in reverse,
/// accumulating gradients (fan-out adds). The tape owns its nodes; after Backward it is released and
/// cannot be replayed. Inside <see cref="NoGrad"/> nothing is recorded (inference).
/// <para>
/// Buffers: with a <see cref="TapeArena"/> the values and gradients of op results are rented from
/// the arena and handed back when the tape is disposed, so a training loop that records one tape
/// per step (<c>using var tape = new Tape(arena)</c>) stops allocating after its first step. Those
/// buffers are then valid until <see cref="Dispose"/>; copy what must outlive the tape. Leaves
/// (<see cref="Leaf"/>, <see cref="Constant"/>, parameters) and their gradients never come from the arena.
/// Without an arena every buffer is a fresh array owned by the garbage collector (nothing is recycled).
/// </para>
/// <para>
/// Device: <see cref="Device"/> chooses where the heavy ops run (see <see cref="Ops.Op"/>). On the
/// managed CPU backend (the default) everything is <c>double</c>. On an ILGPU accelerator the heavy
/// ops run forward and backward as float32 kernels on device buffers owned by the tape: results and
/// their gradients stay on the device, host inputs are uploaded once per node, and
/// <see cref="Var.Value"/>/<see cref="Var.Grad"/> are host mirrors downloaded when read. Host-only
/// ops (gather, slice, concat, soft sort/rank, Sinkhorn) read those mirrors and accumulate their
/// gradients on the host; a gradient crosses over only when an op on the other side contributes.
/// <see cref="Dispose"/> downloads the leaves' gradients and hands the device buffers back. Device buffers come
/// from a pool recycled by exact length: with a <see cref="TapeArena"/> the arena's (so a training loop stops
/// allocating device memory after its first step, and a constant sparse matrix is uploaded once, not per call),
/// otherwise the tape's own, freed on <see cref="Dispose"/>.
/// </para>
/// </summary>
public sealed class Tape : IDisposable
{
    private readonly List<Action> _backward = new();
    private readonly List<double[]> _rented = new();
    private readonly List<DeviceBuffer> _deviceBuffers = new();
    private readonly List<Var> _deviceLeaves = new();
    private DeviceBufferPool? _ownPool;
    private int _noGrad;
    private bool _released;
    private bool _disposed;

    /// <summary>A tape on the managed CPU backend; buffers are fresh arrays.</summary>
    public Tape() : this(null, null) { }

    /// <summary>A tape on the managed CPU backend whose op buffers are rented from <paramref name="arena"/> (returned on <see cref="Dispose"/>).</summary>
    /// <param name="arena">Buffer pool shared by successive tapes (one live tape at a time), or null.</param>
    public Tape(TapeArena? arena) : this(null, arena) { }

    /// <summary>A tape whose heavy ops run on <paramref name="device"/> (null = managed CPU).</summary>
    /// <param name="device">Where the ops run: managed CPU (double) or an ILGPU accelerator (float32 kernels, host mirrors).</param>
    /// <param name="arena">Optional buffer pool for the host buffers (see the class remarks).</param>
    public Tape(Kernels.Device.ComputeDevice? device, TapeArena? arena = null)
    {
        Device = device ?? Kernels.Device.ComputeDevice.Cpu;
        Arena = arena;
    }

    /// <summary>Where the heavy ops of this tape run.</summary>
    public Kernels.Device.ComputeDevice Device { get; }

    /// <summary>The buffer pool, or null.</summary>
    public TapeArena? Arena { get; }

    /// <summary>True inside a <see cref="NoGrad"/> scope.</summary>
    public bool IsNoGrad => _noGrad > 0;

    /// <summary>Number of recorded backward closures.</summary>
    public int Count => _backward.Count;

    /// <summary>A constant input (no gradient). The array is used as is, not copied.</summary>
    public Var Constant(double[] value, int rows, int cols) => Leaf(value, rows, cols, requiresGrad: false);

    /// <summary>A leaf whose gradient is accumulated (a parameter or an input to differentiate).</summary>
    /// <exception cref="ArgumentException">Length differs from rows·cols, or a non-finite value.</exception>
    public Var Leaf(double[] value, int rows, int cols, bool requiresGrad = true)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (rows < 1 || cols < 1 || (long)rows * cols != value.Length)
            throw new ArgumentException($"value has length {value.Length}; expected rows·cols = {rows}·{cols}.", nameof(value));
        for (int i = 0; i < value.Length; i++)
            if (!double.IsFinite(value[i]))
                throw new ArgumentException($"value[{i}] = {value[i].ToString(CultureInfo.InvariantCulture)}; expected a finite number.", nameof(value));
        CheckLive();
        return new Var(this, value, rows, cols, requiresGrad && !IsNoGrad, isLeaf: true);
    }

    /// <summary>A scalar constant.</summary>
    public Var Scalar(double v) => Constant(new[] { v }, 1, 1);

    /// <summary>
    /// A host buffer of <paramref name="length"/> doubles for an op value or gradient: from the arena
    /// when there is one (zeroed only when <paramref name="clear"/>), else a fresh zeroed array.
    /// </summary>
    internal double[] Alloc(int length, bool clear)
    {
        if (Arena is null || _disposed) return new double[length];
        var buf = Arena.Rent(length);
        if (clear) Array.Clear(buf);
        _rented.Add(buf);
        return buf;
    }

    /// <summary>
    /// Device memory of this tape: the arena's pool (buffers and uploaded sparse matrices survive the tape), or
    /// without an arena a pool of the tape's own, freed on <see cref="Dispose"/>.
    /// </summary>
    internal DeviceBufferPool DevicePool
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var acc = Device.RequireAccelerator();
            return Arena?.DevicePool(acc) ?? (_ownPool ??= new DeviceBufferPool(acc));
        }
    }

    /// <summary>
    /// A float32 buffer of <paramref name="length"/> entries on the tape's accelerator (contents undefined), rented
    /// from <see cref="DevicePool"/> for the tape's lifetime and handed back on <see cref="Dispose"/>.
    /// </summary>
    internal DeviceBuffer DeviceAlloc(long length)
    {
        var buf = DevicePool.Rent(length);
        _deviceBuffers.Add(buf);
        return buf;
    }

    /// <summary>The node's value on the accelerator, uploading (and caching) the host value on first use.</summary>
    internal DeviceBuffer DeviceValueOf(Var v)
    {
        if (v.DeviceValue is not null) return v.DeviceValue;
        var buf = DeviceAlloc(v.Length);
        Upload(v.Value, buf);
        v.DeviceValue = buf;
        if (v.IsLeaf && v.RequiresGrad) _deviceLeaves.Add(v);
        return buf;
    }

    /// <summary>Registers a leaf whose gradient a device op writes, so <see cref="Dispose"/> brings it to the host first.</summary>
    internal void TrackDeviceLeaf(Var v)
    {
        if (v.IsLeaf && !_deviceLeaves.Contains(v)) _deviceLeaves.Add(v);
    }

    internal void Upload(double[] host, DeviceBuffer buf)
    {
        var single = new float[host.Length];
        for (int k = 0; k < host.Length; k++) single[k] = (float)host[k];
        buf.View.SubView(0, host.Length).CopyFromCPU(single);
    }

    internal void Download(DeviceBuffer buf, double[] host)
    {
        if (_disposed) throw new InvalidOperationException("This node's data lived on the device and its tape was disposed; read values and gradients before disposing the tape.");
        Device.RequireAccelerator().Synchronize();
        var single = new float[host.Length];
        buf.View.SubView(0, host.Length).CopyToCPU(single);
        for (int k = 0; k < host.Length; k++) host[k] = single[k];
    }

    internal double[] DownloadValue(Var v)
    {
        var host = v.IsLeaf ? new double[v.Length] : Alloc(v.Length, clear: false);
        Download(v.DeviceValue ?? throw new InvalidOperationException("Var has neither a host nor a device value."), host);
        return host;
    }

    /// <summary>Records an op result that lives on the accelerator.</summary>
    internal Var RecordDevice(DeviceBuffer value, int rows, int cols, bool anyInputRequiresGrad, Action<Var>? backward)
    {
        CheckLive();
        bool rg = anyInputRequiresGrad && !IsNoGrad && backward is not null;
        var v = new Var(this, value, rows, cols, rg);
        if (rg) _backward.Add(() => { if (v.HasGrad) backward!(v); });
        return v;
    }

    /// <summary>
    /// Records a host op result (the extension point for ops defined outside this library): <paramref name="value"/>
    /// (rows×cols, row-major, owned by the node from now on) and a <paramref name="backward"/> closure that reads the
    /// result's upstream gradient (<c>o.Grad</c>) and accumulates (<c>+=</c>) into its inputs' gradients through
    /// <see cref="Var.GradBuffer"/>. The closure is kept only if some input needs a gradient
    /// (<paramref name="anyInputRequiresGrad"/>) and the tape is not in no-grad mode.
    /// </summary>
    public Var Record(double[] value, int rows, int cols, bool anyInputRequiresGrad, Action<Var>? backward)
    {
        CheckLive();
        bool rg = anyInputRequiresGrad && !IsNoGrad && backward is not null;
        var v = new Var(this, value, rows, cols, rg);
        if (rg) _backward.Add(() => { if (v.HasGrad) backward!(v); });
        return v;
    }

    /// <summary>Backpropagates from a 1×1 <paramref name="loss"/> (seed 1), then releases the tape.</summary>
    /// <exception cref="InvalidOperationException">Loss not 1×1, from another tape, or the tape already released.</exception>
    public void Backward(Var loss)
    {
        ArgumentNullException.ThrowIfNull(loss);
        CheckLive();
        if (!ReferenceEquals(loss.Tape, this)) throw new InvalidOperationException("Backward: the loss was recorded on another tape.");
        if (loss.Length != 1) throw new InvalidOperationException($"Backward needs a scalar (1×1) loss; got {loss.Shape}.");
        if (!loss.RequiresGrad) throw new InvalidOperationException("Backward: the loss does not depend on anything that requires a gradient.");
        loss.GradBuffer()[0] += 1.0;
        for (int k = _backward.Count - 1; k >= 0; k--) _backward[k]();
        Release();
    }

    /// <summary>Stops recording until the returned scope is disposed (inference).</summary>
    public IDisposable NoGrad()
    {
        _noGrad++;
        return new Scope(this);
    }

    /// <summary>
    /// Drops every recorded closure (and the buffers they capture); with an arena, hands the op buffers
    /// back to it; on a device tape, downloads the leaves' gradients and hands the device buffers back to
    /// the arena's pool, or frees them without an arena (device-only values and gradients of op results
    /// can no longer be read).
    /// </summary>
    public void Dispose()
    {
        Release();
        if (_disposed) return;
        // Leaves' gradients (what optimisers read) come to the host before the device buffers go.
        foreach (var leaf in _deviceLeaves) leaf.SyncGradToHost();
        _deviceLeaves.Clear();
        if (_deviceBuffers.Count > 0)
        {
            var pool = DevicePool;
            foreach (var buf in _deviceBuffers) pool.Return(buf);
        }
        _deviceBuffers.Clear();
        _disposed = true;
        _ownPool?.Dispose();
        _ownPool = null;
        if (Arena is not null)
            foreach (var buf in _rented) Arena.Return(buf);
        _rented.Clear();
    }

    private void Release()
    {
        _backward.Clear();
        _released = true;
    }

    private void CheckLive()
    {
        if (_released) throw new InvalidOperationException("This tape was released (Backward already ran or it was disposed); record a new tape.");
    }

    private sealed class Scope(Tape tape) : IDisposable
    {
        private bool _done;
        public void Dispose()
        {
            if (_done) return;
            _done = true;
            tape._noGrad--;
        }
    }
}
