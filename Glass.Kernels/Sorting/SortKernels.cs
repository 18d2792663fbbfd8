using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Algorithms.RadixSortOperations;
using ILGPU.Runtime;

namespace Glass.Kernels.Sorting;

/// <summary>
/// Device argsort: ILGPU.Algorithms radix sort of float keys with int payloads. The float keys are
/// mapped in place to order-preserving uint keys (<see cref="OrderedBits"/>), sorted with the
/// ascending uint32 radix sort, and mapped back; ILGPU's own float sort is not used (it orders
/// negative keys by magnitude on the CPU accelerator). The sort
/// (and its scratch-size computation) is created once per accelerator; scratch is sized by the
/// library and kept here: a grow-only buffer reused by every call whose size fits and replaced
/// (once) by a larger one when a call needs more, owned by this object and released with it
/// (<see cref="Device.ComputeDevice.Dispose"/>).
/// </summary>
internal sealed class SortKernels : IDisposable
{
    private readonly Accelerator _acc;
    private readonly RadixSortPairs<uint, Stride1D.Dense, int, Stride1D.Dense> _sort;
    private readonly Action<Index1D, ArrayView<uint>> _encode;
    private readonly Action<Index1D, ArrayView<uint>> _decode;
    private readonly Action<Index1D, ArrayView<int>> _iota;
    private readonly object _gate = new();
    private MemoryBuffer1D<int, Stride1D.Dense>? _scratch;

    public SortKernels(Accelerator acc)
    {
        _acc = acc;
        _sort = acc.CreateRadixSortPairs<uint, Stride1D.Dense, int, Stride1D.Dense, AscendingUInt32>();
        _encode = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<uint>>(EncodeKernel);
        _decode = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<uint>>(DecodeKernel);
        _iota = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>>(IotaKernel);
    }

    /// <summary>Scratch buffers allocated so far (grows only when a call needs more than the cached one holds).</summary>
    internal int ScratchAllocations { get; private set; }

    /// <summary>Ints in the cached scratch buffer (0 before the first sort).</summary>
    internal long ScratchLength => _scratch?.Length ?? 0;

    /// <summary>
    /// The float with bit pattern <paramref name="bits"/> as a uint whose unsigned order is the float
    /// order: negatives have all bits flipped (larger magnitude → smaller key), non-negatives only the
    /// sign bit (so every one lies above every negative). This is IEEE 754 totalOrder: −0.0 sorts just
    /// before +0.0, −∞ first and +∞ last among numbers; a NaN sorts after +∞ if its sign bit is clear
    /// and before −∞ if set. The map is a bijection (<see cref="FromOrderedBits"/> inverts it).
    /// </summary>
    internal static uint OrderedBits(uint bits) => (bits & 0x8000_0000u) != 0 ? ~bits : bits | 0x8000_0000u;

    /// <summary>Inverse of <see cref="OrderedBits"/>.</summary>
    internal static uint FromOrderedBits(uint key) => (key & 0x8000_0000u) != 0 ? key & 0x7FFF_FFFFu : ~key;

    // n threads: k[i] ← OrderedBits(k[i]) (float bit patterns → sortable uint keys, in place).
    private static void EncodeKernel(Index1D i, ArrayView<uint> k) => k[i] = OrderedBits(k[i]);

    // n threads: k[i] ← FromOrderedBits(k[i]) (back to float bit patterns, in place).
    private static void DecodeKernel(Index1D i, ArrayView<uint> k) => k[i] = FromOrderedBits(k[i]);

    // n threads: idx[i] = i.
    private static void IotaKernel(Index1D i, ArrayView<int> idx) => idx[i] = i;

    /// <summary>Sorts <paramref name="keys"/> ascending in place, permuting <paramref name="values"/> alike.</summary>
    public void SortPairs(ArrayView<float> keys, ArrayView<int> values)
    {
        int n = keys.IntLength;
        if (n == 0) return;
        var bits = keys.Cast<uint>();
        int tmp = Math.Max(1, _acc.ComputeRadixSortPairsTempStorageSize<uint, int, AscendingUInt32>(n));
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
            _encode(n, bits);
            _sort(_acc.DefaultStream, bits, values, _scratch.View.SubView(0, tmp));
            _decode(n, bits);
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
