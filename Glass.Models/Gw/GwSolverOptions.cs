using System.Diagnostics;
using System.Globalization;
using Glass.Kernels.Device;
using Glass.Kernels.Sinkhorn;

namespace Glass.Models.Gw;

/// <summary>Settings of the GW solver stage of <see cref="GwAligner"/> (<see cref="LearnedGwOptions.Solver"/>); the names match the YAML keys under <c>model.gw.solver</c>.</summary>
public sealed record GwSolverOptions
{
    /// <summary>
    /// Relative ε of the entropic-GW starts (Gold–Rangarajan / mirror descent from abᵀ on the max-normalised distances):
    /// each one's plan is refined by exact conditional gradient and becomes a candidate. Empty = none.
    /// </summary>
    public IReadOnlyList<double> Epsilons { get; init; } = new[] { 5e-3, 1e-2 };
    /// <summary>
    /// Largest number of points per side the entropic starts run on. Larger inputs are subsampled (uniformly, by the seed)
    /// to this size; the coarse plan is lifted to all points through their nearest sampled point and refined by exact
    /// conditional gradient on the full data (a coarse-to-fine start).
    /// </summary>
    public int CoarseSize { get; init; } = 1000;
    /// <summary>
    /// Clusters per side of the multiscale start (0 = none): both sides are clustered by k-means; GW between the clusters
    /// (weights = sizes, distances = mean distances between members) is solved by conditional gradient from the product
    /// coupling and from <see cref="CoarseRestarts"/> random couplings — cheap at this size, so the combinatorial choice of
    /// which cluster goes where is explored widely — and the <see cref="MultiscaleStarts"/> best coarse plans, spread over
    /// their clusters' members, start conditional gradient on all points.
    /// </summary>
    public int Clusters { get; init; } = 32;
    /// <summary>Random starts of the coarse (cluster-level) problem.</summary>
    public int CoarseRestarts { get; init; } = 64;
    /// <summary>Best distinct coarse plans lifted to all points as candidates ("multiscale(r)").</summary>
    public int MultiscaleStarts { get; init; } = 2;
    /// <summary>Conditional-gradient settings of every candidate.</summary>
    public ExactGwOptions Exact { get; init; } = new();
    /// <summary>
    /// Discrepancy factor τ ≥ 1 of the final smoothing (Morozov's discrepancy principle; Engl, Hanke &amp; Neubauer 1996,
    /// §4.3): the selected exact plan Π* is replaced by the softest plan of the family below whose GW loss stays within
    /// τ·L(Π*) — the residual of the best fit is the noise level of the data, and alternatives no worse than it are not
    /// told apart by the geometry. An exact isometry (L(Π*) = 0) keeps its hard plan. 1 = no smoothing.
    /// </summary>
    public double Discrepancy { get; init; } = 1.1;
    /// <summary>Weight of the pseudo-pair term (the known-pairs loss on the selected plan's row-wise matches) in training.</summary>
    public double PseudoPairWeight { get; init; } = 0.01;

    /// <summary>Value equality, <see cref="Epsilons"/> compared element by element.</summary>
    public bool Equals(GwSolverOptions? other) =>
        other is not null && Epsilons.SequenceEqual(other.Epsilons) && CoarseSize == other.CoarseSize && Exact == other.Exact
        && Clusters == other.Clusters && CoarseRestarts == other.CoarseRestarts && MultiscaleStarts == other.MultiscaleStarts
        && Discrepancy == other.Discrepancy && PseudoPairWeight == other.PseudoPairWeight;

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Epsilons.Count, CoarseSize, Exact, Discrepancy, PseudoPairWeight);

    internal void Validate()
    {
        foreach (var e in Epsilons)
            if (!(e > 0) || !double.IsFinite(e))
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Epsilons contains {e}; expected finite values > 0."), nameof(Epsilons));
        if (!(Discrepancy >= 1) || !double.IsFinite(Discrepancy))
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Discrepancy = {Discrepancy}; expected a finite value ≥ 1."), nameof(Discrepancy));
        if (Clusters < 0 || Clusters == 1) throw new ArgumentException($"Clusters = {Clusters}; expected 0 (no multiscale start) or ≥ 2.", nameof(Clusters));
        if (CoarseRestarts < 0) throw new ArgumentException($"CoarseRestarts = {CoarseRestarts}; expected ≥ 0.", nameof(CoarseRestarts));
        if (MultiscaleStarts < 0) throw new ArgumentException($"MultiscaleStarts = {MultiscaleStarts}; expected ≥ 0.", nameof(MultiscaleStarts));
        if (CoarseSize < 2) throw new ArgumentException($"CoarseSize = {CoarseSize}; expected ≥ 2.", nameof(CoarseSize));
        if (!(PseudoPairWeight > 0) || !double.IsFinite(PseudoPairWeight))
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"PseudoPairWeight = {PseudoPairWeight}; expected a finite value > 0."), nameof(PseudoPairWeight));
        Exact.Validate();
    }
}
