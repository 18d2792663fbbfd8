using System.Globalization;
using Glass.Kernels.Device;
using Glass.Kernels.Linalg;
using Glass.Kernels.Validation;
using ILGPU;
using ILGPU.Runtime;

namespace Glass.Kernels.Chebyshev;

/// <summary>
/// The graph heat kernel <c>Y = exp(−τL)·V</c> by a degree-q Chebyshev expansion, with no
/// eigendecomposition: GLASS's diffusion features ψ_τ (Eq. 3 and 5 of the GLASS paper, "A
/// Differentiable Geometric Alignment Layer on Manifolds and Graphs via Learned Slices and Soft
/// Optimal Transport"; config keys <c>tau</c>, <c>cheby_degree</c>, <c>feat_dim</c> = p).
/// </summary>
/// <remarks>
/// With <c>L̃ = L − I</c> (spectrum in [−1, 1] when L's is in [0, 2]) and the generating function
/// <c>e^{z cos θ} = I_0(z) + 2 Σ_{k≥1} I_k(z) cos kθ</c>:
/// <c>exp(−τ(x + 1)) = e^{−τ}·[I_0(τ) + 2 Σ_{k≥1} (−1)^k I_k(τ) T_k(x)]</c>, so
/// <c>Y ≈ Σ_{k=0..q} c_k·T_k(L̃)·V</c> with <c>c_0 = e^{−τ}I_0(τ)</c>, <c>c_k = 2(−1)^k e^{−τ}I_k(τ)</c>,
/// and <c>T_k(L̃)V</c> from <c>T_{k+1} = 2 L̃ T_k − T_{k−1}</c>, <c>T_0 = V</c>, <c>T_1 = L̃V</c>:
/// q sparse × dense products, O(q·nnz·p) work, O(n·p) memory.
/// </remarks>
public static class HeatKernel
{
    /// <summary>
    /// <c>Y ≈ exp(−τL)·V</c> by the degree-<paramref name="degree"/> Chebyshev expansion.
    /// Managed CPU backend: double precision, rows in parallel. Accelerated devices: float32
    /// ILGPU kernels, kernels loaded once per device, no host read-back inside the recurrence.
    /// </summary>
    /// <param name="device">Where to run (<see cref="ComputeDevice.Cpu"/> or an accelerator).</param>
    /// <param name="laplacian">Symmetric <c>n × n</c> Laplacian with spectrum in [0, 2], e.g.
    /// <see cref="Laplacian.Normalized"/>; outside that interval the expansion diverges.</param>
    /// <param name="v">The block V, <c>n × p</c> row-major (length n·p), finite.</param>
    /// <param name="p">Columns of V (the feature dimension, <c>feat_dim</c>), ≥ 1.</param>
    /// <param name="tau">Diffusion time τ ≥ 0 (τ = 0 returns V).</param>
    /// <param name="degree">Chebyshev degree q ≥ 1 (<c>cheby_degree</c>); the spectral-norm error is at
    /// most <see cref="TruncationBound"/>(τ, q).</param>
    /// <returns>Y, <c>n × p</c> row-major, as a new array.</returns>
    /// <exception cref="ArgumentException">Non-square or empty Laplacian, V of the wrong length or
    /// not finite, p or degree &lt; 1, τ negative or not finite.</exception>
    public static double[] Apply(ComputeDevice device, CsrMatrix laplacian, double[] v, int p, double tau, int degree)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(laplacian);
        ArgumentNullException.ThrowIfNull(v);
        if (laplacian.Rows != laplacian.Cols || laplacian.Rows == 0)
            throw new ArgumentException(
                $"laplacian is {laplacian.Rows} × {laplacian.Cols}; expected a square n × n matrix with n ≥ 1.", nameof(laplacian));
        Guard.Positive(p, nameof(p));
        int n = laplacian.Rows;
        long np = (long)n * p;
        if (np > int.MaxValue)
            throw new ArgumentException($"p = {p} gives n·p = {np} entries; expected at most {int.MaxValue}.", nameof(p));
        Guard.Length<double>(v, (int)np, nameof(v), $"n·p = {n}·{p}, row-major");
        CheckTau(tau);
        Guard.Positive(degree, nameof(degree));
        Guard.Finite(v, nameof(v));

        double[] c = Coefficients(tau, degree);
        return device.IsAccelerated ? ApplyAccelerated(device, laplacian, v, p, c) : HeatKernelCpu.Apply(laplacian, v, p, c);
    }

    /// <summary>
    /// The Chebyshev coefficients of <c>x ↦ exp(−τ(x + 1))</c> on [−1, 1]:
    /// <c>c_0 = e^{−τ}I_0(τ)</c>, <c>c_k = 2(−1)^k e^{−τ}I_k(τ)</c> for <c>k = 1..q</c> (length q + 1).
    /// The scaled Bessel values come from a power series (τ &lt; 1) or Miller's backward
    /// recurrence normalised by <c>e^{τ} = I_0(τ) + 2Σ_{k≥1} I_k(τ)</c>, so they never overflow.
    /// </summary>
    /// <param name="tau">Diffusion time τ ≥ 0.</param>
    /// <param name="degree">Degree q ≥ 1.</param>
    /// <exception cref="ArgumentException">τ negative or not finite, q &lt; 1.</exception>
    public static double[] Coefficients(double tau, int degree)
    {
        CheckTau(tau);
        Guard.Positive(degree, nameof(degree));
        double[] s = Bessel.ScaledI(tau, degree);
        var c = new double[degree + 1];
        c[0] = s[0];
        for (int k = 1; k <= degree; k++) c[k] = (k % 2 == 0 ? 2 : -2) * s[k];
        return c;
    }

    /// <summary>
    /// A bound on the truncation error, <c>‖exp(−τL) − p_q(L)‖₂ ≤ Σ_{k&gt;q} |c_k| = 2 Σ_{k&gt;q} e^{−τ}I_k(τ)</c>
    /// for any symmetric L with spectrum in [0, 2] (since <c>|T_k| ≤ 1</c> on [−1, 1]); hence
    /// <c>‖Y − exp(−τL)V‖_F ≤ bound·‖V‖_F</c> up to rounding. The tail decays like
    /// <c>(τ/2)^{q+1}/(q+1)!</c> once q ≫ √τ.
    /// </summary>
    /// <param name="tau">Diffusion time τ ≥ 0.</param>
    /// <param name="degree">Degree q ≥ 1.</param>
    /// <exception cref="ArgumentException">τ negative or not finite, q &lt; 1.</exception>
    public static double TruncationBound(double tau, int degree)
    {
        CheckTau(tau);
        Guard.Positive(degree, nameof(degree));
        // Orders beyond q + 30 + √(160τ) add less than e^{-80} relative to the first tail term.
        int kmax = degree + 30 + (int)Math.Ceiling(Math.Sqrt(160 * tau));
        double[] s = Bessel.ScaledI(tau, kmax);
        double tail = 0;
        for (int k = kmax; k > degree; k--) tail += s[k];
        return 2 * tail;
    }

    private static void CheckTau(double tau)
    {
        if (!(tau >= 0) || !double.IsFinite(tau))
            throw new ArgumentException(
                $"tau = {tau.ToString("R", CultureInfo.InvariantCulture)}; expected a finite diffusion time ≥ 0.", nameof(tau));
    }

    private static double[] ApplyAccelerated(ComputeDevice device, CsrMatrix laplacian, double[] v, int p, double[] coefficients)
    {
        Accelerator acc = device.RequireAccelerator();
        HeatKernelOps ops = device.GetKernels(a => new HeatKernelOps(a));
        int np = v.Length;
        var vf = new float[np];
        for (int i = 0; i < np; i++) vf[i] = (float)v[i];
        using var l = new DeviceCsr(acc, laplacian);
        using var vBuf = acc.Allocate1D(vf);
        using var yBuf = acc.Allocate1D<float>(np);
        using var s0 = acc.Allocate1D<float>(np);
        using var s1 = acc.Allocate1D<float>(np);
        ops.Apply(l, vBuf.View, yBuf.View, s0.View, s1.View, p, coefficients);
        acc.Synchronize();
        float[] yf = yBuf.GetAsArray1D();
        var y = new double[np];
        for (int i = 0; i < np; i++) y[i] = yf[i];
        return y;
    }
}
