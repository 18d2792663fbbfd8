using Glass.Kernels.Linalg;
using ILGPU;
using ILGPU.Runtime;
using DeviceBuffer = ILGPU.Runtime.MemoryBuffer1D<float, ILGPU.Stride1D.Dense>;

namespace Glass.Autodiff;

/// <summary>
/// Device memory of the tapes on one accelerator: float32 buffers recycled by exact length (a training step records
/// the same shapes every time, so after the first step every rent is served from the pool), and the uploads of
/// constant sparse matrices (<see cref="CsrMatrix"/>, and the transposed pattern their backward needs) cached by
/// identity. Owned by a <see cref="TapeArena"/> (lives across tapes) or, without one, by a single tape (freed with it).
/// Not thread-safe, like the arena: one live tape at a time.
/// </summary>
internal sealed class DeviceBufferPool : IDisposable
{
    private readonly Dictionary<long, Stack<DeviceBuffer>> _free = new();
    private readonly Dictionary<CsrMatrix, DeviceCsrPair> _csr = new(ReferenceEqualityComparer.Instance);
    private bool _disposed;

    public DeviceBufferPool(Accelerator accelerator) => Accelerator = accelerator;

    /// <summary>The accelerator every buffer here lives on.</summary>
    public Accelerator Accelerator { get; }

    /// <summary>Float buffers allocated on the device so far (rents that the pool could not serve).</summary>
    public int Allocations { get; private set; }

    /// <summary>Sparse matrices (or transposed patterns) uploaded so far.</summary>
    public int CsrUploads { get; private set; }

    /// <summary>Buffers held for reuse.</summary>
    public int FreeBuffers { get; private set; }

    /// <summary>A float buffer of exactly max(1, <paramref name="length"/>) entries (contents undefined); hand it back with <see cref="Return"/>.</summary>
    public DeviceBuffer Rent(long length)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        length = Math.Max(1, length);
        if (_free.TryGetValue(length, out var stack) && stack.Count > 0)
        {
            FreeBuffers--;
            return stack.Pop();
        }
        Allocations++;
        return Accelerator.Allocate1D<float>(length);
    }

    /// <summary>Takes a rented buffer back (work already queued on the accelerator's stream that uses it runs first).</summary>
    public void Return(DeviceBuffer buffer)
    {
        if (_disposed) { buffer.Dispose(); return; }
        if (!_free.TryGetValue(buffer.Length, out var stack)) _free[buffer.Length] = stack = new Stack<DeviceBuffer>();
        stack.Push(buffer);
        FreeBuffers++;
    }

    /// <summary>S on the device (row pointers, columns, float values), uploaded on first use and cached by identity.</summary>
    public DeviceCsr Csr(CsrMatrix s) => Entry(s).Forward;

    /// <summary>Sᵀ on the device (its pattern built on the host once), cached with S.</summary>
    public DeviceCsr CsrTransposed(CsrMatrix s)
    {
        var e = Entry(s);
        if (e.Transposed is null)
        {
            var (rp, ci, v) = Transpose(s);
            e.Transposed = Upload(rp, ci, v);
        }
        return e.Transposed;
    }

    private DeviceCsrPair Entry(CsrMatrix s)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_csr.TryGetValue(s, out var e)) _csr[s] = e = new DeviceCsrPair(Upload(s.RowPtr, s.ColIdx, s.Values));
        return e;
    }

    private DeviceCsr Upload(int[] rowPtr, int[] colIdx, double[] values)
    {
        CsrUploads++;
        var single = new float[Math.Max(1, values.Length)];
        for (int k = 0; k < values.Length; k++) single[k] = (float)values[k];
        var ci = colIdx.Length > 0 ? colIdx : new int[1];
        return new DeviceCsr(Accelerator.Allocate1D(rowPtr), Accelerator.Allocate1D(ci), Accelerator.Allocate1D(single));
    }

    private static (int[] RowPtr, int[] ColIdx, double[] Values) Transpose(CsrMatrix s)
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

    /// <summary>Frees every pooled buffer and cached matrix (after the accelerator has finished with them).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Accelerator.Synchronize();
        foreach (var stack in _free.Values)
            foreach (var b in stack) b.Dispose();
        _free.Clear();
        FreeBuffers = 0;
        foreach (var e in _csr.Values) { e.Forward.Dispose(); e.Transposed?.Dispose(); }
        _csr.Clear();
    }

    /// <summary>A sparse matrix on the device: three buffers owned by the pool.</summary>
    internal sealed class DeviceCsr(MemoryBuffer1D<int, Stride1D.Dense> rowPtr, MemoryBuffer1D<int, Stride1D.Dense> colIdx, DeviceBuffer values) : IDisposable
    {
        public ArrayView<int> RowPtr => rowPtr.View;
        public ArrayView<int> ColIdx => colIdx.View;
        public ArrayView<float> Values => values.View;

        public void Dispose()
        {
            rowPtr.Dispose();
            colIdx.Dispose();
            values.Dispose();
        }
    }

    private sealed class DeviceCsrPair(DeviceCsr forward)
    {
        public DeviceCsr Forward { get; } = forward;
        public DeviceCsr? Transposed { get; set; }
    }
}
