using System.Globalization;
using ILGPU;
using ILGPU.Runtime;
using Glass.Kernels.Device.LowLevel;
using DeviceBuffer = ILGPU.Runtime.MemoryBuffer1D<float, ILGPU.Stride1D.Dense>;

namespace Glass.Autodiff;

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
