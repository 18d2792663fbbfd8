using ILGPU.Runtime;

namespace Glass.Kernels.Device.LowLevel;

/// <summary>
/// The low-level door from a <see cref="ComputeDevice"/> to its ILGPU accelerator, for code that launches its own
/// ILGPU kernels on Glass's device (Glass's autodiff tape does). Ordinary library use never needs it: every
/// public solver takes a <see cref="ComputeDevice"/> and host arrays. This namespace (with the device-buffer kernel sets
/// <see cref="MatMulOps"/> and <see cref="PointCloudOps"/>) is the only public place where ILGPU types appear, so that
/// they are opted into deliberately; a test over the exported types enforces it.
/// </summary>
public static class DeviceInterop
{
    /// <summary>The ILGPU accelerator of <paramref name="device"/>, or null for the managed CPU backend.</summary>
    public static Accelerator? AcceleratorOf(ComputeDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        return device.Accelerator;
    }

    /// <summary>The accelerator of <paramref name="device"/>.</summary>
    /// <exception cref="InvalidOperationException"><paramref name="device"/> is the managed CPU backend.</exception>
    public static Accelerator RequireAccelerator(this ComputeDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        return device.RequireAccelerator();
    }

    /// <summary>
    /// The kernel set <typeparamref name="T"/> for <paramref name="device"/>, created by <paramref name="create"/> on first
    /// use and cached on the device (kernels are loaded once per accelerator, never inside a loop; a set that is
    /// <see cref="IDisposable"/> is disposed with the device).
    /// </summary>
    /// <exception cref="InvalidOperationException"><paramref name="device"/> is the managed CPU backend.</exception>
    public static T GetKernels<T>(this ComputeDevice device, Func<Accelerator, T> create) where T : class
    {
        ArgumentNullException.ThrowIfNull(device);
        return device.GetKernels(create);
    }
}
