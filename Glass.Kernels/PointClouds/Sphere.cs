using Glass.Kernels.Device;
using Glass.Kernels.Device.LowLevel;
using Glass.Kernels.Validation;

namespace Glass.Kernels.PointClouds;

/// <summary>
/// Riemannian log and exp maps of the unit sphere S² ⊂ ℝ³, row by row. Points and tangent vectors
/// are rows of n×3 row-major arrays. The managed CPU backend computes in <c>double</c>; an
/// accelerator computes in float32 (inputs rounded to float, results widened back to double).
/// </summary>
public static class Sphere
{
    /// <summary>
    /// Log map, row-wise: <c>result_i = Log_{p_i}(x_i) = θ/sin θ · (x_i − cos θ · p_i)</c>,
    /// <c>θ = arccos(clamp(⟨p_i, x_i⟩, −1, 1)) = d(p_i, x_i)</c>; p, x and the result are n×3.
    /// </summary>
    /// <remarks>
    /// Computed as <c>θ/‖w‖ · w</c> with <c>w = x − ⟨p,x⟩p</c> and <c>θ = atan2(‖w‖, ⟨p,x⟩)</c>: the same
    /// map for unit vectors, accurate near θ = 0 and θ = π, and <c>‖Log_p(x)‖ = θ</c> exactly.
    /// θ → 0: the factor θ/‖w‖ → 1 (the limit is used when ‖w‖ = 0, giving 0).
    /// Antipodal x = −p (‖w‖ ≤ 1e-12 in double, ≤ 1e-6 in float32, with ⟨p,x⟩ &lt; 0), where every
    /// direction is a shortest geodesic: the result is the defined tangent vector <c>θ · u(p)</c>,
    /// <c>u(p) = (e_k − p_k p)/‖e_k − p_k p‖</c>, <c>k = argmin_k |p_k|</c> (first on ties); its norm is
    /// θ ≈ π and <c>Exp_p</c> of it is −p.
    /// </remarks>
    /// <exception cref="ArgumentException">
    /// A non-finite entry, a length not a multiple of 3, p and x with different lengths, or a row
    /// with |‖·‖ − 1| &gt; 1e-6 (the message names the argument and the row).
    /// </exception>
    public static double[] Log(ComputeDevice device, double[] p, double[] x)
    {
        ArgumentNullException.ThrowIfNull(device);
        int n = PointSets.Rows(p, 3, nameof(p));
        PointSets.Rows(x, 3, nameof(x));
        Guard.Length<double>(x, p.Length, nameof(x), $"one point per base point: p is {n}×3");
        PointSets.UnitRows(p, nameof(p));
        PointSets.UnitRows(x, nameof(x));
        return Run(device, p, x, n, log: true);
    }

    /// <summary>
    /// Exp map, row-wise: <c>result_i = Exp_{p_i}(v_i) = cos‖v_i‖ · p_i + sin‖v_i‖ · v_i/‖v_i‖</c>
    /// (the limit <c>p_i</c> as ‖v_i‖ → 0, via sin r / r ≈ 1 − r²/6 for r &lt; 1e-4); p, v and the result are n×3.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// A non-finite entry, a length not a multiple of 3, p and v with different lengths, a row of p
    /// with |‖p_i‖ − 1| &gt; 1e-6, or a row of v not tangent at p_i (|⟨p_i, v_i⟩| &gt; 1e-5·max(1, ‖v_i‖)).
    /// </exception>
    public static double[] Exp(ComputeDevice device, double[] p, double[] v)
    {
        ArgumentNullException.ThrowIfNull(device);
        int n = PointSets.Rows(p, 3, nameof(p));
        PointSets.Rows(v, 3, nameof(v));
        Guard.Length<double>(v, p.Length, nameof(v), $"one tangent vector per base point: p is {n}×3");
        PointSets.UnitRows(p, nameof(p));
        PointSets.TangentRows(p, v, nameof(v));
        return Run(device, p, v, n, log: false);
    }

    private static double[] Run(ComputeDevice device, double[] p, double[] x, int n, bool log)
    {
        if (!device.IsAccelerated)
        {
            var result = new double[3 * n];
            if (log) PointCloudCpu.Log(p, x, result);
            else PointCloudCpu.Exp(p, x, result);
            return result;
        }

        var acc = device.RequireAccelerator();
        var ops = device.GetKernels(a => new PointCloudOps(a));
        using var dp = HostBuffers.Upload(acc, p);
        using var dx = HostBuffers.Upload(acc, x);
        using var dr = HostBuffers.Allocate(acc, 3L * n);
        if (log) ops.Log(dp.View, dx.View, dr.View, n);
        else ops.Exp(dp.View, dx.View, dr.View, n);
        return HostBuffers.Download(acc, dr);
    }
}
