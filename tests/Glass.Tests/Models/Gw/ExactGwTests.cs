using System.Text.Json;
using Glass.Models.Gw;
using Glass.Models.Metrics;
using Glass.Tests.Support;
using NUnit.Framework;

namespace Glass.Tests.Models.Gw;

/// <summary>Exact GW by conditional gradient against POT 0.8.2's <c>ot.gromov.gromov_wasserstein</c> (Golden/exact_gw.json, bench/exact_golden.py).</summary>
public class ExactGwTests
{
    private sealed record Case(string Name, int N, int M, double[] C1, double[] C2, double GwDist, double[] Plan, int[]? SourceOfY, double[] P, double[] Q);

    private static readonly Lazy<Case[]> Cases = new(() =>
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Golden", "exact_gw.json")));
        static double[] Arr(JsonElement e) => e.EnumerateArray().Select(x => x.GetDouble()).ToArray();
        return doc.RootElement.GetProperty("cases").EnumerateArray().Select(c => new Case(
            c.GetProperty("name").GetString()!, c.GetProperty("n").GetInt32(), c.GetProperty("m").GetInt32(),
            Arr(c.GetProperty("C1")), Arr(c.GetProperty("C2")), c.GetProperty("gw_dist").GetDouble(), Arr(c.GetProperty("plan")),
            c.TryGetProperty("source_of_y", out var s) ? s.EnumerateArray().Select(x => x.GetInt32()).ToArray() : null,
            Arr(c.GetProperty("p")), Arr(c.GetProperty("q")))).ToArray();
    });

    [TestCase("clouds_30x30")]
    [TestCase("clouds_35x22")]
    public void FromTheProductCoupling_ReachesPotsSolution(string name)
    {
        var c = Cases.Value.Single(x => x.Name == name);
        var r = ExactGw.Solve(c.C1, c.C2, c.N, c.M);
        Assert.That(r.Converged, Is.True, $"{r.Iterations} iterations");
        Close.Scalar(c.GwDist, r.GwLoss, atol: 1e-12, rtol: 1e-8, what: $"{name}: GW loss vs POT gw_dist");
        Close.All(c.Plan, r.Plan, atol: 1e-10, rtol: 1e-6, what: $"{name}: plan vs POT");
    }

    [Test]
    public void NonUniformMarginals_ReachPotsSolution()
    {
        var c = Cases.Value.Single(x => x.Name == "weighted_25x18");
        var r = ExactGw.Solve(c.C1, c.C2, c.N, c.M, c.P, c.Q, null);
        Assert.That(r.Converged, Is.True);
        Close.Scalar(c.GwDist, r.GwLoss, atol: 1e-12, rtol: 1e-8, what: "weighted GW loss vs POT gw_dist");
        Close.All(c.Plan, r.Plan, atol: 1e-10, rtol: 1e-6, what: "weighted plan vs POT");
        Assert.That(() => ExactGw.Solve(c.C1, c.C2, c.N, c.M, c.P.Select(v => v * 2).ToArray(), c.Q, null), Throws.ArgumentException.With.Message.Contains("sums to"));
    }

    [Test]
    public void ExactIsometry_IsRecoveredExactly()
    {
        var c = Cases.Value.Single(x => x.Name == "isometry_40");
        var r = ExactGw.Solve(c.C1, c.C2, c.N, c.M);
        Assert.That(r.GwLoss, Is.LessThan(1e-12), "loss of the true pairing is 0");
        for (int j = 0; j < c.M; j++)
            Assert.That(r.Plan[c.SourceOfY![j] * c.M + j], Is.EqualTo(1.0 / c.N).Within(1e-15), $"row {c.SourceOfY[j]} → column {j}");
    }

    [TestCase(2)]
    [TestCase(4)]
    public void EqualEccentricities_StillDescendFromTheProductCoupling(int n)
    {
        // A regular n-gon and a rotated copy: every point has the same mean distance, so the first linear program's
        // gradient is flat (zero first-order gap) — only the curvature shows the way; the solver must still step. (From the
        // product coupling alone a larger polygon can end in a local minimum; GwAlignerTests cover the aligner's other starts.)
        var x = new double[n * 2];
        var y = new double[n * 2];
        for (int i = 0; i < n; i++)
        {
            double t = 2 * Math.PI * i / n, u = t + 0.3;
            x[i * 2] = Math.Cos(t); x[i * 2 + 1] = Math.Sin(t);
            y[i * 2] = Math.Cos(u); y[i * 2 + 1] = Math.Sin(u);
        }
        var o = new DistanceOptions { Metric = DistanceMetric.Euclidean };
        var dx = Distances.Compute(x, n, 2, o).Values;
        var dy = Distances.Compute(y, n, 2, o).Values;
        var r = ExactGw.Solve(dx, dy, n, n);
        Assert.That(r.GwLoss, Is.LessThan(1e-12), $"loss {r.GwLoss} after {r.Iterations} iterations");
    }

    [Test]
    public void Loss_EqualsTheTapeFreeGwLossOfAnyPlan()
    {
        var c = Cases.Value.Single(x => x.Name == "clouds_35x22");
        var p = Close.RandomUniform(c.N * c.M, 3);
        double s = p.Sum();
        for (int k = 0; k < p.Length; k++) p[k] /= s;
        Close.Scalar(AlignmentMetrics.GwLoss(c.C1, c.C2, p, c.N, c.M), ExactGw.Loss(c.C1, c.C2, p, c.N, c.M), atol: 1e-14, rtol: 1e-10, what: "GW loss");
    }

    [Test]
    public void WarmStartFromTheSolution_StaysThere_AndNeverRaisesTheLoss()
    {
        var c = Cases.Value.Single(x => x.Name == "clouds_30x30");
        var first = ExactGw.Solve(c.C1, c.C2, c.N, c.M);
        var again = ExactGw.Solve(c.C1, c.C2, c.N, c.M, first.Plan);
        Assert.That(again.GwLoss, Is.LessThanOrEqualTo(first.GwLoss + 1e-15));
        // From a random coupling: conditional gradient only descends.
        var start = Close.RandomUniform(c.N * c.M, 5);
        ExactGw.RoundToMarginals(start, c.N, c.M);
        double l0 = ExactGw.Loss(c.C1, c.C2, RowNormalised(start, c.N, c.M), c.N, c.M);
        var r = ExactGw.Solve(c.C1, c.C2, c.N, c.M, RowNormalised(start, c.N, c.M));
        Assert.That(r.GwLoss, Is.LessThanOrEqualTo(l0), "descent from the start");
    }

    [Test]
    public void RoundToMarginals_PutsACouplingOnUniformMarginalsExactly()
    {
        int n = 7, m = 5;
        var p = Close.RandomUniform(n * m, 4);
        ExactGw.RoundToMarginals(p, n, m);
        for (int i = 0; i < n; i++) Assert.That(Enumerable.Range(0, m).Sum(j => p[i * m + j]), Is.EqualTo(1.0 / n).Within(1e-15));
        for (int j = 0; j < m; j++) Assert.That(Enumerable.Range(0, n).Sum(i => p[i * m + j]), Is.EqualTo(1.0 / m).Within(1e-15));
    }

    [Test]
    public void BadInput_IsRefusedWithTheArgumentNamed()
    {
        var c = Cases.Value.Single(x => x.Name == "clouds_35x22");
        Assert.That(() => ExactGw.Solve(c.C1, c.C2, c.N + 1, c.M), Throws.ArgumentException.With.Message.Contains("dx"));
        var bad = new double[c.N * c.M];
        bad[0] = 1;
        Assert.That(() => ExactGw.Solve(c.C1, c.C2, c.N, c.M, bad), Throws.ArgumentException.With.Message.Contains("init row"));
        Assert.That(() => ExactGw.Solve(c.C1, c.C2, c.N, c.M, null, new ExactGwOptions { MaxIter = 0 }), Throws.ArgumentException.With.Message.Contains("MaxIter"));
    }

    private static double[] RowNormalised(double[] p, int n, int m)
    {
        var q = (double[])p.Clone();
        ExactGw.RoundToMarginals(q, n, m);
        return q;
    }
}
