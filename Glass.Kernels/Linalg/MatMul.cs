using Glass.Kernels.Device;
using Glass.Kernels.Device.LowLevel;
using Glass.Kernels.Validation;

namespace Glass.Kernels.Linalg;

/// <summary>
/// Dense matrix products on a <see cref="ComputeDevice"/>, all matrices row-major:
/// <c>C = A·B</c>, <c>C = Aᵀ·B</c>, <c>C = A·Bᵀ</c>. The managed CPU backend computes in
/// <c>double</c> (blocked, parallel, SIMD); an accelerator computes in float32 with a
/// shared-memory tiled kernel (inputs rounded to float, result widened back to double).
/// </summary>
public static class MatMul
{
    /// <summary>
    /// <c>C = A·B</c>, <c>C_ij = Σ_p A_ip B_pj</c>. A is n×k, B is k×m, C is n×m (all row-major).
    /// </summary>
    /// <exception cref="ArgumentException">A non-positive dimension, a length that does not match it, or a non-finite entry.</exception>
    public static double[] Multiply(ComputeDevice device, double[] a, double[] b, int n, int k, int m) =>
        Run(device, a, b, n, k, m, transA: false, transB: false);

    /// <summary>
    /// <c>C = Aᵀ·B</c>, <c>C_ij = Σ_p A_pi B_pj</c>. A is stored k×n, B is k×m, C is n×m (all row-major).
    /// </summary>
    /// <exception cref="ArgumentException">A non-positive dimension, a length that does not match it, or a non-finite entry.</exception>
    public static double[] MultiplyTransposedA(ComputeDevice device, double[] a, double[] b, int n, int k, int m) =>
        Run(device, a, b, n, k, m, transA: true, transB: false);

    /// <summary>
    /// <c>C = A·Bᵀ</c>, <c>C_ij = Σ_p A_ip B_jp</c>. A is n×k, B is stored m×k, C is n×m (all row-major).
    /// </summary>
    /// <exception cref="ArgumentException">A non-positive dimension, a length that does not match it, or a non-finite entry.</exception>
    public static double[] MultiplyTransposedB(ComputeDevice device, double[] a, double[] b, int n, int k, int m) =>
        Run(device, a, b, n, k, m, transA: false, transB: true);

    private static double[] Run(ComputeDevice device, double[] a, double[] b, int n, int k, int m, bool transA, bool transB)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        Guard.Positive(n, nameof(n));
        Guard.Positive(k, nameof(k));
        Guard.Positive(m, nameof(m));
        CheckSize((long)n * k, nameof(a));
        CheckSize((long)k * (m + 16), nameof(b));
        CheckSize((long)n * m, "C");
        Guard.Length<double>(a, n * k, nameof(a), transA ? $"A stored k×n = {k}×{n}" : $"A is n×k = {n}×{k}");
        Guard.Length<double>(b, k * m, nameof(b), transB ? $"B stored m×k = {m}×{k}" : $"B is k×m = {k}×{m}");
        Guard.Finite(a, nameof(a));
        Guard.Finite(b, nameof(b));

        if (!device.IsAccelerated)
        {
            var c = new double[n * m];
            MatMulCpu.Gemm(a, b, c, n, k, m, transA, transB);
            return c;
        }

        var acc = device.RequireAccelerator();
        var ops = device.GetKernels(x => new MatMulOps(x));
        using var da = HostBuffers.Upload(acc, a);
        using var db = HostBuffers.Upload(acc, b);
        using var dc = HostBuffers.Allocate(acc, (long)n * m);
        ops.Gemm(da.View, db.View, dc.View, n, k, m, transA, transB);
        return HostBuffers.Download(acc, dc);
    }

    private static void CheckSize(long count, string name)
    {
        if (count >= int.MaxValue)
            throw new ArgumentException($"{name} would have {count} entries; expected fewer than {int.MaxValue}.", name);
    }
}
