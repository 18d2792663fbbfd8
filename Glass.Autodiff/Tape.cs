using System.Globalization;

namespace Glass.Autodiff;

/// <summary>
/// A node of the tape: a rows×cols matrix value (row-major, double — the managed CPU path) and,
/// when it requires a gradient, its accumulated gradient ∂loss/∂value of the same shape.
/// </summary>
public sealed class Var
{
    internal Var(Tape tape, double[] value, int rows, int cols, bool requiresGrad)
    {
        Tape = tape; Value = value; Rows = rows; Cols = cols; RequiresGrad = requiresGrad;
    }

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

    internal double[] GradBuffer() => Grad ??= new double[Value.Length];

    /// <inheritdoc />
    public override string ToString() => $"Var {Shape}{(RequiresGrad ? " (grad)" : "")}";
}

/// <summary>
/// Reverse-mode tape (micrograd's design on matrices): every op records its value and one backward
/// closure that captures only what it needs; <see cref="Backward"/> runs the closures in reverse,
/// accumulating gradients (fan-out adds). The tape owns its nodes; after Backward it is released and
/// cannot be replayed. Inside <see cref="NoGrad"/> nothing is recorded (inference).
/// </summary>
public sealed class Tape : IDisposable
{
    private readonly List<Action> _backward = new();
    private int _noGrad;
    private bool _released;

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
        return new Var(this, value, rows, cols, requiresGrad && !IsNoGrad);
    }

    /// <summary>A scalar constant.</summary>
    public Var Scalar(double v) => Constant(new[] { v }, 1, 1);

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

    /// <summary>Drops every recorded closure (and the buffers they capture).</summary>
    public void Dispose() => Release();

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
