using Glass.Kernels.Device;
using Glass.Kernels.Validation;

namespace Glass.Kernels.Sorting;

/// <summary>Sorting and argsort of float keys with payload indices, on any <see cref="ComputeDevice"/>.</summary>
public static class Sort
{
    /// <summary>
    /// Returns the keys in ascending order and the permutation <c>perm</c> with
    /// <c>sorted[k] = keys[perm[k]]</c>. On an accelerator the keys are radix-sorted as float32
    /// (ILGPU.Algorithms); the double keys are then gathered and any order inversions below float
    /// resolution repaired on the host, so the result is exactly sorted in double on every device.
    /// </summary>
    /// <exception cref="ArgumentException">Empty or non-finite keys.</exception>
    public static (double[] Sorted, int[] Perm) Argsort(ComputeDevice device, double[] keys)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(keys);
        Guard.NonEmpty<double>(keys, nameof(keys));
        Guard.Finite(keys, nameof(keys));
        int n = keys.Length;
        int[] perm;
        if (device.IsAccelerated)
        {
            var ops = device.GetKernels(acc => new SortKernels(acc));
            (_, perm) = ops.Argsort(Array.ConvertAll(keys, v => (float)v));
        }
        else
        {
            perm = new int[n];
            for (int i = 0; i < n; i++) perm[i] = i;
            var copy = (double[])keys.Clone();
            Array.Sort(copy, perm);
            return (copy, perm);
        }
        var sorted = new double[n];
        for (int i = 0; i < n; i++) sorted[i] = keys[perm[i]];
        // Insertion-sort repair: the float order can only swap keys closer than float resolution.
        for (int i = 1; i < n; i++)
        {
            double v = sorted[i];
            int pv = perm[i], k = i - 1;
            while (k >= 0 && sorted[k] > v) { sorted[k + 1] = sorted[k]; perm[k + 1] = perm[k]; k--; }
            sorted[k + 1] = v;
            perm[k + 1] = pv;
        }
        return (sorted, perm);
    }
}
