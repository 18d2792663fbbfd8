using Glass.Autodiff.Ops;
using Glass.Tests.Support;
using NUnit.Framework;

namespace Glass.Tests.Autodiff;

/// <summary>
/// Soft sort / soft rank with quadratic regularisation (Blondel et al. 2020): hand-computed PAV,
/// the projection's optimality conditions by enumeration, the δ → 0 and δ → ∞ limits, monotonicity,
/// vjp vs central differences, row-wise vs per-row, bad input.
/// </summary>
public class SoftSortTests
{
    private static (double[] Out, int[] Perm, int[] Ends) Rank(double[] theta, double delta)
    {
        int n = theta.Length;
        var o = new double[n]; var p = new int[n]; var e = new int[n];
        int c = SoftSortOps.Rank(theta, delta, o, p, e, new double[n]);
        return (o, p, e[..c]);
    }

    private static (double[] Out, int[] Perm, int[] Ends) Sort(double[] theta, double delta)
    {
        int n = theta.Length;
        var o = new double[n]; var p = new int[n]; var e = new int[n];
        int c = SoftSortOps.Sort(theta, delta, o, p, e, new double[n]);
        return (o, p, e[..c]);
    }

    // ------------------------------------------------------------ hand-computed PAV, n = 3

    [Test]
    public void Rank_HandComputed_N3()
    {
        // θ = (3, 0, 0.5), δ = 1. σ (θ ascending) = (1, 2, 0), z_σ = −θ_σ = (0, −0.5, −3),
        // y = z_σ − ρ = (−3, −2.5, −4). PAV (non-increasing): −3 < −2.5 → pool {0,1} at −2.75;
        // −2.75 ≥ −4 → keep. v = (−2.75, −2.75, −4); r_σ = z_σ − v = (2.75, 2.25, 1).
        var (r, p, e) = Rank(new[] { 3.0, 0.0, 0.5 }, 1.0);
        Close.All(new[] { 1.0, 2.75, 2.25 }, r, 1e-14, 1e-14, "soft rank");
        Assert.That(p, Is.EqualTo(new[] { 1, 2, 0 }), "perm");
        Assert.That(e, Is.EqualTo(new[] { 2, 3 }), "block ends");
    }

    [Test]
    public void Sort_HandComputed_N3()
    {
        // θ = (3, 0, 0.5), δ = 0.5. w = θ descending = (3, 0.5, 0), τ = (0, 2, 1),
        // y = ρ/δ − w = (3, 3.5, 2). PAV: 3 < 3.5 → pool {0,1} at 3.25; 3.25 ≥ 2 → keep.
        // s = ρ/δ − v = (6 − 3.25, 4 − 3.25, 2 − 2) = (2.75, 0.75, 0).
        var (s, p, e) = Sort(new[] { 3.0, 0.0, 0.5 }, 0.5);
        Close.All(new[] { 2.75, 0.75, 0.0 }, s, 1e-14, 1e-14, "soft sort");
        Assert.That(p, Is.EqualTo(new[] { 0, 2, 1 }), "perm");
        Assert.That(e, Is.EqualTo(new[] { 2, 3 }), "block ends");
    }

    [Test]
    public void Pav_PoolsEverything_WhenIncreasing()
    {
        // y = keys (a = 1, b = 0) = (1, 2, 3): increasing, so one block with mean 2.
        var ends = new int[3]; var sums = new double[3];
        int c = SoftSortOps.Pav(new[] { 1.0, 2.0, 3.0 }, 1.0, 0.0, ends, sums);
        Assert.That(c, Is.EqualTo(1));
        Assert.That(ends[0], Is.EqualTo(3));
        Assert.That(sums[0], Is.EqualTo(6.0));
    }

    // ------------------------------------------------------------ projection optimality by enumeration

    /// <summary>
    /// μ = P_Q(z, w) iff μ ∈ P(w) (sorted partial sums of μ ≤ those of w, equal totals) and
    /// ⟨z − μ, w_π − μ⟩ ≤ 0 for every permutation π (every vertex of P(w)).
    /// </summary>
    private static void AssertProjection(double[] z, double[] w, double[] mu, string what)
    {
        int n = z.Length;
        double scale = z.Max(Math.Abs) + w.Max(Math.Abs) + 1;
        var ms = mu.OrderByDescending(v => v).ToArray();
        var ws = w.OrderByDescending(v => v).ToArray();
        double pm = 0, pw = 0;
        for (int k = 0; k < n; k++)
        {
            pm += ms[k]; pw += ws[k];
            Assert.That(pm, Is.LessThanOrEqualTo(pw + 1e-10 * scale), $"{what}: partial sum {k}");
        }
        Assert.That(pm, Is.EqualTo(pw).Within(1e-10 * scale), $"{what}: total");
        foreach (var pi in Permutations(n))
        {
            double ip = 0;
            for (int i = 0; i < n; i++) ip += (z[i] - mu[i]) * (w[pi[i]] - mu[i]);
            Assert.That(ip, Is.LessThanOrEqualTo(1e-9 * scale * scale), $"{what}: vertex ({string.Join(",", pi)})");
        }
    }

    private static IEnumerable<int[]> Permutations(int n)
    {
        var a = Enumerable.Range(0, n).ToArray();
        var c = new int[n];
        yield return (int[])a.Clone();
        for (int i = 0; i < n;)
        {
            if (c[i] < i)
            {
                int j = i % 2 == 0 ? 0 : c[i];
                (a[j], a[i]) = (a[i], a[j]);
                yield return (int[])a.Clone();
                c[i]++; i = 0;
            }
            else { c[i] = 0; i++; }
        }
    }

    [TestCase(1, 0.05)]
    [TestCase(2, 0.5)]
    [TestCase(3, 3.0)]
    public void Rank_And_Sort_AreProjections_N6(int seed, double delta)
    {
        const int n = 6;
        var theta = Close.RandomNormal(n, seed);
        var rho = Enumerable.Range(0, n).Select(k => (double)(n - k)).ToArray();
        var r = SoftRanking.SoftRank(theta, delta);
        AssertProjection(theta.Select(t => -t / delta).ToArray(), rho, r, "r = P_Q(−θ/δ, ρ)");
        var s = SoftRanking.SoftSort(theta, delta);
        AssertProjection(rho.Select(v => v / delta).ToArray(), theta, s, "s = P_Q(ρ/δ, θ)");
    }

    // ------------------------------------------------------------ limits and invariants

    private static double MinGap(double[] x)
    {
        var s = x.Order().ToArray();
        double g = double.PositiveInfinity;
        for (int k = 1; k < s.Length; k++) g = Math.Min(g, s[k] - s[k - 1]);
        return g;
    }

    [TestCase(1, 9)]
    [TestCase(2, 100)]
    public void Rank_TendsToHardRanks_AsDeltaToZero(int seed, int n)
    {
        var theta = Close.RandomNormal(n, seed);
        // Hard ranks, descending: the largest θ has rank 1.
        var hard = new double[n];
        var order = Enumerable.Range(0, n).OrderByDescending(i => theta[i]).ToArray();
        for (int k = 0; k < n; k++) hard[order[k]] = k + 1;
        double gap = MinGap(theta);
        Assert.That(gap, Is.GreaterThan(0), "distinct values");
        // Exactly hard once every gap ≥ δ.
        Close.All(hard, SoftRanking.SoftRank(theta, 0.5 * gap), 1e-9, 0, "δ = gap/2");
        Close.All(hard, SoftRanking.SoftRank(theta, 1e-6 * gap), 1e-9, 0, "δ = 1e-6·gap");
        // ... and not hard when δ exceeds the smallest gap (the two closest entries are pooled).
        var soft = SoftRanking.SoftRank(theta, 2 * gap);
        Assert.That(soft.Zip(hard).Max(t => Math.Abs(t.First - t.Second)), Is.GreaterThan(0.1), "δ = 2·gap is soft");
    }

    [TestCase(1, 11)]
    [TestCase(2, 64)]
    public void Rank_TendsToMeanRank_AsDeltaToInfinity(int seed, int n)
    {
        var theta = Close.RandomNormal(n, seed, 3);
        double range = theta.Max() - theta.Min(), mid = (n + 1) / 2.0;
        double prev = double.PositiveInfinity;
        foreach (double delta in new[] { 1.0, 10 * n * range, 1e3 * n * range, 1e6 * n * range })
        {
            var r = SoftRanking.SoftRank(theta, delta);
            double dev = r.Max(v => Math.Abs(v - mid));
            Assert.That(dev, Is.LessThan(prev), $"δ = {delta}: deviation shrinks");
            if (delta > 1) Assert.That(dev, Is.LessThanOrEqualTo(range / delta * (1 + 1e-9)), $"δ = {delta}: |r − (n+1)/2| ≤ range/δ");
            Assert.That(r.Sum(), Is.EqualTo(n * (n + 1) / 2.0).Within(1e-9 * n * n), $"δ = {delta}: Σr");
            prev = dev;
        }
        Assert.That(prev, Is.LessThan(1e-6));
    }

    [Test]
    public void Rank_AscendingIsReflection()
    {
        // Documented: r_δ(−θ) = n + 1 − r_δ(θ) exactly (P(ρ) is point-symmetric about (n+1)/2).
        var theta = Close.RandomNormal(37, 5);
        foreach (double delta in new[] { 0.01, 0.3, 5.0 })
        {
            var r = SoftRanking.SoftRank(theta, delta);
            var rNeg = SoftRanking.SoftRank(theta.Select(t => -t).ToArray(), delta);
            Close.All(r.Select(v => 38 - v).ToArray(), rNeg, 1e-10, 1e-12, $"δ = {delta}");
        }
    }

    [Test]
    public void Sort_IsMonotone_ForEveryDelta()
    {
        var theta = Close.RandomNormal(51, 7, 2);
        theta[3] = theta[10]; theta[20] = theta[21] = theta[22]; // ties
        double sum = theta.Sum();
        var hard = theta.OrderByDescending(v => v).ToArray();
        foreach (double delta in new[] { 1e-6, 1e-3, 0.1, 0.5, 1, 3, 10, 100, 1e4 })
        {
            var s = SoftRanking.SoftSort(theta, delta);
            for (int k = 1; k < s.Length; k++)
                Assert.That(s[k], Is.LessThanOrEqualTo(s[k - 1] + 1e-12), $"δ = {delta}: s[{k}] ≤ s[{k - 1}]");
            Assert.That(s.Sum(), Is.EqualTo(sum).Within(1e-9), $"δ = {delta}: Σs = Σθ");
        }
        // Limits: hard descending sort once every gap ≤ 1/δ; the mean for large δ.
        double maxGap = 0;
        for (int k = 1; k < hard.Length; k++) maxGap = Math.Max(maxGap, hard[k - 1] - hard[k]);
        Close.All(hard, SoftRanking.SoftSort(theta, 0.5 / maxGap), 1e-12, 1e-12, "δ = 1/(2·max gap)");
        var mean = Enumerable.Repeat(sum / theta.Length, theta.Length).ToArray();
        Close.All(mean, SoftRanking.SoftSort(theta, 1e9), 1e-6, 0, "δ = 1e9");
    }

    // ------------------------------------------------------------ vjp vs central differences

    private delegate (double[] Out, int[] Perm, int[] Ends) Forward(double[] theta, double delta);

    private static void CheckVjp(Forward f, Func<double[], double, int[], int[], double[]> vjp,
        int n, double delta, int seed, double thetaScale)
    {
        const double h = 1e-6;
        int checkedCount = 0, nontrivial = 0;
        for (int trial = 0; trial < 10; trial++)
        {
            var theta = Close.RandomNormal(n, 1000 * seed + trial, thetaScale);
            var g = Close.RandomNormal(n, 2000 * seed + trial);
            var u = Close.RandomNormal(n, 3000 * seed + trial);
            var (_, perm, ends) = f(theta, delta);
            var plus = theta.Zip(u, (t, d) => t + h * d).ToArray();
            var minus = theta.Zip(u, (t, d) => t - h * d).ToArray();
            var (fp, pp, ep) = f(plus, delta);
            var (fm, pm, em) = f(minus, delta);
            // Away from PAV block-boundary (and sort) ties the map is linear on [θ − hu, θ + hu].
            if (!pp.SequenceEqual(perm) || !pm.SequenceEqual(perm) || !ep.SequenceEqual(ends) || !em.SequenceEqual(ends))
                continue;
            double fd = 0;
            for (int i = 0; i < n; i++) fd += g[i] * (fp[i] - fm[i]) / (2 * h);
            var grad = vjp(g, delta, perm, ends);
            double an = grad.Zip(u, (a, b) => a * b).Sum();
            double norm = Math.Sqrt(grad.Sum(v => v * v)) * Math.Sqrt(u.Sum(v => v * v));
            Assert.That(Math.Abs(an - fd), Is.LessThanOrEqualTo(1e-6 * Math.Max(Math.Abs(fd), norm)),
                $"trial {trial}: vjp·u = {an:R}, central difference {fd:R}");
            checkedCount++;
            if (ends.Length > 1 && ends.Length < n) nontrivial++;
        }
        Assert.That(checkedCount, Is.GreaterThanOrEqualTo(8), "trials away from block-boundary ties");
        Assert.That(nontrivial, Is.GreaterThanOrEqualTo(4), "trials with pooled blocks and several blocks");
    }

    [TestCase(1, 20, 0.1)]
    [TestCase(2, 57, 0.03)]
    public void RankVjp_MatchesCentralDifferences(int seed, int n, double delta)
        => CheckVjp(Rank, (g, d, p, e) =>
        {
            var grad = new double[g.Length];
            SoftSortOps.RankVjp(g, d, p, e, grad);
            return grad;
        }, n, delta, seed, 1.0);

    [TestCase(1, 20, 5.0)]
    [TestCase(2, 57, 4.0)]
    public void SortVjp_MatchesCentralDifferences(int seed, int n, double delta)
        => CheckVjp(Sort, (g, _, p, e) =>
        {
            var grad = new double[g.Length];
            SoftSortOps.SortVjp(g, p, e, grad);
            return grad;
        }, n, delta, seed, 1.0);

    [Test]
    public void RankVjp_FullJacobian_MatchesCentralDifferences_SmallCase()
    {
        // Column by column on the hand example θ = (3, 0, 0.5), δ = 1 (blocks {θ=0, θ=0.5}, {θ=3}):
        // ∂r/∂θ = −(I − P_σᵀ B P_σ): rows/cols of the pooled pair are −(1/2)[[1, −1], [−1, 1]].
        var theta = new[] { 3.0, 0.0, 0.5 };
        var (_, perm, ends) = Rank(theta, 1.0);
        var expected = new double[,] { { 0, 0, 0 }, { 0, -0.5, 0.5 }, { 0, 0.5, -0.5 } };
        for (int i = 0; i < 3; i++)
        {
            var e = new double[3]; e[i] = 1;
            var row = new double[3];
            SoftSortOps.RankVjp(e, 1.0, perm, ends, row); // row i of J = eᵢᵀ J
            for (int j = 0; j < 3; j++)
            {
                var tp = (double[])theta.Clone(); tp[j] += 1e-6;
                var tm = (double[])theta.Clone(); tm[j] -= 1e-6;
                double fd = (SoftRanking.SoftRank(tp, 1.0)[i] - SoftRanking.SoftRank(tm, 1.0)[i]) / 2e-6;
                Assert.That(row[j], Is.EqualTo(expected[i, j]).Within(1e-14), $"J[{i},{j}] closed form");
                Assert.That(row[j], Is.EqualTo(fd).Within(1e-8), $"J[{i},{j}] vs central difference");
            }
        }
    }

    // ------------------------------------------------------------ row-wise

    [Test]
    public void Rows_EqualPerRowCalls()
    {
        const int rows = 7, cols = 13;
        const double delta = 0.2;
        var x = Close.RandomNormal(rows * cols, 11);
        var up = Close.RandomNormal(rows * cols, 12);
        var (rv, rs) = SoftSortOps.RankRows(x, rows, cols, delta);
        var (sv, ss) = SoftSortOps.SortRows(x, rows, cols, 1 / delta);
        var rg = SoftSortOps.RankRowsVjp(rs, up);
        var sg = SoftSortOps.SortRowsVjp(ss, up);
        for (int r = 0; r < rows; r++)
        {
            var row = x.AsSpan(r * cols, cols).ToArray();
            var g = up.AsSpan(r * cols, cols).ToArray();
            var (ro, rp, re) = Rank(row, delta);
            var (so, sp, se) = Sort(row, 1 / delta);
            var rgi = new double[cols]; SoftSortOps.RankVjp(g, delta, rp, re, rgi);
            var sgi = new double[cols]; SoftSortOps.SortVjp(g, sp, se, sgi);
            Assert.That(rv.AsSpan(r * cols, cols).ToArray(), Is.EqualTo(ro), $"rank row {r}");
            Assert.That(sv.AsSpan(r * cols, cols).ToArray(), Is.EqualTo(so), $"sort row {r}");
            Assert.That(rg.AsSpan(r * cols, cols).ToArray(), Is.EqualTo(rgi), $"rank vjp row {r}");
            Assert.That(sg.AsSpan(r * cols, cols).ToArray(), Is.EqualTo(sgi), $"sort vjp row {r}");
            Assert.That(rs.BlockCounts[r], Is.EqualTo(re.Length), $"rank blocks row {r}");
        }
        Assert.That(rs.BlockCounts.Any(c => c > 1 && c < cols), Is.True, "some rows have pooled blocks");
    }

    // ------------------------------------------------------------ bad input

    [Test]
    public void BadInput_Throws_NamingArgumentAndValue()
    {
        var ex = Assert.Throws<ArgumentException>(() => SoftRanking.SoftRank(new[] { 1.0, double.NaN }, 1))!;
        Assert.That(ex.ParamName, Is.EqualTo("theta"));
        Assert.That(ex.Message, Does.Contain("theta[1] = NaN"));
        ex = Assert.Throws<ArgumentException>(() => SoftRanking.SoftSort(new[] { double.PositiveInfinity }, 1))!;
        Assert.That(ex.Message, Does.Contain("theta[0] = ∞").Or.Contain("theta[0] = Infinity"));
        ex = Assert.Throws<ArgumentException>(() => SoftRanking.SoftRank(Array.Empty<double>(), 1))!;
        Assert.That(ex.ParamName, Is.EqualTo("theta"));
        Assert.That(ex.Message, Does.Contain("empty"));
        foreach (double d in new[] { 0.0, -1.5, double.NaN, double.PositiveInfinity })
        {
            ex = Assert.Throws<ArgumentException>(() => SoftRanking.SoftSort(new[] { 1.0, 2.0 }, d))!;
            Assert.That(ex.ParamName, Is.EqualTo("delta"), $"δ = {d}");
            Assert.That(ex.Message, Does.Contain("delta = "), $"δ = {d}");
        }
        ex = Assert.Throws<ArgumentException>(() => SoftSortOps.RankRows(new double[5], 2, 3, 1))!;
        Assert.That(ex.ParamName, Is.EqualTo("x"));
        ex = Assert.Throws<ArgumentException>(() => SoftSortOps.RankRows(new[] { 1.0, double.NegativeInfinity }, 1, 2, 1))!;
        Assert.That(ex.Message, Does.Contain("x[1]"));
        ex = Assert.Throws<ArgumentException>(() => SoftSortOps.RankRows(new[] { 1.0, 2.0 }, 1, 2, -1))!;
        Assert.That(ex.ParamName, Is.EqualTo("delta"));
        var (_, state) = SoftSortOps.SortRows(new[] { 1.0, 2.0 }, 1, 2, 1);
        ex = Assert.Throws<ArgumentException>(() => SoftSortOps.RankRowsVjp(state, new[] { 1.0, 2.0 }))!;
        Assert.That(ex.ParamName, Is.EqualTo("state"));
        ex = Assert.Throws<ArgumentException>(() => SoftSortOps.SortRowsVjp(state, new[] { 1.0 }))!;
        Assert.That(ex.ParamName, Is.EqualTo("upstream"));
        ex = Assert.Throws<ArgumentException>(() => SoftSortOps.Rank(new[] { 1.0, 2.0 }, 1, new double[2], new int[1], new int[2], new double[2]))!;
        Assert.That(ex.ParamName, Is.EqualTo("perm"));
    }
}
