using System.Runtime.InteropServices;
using ILGPU.Runtime.Cuda;

namespace Glass.Kernels.Device;

/// <summary>
/// Why CUDA did not start, in the driver's own words. ILGPU's device query swallows driver errors (a missing
/// <c>libcuda.so</c> and a machine without a GPU both read as "0 CUDA devices"); this probe loads the driver library
/// itself, calls <c>cuInit(0)</c> and <c>cuDeviceGetCount</c>, and reports the first step that failed with the loader's
/// message or the <c>CUresult</c> code and name, plus what ILGPU's CUDA API says.
/// </summary>
internal static class CudaDriverProbe
{
    /// <summary>The driver library names tried, in order (the versioned soname first, as the CUDA runtime does).</summary>
    internal static IReadOnlyList<string> LibraryNames { get; } =
        OperatingSystem.IsWindows() ? ["nvcuda.dll"]
        : OperatingSystem.IsMacOS() ? ["libcuda.dylib"]
        : ["libcuda.so.1", "libcuda.so"];

    /// <summary>
    /// One line naming the driver problem, e.g. <c>libcuda.so.1: cannot open shared object file …; libcuda.so: …</c> or
    /// <c>libcuda.so.1 loaded; cuInit(0) = 100 (CUDA_ERROR_NO_DEVICE)</c>; when the driver starts and sees devices it says so.
    /// Never throws.
    /// </summary>
    internal static string Diagnose()
    {
        var loadErrors = new List<string>();
        string? driver = null;
        foreach (var name in LibraryNames)
        {
            IntPtr handle;
            try
            {
                handle = NativeLibrary.Load(name);
            }
            catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
            {
                loadErrors.Add(LoaderReason(name, OneLine(e.Message)));
                continue;
            }
            // The handle is not freed: ILGPU (or a later probe) uses the same library in this process.
            driver = Query(name, handle);
            break;
        }
        string ilgpu = IlgpuView();
        if (driver is null)
            return $"the CUDA driver library could not be loaded ({string.Join("; ", loadErrors)}); is the NVIDIA driver installed and "
                + $"libcuda on the loader path (ldconfig -p | grep libcuda)? {ilgpu}";
        return driver + "; " + ilgpu;
    }

    private static unsafe string Query(string name, IntPtr handle)
    {
        if (!NativeLibrary.TryGetExport(handle, "cuInit", out var initPtr))
            return $"{name} loaded but has no cuInit export (not an NVIDIA driver library?)";
        var cuInit = (delegate* unmanaged<uint, int>)initPtr;
        int rc = cuInit(0);
        if (rc != 0) return $"{name} loaded; cuInit(0) = {rc} ({ErrorName(handle, rc)})";
        if (!NativeLibrary.TryGetExport(handle, "cuDeviceGetCount", out var countPtr))
            return $"{name} loaded; cuInit(0) = 0; no cuDeviceGetCount export";
        var cuDeviceGetCount = (delegate* unmanaged<int*, int>)countPtr;
        int count = 0;
        rc = cuDeviceGetCount(&count);
        if (rc != 0) return $"{name} loaded; cuInit(0) = 0; cuDeviceGetCount = {rc} ({ErrorName(handle, rc)})";
        string version = "";
        if (NativeLibrary.TryGetExport(handle, "cuDriverGetVersion", out var verPtr))
        {
            int v = 0;
            if (((delegate* unmanaged<int*, int>)verPtr)(&v) == 0) version = $", driver API {v / 1000}.{v % 1000 / 10}";
        }
        return $"{name} loaded; cuInit(0) = 0; {count} CUDA device(s){version}";
    }

    private static unsafe string ErrorName(IntPtr handle, int rc)
    {
        if (!NativeLibrary.TryGetExport(handle, "cuGetErrorName", out var p)) return "no cuGetErrorName";
        IntPtr str = IntPtr.Zero;
        if (((delegate* unmanaged<int, IntPtr*, int>)p)(rc, &str) != 0 || str == IntPtr.Zero) return "unknown CUresult";
        string? error = Marshal.PtrToStringAnsi(str);
        if (NativeLibrary.TryGetExport(handle, "cuGetErrorString", out var q))
        {
            IntPtr text = IntPtr.Zero;
            if (((delegate* unmanaged<int, IntPtr*, int>)q)(rc, &text) == 0 && text != IntPtr.Zero)
                error += ": " + Marshal.PtrToStringAnsi(text);
        }
        return error ?? "unknown CUresult";
    }

    // ILGPU's own CUDA API (what its device query saw): its error code for the device count.
    private static string IlgpuView()
    {
        try
        {
            var api = CudaAPI.CurrentAPI;
            if (api is null) return "ILGPU: no CUDA API for this platform";
            var err = api.GetDeviceCount(out int count);
            return err == CudaError.CUDA_SUCCESS
                ? $"ILGPU's CUDA API: {count} device(s)"
                : $"ILGPU's CUDA API: GetDeviceCount = {err}";
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return $"ILGPU's CUDA API: {e.GetType().Name}: {OneLine(e.Message)}";
        }
    }

    // .NET wraps the loader's message (dlerror: "libcuda.so.1: cannot open shared object file: …") in advice; keep the loader's part.
    private static string LoaderReason(string name, string message)
    {
        int at = message.LastIndexOf(name + ": ", StringComparison.Ordinal);
        return at >= 0 ? message[at..] : $"{name}: {message}";
    }

    private static string OneLine(string s) => s.ReplaceLineEndings(" ").Trim();
}
