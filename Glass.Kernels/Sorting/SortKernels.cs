using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Algorithms.RadixSortOperations;
using ILGPU.Runtime;

namespace Glass.Kernels.Sorting;

/// <summary>
/// Device argsort: ILGPU.Algorithms radix sort of float keys with int payloads. The sort
/// (and its scratch-size computation) is created once per accelerator; scratch is sized by the
/// library and kept here: a grow-only buffer reused by every call whose size fits and replaced
/// (once) by a larger one when a call needs more, owned by this object and released with it
/// (<see cref="Device.ComputeDevice.Dispose"/>).
/// </summary>
internal sealed class SortKernels : IDisposable
{
    private readonly Accelerator _acc;
    private readonly RadixSortPairs<float, Stride1D.Dense, int, Stride1D.Dense> _sort;
    private readonly Action<Index1D, ArrayView<int>> _iota;
    private readonly object _gate = new();
    private MemoryBuffer1D<int, Stride1D.Dense>? _scratch;

    public SortKernels(Accelerator acc)
    {
        _acc = acc;
        _sort = acc.CreateRadixSortPairs<float, Stride1D.Dense, int, Stride1D.Dense, AscendingFloat>();
        _iota = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>>(IotaKernel);
    }

    /// <summary>Scratch buffers allocated so far (grows only when a call needs more than the cached one holds).</summary>
    internal int ScratchAllocations { get; private set; }

    /// <summary>Ints in the cached scratch buffer (0 before the first sort).</summary>
    internal long ScratchLength => _scratch?.Length ?? 0;

    // n threads: idx[i] = i.
    private static void IotaKernel(Index1D i, ArrayView<int> idx) => idx[i] = i;

    /// <summary>Sorts <paramref name="keys"/> ascending in place, permuting <paramref name="values"/> alike.</summary>
    public void SortPairs(ArrayView<float> keys, ArrayView<int> values)
    {
        int tmp = Math.Max(1, _acc.ComputeRadixSortPairsTempStorageSize<float, int, AscendingFloat>(keys.IntLength));
        lock (_gate)
        {
            if (_scratch is null || _scratch.Length < tmp)
            {
                // The old buffer may still be in use by a sort queued on the stream.
                if (_scratch is not null) { _acc.Synchronize(); _scratch.Dispose(); }
                _scratch = _acc.Allocate1D<int>(tmp);
                ScratchAllocations++;
            }
            // The sort initialises its counters itself on every pass, so a reused (or larger) buffer needs no clearing.
            _sort(_acc.DefaultStream, keys, values, _scratch.View.SubView(0, tmp));
        }
    }

    /// <summary>idx ← 0, 1, …, n−1 on the device.</summary>
    public void Iota(ArrayView<int> idx) => _iota(idx.IntLength, idx);

    /// <summary>Host convenience: sorted float keys and the permutation (sorted position → original index).</summary>
    public (float[] Keys, int[] Perm) Argsort(float[] keys)
    {
        using var k = _acc.Allocate1D(keys);
        using var p = _acc.Allocate1D<int>(keys.Length);
        Iota(p.View);
        SortPairs(k.View, p.View);
        _acc.Synchronize();
        return (k.GetAsArray1D(), p.GetAsArray1D());
    }

    /// <summary>Releases the cached scratch (after the accelerator has finished with it).</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_scratch is null) return;
            _acc.Synchronize();
            _scratch.Dispose();
            _scratch = null;
        }
    }
}
