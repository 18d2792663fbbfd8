using Glass.Kernels.Device;
using NUnit.Framework;

namespace Glass.Tests.Support;

/// <summary>
/// The accelerators kernel tests run on: ILGPU's CPU accelerator always (CI), in two shapes (its default 16-thread
/// groups, and CUDA's group sizes: <see cref="CudaShaped"/>), and CUDA when this machine has one. Each is opened once
/// per test run and disposed at the end.
/// </summary>
/// <remarks>
/// Without a GPU the CUDA cases are ignored, so CI stays green. With <c>GLASS_REQUIRE_CUDA=1</c> in the environment
/// (the lent GPU machine: <c>bench/device/run.sh</c>) a CUDA case that cannot open the device FAILS with the driver's
/// reason (<see cref="CudaDriverProbe"/>): a missing <c>libcuda.so</c> must not read as a green run.
/// </remarks>
[SetUpFixture]
public sealed class Devices
{
    /// <summary>Name of the ILGPU CPU accelerator shaped like CUDA (256 threads per group: CUDA's group sizes and tiles).</summary>
    public const string CudaShaped = "ilgpu-cpu-cuda-shaped";

    /// <summary>The environment variable that turns a CUDA device that does not start into a failure.</summary>
    public const string RequireCudaVariable = "GLASS_REQUIRE_CUDA";

    private static readonly Lazy<ComputeDevice> IlgpuCpuLazy = new(() => ComputeDevice.Open(DeviceKind.IlgpuCpu));
    private static readonly Lazy<ComputeDevice> CudaShapedLazy = new(ComputeDevice.OpenIlgpuCpuCudaShaped);
    private static readonly Lazy<(ComputeDevice? Device, string? Error)> CudaLazy = new(() =>
    {
        try { return (ComputeDevice.Open(DeviceKind.Cuda), null); }
        catch (InvalidOperationException e) { return (null, e.Message); }
    });

    /// <summary>True when <c>GLASS_REQUIRE_CUDA</c> is set to <c>1</c> or <c>true</c>.</summary>
    public static bool RequireCuda => IsTrue(Environment.GetEnvironmentVariable(RequireCudaVariable));

    internal static bool IsTrue(string? value) =>
        value is not null && (value.Trim() == "1" || value.Trim().Equals("true", StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Opens an accelerated device by name. A missing CUDA device marks the test ignored, or failed (with the driver's
    /// reason) under <c>GLASS_REQUIRE_CUDA=1</c>.
    /// </summary>
    public static ComputeDevice Get(string name)
    {
        switch (name)
        {
            case "ilgpu-cpu":
                return IlgpuCpuLazy.Value;
            case CudaShaped:
                return CudaShapedLazy.Value;
            case "cuda":
                var (cuda, error) = CudaLazy.Value;
                if (cuda is null)
                {
                    if (RequireCuda) Assert.Fail(RequiredButMissing(error));
                    Assert.Ignore("No CUDA device on this machine.");
                }
                return cuda!;
            default:
                throw new ArgumentException($"unknown test device '{name}'", nameof(name));
        }
    }

    /// <summary>The failure message under <c>GLASS_REQUIRE_CUDA=1</c>: the variable, then the device's own error.</summary>
    internal static string RequiredButMissing(string? error) =>
        $"{RequireCudaVariable}=1 but CUDA did not start: {error ?? "(no error recorded)"}";

    /// <summary>Device names for <c>[TestFixtureSource]</c>: the CPU accelerator, and CUDA in the <c>Gpu</c> category.</summary>
    public static IEnumerable<TestFixtureData> Accelerated()
    {
        yield return new TestFixtureData("ilgpu-cpu");
        var gpu = new TestFixtureData("cuda");
        gpu.Properties.Add("Category", "Gpu");
        yield return gpu;
    }

    /// <summary>
    /// Device names for <c>[TestCaseSource]</c> of one test method: the CPU accelerator, the CPU accelerator with CUDA's group
    /// sizes (<see cref="CudaShaped"/>) when <paramref name="cudaShaped"/>, and CUDA in the <c>Gpu</c> category.
    /// </summary>
    public static IEnumerable<TestCaseData> AcceleratedCases(bool cudaShaped = false)
    {
        yield return new TestCaseData("ilgpu-cpu");
        if (cudaShaped) yield return new TestCaseData(CudaShaped);
        yield return new TestCaseData("cuda").SetCategory("Gpu");
    }

    [OneTimeTearDown]
    public void DisposeAll()
    {
        if (IlgpuCpuLazy.IsValueCreated) IlgpuCpuLazy.Value.Dispose();
        if (CudaShapedLazy.IsValueCreated) CudaShapedLazy.Value.Dispose();
        if (CudaLazy.IsValueCreated) CudaLazy.Value.Device?.Dispose();
    }
}
