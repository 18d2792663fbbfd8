using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Algorithms.RadixSortOperations;
using ILGPU.Runtime;

namespace Glass.Kernels.Sorting;

/// <summary>
/// Device argsort: ILGPU.Algorithms radix sort of float keys with int payloads. The sort
/// (and its scratch-size computation) is created once per accelerator; scratch is sized by the
/// library and allocated by the caller.
/// </summary>
internal sealed class SortKernels
{
    private readonly Accelerator _acc;
    private readonly RadixSortPairs<float, Stride1D.Dense, int, Stride1D.Dense> _sort;
    private readonly Action<Index1D, ArrayView<int>> _iota;

    public SortKernels(Accelerator acc)
    {
        _acc = acc;
        _sort = acc.CreateRadixSortPairs<float, Stride1D.Dense, int, Stride1D.Dense, AscendingFloat>();
        _iota = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>>(IotaKernel);
    }

    // n threads: idx[i] = i.
    private static void IotaKernel(Index1D i, ArrayView<int> idx) => idx[i] = i;

    /// <summary>Sorts <paramref name="keys"/> ascending in place, permuting <paramref name="values"/> alike.</summary>
    public void SortPairs(ArrayView<float> keys, ArrayView<int> values)
    {
        int tmp = _acc.ComputeRadixSortPairsTempStorageSize<float, int, AscendingFloat>(keys.IntLength);
        using var scratch = _acc.Allocate1D<int>(Math.Max(1, tmp));
        _sort(_acc.DefaultStream, keys, values, scratch.View);
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
}
