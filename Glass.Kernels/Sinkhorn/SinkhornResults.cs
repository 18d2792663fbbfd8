using Glass.Kernels.Linalg;

namespace Glass.Kernels.Sinkhorn;

/// <summary>
/// Result of <see cref="DenseSinkhorn"/>: potentials with P_ij = exp((f_i + g_j − C_ij)/γ).
/// Non-convergence is reported here (<see cref="Converged"/> false), never hidden.
/// </summary>
/// <param name="F">Row potential f, length n.</param>
/// <param name="G">Column potential g, length m.</param>
/// <param name="Plan">Dense plan n×m row-major when requested, else null.</param>
/// <param name="Iterations">Iterations performed.</param>
/// <param name="MarginalError">sqrt(‖P1 − a‖² + ‖Pᵀ1 − b‖²) at the last check.</param>
/// <param name="Converged">MarginalError ≤ tol was reached within MaxIter.</param>
/// <param name="Cost">Transport cost ⟨P, C⟩.</param>
/// <param name="Entropy">H(P) = −Σ P_ij log P_ij.</param>
public sealed record DenseSinkhornResult(
    double[] F, double[] G, double[]? Plan, int Iterations, double MarginalError, bool Converged,
    double Cost, double Entropy)
{
    /// <summary>Entropic objective ⟨P, C⟩ − γ·H(P).</summary>
    public double Objective(double gamma) => Cost - gamma * Entropy;
}

/// <summary>
/// Result of <see cref="BandedSinkhorn"/>: the plan on the band, in the caller's original index
/// order (row i ↔ s[i], column j ↔ t[j]), and diagnostics.
/// </summary>
/// <param name="Plan">CSR plan n×m in original index order; memory O(nnz).</param>
/// <param name="F">Row potential f (original order).</param>
/// <param name="G">Column potential g (original order).</param>
/// <param name="Cost">Transport cost ⟨P, C⟩ with C_ij = (s_i − t_j)².</param>
/// <param name="Entropy">H(P) = −Σ P_ij log P_ij.</param>
/// <param name="BandRadius">r = sqrt(−γ·log ε) in score space.</param>
/// <param name="Iterations">Iterations performed.</param>
/// <param name="MarginalError">sqrt(‖P1 − a‖² + ‖Pᵀ1 − b‖²) at the last check.</param>
/// <param name="Converged">MarginalError ≤ tol within MaxIter.</param>
/// <param name="Refinements">Times the band was widened from the potentials and the problem re-solved.</param>
/// <param name="IterationSeconds">Wall time spent in the Sinkhorn iterations alone (excludes sorting, band building and plan assembly).</param>
public sealed record BandedSinkhornResult(
    CsrMatrix Plan, double[] F, double[] G, double Cost, double Entropy, double BandRadius,
    int Iterations, double MarginalError, bool Converged, int Refinements, double IterationSeconds)
{
    /// <summary>Number of band entries.</summary>
    public int Nnz => Plan.Nnz;

    /// <summary>Entropic objective ⟨P, C⟩ − γ·H(P).</summary>
    public double Objective(double gamma) => Cost - gamma * Entropy;
}

/// <summary>
/// A banded solve in sorted order (internal to the solvers). The accelerator returns the plan on the band
/// (<see cref="Values"/>, with its cost and entropy); the managed backend returns only the potentials and its
/// spent O(nnz) kernel array (<see cref="Scratch"/>), into which <see cref="BandedSinkhornCpu.Plan"/> writes the
/// caller-order plan once, after the last refinement (Cost and Entropy are then NaN here).
/// </summary>
internal sealed record BandSolution(double[] F, double[] G, double[]? Values, double Cost, double Entropy,
    int Iterations, double MarginalError, bool Converged, double IterationSeconds, double[]? Scratch = null);
