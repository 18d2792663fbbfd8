using Glass.Kernels.Validation;

namespace Glass.Autodiff.Ops;

/// <summary>Which operator a <see cref="SoftRowsState"/> was recorded by.</summary>
internal enum SoftSortKind
{
    /// <summary>Soft rank r_δ.</summary>
    Rank,
    /// <summary>Soft sort s_δ.</summary>
    Sort,
}

/// <summary>
/// What the backward pass of a row-wise soft rank / soft sort needs: per row the sorting permutation
/// and the pool-adjacent-violators block boundaries. Row r uses
/// <c>Perm[r·Cols .. (r+1)·Cols)</c> and <c>BlockEnds[r·Cols .. r·Cols + BlockCounts[r])</c>
/// (exclusive block ends, in sorted positions).
/// </summary>
internal sealed record SoftRowsState(
    SoftSortKind Kind, int Rows, int Cols, double Delta, int[] Perm, int[] BlockEnds, int[] BlockCounts);

/// <summary>
/// Soft sort and soft rank with quadratic regularisation (Blondel, Teboul, Berthet, Djolonga 2020,
/// "Fast Differentiable Sorting and Ranking", §3–§5), forward in O(n log n), exact vector–Jacobian
/// products in O(n).
/// <para>
/// With ρ = (n, n−1, …, 1), the permutahedron P(w) = conv{w_π} and the Euclidean projection
/// P_Q(z, w) = argmin_{μ ∈ P(w)} ½‖μ − z‖²:
/// <list type="bullet">
/// <item>soft rank r_δ(θ) = P_Q(−θ/δ, ρ) (paper Eq. after Def. 2, Ψ = Q);</item>
/// <item>soft sort s_δ(θ) = P_Q(ρ/δ, θ).</item>
/// </list>
/// Prop. 3: with σ sorting z descending and w sorted descending, P_Q(z, w) = z − v(z_σ, w)_{σ⁻¹}
/// where v = argmin_{v₁ ≥ … ≥ vₙ} ½‖v − (z_σ − w)‖² is a non-increasing isotonic regression, solved
/// by pool-adjacent-violators (PAV). On each PAV block B, v is the block mean, hence
/// P_Q(z, w)_{σ_i} = z_{σ_i} − mean_B(z_σ) + mean_B(w); the code uses that form (no ρ/δ − ρ/δ
/// cancellation for small δ).
/// </para>
/// <para>
/// Conventions (the paper's): ranks are descending — as δ → 0 the largest θ gets rank 1 and the
/// smallest rank n; as δ → ∞ every rank tends to (n+1)/2. Ascending ranks are exactly n + 1 − r_δ(θ)
/// (P(ρ) is point-symmetric about ((n+1)/2)·1). The soft sort is non-increasing, s_δ(θ) → θ sorted
/// descending as δ → 0 and → mean(θ)·1 as δ → ∞; an ascending soft sort is −s_δ(−θ).
/// </para>
/// <para>
/// Jacobians (paper §5): ∂v/∂y = B, block-diagonal with averaging blocks 1/|B| per PAV block. Hence
/// ∂r/∂θ = −(1/δ)(I − P_σᵀ B P_σ) and ∂s/∂θ = B P_τ (τ the descending argsort of θ); both are
/// symmetric in the block part, so a vjp is a gather, a block average and a scatter.
/// </para>
/// Span functions take caller-owned buffers, all of length n = θ.Length: <c>output</c>, <c>perm</c>
/// (σ for rank: θ ascending; τ for sort: θ descending), <c>blockEnds</c> (exclusive block ends in
/// sorted positions; the first <c>count</c> entries are used, count returned) and <c>work</c>.
/// </summary>
internal static class SoftSortOps
{
    /// <summary>
    /// Soft rank r_δ(θ) = P_Q(−θ/δ, ρ) of one vector. Returns the number of PAV blocks; perm and
    /// blockEnds[..count] are what <see cref="RankVjp"/> needs.
    /// </summary>
    public static int Rank(ReadOnlySpan<double> theta, double delta, Span<double> output,
        Span<int> perm, Span<int> blockEnds, Span<double> work)
    {
        CheckForward(theta, delta, output, perm, blockEnds, work);
        return RankCore(theta, delta, output, perm, blockEnds, work);
    }

    /// <summary>
    /// Vector–Jacobian product of the soft rank: gradTheta = (∂r_δ/∂θ)ᵀ g = −(1/δ)(g − P_σᵀ B P_σ g).
    /// Overwrites gradTheta (length n). perm and blockEnds come from <see cref="Rank"/>.
    /// </summary>
    public static void RankVjp(ReadOnlySpan<double> upstream, double delta, ReadOnlySpan<int> perm,
        ReadOnlySpan<int> blockEnds, Span<double> gradTheta)
    {
        CheckBackward(upstream, delta, perm, blockEnds, gradTheta);
        RankVjpCore(upstream, delta, perm, blockEnds, gradTheta);
    }

    /// <summary>
    /// Soft sort s_δ(θ) = P_Q(ρ/δ, θ) of one vector (non-increasing output). Returns the number of
    /// PAV blocks; perm (τ, θ descending) and blockEnds[..count] are what <see cref="SortVjp"/> needs.
    /// </summary>
    public static int Sort(ReadOnlySpan<double> theta, double delta, Span<double> output,
        Span<int> perm, Span<int> blockEnds, Span<double> work)
    {
        CheckForward(theta, delta, output, perm, blockEnds, work);
        return SortCore(theta, delta, output, perm, blockEnds, work);
    }

    /// <summary>
    /// Vector–Jacobian product of the soft sort: gradTheta = (∂s_δ/∂θ)ᵀ g = P_τᵀ B g, i.e.
    /// gradTheta[τ_i] = mean of g over the PAV block holding i. Overwrites gradTheta (length n).
    /// The soft sort's Jacobian does not depend on δ beyond the blocks.
    /// </summary>
    public static void SortVjp(ReadOnlySpan<double> upstream, ReadOnlySpan<int> perm,
        ReadOnlySpan<int> blockEnds, Span<double> gradTheta)
    {
        CheckBackward(upstream, 1.0, perm, blockEnds, gradTheta);
        SortVjpCore(upstream, perm, blockEnds, gradTheta);
    }

    /// <summary>
    /// Row-wise soft rank of a row-major rows×cols matrix (each row ranked on its own, as R_δ in
    /// the learned-GW rank loss, Eq. 6 of the paper in docs), parallel over rows.
    /// Returns the rows×cols soft ranks and the state <see cref="RankRowsVjp"/> needs.
    /// </summary>
    public static (double[] Values, SoftRowsState State) RankRows(double[] x, int rows, int cols, double delta)
        => Rows(SoftSortKind.Rank, x, rows, cols, delta);

    /// <summary>Row-wise soft sort of a row-major rows×cols matrix; see <see cref="RankRows"/>.</summary>
    public static (double[] Values, SoftRowsState State) SortRows(double[] x, int rows, int cols, double delta)
        => Rows(SoftSortKind.Sort, x, rows, cols, delta);

    /// <summary>Vjp of <see cref="RankRows"/>: upstream and the result are rows×cols, row-major.</summary>
    public static double[] RankRowsVjp(SoftRowsState state, double[] upstream)
        => RowsVjp(SoftSortKind.Rank, state, upstream);

    /// <summary>Vjp of <see cref="SortRows"/>: upstream and the result are rows×cols, row-major.</summary>
    public static double[] SortRowsVjp(SoftRowsState state, double[] upstream)
        => RowsVjp(SoftSortKind.Sort, state, upstream);

    // ---------------------------------------------------------------- row-wise

    private static (double[] Values, SoftRowsState State) Rows(SoftSortKind kind, double[] x, int rows, int cols, double delta)
    {
        ArgumentNullException.ThrowIfNull(x);
        Guard.Positive(rows, nameof(rows));
        Guard.Positive(cols, nameof(cols));
        Guard.Length<double>(x, checked(rows * cols), nameof(x), "rows·cols, row-major");
        Guard.Finite(x, nameof(x));
        Guard.Positive(delta, nameof(delta));

        var values = new double[x.Length];
        var perm = new int[x.Length];
        var ends = new int[x.Length];
        var counts = new int[rows];
        Parallel.For(0, rows, () => new double[cols], (r, _, work) =>
        {
            int o = r * cols;
            var theta = x.AsSpan(o, cols);
            var output = values.AsSpan(o, cols);
            var p = perm.AsSpan(o, cols);
            var e = ends.AsSpan(o, cols);
            counts[r] = kind == SoftSortKind.Rank
                ? RankCore(theta, delta, output, p, e, work)
                : SortCore(theta, delta, output, p, e, work);
            return work;
        }, _ => { });
        return (values, new SoftRowsState(kind, rows, cols, delta, perm, ends, counts));
    }

    private static double[] RowsVjp(SoftSortKind kind, SoftRowsState state, double[] upstream)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(upstream);
        if (state.Kind != kind)
            throw new ArgumentException($"state was recorded by soft {state.Kind.ToString().ToLowerInvariant()}; expected soft {kind.ToString().ToLowerInvariant()}.", nameof(state));
        int rows = state.Rows, cols = state.Cols;
        Guard.Length<double>(upstream, rows * cols, nameof(upstream), "rows·cols, row-major");
        Guard.Finite(upstream, nameof(upstream));

        var grad = new double[upstream.Length];
        Parallel.For(0, rows, r =>
        {
            int o = r * cols;
            var g = upstream.AsSpan(o, cols);
            var p = state.Perm.AsSpan(o, cols);
            var e = state.BlockEnds.AsSpan(o, state.BlockCounts[r]);
            var gt = grad.AsSpan(o, cols);
            if (kind == SoftSortKind.Rank) RankVjpCore(g, state.Delta, p, e, gt);
            else SortVjpCore(g, p, e, gt);
        });
        return grad;
    }

    // ---------------------------------------------------------------- cores (no checks)

    private static int RankCore(ReadOnlySpan<double> theta, double delta, Span<double> output,
        Span<int> perm, Span<int> blockEnds, Span<double> work)
    {
        int n = theta.Length;
        // σ sorts z = −θ/δ descending, i.e. θ ascending; work holds θ_σ.
        theta.CopyTo(work);
        for (int i = 0; i < n; i++) perm[i] = i;
        work.Sort(perm);
        // y_k = z_{σ_k} − ρ_k = −θ_{σ_k}/δ − (n − k); output is PAV's scratch.
        int count = Pav(work, -1.0 / delta, -1.0, blockEnds, output);
        // r_{σ_k} = (mean_B θ_σ − θ_{σ_k})/δ + mean_B ρ.
        int start = 0;
        for (int b = 0; b < count; b++)
        {
            int end = blockEnds[b];
            double sum = 0;
            for (int k = start; k < end; k++) sum += work[k];
            double meanTheta = sum / (end - start);
            double meanRho = n - 0.5 * (start + end - 1);
            for (int k = start; k < end; k++) output[perm[k]] = (meanTheta - work[k]) / delta + meanRho;
            start = end;
        }
        return count;
    }

    private static int SortCore(ReadOnlySpan<double> theta, double delta, Span<double> output,
        Span<int> perm, Span<int> blockEnds, Span<double> work)
    {
        int n = theta.Length;
        // τ sorts θ descending; work holds w = θ_τ.
        theta.CopyTo(work);
        for (int i = 0; i < n; i++) perm[i] = i;
        work.Sort(perm);
        work.Reverse();
        perm.Reverse();
        // y_k = ρ_k/δ − w_k; output is PAV's scratch.
        int count = Pav(work, -1.0, 1.0 / delta, blockEnds, output);
        // s_k = ρ_k/δ − v_k = mean_B w + (ρ_k − mean_B ρ)/δ.
        int start = 0;
        for (int b = 0; b < count; b++)
        {
            int end = blockEnds[b];
            double sum = 0;
            for (int k = start; k < end; k++) sum += work[k];
            double meanW = sum / (end - start);
            double meanRho = n - 0.5 * (start + end - 1);
            for (int k = start; k < end; k++) output[k] = meanW + (n - k - meanRho) / delta;
            start = end;
        }
        return count;
    }

    /// <summary>
    /// Pool-adjacent-violators for argmin_{v₁ ≥ … ≥ vₙ} ‖v − y‖² with y_k = a·keys_k + b·(n − k).
    /// Writes exclusive block ends to blockEnds and returns the block count; sums is scratch (length n).
    /// Blocks with equal means are pooled.
    /// </summary>
    internal static int Pav(ReadOnlySpan<double> keys, double a, double b, Span<int> blockEnds, Span<double> sums)
    {
        int n = keys.Length, top = -1;
        for (int k = 0; k < n; k++)
        {
            top++;
            sums[top] = a * keys[k] + b * (n - k);
            blockEnds[top] = k + 1;
            while (top > 0)
            {
                int prevStart = top > 1 ? blockEnds[top - 2] : 0;
                int prevLen = blockEnds[top - 1] - prevStart, curLen = blockEnds[top] - blockEnds[top - 1];
                if (sums[top - 1] / prevLen > sums[top] / curLen) break; // non-increasing: fine
                sums[top - 1] += sums[top];
                blockEnds[top - 1] = blockEnds[top];
                top--;
            }
        }
        return top + 1;
    }

    private static void RankVjpCore(ReadOnlySpan<double> g, double delta, ReadOnlySpan<int> perm,
        ReadOnlySpan<int> blockEnds, Span<double> grad)
    {
        int start = 0;
        foreach (int end in blockEnds)
        {
            double sum = 0;
            for (int k = start; k < end; k++) sum += g[perm[k]];
            double mean = sum / (end - start);
            for (int k = start; k < end; k++) grad[perm[k]] = (mean - g[perm[k]]) / delta;
            start = end;
        }
    }

    private static void SortVjpCore(ReadOnlySpan<double> g, ReadOnlySpan<int> perm,
        ReadOnlySpan<int> blockEnds, Span<double> grad)
    {
        int start = 0;
        foreach (int end in blockEnds)
        {
            double sum = 0;
            for (int k = start; k < end; k++) sum += g[k];
            double mean = sum / (end - start);
            for (int k = start; k < end; k++) grad[perm[k]] = mean;
            start = end;
        }
    }

    // ---------------------------------------------------------------- checks

    private static void CheckForward(ReadOnlySpan<double> theta, double delta, Span<double> output,
        Span<int> perm, Span<int> blockEnds, Span<double> work)
    {
        Guard.NonEmpty(theta, nameof(theta));
        Guard.Finite(theta, nameof(theta));
        Guard.Positive(delta, nameof(delta));
        int n = theta.Length;
        Guard.Length<double>(output, n, nameof(output), "one value per entry of theta");
        Guard.Length<int>(perm, n, nameof(perm), "one index per entry of theta");
        Guard.Length<int>(blockEnds, n, nameof(blockEnds), "at most one block per entry of theta");
        Guard.Length<double>(work, n, nameof(work), "scratch, one per entry of theta");
    }

    private static void CheckBackward(ReadOnlySpan<double> upstream, double delta, ReadOnlySpan<int> perm,
        ReadOnlySpan<int> blockEnds, Span<double> gradTheta)
    {
        Guard.NonEmpty(upstream, nameof(upstream));
        Guard.Finite(upstream, nameof(upstream));
        Guard.Positive(delta, nameof(delta));
        int n = upstream.Length;
        Guard.Length(perm, n, nameof(perm), "the permutation from the forward pass");
        Guard.Length<double>(gradTheta, n, nameof(gradTheta), "one gradient per entry of theta");
        if (blockEnds.Length == 0 || blockEnds.Length > n || blockEnds[^1] != n)
            throw new ArgumentException($"blockEnds has {blockEnds.Length} entries ending at {(blockEnds.Length > 0 ? blockEnds[^1] : 0)}; expected the first count entries from the forward pass, the last equal to {n}.", nameof(blockEnds));
    }
}
