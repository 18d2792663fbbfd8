using System.Globalization;
using Glass.Kernels.Validation;

namespace Glass.Kernels.Sinkhorn;

/// <summary>
/// Options of the entropic OT solvers: P = argmin ⟨P,C⟩ − γ·H(P) s.t. P1 = a, Pᵀ1 = b
/// (GLASS paper Eq. 1; learned-GW paper, Appendix). Names follow the papers.
/// </summary>
public sealed record SinkhornOptions
{
    /// <summary>Entropic regularisation γ &gt; 0 (POT's <c>reg</c>, OTT's <c>epsilon</c>).</summary>
    public required double Gamma { get; init; }

    /// <summary>Maximum number of iterations (one iteration = one g-update and one f-update).</summary>
    public int MaxIter { get; init; } = 1000;

    /// <summary>
    /// Stop when the L2 norm of the marginal error, sqrt(‖P1 − a‖² + ‖Pᵀ1 − b‖²), is ≤ <see cref="Tol"/>.
    /// With plain updates the row error is zero after the f-update, so this is POT's rule ‖Pᵀ1 − b‖₂ ≤ tol.
    /// </summary>
    public double Tol { get; init; } = 1e-6;

    /// <summary>
    /// Check convergence every this many iterations — after iterations 1, k+1, 2k+1, … as POT does,
    /// so iteration counts match POT's for the same rule. It is the only device read-back in the loop.
    /// </summary>
    public int CheckEvery { get; init; } = 10;

    /// <summary>Return the plan (dense n×m for the dense solver; the banded solver always returns its CSR plan).</summary>
    public bool ReturnPlan { get; init; }

    /// <summary>
    /// Adaptive over-relaxation (Thibault et al. 2021, "Overrelaxed Sinkhorn–Knopp"): potentials move by
    /// ω times the Sinkhorn step, ω ∈ [1, 1.95] estimated from the observed convergence rate.
    /// The fixed point — the plan at the requested γ — is unchanged; only the iteration count drops.
    /// </summary>
    public bool Overrelax { get; init; } = true;

    /// <summary>
    /// How a dense cost's kernel is applied on the managed CPU backend: <see cref="DenseKernel.Online"/> (log domain,
    /// C streamed every half-iteration, memory O(n + m) beyond C), <see cref="DenseKernel.Stored"/> (K̃ = exp((f̃ ⊕ g̃ − C)/γ)
    /// kept in memory, n·m doubles; exp-domain scaling with log-domain absorption) or <see cref="DenseKernel.Auto"/>
    /// (stored when n·m ≤ <see cref="StoredKernelMaxEntries"/>). Accelerators always run the log-domain kernels.
    /// The fixed point does not depend on it.
    /// </summary>
    public DenseKernel Kernel { get; init; } = DenseKernel.Online;

    /// <summary>
    /// ε-scaling: solve for γ_k = γ·2^k from a start near the cost spread down to γ, each stage warm-started from the
    /// last and stopped loosely, then at γ with <see cref="Tol"/> and the usual stopping rule (<see cref="Sinkhorn.EpsScaling"/>).
    /// The problem solved is unchanged. Off by default: on 1-D N(0,1) scores down to γ = 0.001 it was measured to cost
    /// iterations rather than save them (docs/benchmarks.md). Applies to <see cref="DenseSinkhorn"/> and
    /// <see cref="BandedSinkhorn"/>; the reported iterations are the total over the stages.
    /// </summary>
    public EpsScaling EpsScaling { get; init; } = EpsScaling.Off;

    /// <summary>Largest n·m for which <see cref="DenseKernel.Auto"/> stores the kernel (2^26 entries = 512 MiB).</summary>
    public const long StoredKernelMaxEntries = 1L << 26;

    internal void Validate()
    {
        if (!Enum.IsDefined(Kernel)) throw new ArgumentException($"Kernel = {(int)Kernel}; expected Online, Stored or Auto.", nameof(Kernel));
        if (!Enum.IsDefined(EpsScaling)) throw new ArgumentException($"EpsScaling = {(int)EpsScaling}; expected Off or On.", nameof(EpsScaling));
        Guard.Positive(Gamma, nameof(Gamma));
        Guard.Positive(MaxIter, nameof(MaxIter));
        Guard.Positive(CheckEvery, nameof(CheckEvery));
        if (!(Tol >= 0) || !double.IsFinite(Tol))
            throw new ArgumentException($"Tol = {Tol.ToString("R", CultureInfo.InvariantCulture)}; expected a finite value ≥ 0.", nameof(Tol));
    }
}

/// <summary>How the dense Sinkhorn applies its kernel (<see cref="SinkhornOptions.Kernel"/>).</summary>
public enum DenseKernel
{
    /// <summary>Log domain, the cost streamed (or computed from points) every half-iteration: memory O(n + m).</summary>
    Online,
    /// <summary>K̃ stored (n·m doubles): one mat-vec per half-iteration, no exp; Schmitzer's absorption keeps it in range.</summary>
    Stored,
    /// <summary>Stored when n·m ≤ <see cref="SinkhornOptions.StoredKernelMaxEntries"/>, else online.</summary>
    Auto,
}

/// <summary>Options of the band used by <see cref="BandedSinkhorn"/> (GLASS §4, "Complexity via banded kernels").</summary>
public sealed record BandOptions
{
    /// <summary>Kernel truncation ε ∈ (0,1): entries with exp(−C/γ) &lt; ε are dropped; band radius r = sqrt(−γ·log ε).</summary>
    public double BandEps { get; init; } = 1e-6;

    /// <summary>Optional cap: at most this many columns per row around the rank diagonal (rank space). Null = no cap.</summary>
    public int? RankCap { get; init; }

    /// <summary>
    /// After solving on the paper's band, widen rows where the plan (with its potentials) still has
    /// entries within ε of the row's peak at the band edge, and re-solve warm-started — at most this
    /// many times (0 = the paper's band exactly). Matters in sparse tails and for shifted score
    /// distributions, where exp(−C/γ) ≥ ε alone drops mass that the plan carries. Skipped when
    /// <see cref="RankCap"/> is set (the cap fixes the band) or the solve did not converge.
    /// </summary>
    public int Refinements { get; init; } = 2;

    internal void Validate()
    {
        if (Refinements < 0)
            throw new ArgumentException($"Refinements = {Refinements}; expected an integer ≥ 0.", nameof(Refinements));
        Guard.InOpen(BandEps, 0, 1, nameof(BandEps));
        if (RankCap is { } w && w < 1)
            throw new ArgumentException($"RankCap = {w}; expected an integer ≥ 1 (or null for no cap).", nameof(RankCap));
    }
}
