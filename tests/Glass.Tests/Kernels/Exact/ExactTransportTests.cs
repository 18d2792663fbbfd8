using System.Text.Json;
using Glass.Kernels.Exact;
using Glass.Tests.Support;
using NUnit.Framework;

namespace Glass.Tests.Kernels.Exact;

/// <summary>Exact OT (network simplex) and linear assignment against POT 0.8.2's <c>ot.emd</c> (Golden/exact_ot.json, bench/exact_golden.py) and brute force.</summary>
public class ExactTransportTests
{
    private sealed record Case(string Name, int N, int M, double[] A, double[] B, double[] Cost, double Value, double[] Plan);

    private static readonly Lazy<Case[]> Cases = new(() =>
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Golden", "exact_ot.json")));
        static double[] Arr(JsonElement e) => e.EnumerateArray().Select(x => x.GetDouble()).ToArray();
        return doc.RootElement.GetProperty("cases").EnumerateArray().Select(c => new Case(
            c.GetProperty("name").GetString()!, c.GetProperty("n").GetInt32(), c.GetProperty("m").GetInt32(),
            Arr(c.GetProperty("a")), Arr(c.GetProperty("b")), Arr(c.GetProperty("cost")), c.GetProperty("value").GetDouble(),
            Arr(c.GetProperty("plan")))).ToArray();
    });

    private static IEnumerable<string> Names() => new[]
    {
        "square_uniform_n40", "rect_uniform_37x23", "rect_nonuniform_30x45", "zero_mass_25x20", "integer_ties_30x30", "integer_ties_rect_24x36",
    };

    [TestCaseSource(nameof(Names))]
    public void OptimalValueAndFeasiblePlan_MatchPotEmd(string name)
    {
        var c = Cases.Value.Single(x => x.Name == name);
        bool uniform = c.A.All(v => v == c.A[0]) && c.B.All(v => v == c.B[0]);
        var r = uniform ? ExactTransport.Solve(c.Cost, c.N, c.M) : ExactTransport.Solve(c.Cost, c.N, c.M, c.A, c.B);
        Close.Scalar(c.Value, r.Cost, atol: 1e-12, rtol: 1e-10, what: $"{name}: ⟨C, P⟩ vs POT");
        var p = r.ToDense();
        Close.Scalar(c.Value, Dot(p, c.Cost), atol: 1e-12, rtol: 1e-10, what: $"{name}: ⟨C, P⟩ of the dense plan");
        Close.All(c.A, RowSums(p, c.N, c.M), atol: 1e-13, rtol: 1e-10, what: $"{name}: row sums");
        Close.All(c.B, ColSums(p, c.N, c.M), atol: 1e-13, rtol: 1e-10, what: $"{name}: column sums");
        Assert.That(p.All(v => v >= 0), Is.True, "non-negative plan");
        Assert.That(r.Nnz, Is.LessThanOrEqualTo(c.N + c.M - 1), "a basic solution has at most n + m − 1 non-zeros");
        // Where POT's optimum is unique (continuous costs) the plans agree entry by entry.
        if (!name.StartsWith("integer", StringComparison.Ordinal)) Close.All(c.Plan, p, atol: 1e-12, rtol: 1e-9, what: $"{name}: plan vs POT");
    }

    [TestCaseSource(nameof(Names))]
    public void DualsCertifyOptimality(string name)
    {
        var c = Cases.Value.Single(x => x.Name == name);
        var r = ExactTransport.Solve(c.Cost, c.N, c.M, c.A, c.B);
        double scale = c.Cost.Max(Math.Abs) + 1;
        // Complementary slackness: C_ij − u_i − v_j ≥ 0 everywhere (up to rounding), = 0 on the support (rows/cols with mass).
        for (int i = 0; i < c.N; i++)
            for (int j = 0; j < c.M; j++)
            {
                if (c.A[i] == 0 || c.B[j] == 0) continue;
                double rc = c.Cost[i * c.M + j] - r.U[i] - r.V[j];
                Assert.That(rc, Is.GreaterThanOrEqualTo(-1e-9 * scale), $"{name}: reduced cost at ({i}, {j})");
            }
        for (int k = 0; k < r.Nnz; k++)
            Assert.That(Math.Abs(c.Cost[r.Rows[k] * c.M + r.Cols[k]] - r.U[r.Rows[k]] - r.V[r.Cols[k]]), Is.LessThan(1e-9 * scale), $"{name}: support entry {k} tight");
    }

    [Test]
    public void UniformSquare_IsAPermutation_AndEqualsBruteForce()
    {
        // n = 6: every permutation enumerated.
        int n = 6;
        var c = Close.RandomUniform(n * n, 7);
        var r = ExactTransport.Solve(c, n, n);
        Assert.That(r.Nnz, Is.EqualTo(n), "a permutation");
        Assert.That(r.Mass.All(v => v == 1.0 / n), Is.True, "exact masses 1/n");
        double best = double.PositiveInfinity;
        foreach (var perm in Permutations(Enumerable.Range(0, n).ToArray(), 0))
            best = Math.Min(best, Enumerable.Range(0, n).Sum(i => c[i * n + perm[i]]) / n);
        Close.Scalar(best, r.Cost, atol: 1e-14, rtol: 1e-12, what: "cost vs brute force");
        var sigma = ExactTransport.Assignment(c, n, n);
        Close.Scalar(best * n, Enumerable.Range(0, n).Sum(i => c[i * n + sigma[i]]), atol: 1e-13, rtol: 1e-12, what: "assignment vs brute force");
    }

    [Test]
    public void UniformRectangular_MassesAreExactMultiplesOfTheUnit()
    {
        int n = 9, m = 6; // g = 3: rows carry 2 units, columns 3 units of 1/18
        var r = ExactTransport.Solve(Close.RandomUniform(n * m, 8), n, m);
        foreach (var w in r.Mass)
        {
            double units = w * 18;
            Assert.That(Math.Abs(units - Math.Round(units)), Is.LessThan(1e-12), $"mass {w} is a multiple of 1/18");
        }
    }

    [Test]
    public void Assignment_Rectangular_MatchesBruteForce()
    {
        int n = 4, m = 7;
        var c = Close.RandomUniform(n * m, 9);
        var sigma = ExactTransport.Assignment(c, n, m);
        Assert.That(sigma.Distinct().Count(), Is.EqualTo(n), "injective");
        double best = double.PositiveInfinity;
        foreach (var perm in Permutations(Enumerable.Range(0, m).ToArray(), 0))
            best = Math.Min(best, Enumerable.Range(0, n).Sum(i => c[i * m + perm[i]]));
        Close.Scalar(best, Enumerable.Range(0, n).Sum(i => c[i * m + sigma[i]]), atol: 1e-14, rtol: 1e-12, what: "rectangular assignment");
    }

    [Test]
    public void Solver_WarmStartedSequence_EqualsColdSolves()
    {
        int n = 30, m = 20;
        var solver = new ExactTransportSolver(n, m);
        var baseCost = Close.RandomUniform(n * m, 10);
        for (int step = 0; step < 5; step++)
        {
            var noise = Close.RandomUniform(n * m, 100 + step);
            var c = baseCost.Select((v, k) => v + 0.05 * step * noise[k]).ToArray();
            var warm = solver.Solve(c);
            var cold = ExactTransport.Solve(c, n, m);
            Close.Scalar(cold.Cost, warm.Cost, atol: 1e-14, rtol: 1e-12, what: $"step {step}: warm-started optimum");
            if (step > 0) Assert.That(solver.LastPivots, Is.LessThan(cold.Pivots), $"step {step}: the warm start saves pivots");
        }
    }

    [Test]
    public void BadInput_IsRefusedWithTheArgumentNamed()
    {
        var c = new double[6];
        Assert.That(() => ExactTransport.Solve(c, 2, 2), Throws.ArgumentException.With.Message.Contains("cost"));
        c = new double[4]; c[1] = double.NaN;
        Assert.That(() => ExactTransport.Solve(c, 2, 2), Throws.ArgumentException.With.Message.Contains("cost[1]"));
        Assert.That(() => ExactTransport.Solve(new double[4], 2, 2, new[] { 0.5, 0.5 }, new[] { 0.7, 0.7 }), Throws.ArgumentException.With.Message.Contains("equal total masses"));
        Assert.That(() => ExactTransport.Solve(new double[4], 2, 2, new[] { -0.5, 1.5 }, null), Throws.ArgumentException.With.Message.Contains("a[0]"));
        Assert.That(() => ExactTransport.Assignment(new double[6], 3, 2), Throws.ArgumentException.With.Message.Contains("n ≤ m"));
    }

    private static IEnumerable<int[]> Permutations(int[] a, int k)
    {
        if (k == a.Length) { yield return (int[])a.Clone(); yield break; }
        for (int i = k; i < a.Length; i++)
        {
            (a[k], a[i]) = (a[i], a[k]);
            foreach (var p in Permutations(a, k + 1)) yield return p;
            (a[k], a[i]) = (a[i], a[k]);
        }
    }

    private static double Dot(double[] p, double[] c) => p.Zip(c, (x, y) => x * y).Sum();
    private static double[] RowSums(double[] p, int n, int m) => Enumerable.Range(0, n).Select(i => Enumerable.Range(0, m).Sum(j => p[i * m + j])).ToArray();
    private static double[] ColSums(double[] p, int n, int m) => Enumerable.Range(0, m).Select(j => Enumerable.Range(0, n).Sum(i => p[i * m + j])).ToArray();
}
