using Glass.Kernels.Device;
using Glass.Models.Gw;
using NUnit.Framework;

namespace Glass.Tests.Models.Gw;

/// <summary>
/// Label-free restart selection: the score against an independent plain Sinkhorn + four-index GW sum, and the
/// failure mode it exists for — a cluster swap that a disconnected kNN-geodesic D cannot see and Euclidean D can.
/// </summary>
public class RestartSelectionTests
{
    // Three clusters in the plane at scalene centres (A–B 1, A–C 1.5, B–C √3.25); B is A translated (identical
    // inner geometry), C has a different size: n = 6 + 6 + 5 = 17 (odd).
    private static readonly double[][] Centres = { new[] { 0.0, 0.0 }, new[] { 1.0, 0.0 }, new[] { 0.0, 1.5 } };
    private const int SizeAB = 6, SizeC = 5, N = 2 * SizeAB + SizeC;

    private static double[] Points()
    {
        var r = new Random(7);
        var jitterA = new double[SizeAB * 2];
        for (int k = 0; k < jitterA.Length; k++) jitterA[k] = 0.08 * (r.NextDouble() - 0.5);
        var x = new double[N * 2];
        for (int i = 0; i < N; i++)
        {
            int c = i < SizeAB ? 0 : i < 2 * SizeAB ? 1 : 2;
            double jx = c < 2 ? jitterA[(i % SizeAB) * 2] : 0.08 * (r.NextDouble() - 0.5);
            double jy = c < 2 ? jitterA[(i % SizeAB) * 2 + 1] : 0.08 * (r.NextDouble() - 0.5);
            x[i * 2] = Centres[c][0] + jx;
            x[i * 2 + 1] = Centres[c][1] + jy;
        }
        return x;
    }

    // Embeddings of Y with clusters A and B exchanged: a learned map that sends cell line A to B and vice versa.
    private static double[] Swapped(double[] x)
    {
        var z = (double[])x.Clone();
        for (int i = 0; i < 2 * SizeAB; i++)
        {
            double shift = i < SizeAB ? 1.0 : -1.0;
            z[i * 2] += shift;
        }
        return z;
    }

    // Independent reference: log-domain Sinkhorn written out here, then the four-index GW sum.
    private static double Reference(double[] zx, double[] zy, int n, int d, double[] dx, double[] dy, double eps)
    {
        var c = new double[n * n];
        double mean = 0;
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++)
        {
            double s = 0;
            for (int k = 0; k < d; k++) { double e = zx[i * d + k] - zy[j * d + k]; s += e * e; }
            c[i * n + j] = s; mean += s;
        }
        mean /= n * n;
        double gamma = eps * mean, loga = -Math.Log(n);
        var f = new double[n]; var g = new double[n];
        for (int it = 0; it < 20000; it++)
        {
            var f0 = (double[])f.Clone();
            for (int i = 0; i < n; i++) { double mx = double.NegativeInfinity; for (int j = 0; j < n; j++) mx = Math.Max(mx, (g[j] - c[i * n + j]) / gamma); double s = 0; for (int j = 0; j < n; j++) s += Math.Exp((g[j] - c[i * n + j]) / gamma - mx); f[i] = gamma * (loga - mx - Math.Log(s)); }
            for (int j = 0; j < n; j++) { double mx = double.NegativeInfinity; for (int i = 0; i < n; i++) mx = Math.Max(mx, (f[i] - c[i * n + j]) / gamma); double s = 0; for (int i = 0; i < n; i++) s += Math.Exp((f[i] - c[i * n + j]) / gamma - mx); g[j] = gamma * (loga - mx - Math.Log(s)); }
            double change = 0;
            for (int i = 0; i < n; i++) change = Math.Max(change, Math.Abs(f[i] - f0[i]));
            if (change < 1e-15 * gamma) break;
        }
        var p = new double[n * n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) p[i * n + j] = Math.Exp((f[i] + g[j] - c[i * n + j]) / gamma);
        double gw = 0;
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) for (int k = 0; k < n; k++) for (int l = 0; l < n; l++)
        {
            double e = dx[i * n + k] - dy[j * n + l];
            gw += e * e * p[i * n + j] * p[k * n + l];
        }
        return gw;
    }

    [Test]
    public void ScoreMatchesPlainSinkhornAndFourIndexSum()
    {
        var x = Points();
        var zy = Swapped(x);
        var d = Distances.Compute(x, N, 2, new DistanceOptions { Metric = DistanceMetric.Euclidean }).Values;
        foreach (var (zyCase, eps) in new[] { (x, 0.05), (zy, 0.05), (zy, 0.2) })
        {
            double got = RestartSelection.Score(ComputeDevice.Cpu, x, zyCase, N, N, 2, d, d, eps);
            double want = Reference(x, zyCase, N, 2, d, d, eps);
            Assert.That(got, Is.EqualTo(want).Within(1e-5 * want + 1e-12), $"ε = {eps}"); // both stop at a marginal error ~1e-7
        }
    }

    [Test]
    public void EuclideanSelectionSeesTheSwapThatDisconnectedGeodesicCannot()
    {
        var x = Points();
        var swapped = Swapped(x);
        // k = 3 within clusters of 5–6 points: three components, inter-cluster distances all replaced by the max.
        var geoOptions = new DistanceOptions { Metric = DistanceMetric.Geodesic, K = 3, KnnMetric = DistanceMetric.Euclidean };
        var geo = Distances.Compute(x, N, 2, geoOptions);
        Assert.That(geo.Components, Is.EqualTo(3), "the test needs a disconnected kNN graph");
        var euc = Distances.Compute(x, N, 2, new DistanceOptions { Metric = DistanceMetric.Euclidean }).Values;
        const double eps = 0.02;

        double geoGood = RestartSelection.Score(ComputeDevice.Cpu, x, x, N, N, 2, geo.Values, geo.Values, eps);
        double geoSwap = RestartSelection.Score(ComputeDevice.Cpu, x, swapped, N, N, 2, geo.Values, geo.Values, eps);
        double eucGood = RestartSelection.Score(ComputeDevice.Cpu, x, x, N, N, 2, euc, euc, eps);
        double eucSwap = RestartSelection.Score(ComputeDevice.Cpu, x, swapped, N, N, 2, euc, euc, eps);

        // Geodesic with the max filled in: exchanging two clusters of identical shape is an exact symmetry.
        Assert.That(geoSwap, Is.EqualTo(geoGood).Within(1e-6 * geoGood + 1e-12));
        // Euclidean keeps A–C = 1.5 vs B–C = 1.80: the swap costs (0.3/1.8)²-sized terms, the correct map ≈ 0.
        Assert.That(eucGood, Is.LessThan(1e-3));
        Assert.That(eucSwap, Is.GreaterThan(10 * eucGood + 2e-3));
    }

    [Test]
    public void BadShapesAndEpsilonNameTheProblem()
    {
        var x = Points();
        var d = Distances.Compute(x, N, 2, new DistanceOptions { Metric = DistanceMetric.Euclidean }).Values;
        var e = Assert.Throws<ArgumentException>(() => RestartSelection.Score(ComputeDevice.Cpu, x, x, N, N, 3, d, d, 0.1))!;
        Assert.That(e.Message, Does.Contain("embeddings"));
        e = Assert.Throws<ArgumentException>(() => RestartSelection.Score(ComputeDevice.Cpu, x, x, N, N, 2, d, d[..^1], 0.1))!;
        Assert.That(e.Message, Does.Contain("selection distances"));
        e = Assert.Throws<ArgumentException>(() => RestartSelection.Score(ComputeDevice.Cpu, x, x, N, N, 2, d, d, 0))!;
        Assert.That(e.Message, Does.Contain("epsilon"));
    }
}
