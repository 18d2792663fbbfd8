using Glass.Autodiff;
using Glass.Autodiff.Ops;
using Glass.Models.Gw;
using Glass.Models.Metrics;
using NUnit.Framework;

namespace Glass.Tests.Models.Gw;

/// <summary>GW, rank and spectral losses: values against direct formulas, gradients against finite differences.</summary>
public class GwLossTests
{
    private static double[] RandomSym(int n, int seed)
    {
        var r = new Random(seed);
        var x = new double[n * 2];
        for (int k = 0; k < x.Length; k++) x[k] = r.NextDouble();
        return Distances.Compute(x, n, 2, new DistanceOptions { Metric = DistanceMetric.Euclidean }).Values;
    }

    private static double[] RandomPlan(int n, int m, int seed)
    {
        var r = new Random(seed);
        var p = new double[n * m];
        double s = 0;
        for (int k = 0; k < p.Length; k++) s += p[k] = 0.2 + r.NextDouble();
        for (int k = 0; k < p.Length; k++) p[k] /= s;
        return p;
    }

    private static double BruteGw(double[] dx, double[] dy, double[] p, int n, int m)
    {
        double s = 0;
        for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) for (int k = 0; k < n; k++) for (int l = 0; l < m; l++)
        {
            double e = dx[i * n + k] - dy[j * m + l];
            s += e * e * p[i * m + j] * p[k * m + l];
        }
        return s;
    }

    [Test]
    public void GwLossEqualsTheFourIndexSum()
    {
        int n = 5, m = 4;
        var dx = RandomSym(n, 1); var dy = RandomSym(m, 2); var p = RandomPlan(n, m, 3);
        double brute = BruteGw(dx, dy, p, n, m);
        var t = new Tape();
        double taped = GwOps.GwLoss(t.Constant(p, n, m), dx, dy).Scalar;
        Assert.That(taped, Is.EqualTo(brute).Within(1e-12 * Math.Abs(brute) + 1e-15));
        Assert.That(AlignmentMetrics.GwLoss(dx, dy, p, n, m), Is.EqualTo(brute).Within(1e-12 * Math.Abs(brute) + 1e-15));
    }

    [Test]
    public void GwLossGradientMatchesFiniteDifferences()
    {
        int n = 5, m = 4;
        var dx = RandomSym(n, 4); var dy = RandomSym(m, 5);
        var r = GradCheck.Check((t, v) => GwOps.GwLoss(v[0], dx, dy), new[] { new GradCheck.Input(RandomPlan(n, m, 6), n, m) }, directions: 6);
        Assert.That(r.MaxRelativeError, Is.LessThan(1e-6));
    }

    [Test]
    public void GwLossGradientThroughSinkhornMatchesFiniteDifferences()
    {
        int n = 5, m = 4;
        var dx = RandomSym(n, 7); var dy = RandomSym(m, 8);
        var r0 = new Random(9);
        var x = Enumerable.Range(0, n * 2).Select(_ => r0.NextDouble()).ToArray();
        var y = Enumerable.Range(0, m * 2).Select(_ => r0.NextDouble()).ToArray();
        var so = new Glass.Kernels.Sinkhorn.SinkhornOptions { Gamma = 0.1, Tol = 1e-13, MaxIter = 100_000 };
        var r = GradCheck.Check((t, v) => GwOps.GwLoss(SinkhornOp.DensePlan(Op.PairwiseSqEuclidean(v[0], v[1]), null, null, so), dx, dy),
            new[] { new GradCheck.Input(x, n, 2), new GradCheck.Input(y, m, 2) }, directions: 4, h: 1e-5);
        Assert.That(r.MaxRelativeError, Is.LessThan(1e-4));
    }

    [Test]
    public void RankLossValueAndGradient()
    {
        int n = 5;
        var dx = RandomSym(n, 10); var dy = RandomSym(n, 11); var p = RandomPlan(n, n, 12);
        double delta = 0.05;
        var rx = GwOps.SoftRanks(dx, n, delta);
        // Value: direct formula with the soft ranks of each row.
        var moved = new double[n * n];
        for (int i = 0; i < n; i++) for (int k = 0; k < n; k++)
        {
            double s = 0;
            for (int j = 0; j < n; j++) for (int l = 0; l < n; l++) s += p[i * n + j] * dy[j * n + l] * p[k * n + l];
            moved[i * n + k] = s * n * n;
        }
        double expect = 0;
        for (int i = 0; i < n; i++)
        {
            var a = SoftRanking.SoftRank(dx.Skip(i * n).Take(n).ToArray(), delta);
            var b = SoftRanking.SoftRank(moved.Skip(i * n).Take(n).ToArray(), delta);
            for (int k = 0; k < n; k++) expect += (a[k] - b[k]) * (a[k] - b[k]);
        }
        expect /= (double)n * n * n * n;
        var t = new Tape();
        Assert.That(GwOps.RankLoss(t.Constant(p, n, n), rx, dy, delta).Scalar, Is.EqualTo(expect).Within(1e-12));
        var r = GradCheck.Check((tp, v) => GwOps.RankLoss(v[0], rx, dy, delta), new[] { new GradCheck.Input(p, n, n) }, directions: 6, h: 1e-8);
        Assert.That(r.MaxRelativeError, Is.LessThan(1e-4));
    }

    [Test]
    public void SpectralEnergyValueAndGradient()
    {
        int n = 6, m = 5;
        var dx = RandomSym(n, 13); var dy = RandomSym(m, 14);
        var lx = Distances.KnnLaplacian(dx, n, 2);
        var ly = Distances.KnnLaplacian(dy, m, 2);
        var r0 = new Random(15);
        var c = Enumerable.Range(0, n * m).Select(_ => r0.NextDouble()).ToArray();
        // Dense: tr(Cᵀ L_X C) + tr(C L_Y Cᵀ).
        double[] Dense(Glass.Kernels.Linalg.CsrMatrix s)
        {
            var d = new double[s.Rows * s.Cols];
            for (int i = 0; i < s.Rows; i++) for (int k = s.RowPtr[i]; k < s.RowPtr[i + 1]; k++) d[i * s.Cols + s.ColIdx[k]] = s.Values[k];
            return d;
        }
        var LX = Dense(lx); var LY = Dense(ly);
        for (int i = 0; i < n; i++) Assert.That(Enumerable.Range(0, n).Sum(j => LX[i * n + j]), Is.EqualTo(0).Within(1e-12), "Laplacian rows sum to 0");
        double e = 0;
        for (int j = 0; j < m; j++) for (int i = 0; i < n; i++) for (int k = 0; k < n; k++) e += c[i * m + j] * LX[i * n + k] * c[k * m + j];
        for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) for (int l = 0; l < m; l++) e += c[i * m + j] * LY[j * m + l] * c[i * m + l];
        e /= n * m;
        var t = new Tape();
        Assert.That(GwOps.SpectralEnergy(t.Constant(c, n, m), lx, ly).Scalar, Is.EqualTo(e).Within(1e-12));
        var r = GradCheck.Check((tp, v) => GwOps.SpectralEnergy(v[0], lx, ly), new[] { new GradCheck.Input(c, n, m) }, directions: 4);
        Assert.That(r.MaxRelativeError, Is.LessThan(1e-6));
    }

    [Test]
    public void KnownPairsAndFusedTermsHaveCorrectGradients()
    {
        int n = 4, m = 5;
        var p = RandomPlan(n, m, 16);
        var fc = RandomPlan(n, m, 17);
        var r = GradCheck.Check((t, v) => Op.Add(GwOps.KnownPairsLoss(v[0], new[] { 0, 2 }, new[] { 1, 4 }), GwOps.FusedTerm(v[0], fc)),
            new[] { new GradCheck.Input(p, n, m) }, directions: 4);
        Assert.That(r.MaxRelativeError, Is.LessThan(1e-6));
        var t2 = new Tape();
        double v2 = GwOps.KnownPairsLoss(t2.Constant(p, n, m), new[] { 0, 2 }, new[] { 1, 4 }).Scalar;
        Assert.That(v2, Is.EqualTo(-0.5 * (Math.Log(n * p[0 * m + 1]) + Math.Log(n * p[2 * m + 4]))).Within(1e-12));
    }
}
