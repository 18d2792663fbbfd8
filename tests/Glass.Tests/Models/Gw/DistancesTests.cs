using Glass.Models.Gw;
using NUnit.Framework;

namespace Glass.Tests.Models.Gw;

public class DistancesTests
{
    private static readonly double[] Pts = { 1, 2, 0, 3, 1, 1, -1, 2, 5, 0, 1, 4 }; // 4×3

    [Test]
    public void DenseMetricsMatchTheirFormulas()
    {
        int n = 4, d = 3;
        double Ref(DistanceMetric m, int i, int j)
        {
            var a = Pts.Skip(i * d).Take(d).ToArray(); var b = Pts.Skip(j * d).Take(d).ToArray();
            if (m == DistanceMetric.Correlation) { double ma = a.Average(), mb = b.Average(); a = a.Select(v => v - ma).ToArray(); b = b.Select(v => v - mb).ToArray(); }
            double dot = a.Zip(b, (p, q) => p * q).Sum(), na = Math.Sqrt(a.Sum(v => v * v)), nb = Math.Sqrt(b.Sum(v => v * v));
            double sq = a.Zip(b, (p, q) => (p - q) * (p - q)).Sum();
            return m switch { DistanceMetric.Euclidean => Math.Sqrt(sq), DistanceMetric.SqEuclidean => sq, _ => 1 - dot / (na * nb) };
        }
        foreach (var m in new[] { DistanceMetric.Euclidean, DistanceMetric.SqEuclidean, DistanceMetric.Cosine, DistanceMetric.Correlation })
        {
            var D = Distances.Compute(Pts, n, d, new DistanceOptions { Metric = m, NormalizeByMax = false }).Values;
            for (int i = 0; i < n; i++) for (int j = 0; j < n; j++)
                Assert.That(D[i * n + j], Is.EqualTo(i == j ? 0 : Ref(m, i, j)).Within(1e-12), $"{m} [{i},{j}]");
        }
    }

    [Test]
    public void GeodesicOnAChainCountsHopsAndNormalisesByTheMax()
    {
        // Points on a line at 0, 1, 2, 3, 4 (as 1-D Euclidean): the 1-NN graph (symmetrised) is the chain.
        var x = new double[] { 0, 1, 2.1, 3.3, 4.6 };
        var D = Distances.Compute(x, 5, 1, new DistanceOptions { K = 1, KnnMetric = DistanceMetric.Euclidean });
        Assert.That(D.Components, Is.EqualTo(1));
        Assert.That(D.Scale, Is.EqualTo(4));
        Assert.That(D.Values[0 * 5 + 4], Is.EqualTo(1));
        Assert.That(D.Values[1 * 5 + 3], Is.EqualTo(0.5));
        var W = Distances.Compute(x, 5, 1, new DistanceOptions { K = 1, KnnMetric = DistanceMetric.Euclidean, Weights = KnnWeights.Distance, NormalizeByMax = false });
        Assert.That(W.Values[0 * 5 + 4], Is.EqualTo(4.6).Within(1e-12));
    }

    [Test]
    public void DisconnectedGraphFailsOrFallsBackAsRequested()
    {
        var x = new double[] { 0, 0.1, 0.2, 10, 10.1, 10.2 };
        var o = new DistanceOptions { K = 1, KnnMetric = DistanceMetric.Euclidean, Disconnected = DisconnectedPolicy.Fail };
        var ex = Assert.Throws<ArgumentException>(() => Distances.Compute(x, 6, 1, o, "cells.npy"));
        Assert.That(ex!.Message, Does.Contain("cells.npy").And.Contain("2 connected components"));
        var D = Distances.Compute(x, 6, 1, o with { Disconnected = DisconnectedPolicy.ReplaceByMax, NormalizeByMax = false });
        Assert.That(D.Components, Is.EqualTo(2));
        Assert.That(D.ReplacedInfinite, Is.True);
        Assert.That(D.Values[0 * 6 + 5], Is.EqualTo(2), "∞ replaced by the largest finite path length");
    }

    [Test]
    public void BadInputNamesTheProblem()
    {
        var ex = Assert.Throws<ArgumentException>(() => Distances.Compute(Pts, 4, 3, new DistanceOptions { K = 4 }, "a.npy"));
        Assert.That(ex!.Message, Does.Contain("a.npy: k = 4").And.Contain("n = 4"));
        var bad = (double[])Pts.Clone(); bad[5] = double.PositiveInfinity;
        ex = Assert.Throws<ArgumentException>(() => Distances.Compute(bad, 4, 3, new DistanceOptions { Metric = DistanceMetric.Euclidean }, "a.npy"));
        Assert.That(ex!.Message, Does.Contain("a.npy: value at row 1, column 2 is ∞").Or.Contain("a.npy: value at row 1, column 2 is Infinity"));
        var constant = (double[])Pts.Clone(); constant[3] = constant[4] = constant[5] = 7;
        ex = Assert.Throws<ArgumentException>(() => Distances.Compute(constant, 4, 3, new DistanceOptions { Metric = DistanceMetric.Correlation }, "a.npy"));
        Assert.That(ex!.Message, Does.Contain("a.npy: row 1 is constant"));
        ex = Assert.Throws<ArgumentException>(() => Distances.Compute(Pts, 3, 3, new DistanceOptions(), "a.npy"));
        Assert.That(ex!.Message, Does.Contain("12 values; expected n·d = 3·3"));
    }
}
