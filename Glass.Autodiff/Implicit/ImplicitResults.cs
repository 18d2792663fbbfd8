using Glass.Kernels.Validation;

namespace Glass.Autodiff.Implicit;

/// <summary>
/// Options of the conjugate-gradient solve inside the implicit Sinkhorn backward
/// (<see cref="SinkhornImplicit"/>): stop when ‖Hλ − rhs‖₂ ≤ <see cref="Tol"/>·‖rhs‖₂ or at <see cref="MaxIter"/>.
/// </summary>
public sealed record ImplicitOptions
{
    /// <summary>Relative residual tolerance of the CG solve (‖Hλ − rhs‖ ≤ Tol·‖rhs‖ on the full system, whichever preconditioner), &gt; 0.</summary>
    public double Tol { get; init; } = 1e-10;

    /// <summary>Maximum CG iterations (one iteration = one P·x and one Pᵀ·y product).</summary>
    public int MaxIter { get; init; } = 1000;

    /// <summary>Preconditioner of the CG solve (default <see cref="CgPreconditioner.Auto"/>).</summary>
    public CgPreconditioner Preconditioner { get; init; } = CgPreconditioner.Auto;

    /// <summary>
    /// Half-bandwidth β (in sorted-score order) of the banded Schur preconditioner; 0 (default) =
    /// automatic, β = clamp(2·nnz/n, 16, 64): about the reach of a row's band in the row graph.
    /// </summary>
    public int SchurBandwidth { get; init; }

    internal void Validate()
    {
        if (SchurBandwidth < 0)
            throw new ArgumentException($"SchurBandwidth = {SchurBandwidth}; expected 0 (automatic) or a half-bandwidth ≥ 1.", nameof(SchurBandwidth));
        Guard.Positive(Tol, nameof(Tol));
        Guard.Positive(MaxIter, nameof(MaxIter));
    }
}

/// <summary>How the implicit backward's CG solve is preconditioned.</summary>
public enum CgPreconditioner
{
    /// <summary>Banded Schur for banded plans, Jacobi for dense ones.</summary>
    Auto,
    /// <summary>Jacobi on the full system H: diag(1/r, 1/c).</summary>
    Jacobi,
    /// <summary>
    /// Banded plans only: eliminate the column block exactly and run CG on the row Schur complement
    /// S = diag(r) − P diag(1/c) Pᵀ, preconditioned by a banded LDLᵀ of S truncated to half-bandwidth
    /// <see cref="ImplicitOptions.SchurBandwidth"/> in the order of the sorted scores.
    /// </summary>
    BandedSchur,
}

/// <summary>
/// Gradients of a loss L(P) through the dense entropic OT plan P = P(C, a, b) (<see cref="SinkhornImplicit.DenseBackward"/>).
/// Marginal gradients are returned projected on the simplex's tangent space (each sums to 0): only
/// mass-preserving perturbations of a and b are admissible, and the solve fixes λ only up to (1, −1).
/// </summary>
/// <param name="DCost">∂L/∂C, n×m row-major.</param>
/// <param name="DA">∂L/∂a, length n, Σ = 0.</param>
/// <param name="DB">∂L/∂b, length m, Σ = 0.</param>
/// <param name="CgIterations">CG iterations performed (0 when no solve was needed).</param>
/// <param name="CgResidual">Final relative residual ‖Hλ − rhs‖₂ / ‖rhs‖₂, recomputed from λ (not the recursive estimate).</param>
/// <param name="Converged">CgResidual ≤ tol within MaxIter; false means the gradients are approximate.</param>
public sealed record DenseImplicitGradient(
    double[] DCost, double[] DA, double[] DB, int CgIterations, double CgResidual, bool Converged);

/// <summary>
/// Gradients of a loss L(P) through the banded 1-D entropic OT plan (<see cref="SinkhornImplicit.BandedBackward"/>),
/// on the plan's CSR pattern (caller's original order) and pulled back to the scores through C_ij = (s_i − t_j)².
/// Marginal gradients sum to 0 (see <see cref="DenseImplicitGradient"/>).
/// </summary>
/// <param name="DCost">∂L/∂C on the band: one value per plan entry, aligned with the plan's Values.</param>
/// <param name="DS">∂L/∂s_i = Σ_j ∂L/∂C_ij · 2(s_i − t_j) over the band, length n.</param>
/// <param name="DT">∂L/∂t_j = −Σ_i ∂L/∂C_ij · 2(s_i − t_j) over the band, length m.</param>
/// <param name="DA">∂L/∂a, length n, Σ = 0.</param>
/// <param name="DB">∂L/∂b, length m, Σ = 0.</param>
/// <param name="CgIterations">CG iterations performed.</param>
/// <param name="CgResidual">Final relative residual ‖Hλ − rhs‖₂ / ‖rhs‖₂.</param>
/// <param name="Converged">CgResidual ≤ tol within MaxIter.</param>
public sealed record BandedImplicitGradient(
    double[] DCost, double[] DS, double[] DT, double[] DA, double[] DB, int CgIterations, double CgResidual, bool Converged);
