using Glass.Kernels.Device;
using Glass.Kernels.Sorting;
using Glass.Tests.Support;
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
    public void Argsort_BadInput()
    {
        var ex = Assert.Throws<ArgumentException>(() => Sort.Argsort(ComputeDevice.Cpu, new[] { 1.0, double.NaN }))!;
        Assert.That(ex.Message, Does.Contain("keys[1]"));
    }
}
