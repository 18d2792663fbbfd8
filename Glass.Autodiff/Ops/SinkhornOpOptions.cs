using Glass.Kernels.Device;
using Glass.Kernels.Linalg;
using Glass.Kernels.Sinkhorn;

namespace Glass.Autodiff.Ops;

/// <summary>How a Sinkhorn op is differentiated.</summary>
public enum SinkhornGradient
{
    /// <summary>Implicit differentiation of the optimality conditions (CG on plan–vector products); the solver loop is not taped.</summary>
    Implicit,
    /// <summary>Differentiate through the iterations (memory O(iterations·n·m) dense, O(iterations·nnz) banded; for checks and small problems).</summary>
    Unrolled,
}

/// <summary>What a Sinkhorn op does when its forward solve stops at MaxIter without meeting tol.</summary>
public enum SinkhornNonConvergence
{
    /// <summary>Throw <see cref="InvalidOperationException"/> naming the marginal error, iterations, tol and γ.</summary>
    Throw,
    /// <summary>
    /// Record the last iterate and report it (<c>Converged</c> false on the result): the caller decides (retry with more
    /// iterations or a larger γ, count it, or use it). The implicit backward at that iterate is the gradient of a
    /// nearby problem, not the exact derivative of the truncated iteration.
    /// </summary>
    UseLastIterate,
}

/// <summary>
/// The differentiable boundary of a Sinkhorn op (OTT-JAX's <c>implicit_diff=</c> on the solver): gradient mode,
/// non-convergence policy, warm start and where the forward runs. The forward solve's own options (γ, tol, MaxIter)
/// stay in <see cref="SinkhornOptions"/>.
/// </summary>
public sealed record SinkhornOpOptions
{
    /// <summary>Implicit (default) or unrolled.</summary>
    public SinkhornGradient Gradient { get; init; } = SinkhornGradient.Implicit;

    /// <summary>Throw (default) or use and report the last iterate.</summary>
    public SinkhornNonConvergence OnNonConvergence { get; init; } = SinkhornNonConvergence.Throw;

    /// <summary>Warm start: row potentials f⁰ (length n, finite), e.g. the previous step's <c>Result.F</c>; null = cold start.
    /// The fixed point — the plan — does not depend on it; only the iteration count drops. Needs <see cref="InitialG"/>.</summary>
    public double[]? InitialF { get; init; }

    /// <summary>Warm start: column potentials g⁰ (length m, finite); null = cold start.</summary>
    public double[]? InitialG { get; init; }

    /// <summary>Where the forward solve runs (null = managed CPU).</summary>
    public ComputeDevice? Device { get; init; }

    internal void Validate(int n, int m)
    {
        if ((InitialF is null) != (InitialG is null))
            throw new ArgumentException("Sinkhorn op warm start: give both InitialF and InitialG or neither.", InitialF is null ? nameof(InitialF) : nameof(InitialG));
        if (InitialF is not null && (InitialF.Length != n || InitialG!.Length != m))
            throw new ArgumentException($"Sinkhorn op warm start: InitialF has length {InitialF.Length}, InitialG {InitialG!.Length}; expected {n} and {m} for a {n}×{m} problem.", nameof(InitialF));
    }
}

/// <summary>A banded plan on the tape: CSR structure (original index order) and its values as a 1×nnz node.</summary>
/// <param name="Structure">CSR pattern and forward values (from <see cref="BandedSinkhorn"/>).</param>
/// <param name="Values">Plan values P on the band, 1×nnz, differentiable w.r.t. the scores.</param>
/// <param name="Result">The forward solve's diagnostics.</param>
public sealed record BandedPlan(CsrMatrix Structure, Var Values, BandedSinkhornResult Result)
{
    /// <summary>The forward solve met its tolerance.</summary>
    public bool Converged => Result.Converged;
}

/// <summary>A dense plan on the tape and its forward solve (<see cref="SinkhornOp.Dense"/>).</summary>
/// <param name="Plan">P, n×m, differentiable w.r.t. the cost.</param>
/// <param name="Result">Diagnostics and the potentials (f, g) of the cost as given, for the next warm start.</param>
public sealed record DensePlanSolve(Var Plan, DenseSinkhornResult Result)
{
    /// <summary>The forward solve met its tolerance.</summary>
    public bool Converged => Result.Converged;
}
