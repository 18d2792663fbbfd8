using System.Globalization;
using ILGPU;
using ILGPU.Runtime;
using Glass.Kernels.Device.LowLevel;
using DeviceBuffer = ILGPU.Runtime.MemoryBuffer1D<float, ILGPU.Stride1D.Dense>;

namespace Glass.Autodiff;

/// <summary>
/// A node of the tape: a rows×cols matrix value (row-major) and, when it requires a gradient, its
/// accumulated gradient ∂loss/∂value of the same shape. On the managed CPU path both are host
/// <c>double[]</c>. On a device tape (<see cref="Tape.Device"/> accelerated) op results and their
/// gradients live in float32 device buffers; <see cref="Value"/> and <see cref="Grad"/> are host
/// mirrors downloaded on first read (valid until the tape is disposed).
/// </summary>
public sealed class Var
{
    private double[]? _value;
    private double[]? _grad;

    internal Var(Tape tape, double[] value, int rows, int cols, bool requiresGrad, bool isLeaf = false)
    {
        Tape = tape; _value = value; Rows = rows; Cols = cols; RequiresGrad = requiresGrad; IsLeaf = isLeaf;
    }

    internal Var(Tape tape, DeviceBuffer value, int rows, int cols, bool requiresGrad)
    {
        Tape = tape; DeviceValue = value; Rows = rows; Cols = cols; RequiresGrad = requiresGrad;
    }

    /// <summary>Leaves (constants, parameters) never take gradient buffers from the tape's arena: they outlive it.</summary>
    internal bool IsLeaf { get; }

    /// <summary>The value on the tape's accelerator (null until a device op needs it or when the op ran on the host).</summary>
    internal DeviceBuffer? DeviceValue { get; set; }

    /// <summary>The gradient on the accelerator, when a device op has written or read it.</summary>
    internal DeviceBuffer? DeviceGrad { get; set; }

    /// <summary>Where the current gradient is: nowhere yet, host, device, or both (equal).</summary>
    internal GradPlace GradState { get; set; }

    /// <summary>The tape that recorded this node.</summary>
    public Tape Tape { get; }
    /// <summary>Values, row-major, length Rows·Cols (on a device tape: downloaded on first read).</summary>
    public double[] Value => _value ??= Tape.DownloadValue(this);
    /// <summary>Rows.</summary>
    public int Rows { get; }
    /// <summary>Columns.</summary>
    public int Cols { get; }
    /// <summary>Whether gradients flow into this node.</summary>
    public bool RequiresGrad { get; }
    /// <summary>∂loss/∂value after <see cref="Tape.Backward"/>; null if not reached or not required.</summary>
    public double[]? Grad
    {
        get { SyncGradToHost(); return _grad; }
        internal set { _grad = value; GradState = value is null ? GradPlace.None : GradPlace.Host; }
    }
    /// <summary>Rows·Cols.</summary>
    public int Length => Rows * Cols;
    /// <summary>The value of a 1×1 node.</summary>
    public double Scalar => Length == 1 ? Value[0] : throw new InvalidOperationException($"Scalar of a {Shape} node; expected 1×1.");
    /// <summary>"rows×cols".</summary>
    public string Shape => Rows.ToString(CultureInfo.InvariantCulture) + "×" + Cols.ToString(CultureInfo.InvariantCulture);

    /// <summary>True once some op has contributed to the gradient (host or device).</summary>
    internal bool HasGrad => GradState != GradPlace.None;

    /// <summary>The host value if it is already materialised (no download).</summary>
    internal double[]? HostValueOrNull => _value;

    /// <summary>
    /// The gradient buffer for accumulation (+=) on the host: allocated zeroed on first use. A backward closure given
    /// to <see cref="Tape.Record"/> adds its contribution to each input's gradient here.
    /// </summary>
    public double[] GradBuffer()
    {
        SyncGradToHost();
        _grad ??= IsLeaf ? new double[Length] : Tape.Alloc(Length, clear: true);
        GradState = GradPlace.Host;
        return _grad;
    }

    /// <summary>
    /// The host gradient buffer for a backward that writes every entry once: when this is the first
    /// contribution (<paramref name="overwrite"/> = true) the buffer is not zeroed and the caller must
    /// overwrite all of it; otherwise the caller accumulates (+=).
    /// </summary>
    internal double[] GradForWrite(out bool overwrite)
    {
        SyncGradToHost();
        overwrite = _grad is null;
        _grad ??= IsLeaf ? new double[Length] : Tape.Alloc(Length, clear: false);
        GradState = GradPlace.Host;
        return _grad;
    }

    /// <summary>Downloads a device-only gradient into the host mirror (both are then equal).</summary>
    internal void SyncGradToHost()
    {
        if (GradState != GradPlace.Device) return;
        _grad ??= IsLeaf ? new double[Length] : Tape.Alloc(Length, clear: false);
        Tape.Download(DeviceGrad!, _grad);
        GradState = GradPlace.Both;
    }

    /// <inheritdoc />
    public override string ToString() => $"Var {Shape}{(RequiresGrad ? " (grad)" : "")}";
}

/// <summary>Where a node's gradient currently lives.</summary>
internal enum GradPlace
{
    /// <summary>No contribution yet.</summary>
    None,
    /// <summary>Host array is current (device copy, if any, is stale).</summary>
    Host,
    /// <summary>Device buffer is current (host array, if any, is stale).</summary>
    Device,
    /// <summary>Both hold the same values.</summary>
    Both,
}

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

/// <summary>
/// A pool of <c>double[]</c> buffers recycled by exact length between successive tapes
/// (<see cref="Tape(TapeArena?)"/>): a tape rents its op values and gradients here and returns
/// them when disposed. On a device tape the arena also pools the float32 device buffers (by exact
/// length) and keeps the uploads of constant sparse matrices (by identity: a <see cref="Glass.Kernels.Linalg.CsrMatrix"/>
/// must not be modified after a device tape has used it) until <see cref="Clear"/> or <see cref="Dispose"/>.
/// Not thread-safe: use one arena per training loop (one live tape at a time) and one device.
/// </summary>
public sealed class TapeArena : IDisposable
{
    private readonly Dictionary<int, Stack<double[]>> _free = new();
    private DeviceBufferPool? _device;

    /// <summary>Buffers currently held for reuse.</summary>
    public int FreeBuffers { get; private set; }

    /// <summary>Doubles currently held for reuse.</summary>
    public long FreeDoubles { get; private set; }

    internal double[] Rent(int length)
    {
        if (_free.TryGetValue(length, out var stack) && stack.Count > 0)
        {
            FreeBuffers--;
            FreeDoubles -= length;
            return stack.Pop();
        }
        return GC.AllocateUninitializedArray<double>(length);
    }

    internal void Return(double[] buffer)
    {
        if (!_free.TryGetValue(buffer.Length, out var stack)) _free[buffer.Length] = stack = new Stack<double[]>();
        stack.Push(buffer);
        FreeBuffers++;
        FreeDoubles += buffer.Length;
    }

    /// <summary>Device buffers allocated by this arena's pool so far (0 before a device tape used it).</summary>
    internal int DeviceAllocations => _device?.Allocations ?? 0;

    /// <summary>Sparse matrices (and transposed patterns) this arena's pool has uploaded so far.</summary>
    internal int CsrUploads => _device?.CsrUploads ?? 0;

    /// <summary>The device pool, created for <paramref name="accelerator"/> on first use.</summary>
    /// <exception cref="InvalidOperationException">The arena already pools buffers of another accelerator.</exception>
    internal DeviceBufferPool DevicePool(ILGPU.Runtime.Accelerator accelerator)
    {
        if (_device is null) return _device = new DeviceBufferPool(accelerator);
        if (!ReferenceEquals(_device.Accelerator, accelerator))
            throw new InvalidOperationException($"This arena pools device buffers of '{_device.Accelerator.Name}'; a tape on '{accelerator.Name}' needs an arena of its own.");
        return _device;
    }

    /// <summary>Drops every pooled buffer: host buffers go to the garbage collector, device buffers and uploaded sparse matrices are freed. Not while a tape using the arena is live.</summary>
    public void Clear()
    {
        _free.Clear();
        FreeBuffers = 0;
        FreeDoubles = 0;
        _device?.Dispose();
        _device = null;
    }

    /// <summary>Frees the pooled device memory (as <see cref="Clear"/>).</summary>
    public void Dispose() => Clear();
}
