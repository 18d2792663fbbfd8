using Glass.Kernels.Exact;

namespace Glass.Models.Glass;

/// <summary>
/// Reference values for a GLASS loss on one pair (X, Y) of n points each, with the lifted cost D_ij = d(x_i, y_j)²
/// (geodesic on S², Eq. 4) or ‖x_i − y_j‖² (features, Eq. 5), both under uniform marginals 1/n:
/// the independent coupling P = 11ᵀ/n² (what a uniform, "no alignment" plan costs: ⟨P, D⟩ = mean D_ij) and the exact
/// optimal plan of the lifted cost (an assignment σ for n = m, <see cref="ExactTransport.Assignment"/>; its loss
/// (1/n) Σ_i D_iσ(i) is the true optimum any coupling — GLASS's included — can reach) with its perm_acc against π.
/// </summary>
/// <param name="IndependentLoss">⟨11ᵀ/n², D⟩.</param>
/// <param name="ExactLoss">min over couplings of ⟨P, D⟩.</param>
/// <param name="ExactPermAcc">Fraction of rows with σ(i) = π(i) (NaN without ground truth).</param>
public sealed record Yardsticks(double IndependentLoss, double ExactLoss, double ExactPermAcc)
{
    /// <summary>Largest n for which the exact plan is computed (dense n×n cost, O(n³) worst-case assignment).</summary>
    public const int MaxExactN = 2048;

    /// <summary>Yardsticks of (X, Y), row-major n×dim each; null when n differs from m or exceeds <see cref="MaxExactN"/>.</summary>
    /// <param name="x">X, n×dim (unit rows on S² when <paramref name="geodesic"/>).</param>
    /// <param name="y">Y, m×dim.</param>
    /// <param name="dim">Columns.</param>
    /// <param name="geodesic">Geodesic d² on S² (rows normalised here) rather than squared Euclidean.</param>
    /// <param name="truth">π (X row i ↔ Y row π(i)), or null.</param>
    public static Yardsticks? Compute(double[] x, double[] y, int dim, bool geodesic, IReadOnlyList<int>? truth)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        int n = x.Length / dim, m = y.Length / dim;
        if (n != m || n > MaxExactN || n < 1) return null;
        var cost = Cost(geodesic ? Normalise(x, dim) : x, geodesic ? Normalise(y, dim) : y, n, dim, geodesic);
        double mean = 0;
        foreach (var c in cost) mean += c;
        mean /= (double)n * n;
        var sigma = ExactTransport.Assignment(cost, n, n);
        double exact = 0;
        int ok = 0;
        for (int i = 0; i < n; i++)
        {
            exact += cost[(long)i * n + sigma[i]];
            if (truth is not null && truth[i] == sigma[i]) ok++;
        }
        return new Yardsticks(mean, exact / n, truth is null ? double.NaN : (double)ok / n);
    }

    private static double[] Cost(double[] x, double[] y, int n, int dim, bool geodesic)
    {
        var cost = new double[(long)n * n];
        Parallel.For(0, n, i =>
        {
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                if (geodesic)
                {
                    for (int q = 0; q < dim; q++) s += x[i * dim + q] * y[j * dim + q];
                    double th = Math.Acos(Math.Clamp(s, -1, 1));
                    s = th * th;
                }
                else
                    for (int q = 0; q < dim; q++) { double e = x[i * dim + q] - y[j * dim + q]; s += e * e; }
                cost[(long)i * n + j] = s;
            }
        });
        return cost;
    }

    private static double[] Normalise(double[] p, int dim)
    {
        var o = new double[p.Length];
        for (int i = 0; i < p.Length / dim; i++)
        {
            double r = 0;
            for (int q = 0; q < dim; q++) r += p[i * dim + q] * p[i * dim + q];
            r = Math.Sqrt(r);
            for (int q = 0; q < dim; q++) o[i * dim + q] = r > 0 ? p[i * dim + q] / r : 0;
        }
        return o;
    }
}
