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
