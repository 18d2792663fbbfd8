using Glass.Kernels.Device;
using Glass.Kernels.Device.LowLevel;

namespace Glass.Kernels.PointClouds;

/// <summary>
/// Pairwise cost matrices between two point sets stored as rows of row-major arrays
/// (X n×dim, Y m×dim; result n×m row-major). The managed CPU backend computes in <c>double</c>;
/// an accelerator computes in float32 (inputs rounded to float, results widened back to double).
/// </summary>
public static class PairwiseDistances
{
    /// <summary>
    /// Geodesic distances on S²: <c>D_ij = arccos(clamp(⟨x_i, y_j⟩, −1, 1))</c> ∈ [0, π]; x n×3, y m×3, D n×m.
    /// </summary>
    /// <remarks>
    /// Evaluated as <c>atan2(‖x_i × y_j‖, ⟨x_i, y_j⟩)</c>, equal for unit vectors but accurate near 0 and π
    /// (arccos of a rounded cosine has error ≈ √ε there: 3e-4 rad in float32), and exactly 0 for equal rows.
    /// </remarks>
    /// <exception cref="ArgumentException">
    /// A non-finite entry, a length not a multiple of 3, or a row with |‖·‖ − 1| &gt; 1e-6
    /// (the message names the argument and the row).
    /// </exception>
    public static double[] Geodesic(ComputeDevice device, double[] x, double[] y) =>
        GeodesicCore(device, x, y, squared: false);

    /// <summary>
    /// Squared geodesic distances on S²: <c>D_ij² = arccos(clamp(⟨x_i, y_j⟩, −1, 1))²</c> ∈ [0, π²];
    /// x n×3, y m×3, result n×m (the usual ground cost for OT on the sphere).
    /// </summary>
    /// <exception cref="ArgumentException">As for <see cref="Geodesic"/>.</exception>
    public static double[] GeodesicSquared(ComputeDevice device, double[] x, double[] y) =>
        GeodesicCore(device, x, y, squared: true);

    /// <summary>
    /// Squared Euclidean distances <c>C_ij = ‖x_i − y_j‖² = Σ_t (x_it − y_jt)²</c>; x n×dim, y m×dim, C n×m.
    /// </summary>
    /// <remarks>
    /// Summed directly rather than as <c>‖x‖² + ‖y‖² − 2⟨x,y⟩</c>: O(n·m·dim) either way, but the
    /// direct sum has no cancellation — it is never negative (nothing to clamp), exactly 0 for equal
    /// rows, and accurate to about dim·ε relative to C_ij itself, where the expanded form's error is
    /// ε·(‖x‖² + ‖y‖²), which in float32 swamps the distance between nearby points.
    /// </remarks>
    /// <exception cref="ArgumentException">
    /// <paramref name="dim"/> ≤ 0, a length not a multiple of <paramref name="dim"/>, an empty set, or a non-finite entry.
    /// </exception>
    public static double[] SquaredEuclidean(ComputeDevice device, double[] x, double[] y, int dim)
    {
        ArgumentNullException.ThrowIfNull(device);
        int n = PointSets.Rows(x, dim, nameof(x));
        int m = PointSets.Rows(y, dim, nameof(y));
        PointSets.OutputSize(n, m, "the distance matrix");
        if (!device.IsAccelerated)
        {
            var d = new double[n * m];
            PointCloudCpu.SquaredEuclidean(x, y, d, dim);
            return d;
        }

        var acc = device.RequireAccelerator();
        var ops = device.GetKernels(a => new PointCloudOps(a));
        using var dx = HostBuffers.Upload(acc, x);
        using var dy = HostBuffers.Upload(acc, y);
        using var dd = HostBuffers.Allocate(acc, (long)n * m);
        ops.SquaredEuclidean(dx.View, dy.View, dd.View, n, m, dim);
        return HostBuffers.Download(acc, dd);
    }

    private static double[] GeodesicCore(ComputeDevice device, double[] x, double[] y, bool squared)
    {
        ArgumentNullException.ThrowIfNull(device);
        int n = PointSets.Rows(x, 3, nameof(x));
        int m = PointSets.Rows(y, 3, nameof(y));
        PointSets.UnitRows(x, nameof(x));
        PointSets.UnitRows(y, nameof(y));
        PointSets.OutputSize(n, m, "the distance matrix");
        if (!device.IsAccelerated)
        {
            var d = new double[n * m];
            PointCloudCpu.Geodesic(x, y, d, squared);
            return d;
        }

        var acc = device.RequireAccelerator();
        var ops = device.GetKernels(a => new PointCloudOps(a));
        using var dx = HostBuffers.Upload(acc, x);
        using var dy = HostBuffers.Upload(acc, y);
        using var dd = HostBuffers.Allocate(acc, (long)n * m);
        ops.Geodesic(dx.View, dy.View, dd.View, n, m, squared);
        return HostBuffers.Download(acc, dd);
    }
}
