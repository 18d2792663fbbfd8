using Glass.Kernels.Device;
using Glass.Kernels.Sinkhorn;
using Glass.Tests.Support;
using NUnit.Framework;

namespace Glass.Tests.Kernels.Sinkhorn;

/// <summary>Banded vs dense, invariants, non-convergence and bad input (managed CPU backend).</summary>
public class SinkhornInvariantTests
{
    // Tight tolerances need well-conditioned scores (uniform on [0,1]); N(0,1) samples have sparse
    // tails where Sinkhorn's last digits converge slowly, so those tests stop at 1e-7.
    private static SinkhornOptions Tight(double gamma) => new() { Gamma = gamma, MaxIter = 20_000, Tol = 1e-10 };
    private static SinkhornOptions Loose(double gamma) => new() { Gamma = gamma, MaxIter = 20_000, Tol = 1e-7 };

    [TestCase(0.05)]
    [TestCase(0.01)]
    [TestCase(0.002)]
    public void Banded_WideBand_EqualsDense(double gamma)
    {
        // Scores in [0,1]: with ε = 1e-300 the radius sqrt(690γ) ≥ 1.17 covers every pair.
        var s = Close.RandomUniform(301, 11);
        var t = Close.RandomUniform(257, 12);
        var dense = DenseSinkhorn.Solve(ComputeDevice.Cpu, DenseGeometry.FromPoints(s, t, 1), null, null, Tight(gamma));
        var banded = BandedSinkhorn.Solve(ComputeDevice.Cpu, s, t, null, null, Tight(gamma), new BandOptions { BandEps = 1e-300 });
        Assert.That(dense.Converged && banded.Converged, Is.True);
        Assert.That(banded.Nnz, Is.EqualTo(301 * 257));
        Close.Scalar(dense.Cost, banded.Cost, 0, 1e-6, "cost, banded vs dense");
        Close.Scalar(dense.Entropy, banded.Entropy, 0, 1e-6, "entropy, banded vs dense");
    }

    [Test]
    public void Banded_WideBand_PlanEqualsDensePlanEntryByEntry_InCallerOrder()
    {
        // The CSR plan is written row by row into caller order (columns ascending) straight from the potentials;
        // with a band that covers every pair it must be the dense plan, entry by entry. Unsorted scores, odd sizes
        // (SIMD tails), and a zero-mass row and column (f = −∞, g = −∞: their entries are 0, the entropy stays finite).
        var s = Close.RandomUniform(203, 21);
        var t = Close.RandomUniform(157, 22);
        var a = Enumerable.Repeat(1.0 / 202, 203).ToArray(); a[17] = 0;
        var b = Enumerable.Repeat(1.0 / 156, 157).ToArray(); b[40] = 0;
        var o = Tight(0.01) with { ReturnPlan = true };
        var dense = DenseSinkhorn.Solve(ComputeDevice.Cpu, DenseGeometry.FromPoints(s, t, 1), a, b, o);
        var banded = BandedSinkhorn.Solve(ComputeDevice.Cpu, s, t, a, b, o, new BandOptions { BandEps = 1e-300 });
        Assert.That(dense.Converged && banded.Converged, Is.True);
        var p = banded.Plan;
        Assert.That(p.Nnz, Is.EqualTo(203 * 157));
        for (int i = 0; i < 203; i++)
        {
            Assert.That(p.RowPtr[i + 1] - p.RowPtr[i], Is.EqualTo(157), $"row {i} length");
            for (int k = p.RowPtr[i]; k < p.RowPtr[i + 1]; k++)
            {
                int j = k - p.RowPtr[i];
                Assert.That(p.ColIdx[k], Is.EqualTo(j), $"row {i}: columns ascending");
                Close.Scalar(dense.Plan![i * 157 + j], p.Values[k], 1e-12, 1e-6, $"P[{i},{j}]");
            }
        }
        Assert.That(p.Values.Skip(p.RowPtr[17]).Take(157).All(v => v == 0), Is.True, "zero-mass row");
        Assert.That(double.IsFinite(banded.Entropy), Is.True);
        Close.Scalar(dense.Entropy, banded.Entropy, 0, 1e-6, "entropy");
    }

    [Test]
    public void BandedGap_ShrinksAsEpsilonFalls()
    {
        // GLASS appendix A.5: the banded plan's cost gap to the dense plan is controlled by ε.
        // The paper's band alone (no refinement from potentials).
        double gamma = 0.005;
        var s = Close.RandomUniform(300, 13);
        var t = Close.RandomUniform(300, 14);
        var dense = DenseSinkhorn.Solve(ComputeDevice.Cpu, DenseGeometry.FromPoints(s, t, 1), null, null, Tight(gamma));
        double prevGap = double.PositiveInfinity;
        int prevNnz = 0;
        foreach (double eps in new[] { 1e-1, 1e-2, 1e-4, 1e-8, 1e-16, 1e-100 })
        {
            var r = BandedSinkhorn.Solve(ComputeDevice.Cpu, s, t, null, null, Tight(gamma), new BandOptions { BandEps = eps, Refinements = 0 });
            Assert.That(r.Converged, Is.True);
            double gap = Math.Abs(r.Objective(gamma) - dense.Objective(gamma));
            Assert.That(gap, Is.LessThanOrEqualTo(prevGap * 1.0000001 + 1e-15), $"gap at ε = {eps}");
            Assert.That(r.Nnz, Is.GreaterThanOrEqualTo(prevNnz));
            prevGap = gap;
            prevNnz = r.Nnz;
        }
        Assert.That(prevGap, Is.LessThan(1e-8 * Math.Abs(dense.Objective(gamma))), "gap at ε = 1e-100");
    }

    [Test]
    public void Refinement_ClosesTheGap_LeftByThePapersBand()
    {
        // N(0,1) tails: exp(−C/γ) ≥ ε drops entries the plan carries; widening from the potentials recovers them.
        double gamma = 0.01;
        // Reference: the same solver on a near-full band (ε = 1e-100), which equals dense Sinkhorn
        // (Banded_WideBand_EqualsDense) at a tenth of the cost.
        var s = Close.RandomNormal(400, 23);
        var t = Close.RandomNormal(400, 24, 1.0);
        var dense = BandedSinkhorn.Solve(ComputeDevice.Cpu, s, t, null, null, Loose(gamma), new BandOptions { BandEps = 1e-100, Refinements = 0 });
        var paper = BandedSinkhorn.Solve(ComputeDevice.Cpu, s, t, null, null, Loose(gamma), new BandOptions { BandEps = 1e-6, Refinements = 0 });
        var refined = BandedSinkhorn.Solve(ComputeDevice.Cpu, s, t, null, null, Loose(gamma), new BandOptions { BandEps = 1e-6 });
        Assert.That(dense.Converged && paper.Converged, Is.True);
        double gapPaper = Math.Abs(paper.Cost - dense.Cost) / dense.Cost;
        double gapRefined = Math.Abs(refined.Cost - dense.Cost) / dense.Cost;
        Assert.That(refined.Converged, Is.True);
        Assert.That(refined.Refinements, Is.GreaterThanOrEqualTo(1));
        Assert.That(refined.Nnz, Is.GreaterThan(paper.Nnz).And.LessThan(dense.Nnz / 2));
        Assert.That(gapRefined, Is.LessThan(1e-5), $"refined gap (paper band gap {gapPaper:E2})");
        Assert.That(gapPaper, Is.GreaterThan(1e-4), "the paper's band alone leaves a visible gap on N(0,1) tails");
        Assert.That(gapRefined, Is.LessThan(gapPaper / 10));
    }

    [Test]
    public void Plans_AreNonNegative_AndMeetMarginals()
    {
        var s = Close.RandomUniform(200, 15, -2, 2);
        var t = Close.RandomUniform(150, 16, -1, 3);
        var o = new SinkhornOptions { Gamma = 0.02, MaxIter = 20_000, Tol = 1e-7, ReturnPlan = true };
        var banded = BandedSinkhorn.Solve(ComputeDevice.Cpu, s, t, null, null, o);
        Assert.That(banded.Converged, Is.True);
        Assert.That(banded.Plan.Values.All(v => v >= 0), Is.True);
        Assert.That(Norm(banded.Plan.RowSums(), 1.0 / 200), Is.LessThanOrEqualTo(1e-7));
        Assert.That(Norm(banded.Plan.ColSums(), 1.0 / 150), Is.LessThanOrEqualTo(1e-7));
        var dense = DenseSinkhorn.Solve(ComputeDevice.Cpu, DenseGeometry.FromPoints(s, t, 1), null, null, o);
        Assert.That(dense.Converged, Is.True);
        var dp = dense.Plan!;
        Assert.That(dp.All(v => v >= 0), Is.True);
        var rows = new double[200];
        var cols = new double[150];
        for (int i = 0; i < 200; i++) for (int j = 0; j < 150; j++) { rows[i] += dp[i * 150 + j]; cols[j] += dp[i * 150 + j]; }
        Assert.That(Math.Sqrt(Math.Pow(Norm(rows, 1.0 / 200), 2) + Math.Pow(Norm(cols, 1.0 / 150), 2)), Is.LessThanOrEqualTo(1e-7));
    }

    [Test]
    public void Banded_RankCap_LimitsColumnsPerRow_AndStaysFeasible()
    {
        var s = Close.RandomNormal(500, 17);
        var t = Close.RandomNormal(500, 18);
        var o = new SinkhornOptions { Gamma = 0.05, MaxIter = 20_000, Tol = 1e-8 };
        var r = BandedSinkhorn.Solve(ComputeDevice.Cpu, s, t, null, null, o, new BandOptions { RankCap = 21 });
        Assert.That(r.Converged, Is.True);
        for (int i = 0; i < 500; i++)
            Assert.That(r.Plan.RowPtr[i + 1] - r.Plan.RowPtr[i], Is.LessThanOrEqualTo(23), $"row {i}");
        Assert.That(r.Nnz, Is.LessThan(500 * 23));
    }

    [Test]
    public void Banded_SmallGamma_NoUnderflow()
    {
        // exp(−C/γ) underflows to 0 for most pairs at γ = 0.002 (C up to ~40, C/γ up to 2·10⁴):
        // an exp-domain solver divides by zero; the log-stabilised banded solver must converge.
        var s = Close.RandomNormal(300, 19);
        var t = Close.RandomNormal(300, 20);
        var o = new SinkhornOptions { Gamma = 0.002, MaxIter = 20_000, Tol = 1e-6 };
        var r = BandedSinkhorn.Solve(ComputeDevice.Cpu, s, t, null, null, o);
        Assert.That(r.Converged, Is.True, $"err {r.MarginalError} after {r.Iterations}");
        Assert.That(double.IsFinite(r.Cost) && double.IsFinite(r.Entropy), Is.True);
        // Above, and close to, the exact sorted-matching cost as γ → 0.
        var ss = s.Order().ToArray();
        var ts = t.Order().ToArray();
        double exact = ss.Zip(ts, (x, y) => (x - y) * (x - y)).Sum() / 300;
        Assert.That(r.Cost, Is.GreaterThan(exact * 0.999).And.LessThan(exact * 1.5 + 0.01));
    }

    [Test]
    public void NonConvergence_IsReported()
    {
        var s = Close.RandomNormal(100, 21);
        var t = Close.RandomNormal(100, 22);
        var o = new SinkhornOptions { Gamma = 0.001, MaxIter = 3, Tol = 1e-12 };
        var d = DenseSinkhorn.Solve(ComputeDevice.Cpu, DenseGeometry.FromPoints(s, t, 1), null, null, o);
        var b = BandedSinkhorn.Solve(ComputeDevice.Cpu, s, t, null, null, o);
        Assert.That(d.Converged, Is.False);
        Assert.That(b.Converged, Is.False);
        Assert.That(d.Iterations, Is.EqualTo(3));
        Assert.That(b.Iterations, Is.EqualTo(3));
        Assert.That(d.MarginalError, Is.GreaterThan(1e-12));
        Assert.That(b.MarginalError, Is.GreaterThan(1e-12));
    }

    private static double Norm(double[] x, double target) => Math.Sqrt(x.Sum(v => (v - target) * (v - target)));

    private static readonly SinkhornOptions Ok = new() { Gamma = 0.1 };

    [Test]
    public void BadInput_NamesArgumentAndValue()
    {
        var s = new double[] { 0.1, 0.2, double.NaN };
        var t = new double[] { 0.1, 0.2, 0.3 };
        var ex = Assert.Throws<ArgumentException>(() => BandedSinkhorn.Solve(ComputeDevice.Cpu, s, t, null, null, Ok))!;
        Assert.That(ex.ParamName, Is.EqualTo("s"));
        Assert.That(ex.Message, Does.Contain("s[2]").And.Contain("NaN"));

        ex = Assert.Throws<ArgumentException>(() => BandedSinkhorn.Solve(ComputeDevice.Cpu, t, new[] { 1.0, double.PositiveInfinity }, null, null, Ok))!;
        Assert.That(ex.Message, Does.Contain("t[1]").And.Contain("∞").Or.Contain("Infinity"));

        ex = Assert.Throws<ArgumentException>(() => BandedSinkhorn.Solve(ComputeDevice.Cpu, Array.Empty<double>(), t, null, null, Ok))!;
        Assert.That(ex.Message, Does.Contain("s is empty"));

        ex = Assert.Throws<ArgumentException>(() => BandedSinkhorn.Solve(ComputeDevice.Cpu, t, t, new[] { 0.5, 0.5 }, null, Ok))!;
        Assert.That(ex.ParamName, Is.EqualTo("a"));
        Assert.That(ex.Message, Does.Contain("length 2").And.Contain("expected 3"));

        ex = Assert.Throws<ArgumentException>(() => BandedSinkhorn.Solve(ComputeDevice.Cpu, t, t, new[] { 0.5, 0.7, -0.2 }, null, Ok))!;
        Assert.That(ex.Message, Does.Contain("a[2] = -0.2"));

        ex = Assert.Throws<ArgumentException>(() => BandedSinkhorn.Solve(ComputeDevice.Cpu, t, t, null, new[] { 0.5, 0.5, 0.5 }, Ok))!;
        Assert.That(ex.ParamName, Is.EqualTo("b"));
        Assert.That(ex.Message, Does.Contain("sums to 1.5"));

        foreach (double gamma in new[] { 0.0, -1.0, double.NaN })
        {
            ex = Assert.Throws<ArgumentException>(() => BandedSinkhorn.Solve(ComputeDevice.Cpu, t, t, null, null, new SinkhornOptions { Gamma = gamma }))!;
            Assert.That(ex.ParamName, Is.EqualTo("Gamma"));
            Assert.That(ex.Message, Does.Contain("Gamma = "));
        }

        ex = Assert.Throws<ArgumentException>(() => BandedSinkhorn.Solve(ComputeDevice.Cpu, t, t, null, null, Ok, new BandOptions { BandEps = 1.5 }))!;
        Assert.That(ex.Message, Does.Contain("BandEps = 1.5"));

        ex = Assert.Throws<ArgumentException>(() => DenseGeometry.FromCostMatrix(new double[5], 2, 3))!;
        Assert.That(ex.Message, Does.Contain("cost has length 5").And.Contain("expected 6"));

        ex = Assert.Throws<ArgumentException>(() => DenseGeometry.FromCostMatrix(new[] { 0, 1, double.NaN, 0 }, 2, 2))!;
        Assert.That(ex.Message, Does.Contain("cost[2]"));

        ex = Assert.Throws<ArgumentException>(() => DenseGeometry.FromPoints(new double[7], new double[6], 3))!;
        Assert.That(ex.Message, Does.Contain("x has length 7"));

        ex = Assert.Throws<ArgumentException>(() => DenseSinkhorn.Solve(ComputeDevice.Cpu, DenseGeometry.FromPoints(t, t, 1), null, null, Ok with { MaxIter = 0 }))!;
        Assert.That(ex.ParamName, Is.EqualTo("MaxIter"));
    }

    [Test]
    public void UnknownOrMissingDevice_IsAClearError()
    {
        var ex = Assert.Throws<ArgumentException>(() => ComputeDevice.Open("tpu"))!;
        Assert.That(ex.Message, Does.Contain("tpu").And.Contain("auto, cpu, cuda"));
        bool hasCuda;
        try { using var d = ComputeDevice.Open("cuda"); hasCuda = true; }
        catch (InvalidOperationException e)
        {
            hasCuda = false;
            Assert.That(e.Message, Does.Contain("cuda").And.Contain("no CUDA device").Or.Contain("could not initialise CUDA"));
        }
        using var auto = ComputeDevice.Open("auto");
        Assert.That(auto.Kind, Is.EqualTo(hasCuda ? DeviceKind.Cuda : DeviceKind.Cpu));
    }
}
