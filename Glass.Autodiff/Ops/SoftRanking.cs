namespace Glass.Autodiff.Ops;

/// <summary>
/// Differentiable soft sort and soft rank with quadratic regularisation, after Blondel, Teboul,
/// Berthet, Djolonga 2020, "Fast Differentiable Sorting and Ranking" (ICML). These are the
/// operators R_δ that the learned-GW rank loss applies row-wise (Eq. 6 of the learned-GW paper).
/// <para>
/// With ρ = (n, n−1, …, 1), the permutahedron P(w) = conv{permutations of w} and the Euclidean
/// projection P_Q(z, w) = argmin_{μ ∈ P(w)} ½‖μ − z‖², computed in O(n log n) by a sort and a
/// pool-adjacent-violators isotonic regression.
/// </para>
/// </summary>
public static class SoftRanking
{
    /// <summary>
    /// Soft rank r_δ(θ) = P_Q(−θ/δ, ρ) ∈ P(ρ) of a vector θ of length n (returns length n).
    /// Descending convention (the paper's): as δ → 0 the ranks become the hard ranks with the
    /// largest θ_i ranked 1 and the smallest ranked n; as δ → ∞ every rank tends to (n+1)/2.
    /// The ranks always sum to n(n+1)/2; for ascending ranks use n + 1 − r_δ(θ) (exact).
    /// δ is in units of θ (r_δ(cθ) = r_{δ/c}(θ) for c &gt; 0): the result equals the hard ranks
    /// exactly when every gap between consecutive sorted entries of θ is at least δ.
    /// </summary>
    /// <param name="theta">Finite values, length n ≥ 1.</param>
    /// <param name="delta">Regularisation strength δ &gt; 0.</param>
    /// <exception cref="ArgumentException">θ empty or non-finite, or δ ≤ 0 or non-finite.</exception>
    public static double[] SoftRank(double[] theta, double delta)
    {
        ArgumentNullException.ThrowIfNull(theta);
        int n = theta.Length;
        var output = new double[n];
        SoftSortOps.Rank(theta, delta, output, new int[n], new int[n], new double[n]);
        return output;
    }

    /// <summary>
    /// Soft sort s_δ(θ) = P_Q(ρ/δ, θ) ∈ P(θ) of a vector θ of length n (returns length n), in
    /// non-increasing order for every δ. As δ → 0 it tends to θ sorted descending; as δ → ∞ to
    /// mean(θ)·1. It always sums to Σθ. An ascending soft sort is −s_δ(−θ).
    /// δ is in units of 1/θ (s_δ(cθ) = c·s_{cδ}(θ) for c &gt; 0): the result equals the hard sort
    /// exactly when every gap between consecutive sorted entries of θ is at most 1/δ.
    /// </summary>
    /// <param name="theta">Finite values, length n ≥ 1.</param>
    /// <param name="delta">Regularisation strength δ &gt; 0.</param>
    /// <exception cref="ArgumentException">θ empty or non-finite, or δ ≤ 0 or non-finite.</exception>
    public static double[] SoftSort(double[] theta, double delta)
    {
        ArgumentNullException.ThrowIfNull(theta);
        int n = theta.Length;
        var output = new double[n];
        SoftSortOps.Sort(theta, delta, output, new int[n], new int[n], new double[n]);
        return output;
    }
}
