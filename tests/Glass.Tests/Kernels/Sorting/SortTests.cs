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
        var keys = Array.ConvertAll(Close.RandomUniform(777, 5, -10, 10), v => (float)v);
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

        var big = Array.ConvertAll(Close.RandomUniform(5003, 6, -10, 10), v => (float)v);
        int need = acc.ComputeRadixSortPairsTempStorageSize<uint, int, ILGPU.Algorithms.RadixSortOperations.AscendingUInt32>(big.Length);
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

    [TestCase(1)]
    [TestCase(33)]
    [TestCase(1001)]
    [TestCase(4099)]
    public void Argsort_FloatKeys_SortedExactly_NoRepair(int n)
    {
        // Keys exactly representable as float: the device order must be right by itself (the host
        // repair makes no move). Mostly negatives, mixed signs, signed zeros, ties, large magnitudes.
        var rng = new Random(11 + n);
        var keys = new double[n];
        for (int i = 0; i < n; i++)
        {
            keys[i] = (i % 9) switch
            {
                0 => (float)(-rng.NextDouble() * 1e3),
                1 => (float)(-rng.NextDouble()),
                2 => (float)(rng.NextDouble() * 10 - 5),
                3 => (float)(-rng.NextDouble() * 3e38),
                4 => (float)(rng.NextDouble() * 3e38),
                5 => i % 2 == 0 ? -0.0 : 0.0,
                6 => -(float)rng.Next(4),                  // repeated small negative integers: ties
                7 => (float)(-rng.NextDouble() * 1e-40),   // negative subnormals
                _ => (float)(-rng.NextDouble() * 1e-20),
            };
        }
        var device = Devices.Get(_deviceName);
        var (sorted, perm, moves) = Sort.ArgsortCounted(device, keys);
        var expect = (double[])keys.Clone();
        Array.Sort(expect);
        Assert.That(sorted, Is.EqualTo(expect), "sorted keys equal Array.Sort's");
        Assert.That(perm.Order().ToArray(), Is.EqualTo(Enumerable.Range(0, n).ToArray()), "a permutation");
        for (int k = 0; k < n; k++) Assert.That(keys[perm[k]], Is.EqualTo(sorted[k]), $"keys[perm[{k}]]");
        Assert.That(moves, Is.Zero, "the float sort alone was exact: the host repair must not move anything");
        // Stable: equal keys (−0.0 and +0.0 included) keep their input order, and −0.0 precedes +0.0 only as totalOrder allows.
        for (int k = 1; k < n; k++)
            if (sorted[k] == sorted[k - 1] && BitConverter.DoubleToInt64Bits(sorted[k]) == BitConverter.DoubleToInt64Bits(sorted[k - 1]))
                Assert.That(perm[k], Is.GreaterThan(perm[k - 1]), $"stable at {k}");
    }

    [Test]
    public void Argsort_RawDeviceSort_NegativesAndZeros()
    {
        var acc = Devices.Get(_deviceName).Accelerator!;
        using var ops = new SortKernels(acc);
        float[] keys = { -1f, -3f, 2f, -0f, 0f, -2.5f, float.NegativeInfinity, -1f, 1e30f, -1e30f, float.PositiveInfinity, 0f, -0f, float.Epsilon, -float.Epsilon };
        var (sorted, perm) = ops.Argsort(keys);
        float[] expect = { float.NegativeInfinity, -1e30f, -3f, -2.5f, -1f, -1f, -float.Epsilon, -0f, -0f, 0f, 0f, float.Epsilon, 2f, 1e30f, float.PositiveInfinity };
        Assert.That(sorted, Is.EqualTo(expect));
        for (int k = 0; k < keys.Length; k++)
            Assert.That(BitConverter.SingleToInt32Bits(sorted[k]), Is.EqualTo(BitConverter.SingleToInt32Bits(keys[perm[k]])), $"bits of keys[perm[{k}]]");
        // IEEE totalOrder: −0.0 (indices 3, 12) before +0.0 (indices 4, 11), each pair stable.
        Assert.That(perm[7..11], Is.EqualTo(new[] { 3, 12, 4, 11 }));
        Assert.That(perm[4..6], Is.EqualTo(new[] { 0, 7 }), "equal keys keep input order");
    }

    [Test]
    public void OrderedBits_IsMonotoneBijection()
    {
        float[] v = { float.NegativeInfinity, -float.MaxValue, -1f, -float.Epsilon, -0f, 0f, float.Epsilon, 1f, float.MaxValue, float.PositiveInfinity };
        for (int i = 0; i < v.Length; i++)
        {
            uint b = (uint)BitConverter.SingleToInt32Bits(v[i]);
            Assert.That(SortKernels.FromOrderedBits(SortKernels.OrderedBits(b)), Is.EqualTo(b), $"round trip of {v[i]}");
            if (i > 0)
                Assert.That(SortKernels.OrderedBits(b), Is.GreaterThan(SortKernels.OrderedBits((uint)BitConverter.SingleToInt32Bits(v[i - 1]))), $"{v[i - 1]} < {v[i]}");
        }
        Assert.That(SortKernels.OrderedBits((uint)BitConverter.SingleToInt32Bits(float.NaN) & 0x7FFF_FFFFu),
            Is.GreaterThan(SortKernels.OrderedBits((uint)BitConverter.SingleToInt32Bits(float.PositiveInfinity))), "positive NaN after +inf");
    }

    [Test]
    public void Argsort_RepairOnlyInsideFloatTies()
    {
        // Distinct doubles that round to the same float (1 + k·2⁻⁴⁰, and −(1 + k·2⁻⁴⁰)), reversed:
        // the device sees ties and keeps input order, so the repair must reorder each tie run, and nothing else.
        var keys = new List<double>();
        for (int k = 20; k >= 0; k--) keys.Add(1 + k * Math.Pow(2, -40));
        for (int k = 0; k <= 20; k++) keys.Add(-(1 + k * Math.Pow(2, -40)));
        keys.Add(-5); keys.Add(5);
        var arr = keys.ToArray();
        var (sorted, perm, moves) = Sort.ArgsortCounted(Devices.Get(_deviceName), arr);
        var expect = (double[])arr.Clone();
        Array.Sort(expect);
        Assert.That(sorted, Is.EqualTo(expect));
        for (int k = 0; k < arr.Length; k++) Assert.That(arr[perm[k]], Is.EqualTo(sorted[k]));
        Assert.That(moves, Is.EqualTo(2 * (21 * 20 / 2)), "two reversed runs of 21: 210 inversions each");
    }

    [Test]
    public void Argsort_CpuPathMakesNoRepair()
    {
        var (_, _, moves) = Sort.ArgsortCounted(ComputeDevice.Cpu, Close.RandomNormal(50, 3, 1));
        Assert.That(moves, Is.Zero);
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
