using Glass.Kernels.Device;
using Glass.Kernels.Sinkhorn;
using Glass.Tests.Support;
using NUnit.Framework;

namespace Glass.Tests.Kernels.Sinkhorn;

/// <summary>
/// <see cref="PlanRows"/> and the device k-nearest search against a brute-force reference computed here from the
/// explicit plan P_ij = exp((f_i + g_j − ‖x_i − y_j‖²)/γ), on the managed backend and on every accelerator.
/// </summary>
[TestFixtureSource(typeof(PlanRowsTests), nameof(AllDevices))]
public class PlanRowsTests
{
    private readonly string _deviceName;
    public PlanRowsTests(string deviceName) => _deviceName = deviceName;
    private ComputeDevice Dev => _deviceName == "cpu" ? ComputeDevice.Cpu : Devices.Get(_deviceName);

    public static IEnumerable<TestFixtureData> AllDevices() => new[] { new TestFixtureData("cpu") }.Concat(Devices.Accelerated());

    private sealed record Problem(double[] X, double[] Y, int N, int M, int D, double[] F, double[] G, double Gamma);

    // A converged Sinkhorn solve (so the plan's entries span many orders of magnitude, as in use), with one row and
    // one column without mass (f = −∞, g = −∞).
    private static Problem Solved(int n, int m, int d, int seed)
    {
        var x = Close.RandomNormal(n * d, seed);
        var y = Close.RandomNormal(m * d, seed + 1, 1.2);
        var a = Enumerable.Repeat(1.0 / (n - 1), n).ToArray(); a[3] = 0;
        var b = Enumerable.Repeat(1.0 / (m - 1), m).ToArray(); b[5] = 0;
        double gamma = 0.05 * d;
        var r = DenseSinkhorn.Solve(ComputeDevice.Cpu, DenseGeometry.FromPoints(x, y, d), a, b,
            new SinkhornOptions { Gamma = gamma, Tol = 1e-9, MaxIter = 50_000 });
        Assert.That(r.Converged, Is.True);
        Assert.That(r.F[3], Is.EqualTo(double.NegativeInfinity));
        return new Problem(x, y, n, m, d, r.F, r.G, gamma);
    }

    private static double[] ExplicitPlan(Problem p)
    {
        var plan = new double[p.N * p.M];
        for (int i = 0; i < p.N; i++)
            for (int j = 0; j < p.M; j++)
            {
                double c = 0;
                for (int t = 0; t < p.D; t++) { double e = p.X[i * p.D + t] - p.Y[j * p.D + t]; c += e * e; }
                plan[i * p.M + j] = Math.Exp((p.F[i] + p.G[j] - c) / p.Gamma);
            }
        return plan;
    }

    // The device kernel serves blocks of 8 rows and tiles of 16 columns (CPU accelerator) × 8 coordinates, and
    // projects 64 columns of Z per pass: the larger cases have several row blocks, a partial last tile, d in one
    // partial and in two full chunks, and (q = 70) a second projection pass.
    [TestCase(61, 47, 3, 5, 7)]
    [TestCase(40, 70, 1, 9, 7)]
    [TestCase(33, 29, 16, 1, 7)]
    [TestCase(45, 333, 3, 6, 7)]
    [TestCase(29, 307, 16, 4, 70)]
    public void Summary_MatchesTheExplicitPlan(int n, int m, int d, int k, int q)
    {
        var p = Solved(n, m, d, seed: 10 * n + d);
        var z = Close.RandomNormal(m * q, 99);
        var s = PlanRows.Summarize(Dev, DenseGeometry.FromPoints(p.X, p.Y, d), p.F, p.G, p.Gamma, k, z, q);
        var plan = ExplicitPlan(p);
        for (int i = 0; i < n; i++)
        {
            var row = Enumerable.Range(0, m).Select(j => (V: plan[i * m + j], J: j)).ToArray();
            var want = row.OrderByDescending(e => e.V).ThenBy(e => e.J).Take(k).ToArray();
            double sum = row.Sum(e => e.V), top = want[0].V;
            Close.Scalar(sum, s.RowSum[i], 1e-300, 1e-9, $"row {i} sum");
            for (int t = 0; t < k; t++)
            {
                Assert.That(s.TopKIndex[i * k + t], Is.EqualTo(want[t].J), $"row {i}, rank {t}");
                Close.Scalar(want[t].V, s.TopKValue[i * k + t], 1e-300, 1e-9, $"row {i}, rank {t} value");
            }
            Assert.That(s.Match(i), Is.EqualTo(want[0].J));
            for (int c = 0; c < q; c++)
            {
                double proj = sum > 0 ? row.Sum(e => e.V * z[e.J * q + c]) / sum : 0;
                Assert.That(s.Projection[i * q + c], Is.EqualTo(proj).Within(1e-9), $"row {i}, projection {c}");
            }
            if (i == 3) Assert.That(sum, Is.EqualTo(0), "the row without mass");
        }
        Assert.That(s.TopKIndex.Where((_, e) => e % k == 0).Contains(5), Is.False, "the column without mass is nobody's match");
    }

    [Test]
    public void WithoutProjection_OnlyTheTopKAndSums()
    {
        var p = Solved(30, 20, 2, seed: 4);
        var s = PlanRows.Summarize(Dev, DenseGeometry.FromPoints(p.X, p.Y, 2), p.F, p.G, p.Gamma, 3);
        Assert.That(s.ProjectionDim, Is.EqualTo(0));
        Assert.That(s.Projection, Is.Empty);
        var plan = ExplicitPlan(p);
        for (int i = 0; i < 30; i++) Close.Scalar(Enumerable.Range(0, 20).Sum(j => plan[i * 20 + j]), s.RowSum[i], 1e-300, 1e-9, $"row {i}");
    }

    // One thread per row in groups of 16 (CPU accelerator), tiles of 16 columns × 8 coordinates: several groups, a
    // partial last tile (m = 333), d in one partial chunk and in two full ones.
    [TestCase(50, 40, 3, 6)]
    [TestCase(35, 64, 1, 64)]
    [TestCase(45, 333, 3, 7)]
    [TestCase(37, 333, 16, 7)]
    public void Nearest_IsTheKSmallestCostsAscending(int n, int m, int d, int k)
    {
        var x = Close.RandomNormal(n * d, 3);
        var y = Close.RandomNormal(m * d, 4);
        var geom = DenseGeometry.FromPoints(x, y, d);
        var (idx, cost) = Dev.IsAccelerated
            ? Dev.GetKernels(acc => new PointPlanKernels(acc)).Nearest(x, y, d, k)
            : CandidateSet.Nearest(geom, k);
        for (int i = 0; i < n; i++)
        {
            var want = Enumerable.Range(0, m).Select(j =>
            {
                double c = 0;
                for (int t = 0; t < d; t++) { double e = x[i * d + t] - y[j * d + t]; c += e * e; }
                return (C: c, J: j);
            }).OrderBy(e => e.C).ThenBy(e => e.J).Take(k).ToArray();
            for (int t = 0; t < k; t++)
            {
                Assert.That(idx[i * k + t], Is.EqualTo(want[t].J), $"row {i}, rank {t}");
                Assert.That(cost[i * k + t], Is.EqualTo(want[t].C).Within(1e-12 * (1 + want[t].C)), $"row {i}, rank {t} cost");
            }
        }
    }

    [Test]
    public void BadInput_NamesTheArgument()
    {
        var dev = Dev;
        var p = Solved(12, 10, 2, seed: 2);
        var geom = DenseGeometry.FromPoints(p.X, p.Y, 2);
        Assert.That(() => PlanRows.Summarize(dev, geom, p.F, p.G, p.Gamma, 11),
            Throws.ArgumentException.With.Message.Contains("k = 11").And.Message.Contains("m = 10"));
        Assert.That(() => PlanRows.Summarize(dev, geom, p.F[..11], p.G, p.Gamma, 2), Throws.ArgumentException.With.Property("ParamName").EqualTo("f"));
        Assert.That(() => PlanRows.Summarize(dev, geom, p.F, p.G, 0, 2), Throws.ArgumentException.With.Message.Contains("gamma = 0"));
        var nan = (double[])p.G.Clone(); nan[1] = double.NaN;
        Assert.That(() => PlanRows.Summarize(dev, geom, p.F, nan, p.Gamma, 2), Throws.ArgumentException.With.Message.Contains("g contains NaN"));
        Assert.That(() => PlanRows.Summarize(dev, geom, p.F, p.G, p.Gamma, 2, new double[10 * 3 - 1], 3),
            Throws.ArgumentException.With.Property("ParamName").EqualTo("z"));
    }
}

/// <summary>The blocked row computation of a point geometry against the one-row path and the definition.</summary>
public class DenseGeometryRowTests
{
    [TestCase(11, 37, 16)]
    [TestCase(9, 40, 3)]
    [TestCase(6, 5, 2)]
    [TestCase(7, 13, 1)]
    public void RowReader_GivesEveryRowExactlyAsTheOneRowPath(int n, int m, int d)
    {
        var x = Close.RandomNormal(n * d, 31);
        var y = Close.RandomNormal(m * d, 32, 2.0);
        var geom = DenseGeometry.FromPoints(x, y, d);
        using var reader = new RowReader(geom);
        var scratch = new double[m];
        for (int i = 0; i < n; i++)
        {
            var blocked = reader.Row(i).ToArray();
            var single = geom.Row(i, scratch).ToArray();
            Assert.That(blocked, Is.EqualTo(single), $"row {i}: bitwise the same as Row");
            for (int j = 0; j < m; j++)
            {
                double c = 0;
                for (int t = 0; t < d; t++) { double e = x[i * d + t] - y[j * d + t]; c += e * e; }
                Assert.That(blocked[j], Is.EqualTo(c).Within(1e-12 * (1 + c)), $"C[{i},{j}]");
            }
        }
        // Out of order: a row before the cached block is recomputed, not served stale.
        Assert.That(reader.Row(1).ToArray(), Is.EqualTo(geom.Row(1, scratch).ToArray()));
    }
}
