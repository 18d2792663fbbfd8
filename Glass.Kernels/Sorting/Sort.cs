using Glass.Kernels.Device;
using Glass.Kernels.Validation;

namespace Glass.Kernels.Sorting;

/// <summary>Sorting and argsort of float keys with payload indices, on any <see cref="ComputeDevice"/>.</summary>
public static class Sort
{
    /// <summary>
    /// Returns the keys in ascending order and the permutation <c>perm</c> with
    /// <c>sorted[k] = keys[perm[k]]</c>. On an accelerator the keys are rounded to float32 and
    /// radix-sorted there (order-preserving uint keys, stable, see <see cref="SortKernels"/>); the
    /// double keys are then gathered and the order fixed up on the host where float rounding merged
    /// distinct doubles, so the result is exactly sorted in double on every device.
    /// </summary>
    /// <exception cref="ArgumentException">Empty or non-finite keys.</exception>
    public static (double[] Sorted, int[] Perm) Argsort(ComputeDevice device, double[] keys)
    {
        var (sorted, perm, _) = ArgsortCounted(device, keys);
        return (sorted, perm);
    }

    /// <summary>
    /// <see cref="Argsort"/>, also returning how many element moves the host repair made (0 on the
    /// managed CPU path, and 0 on an accelerator whenever the keys are exactly representable as float).
    /// </summary>
    internal static (double[] Sorted, int[] Perm, long RepairMoves) ArgsortCounted(ComputeDevice device, double[] keys)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(keys);
        Guard.NonEmpty<double>(keys, nameof(keys));
        Guard.Finite(keys, nameof(keys));
        int n = keys.Length;
        if (!device.IsAccelerated)
        {
            var perm0 = new int[n];
            for (int i = 0; i < n; i++) perm0[i] = i;
            var copy = (double[])keys.Clone();
            Array.Sort(copy, perm0);
            return (copy, perm0, 0);
        }
        var ops = device.GetKernels(acc => new SortKernels(acc));
        var (_, perm) = ops.Argsort(Array.ConvertAll(keys, v => (float)v));
        var sorted = new double[n];
        for (int i = 0; i < n; i++) sorted[i] = keys[perm[i]];
        // Insertion-sort repair. Rounding to float is monotone (a < b ⇒ (float)a ≤ (float)b) and the
        // device order of float keys is exact and stable, so the gathered doubles can be out of order
        // only inside a run of equal float keys: distinct doubles that rounded to the same float (closer
        // than float resolution, below the smallest subnormal, or beyond float.MaxValue, which round to
        // ±∞). The repair moves elements only inside such runs; its cost is the number of inversions
        // there, zero when every key is exactly a float. (−0.0 and +0.0 compare equal in double and are
        // never moved.)
        long moves = 0;
        for (int i = 1; i < n; i++)
        {
            if (sorted[i - 1] <= sorted[i]) continue;
            double v = sorted[i];
            int pv = perm[i], k = i - 1;
            while (k >= 0 && sorted[k] > v) { sorted[k + 1] = sorted[k]; perm[k + 1] = perm[k]; k--; moves++; }
            sorted[k + 1] = v;
            perm[k + 1] = pv;
        }
        return (sorted, perm, moves);
    }
}
