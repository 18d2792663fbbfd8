using ILGPU;
using ILGPU.Runtime;

namespace Glass.Kernels.Device;

/// <summary>
/// Host ↔ device transfers for the public facades: host arrays are <c>double</c>, device buffers
/// are <c>float</c> (the precision every kernel runs in). The caller owns (disposes) each buffer.
/// </summary>
internal static class HostBuffers
{
    /// <summary>Allocates a float buffer on <paramref name="accelerator"/> holding <paramref name="host"/> rounded to float.</summary>
    public static MemoryBuffer1D<float, Stride1D.Dense> Upload(Accelerator accelerator, ReadOnlySpan<double> host)
    {
        var single = new float[host.Length];
        for (int i = 0; i < host.Length; i++) single[i] = (float)host[i];
        return accelerator.Allocate1D(single);
    }

    /// <summary>Allocates an uninitialised float buffer of <paramref name="length"/> entries.</summary>
    public static MemoryBuffer1D<float, Stride1D.Dense> Allocate(Accelerator accelerator, long length) =>
        accelerator.Allocate1D<float>(length);

    /// <summary>Waits for the accelerator, copies <paramref name="buffer"/> back and widens it to double.</summary>
    public static double[] Download(Accelerator accelerator, MemoryBuffer1D<float, Stride1D.Dense> buffer)
    {
        accelerator.Synchronize();
        float[] single = buffer.GetAsArray1D();
        var host = new double[single.Length];
        for (int i = 0; i < single.Length; i++) host[i] = single[i];
        return host;
    }
}
