using System.Collections.Concurrent;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace Glass.Kernels.Device;

/// <summary>Where work runs.</summary>
public enum DeviceKind
{
    /// <summary>The managed CPU backend: <c>double</c> accumulation, <c>Parallel.For</c> and SIMD. Also the reference.</summary>
    Cpu,
    /// <summary>ILGPU kernels on an NVIDIA GPU (float32).</summary>
    Cuda,
    /// <summary>ILGPU kernels on ILGPU's CPU accelerator (emulated GPU threads; for tests, small sizes only).</summary>
    IlgpuCpu,
}

/// <summary>One accelerator (or the managed CPU backend) and the kernels loaded on it.</summary>
/// <remarks>
/// The single place that decides where work runs. <see cref="Open(string)"/> takes
/// <c>auto</c> (CUDA if ILGPU finds a CUDA device, else the managed CPU backend), <c>cpu</c>,
/// <c>cuda</c> or <c>ilgpu-cpu</c>. Kernels are compiled once per device and cached here
/// (see <see cref="GetKernels{T}"/>); the device owns the ILGPU context and accelerator and
/// releases them on <see cref="Dispose"/>.
/// </remarks>
public sealed class ComputeDevice : IDisposable
{
    private readonly Context? _context;
    private readonly ConcurrentDictionary<Type, object> _kernels = new();
    private bool _disposed;

    private ComputeDevice(DeviceKind kind, string name, Context? context, Accelerator? accelerator)
    {
        Kind = kind;
        Name = name;
        _context = context;
        Accelerator = accelerator;
    }

    /// <summary>The managed CPU backend; needs no disposal (disposing it is a no-op).</summary>
    public static ComputeDevice Cpu { get; } = new(DeviceKind.Cpu, "managed CPU (" + Environment.ProcessorCount + " cores, double)", null, null);

    /// <summary>Which backend this is.</summary>
    public DeviceKind Kind { get; }

    /// <summary>Human-readable name, e.g. "NVIDIA H100 80GB HBM3 (CUDA)".</summary>
    public string Name { get; }

    /// <summary>Short name as accepted by <see cref="Open(string)"/>: <c>cpu</c>, <c>cuda</c> or <c>ilgpu-cpu</c>.</summary>
    public string ShortName => Kind switch
    {
        DeviceKind.Cpu => "cpu",
        DeviceKind.Cuda => "cuda",
        _ => "ilgpu-cpu",
    };

    /// <summary>True when work runs through ILGPU kernels (CUDA or the ILGPU CPU accelerator).</summary>
    public bool IsAccelerated => Accelerator is not null;

    /// <summary>The ILGPU accelerator, or null for the managed CPU backend (kept internal so that no ILGPU type
    /// appears on the device's public surface; Glass's own layers reach it through
    /// <see cref="LowLevel.DeviceInterop"/>).</summary>
    internal Accelerator? Accelerator { get; }

    /// <summary>
    /// Opens a device by name: <c>auto</c> | <c>cpu</c> | <c>cuda</c> | <c>ilgpu-cpu</c> (case-insensitive).
    /// </summary>
    /// <exception cref="ArgumentException">Unknown name.</exception>
    /// <exception cref="InvalidOperationException"><c>cuda</c> was asked for and ILGPU finds no CUDA device.</exception>
    public static ComputeDevice Open(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return spec.Trim().ToLowerInvariant() switch
        {
            "auto" => OpenAuto(),
            "cpu" => Cpu,
            "cuda" or "gpu" => OpenCuda(),
            "ilgpu-cpu" or "ilgpu_cpu" => OpenIlgpuCpu(),
            _ => throw new ArgumentException(
                $"Unknown device '{spec}'; expected one of: auto, cpu, cuda, ilgpu-cpu.", nameof(spec)),
        };
    }

    /// <summary>Opens <see cref="DeviceKind"/> <paramref name="kind"/>.</summary>
    public static ComputeDevice Open(DeviceKind kind) => kind switch
    {
        DeviceKind.Cpu => Cpu,
        DeviceKind.Cuda => OpenCuda(),
        _ => OpenIlgpuCpu(),
    };

    /// <summary>The accelerators ILGPU can see on this machine, plus the managed CPU backend.</summary>
    public static IReadOnlyList<string> Describe()
    {
        var lines = new List<string> { "cpu        " + Cpu.Name };
        try
        {
            using var ctx = Context.Create(b => b.Default().EnableAlgorithms());
            if (ctx.GetCudaDevices().Count == 0) lines.Add("(no CUDA device: " + CudaDriverProbe.Diagnose() + ")");
            foreach (var d in ctx)
            {
                string kind = d.AcceleratorType == AcceleratorType.Cuda ? "cuda" : d.AcceleratorType == AcceleratorType.CPU ? "ilgpu-cpu" : d.AcceleratorType.ToString().ToLowerInvariant();
                // ILGPU's CPU accelerator reports an unbounded memory size; show memory only when it is a real card's.
                string mem = d.MemorySize < (1L << 50) ? $"memory {d.MemorySize / (1024.0 * 1024 * 1024):F1} GiB, " : "";
                lines.Add($"{kind,-10} {d.Name} ({mem}max group {d.MaxNumThreadsPerGroup})");
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            lines.Add("(ILGPU could not enumerate accelerators: " + e.Message + ")");
        }
        return lines;
    }

    private static ComputeDevice OpenAuto()
    {
        var ctx = Context.Create(b => b.Cuda().EnableAlgorithms());
        if (ctx.GetCudaDevices().Count > 0)
            return FromContext(ctx, DeviceKind.Cuda);
        ctx.Dispose();
        return Cpu;
    }

    private static ComputeDevice OpenCuda()
    {
        Context ctx;
        try
        {
            ctx = Context.Create(b => b.Cuda().EnableAlgorithms());
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidOperationException(
                "Device 'cuda' was requested but ILGPU could not initialise CUDA: " + e.Message + " Driver: " + CudaDriverProbe.Diagnose() + ".", e);
        }
        if (ctx.GetCudaDevices().Count == 0)
        {
            ctx.Dispose();
            throw new InvalidOperationException(
                "Device 'cuda' was requested but ILGPU finds no CUDA device on this machine. Driver: " + CudaDriverProbe.Diagnose()
                + ". Use --device cpu (or auto).");
        }
        return FromContext(ctx, DeviceKind.Cuda);
    }

    private static ComputeDevice OpenIlgpuCpu()
    {
        var ctx = Context.Create(b => b.CPU(CPUDeviceKind.Default).EnableAlgorithms().Math(MathMode.Default));
        return FromContext(ctx, DeviceKind.IlgpuCpu);
    }

    /// <summary>Threads per group of the CUDA-shaped CPU accelerator: 8 warps of 32, enough for CUDA's 128-thread groups and 16×16 tiles.</summary>
    internal const int CudaShapedGroup = 256;

    /// <summary>
    /// ILGPU's CPU accelerator shaped like a CUDA device (warps of 32, <see cref="CudaShapedGroup"/> threads per group), so
    /// kernels pick the group sizes and tiles they pick on CUDA (128-thread row groups, 16×16 GEMM tiles) instead of the
    /// default CPU accelerator's 16 threads. For tests: it exercises the multi-block loops and barriers that CUDA runs.
    /// </summary>
    internal static ComputeDevice OpenIlgpuCpuCudaShaped()
    {
        var shape = new CPUDevice(numThreadsPerWarp: 32, numWarpsPerMultiprocessor: CudaShapedGroup / 32, numMultiprocessors: 1);
        var ctx = Context.Create(b => b.CPU(shape).EnableAlgorithms().Math(MathMode.Default));
        return FromContext(ctx, DeviceKind.IlgpuCpu, " (ILGPU CPU accelerator, CUDA-shaped groups)");
    }

    private static ComputeDevice FromContext(Context ctx, DeviceKind kind, string? suffix = null)
    {
        Accelerator acc = kind == DeviceKind.Cuda
            ? ctx.CreateCudaAccelerator(0)
            : ctx.CreateCPUAccelerator(0);
        string name = acc.Name + (suffix ?? (kind == DeviceKind.Cuda ? " (CUDA)" : " (ILGPU CPU accelerator)"));
        return new ComputeDevice(kind, name, ctx, acc);
    }

    /// <summary>
    /// The kernel set <typeparamref name="T"/> for this device, compiled on first use and cached:
    /// kernels are loaded once per accelerator, never inside a loop. A kernel set that is
    /// <see cref="IDisposable"/> (it caches device scratch) is disposed with the device.
    /// </summary>
    internal T GetKernels<T>(Func<Accelerator, T> create) where T : class
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var acc = Accelerator ?? throw new InvalidOperationException("The managed CPU backend has no ILGPU kernels.");
        return (T)_kernels.GetOrAdd(typeof(T), _ => create(acc));
    }

    /// <summary>The accelerator, or an error naming the caller when this is the managed CPU backend.</summary>
    internal Accelerator RequireAccelerator() =>
        Accelerator ?? throw new InvalidOperationException("This operation needs an ILGPU accelerator (cuda or ilgpu-cpu).");

    /// <inheritdoc />
    public override string ToString() => $"{ShortName}: {Name}";

    /// <summary>Releases the accelerator and the ILGPU context (no-op for the managed CPU backend).</summary>
    public void Dispose()
    {
        if (_disposed || Kind == DeviceKind.Cpu) return;
        _disposed = true;
        // Kernel sets that own device buffers (cached scratch) release them before the accelerator goes.
        foreach (var k in _kernels.Values)
            if (k is IDisposable d) d.Dispose();
        _kernels.Clear();
        Accelerator?.Dispose();
        _context?.Dispose();
    }
}
