using Glass.Kernels.Device;
using Glass.Kernels.Sorting;
using Glass.Tests.Support;
using ILGPU.Algorithms;
using NUnit.Framework;

namespace Glass.Tests.Kernels.Sorting;

[TestFixtureSource(typeof(Devices), nameof(Devices.Accelerated))]
public class SortTests
{
    private readonly string _deviceName;
    public SortTests(string deviceName) => _deviceName = deviceName;

    [TestCase(1)]
    [TestCase(7)]
    [TestCase(1001)]
    [TestCase(4099)]
    public void Argsort_MatchesCpu(int n)
    {
        var keys = Close.RandomNormal(n, n, 10);
        if (n > 10) { keys[3] = keys[5]; keys[8] = -0.0; keys[9] = 0.0; } // ties and signed zeros
        var (cpuSorted, cpuPerm) = Sort.Argsort(ComputeDevice.Cpu, keys);
        var (devSorted, devPerm) = Sort.Argsort(Devices.Get(_deviceName), keys);
        Assert.That(devSorted, Is.EqualTo(cpuSorted), "sorted keys");
        Assert.That(devPerm.Order().ToArray(), Is.EqualTo(Enumerable.Range(0, n).ToArray()), "a permutation");
        for (int k = 0; k < n; k++) Assert.That(keys[devPerm[k]], Is.EqualTo(devSorted[k]), $"keys[perm[{k}]]");
        for (int k = 1; k < n; k++) Assert.That(cpuSorted[k], Is.GreaterThanOrEqualTo(cpuSorted[k - 1]));
    }

    [Test]
    public void Argsort_ReusesItsScratch()
    {
        // A kernel set of its own (the device's cached one is shared with the other tests), disposed here.
        var acc = Devices.Get(_deviceName).Accelerator!;
        using var ops = new SortKernels(acc);
        Assert.That(ops.ScratchAllocations, Is.Zero);
        // Positive keys: the raw device sort orders negative floats by magnitude (Sort.Argsort repairs that on the host).
        var keys = Array.ConvertAll(Close.RandomUniform(777, 5, 0.01, 10), v => (float)v);
        var first = ops.Argsort(keys);
        AssertSorted(keys, first.Keys, first.Perm);
        Assert.That(ops.ScratchAllocations, Is.EqualTo(1));
        long held = ops.ScratchLength;
        for (int rep = 0; rep < 3; rep++)
        {
            var again = ops.Argsort(keys);
            Assert.That(again.Perm, Is.EqualTo(first.Perm), $"repeat {rep}: permutation");
            Assert.That(again.Keys, Is.EqualTo(first.Keys), $"repeat {rep}: keys");
        }
        var small = keys[..101];
        var s = ops.Argsort(small);
        AssertSorted(small, s.Keys, s.Perm);
        Assert.That(ops.ScratchAllocations, Is.EqualTo(1), "same and smaller sizes reuse the cached scratch");
        Assert.That(ops.ScratchLength, Is.EqualTo(held));

        var big = Array.ConvertAll(Close.RandomUniform(5003, 6, 0.01, 10), v => (float)v);
        int need = acc.ComputeRadixSortPairsTempStorageSize<float, int, ILGPU.Algorithms.RadixSortOperations.AscendingFloat>(big.Length);
        var b = ops.Argsort(big);
        AssertSorted(big, b.Keys, b.Perm);
        Assert.That(ops.ScratchLength, Is.GreaterThanOrEqualTo(need));
        int afterGrow = ops.ScratchAllocations;
        Assert.That(afterGrow, Is.EqualTo(need > held ? 2 : 1), "a larger size grows the scratch once");
        var b2 = ops.Argsort(big);
        Assert.That(b2.Perm, Is.EqualTo(b.Perm));
        Assert.That(ops.Argsort(keys).Perm, Is.EqualTo(first.Perm), "the grown scratch serves the smaller size");
        Assert.That(ops.ScratchAllocations, Is.EqualTo(afterGrow));
    }

    private static void AssertSorted(float[] keys, float[] sorted, int[] perm)
    {
        Assert.That(perm.Order().ToArray(), Is.EqualTo(Enumerable.Range(0, keys.Length).ToArray()), "a permutation");
        for (int k = 0; k < keys.Length; k++) Assert.That(sorted[k], Is.EqualTo(keys[perm[k]]), $"keys[perm[{k}]]");
        for (int k = 1; k < keys.Length; k++) Assert.That(sorted[k], Is.GreaterThanOrEqualTo(sorted[k - 1]), $"ascending at {k}");
    }

    [Test]
    public void Argsort_BadInput()
    {
        var ex = Assert.Throws<ArgumentException>(() => Sort.Argsort(ComputeDevice.Cpu, new[] { 1.0, double.NaN }))!;
        Assert.That(ex.Message, Does.Contain("keys[1]"));
    }
}
