using System.Globalization;

namespace Glass.Autodiff;

/// <summary>
/// A node of the tape: a rows×cols matrix value (row-major, double — the managed CPU path) and,
/// when it requires a gradient, its accumulated gradient ∂loss/∂value of the same shape.
/// </summary>
public sealed class Var
{
    internal Var(Tape tape, double[] value, int rows, int cols, bool requiresGrad, bool isLeaf = false)
    {
        Tape = tape; Value = value; Rows = rows; Cols = cols; RequiresGrad = requiresGrad; IsLeaf = isLeaf;
    }

    /// <summary>Leaves (constants, parameters) never take gradient buffers from the tape's arena: they outlive it.</summary>
    internal bool IsLeaf { get; }

    /// <summary>The tape that recorded this node.</summary>
    public Tape Tape { get; }
    /// <summary>Values, row-major, length Rows·Cols.</summary>
    public double[] Value { get; }
    /// <summary>Rows.</summary>
    public int Rows { get; }
    /// <summary>Columns.</summary>
    public int Cols { get; }
    /// <summary>Whether gradients flow into this node.</summary>
    public bool RequiresGrad { get; }
    /// <summary>∂loss/∂value after <see cref="Tape.Backward"/>; null if not reached or not required.</summary>
    public double[]? Grad { get; internal set; }
    /// <summary>Rows·Cols.</summary>
    public int Length => Value.Length;
    /// <summary>The value of a 1×1 node.</summary>
    public double Scalar => Length == 1 ? Value[0] : throw new InvalidOperationException($"Scalar of a {Shape} node; expected 1×1.");
    /// <summary>"rows×cols".</summary>
    public string Shape => Rows.ToString(CultureInfo.InvariantCulture) + "×" + Cols.ToString(CultureInfo.InvariantCulture);

    /// <summary>The gradient buffer for accumulation (+=): allocated zeroed on first use.</summary>
    internal double[] GradBuffer() => Grad ??= IsLeaf ? new double[Value.Length] : Tape.Alloc(Value.Length, clear: true);

    /// <summary>
    /// The gradient buffer for a backward that writes every entry once: when this is the first
    /// contribution (<paramref name="overwrite"/> = true) the buffer is not zeroed and the caller must
    /// overwrite all of it; otherwise the caller accumulates (+=).
    /// </summary>
    internal double[] GradForWrite(out bool overwrite)
    {
        overwrite = Grad is null;
        return Grad ??= IsLeaf ? new double[Value.Length] : Tape.Alloc(Value.Length, clear: false);
    }

    /// <inheritdoc />
    public override string ToString() => $"Var {Shape}{(RequiresGrad ? " (grad)" : "")}";
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
/// managed CPU backend (the default) everything is <c>double</c>. On an ILGPU accelerator the
/// heavy ops run forward and backward as float32 kernels; values and gradients keep a host
/// <c>double[]</c> mirror and each op uploads its operands and downloads its result (an
/// intermediate design: no device-resident buffers across ops yet).
/// </para>
/// </summary>
public sealed class Tape : IDisposable
{
    private readonly List<Action> _backward = new();
    private readonly List<double[]> _rented = new();
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

    /// <summary>Records an op result; <paramref name="backward"/> is kept only if some input needs a gradient.</summary>
    internal Var Record(double[] value, int rows, int cols, bool anyInputRequiresGrad, Action<Var>? backward)
    {
        CheckLive();
        bool rg = anyInputRequiresGrad && !IsNoGrad && backward is not null;
        var v = new Var(this, value, rows, cols, rg);
        if (rg) _backward.Add(() => { if (v.Grad is not null) backward!(v); });
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

    /// <summary>Drops every recorded closure (and the buffers they capture); with an arena, hands the op buffers back to it.</summary>
    public void Dispose()
    {
        Release();
        if (_disposed) return;
        _disposed = true;
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
/// them when disposed. Not thread-safe: use one arena per training loop (one live tape at a time).
/// </summary>
public sealed class TapeArena
{
    private readonly Dictionary<int, Stack<double[]>> _free = new();

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

    /// <summary>Drops every pooled buffer (the garbage collector takes them).</summary>
    public void Clear()
    {
        _free.Clear();
        FreeBuffers = 0;
        FreeDoubles = 0;
    }
}
