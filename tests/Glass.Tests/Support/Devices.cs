using Glass.Kernels.Device;
using NUnit.Framework;

namespace Glass.Tests.Support;

/// <summary>
/// The accelerators kernel tests run on: ILGPU's CPU accelerator always (CI), CUDA when this
/// machine has one. Each is opened once per test run and disposed at the end.
/// </summary>
[SetUpFixture]
public sealed class Devices
{
    private static readonly Lazy<ComputeDevice> IlgpuCpuLazy = new(() => ComputeDevice.Open(DeviceKind.IlgpuCpu));
    private static readonly Lazy<ComputeDevice?> CudaLazy = new(() =>
    {
        try { return ComputeDevice.Open(DeviceKind.Cuda); }
        catch (InvalidOperationException) { return null; }
    });

    /// <summary>Opens an accelerated device by name, or marks the test ignored if it is absent.</summary>
    public static ComputeDevice Get(string name)
    {
        switch (name)
        {
            case "ilgpu-cpu":
                return IlgpuCpuLazy.Value;
            case "cuda":
                var cuda = CudaLazy.Value;
                if (cuda is null) Assert.Ignore("No CUDA device on this machine.");
                return cuda!;
            default:
                throw new ArgumentException($"unknown test device '{name}'", nameof(name));
        }
    }

    /// <summary>Device names for <c>[TestFixtureSource]</c>.</summary>
    public static IEnumerable<TestFixtureData> Accelerated()
    {
        yield return new TestFixtureData("ilgpu-cpu");
        var gpu = new TestFixtureData("cuda");
        gpu.Properties.Add("Category", "Gpu");
        yield return gpu;
    }

    [OneTimeTearDown]
    public void DisposeAll()
    {
        if (IlgpuCpuLazy.IsValueCreated) IlgpuCpuLazy.Value.Dispose();
        if (CudaLazy.IsValueCreated) CudaLazy.Value?.Dispose();
    }
}
