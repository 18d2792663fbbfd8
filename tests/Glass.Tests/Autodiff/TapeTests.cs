using Glass.Autodiff;
using Glass.Autodiff.Ops;
using Glass.Kernels.Linalg;
using Glass.Tests.Support;
using NUnit.Framework;

namespace Glass.Tests.Autodiff;

/// <summary>Every op's gradient against central finite differences (double, CPU path); tape semantics.</summary>
public class TapeTests
{
    private static GradCheck.Input In(int rows, int cols, int seed, double lo = -1, double hi = 1) =>
        new(Close.RandomUniform(rows * cols, seed, lo, hi), rows, cols);

    // Reduce any output to a scalar with fixed random weights, so every output entry is checked.
    private static Var Weighted(Tape t, Var y, int seed)
    {
        var w = t.Constant(Close.RandomUniform(y.Length, seed, -1, 1), y.Rows, y.Cols);
        return Op.Sum(Op.Mul(y, w));
    }

    private static void AssertGrad(Func<Tape, Var[], Var> f, params GradCheck.Input[] inputs)
    {
        var r = GradCheck.Check(f, inputs, directions: 5, h: 1e-5, seed: 7);
        Assert.That(r.MaxRelativeError, Is.LessThanOrEqualTo(1e-6),
            string.Join("; ", r.Directional.Select(p => $"fd {p.FiniteDifference:E6} tape {p.Tape:E6}")));
    }

    private static readonly (string Name, Func<Var, Var> F, double Lo, double Hi)[] Unaries =
    {
        ("Exp", Op.Exp, -1, 1), ("Log", Op.Log, 0.5, 2), ("Sqrt", Op.Sqrt, 0.5, 2), ("Pow2.5", v => Op.Pow(v, 2.5), 0.5, 2),
        ("Abs", Op.Abs, 0.2, 1), ("Relu", Op.Relu, 0.1, 1), ("LeakyRelu", v => Op.LeakyRelu(v, 0.1), -1, -0.1),
        ("Tanh", Op.Tanh, -2, 2), ("Softplus", Op.Softplus, -3, 3), ("Gelu", Op.Gelu, -2, 2), ("AcosClamped", Op.AcosClamped, -0.9, 0.9),
        ("Scale", v => Op.Scale(v, -3.5), -1, 1), ("Transpose", Op.Transpose, -1, 1), ("SumAxis0", v => Op.Sum(v, 0), -1, 1),
        ("SumAxis1", v => Op.Sum(v, 1), -1, 1), ("Mean", Op.Mean, -1, 1), ("LogSumExpRows", Op.LogSumExpRows, -3, 3),
        ("SoftmaxRows", Op.SoftmaxRows, -3, 3),
    };

    private static IEnumerable<TestCaseData> UnaryCases() => Unaries.Select((u, k) => new TestCaseData(k).SetName("Unary_" + u.Name));

    [TestCaseSource(nameof(UnaryCases))]
    public void UnaryOp_GradientMatchesFiniteDifferences(int k)
    {
        var (_, f, lo, hi) = Unaries[k];
        AssertGrad((t, x) => Weighted(t, f(x[0]), 11), In(5, 3, 1, lo, hi));
    }

    [TestCase(5, 3, 5, 3)]
    [TestCase(5, 3, 1, 3)]
    [TestCase(5, 3, 5, 1)]
    [TestCase(5, 3, 1, 1)]
    [TestCase(1, 3, 5, 3)]
    public void BinaryOps_WithBroadcasting_MatchFiniteDifferences(int ra, int ca, int rb, int cb)
    {
        var a = In(ra, ca, 2);
        var b = In(rb, cb, 3, 0.5, 2);
        AssertGrad((t, x) => Weighted(t, Op.Add(x[0], x[1]), 12), a, b);
        AssertGrad((t, x) => Weighted(t, Op.Sub(x[0], x[1]), 13), a, b);
        AssertGrad((t, x) => Weighted(t, Op.Mul(x[0], x[1]), 14), a, b);
        AssertGrad((t, x) => Weighted(t, Op.Div(x[0], x[1]), 15), a, b);
    }

    [Test]
    public void MatMul_And_PairwiseDistances_MatchFiniteDifferences()
    {
        AssertGrad((t, x) => Weighted(t, Op.MatMul(x[0], x[1]), 16), In(7, 5, 4), In(5, 9, 5));
        AssertGrad((t, x) => Weighted(t, Op.PairwiseSqEuclidean(x[0], x[1]), 17), In(7, 3, 6), In(4, 3, 7));
    }

    [Test]
    public void ThreeLayerMlp_MatchesFiniteDifferences()
    {
        AssertGrad((t, p) =>
        {
            var x = t.Constant(Close.RandomUniform(6 * 4, 20), 6, 4);
            var h1 = Op.Tanh(Op.Add(Op.MatMul(x, p[0]), p[1]));
            var h2 = Op.Gelu(Op.MatMul(h1, p[2]));
            return Op.Mean(Op.Pow(Op.MatMul(h2, p[3]), 2));
        }, In(4, 8, 21), In(1, 8, 22), In(8, 8, 23), In(8, 2, 24));
    }

    [Test]
    public void FanOut_AccumulatesGradients()
    {
        var t = new Tape();
        var x = t.Leaf(new[] { 3.0 }, 1, 1);
        var y = Op.Add(Op.Mul(x, x), Op.Scale(x, 2)); // x² + 2x → 2x + 2 = 8
        t.Backward(y);
        Assert.That(x.Grad![0], Is.EqualTo(8.0));
    }

    [Test]
    public void ShapeMismatch_NamesBothShapes()
    {
        var t = new Tape();
        var a = t.Leaf(new double[6], 2, 3);
        var b = t.Leaf(new double[8], 2, 4);
        var e = Assert.Throws<ArgumentException>(() => Op.Add(a, b))!;
        Assert.That(e.Message, Does.Contain("2×3").And.Contain("2×4"));
        e = Assert.Throws<ArgumentException>(() => Op.MatMul(a, b))!;
        Assert.That(e.Message, Does.Contain("2×3").And.Contain("2×4"));
        e = Assert.Throws<ArgumentException>(() => t.Leaf(new[] { 1.0, double.NaN }, 1, 2))!;
        Assert.That(e.Message, Does.Contain("value[1]").And.Contain("NaN"));
    }

    [Test]
    public void Backward_NeedsAScalar_AndRunsOnce()
    {
        var t = new Tape();
        var a = t.Leaf(new[] { 1.0, 2.0 }, 1, 2);
        var e = Assert.Throws<InvalidOperationException>(() => t.Backward(Op.Exp(a)))!;
        Assert.That(e.Message, Does.Contain("scalar").And.Contain("1×2"));
        var loss = Op.Sum(Op.Exp(a));
        t.Backward(loss);
        Assert.That(a.Grad, Is.EqualTo(new[] { Math.Exp(1), Math.Exp(2) }).Within(1e-15));
        e = Assert.Throws<InvalidOperationException>(() => t.Backward(loss))!;
        Assert.That(e.Message, Does.Contain("released"));
        Assert.Throws<InvalidOperationException>(() => Op.Exp(a));
    }

    [Test]
    public void NoGrad_RecordsNothing()
    {
        var t = new Tape();
        var a = t.Leaf(new[] { 1.0 }, 1, 1);
        using (t.NoGrad())
        {
            var y = Op.Exp(a);
            Assert.That(y.RequiresGrad, Is.False);
            Assert.That(t.Count, Is.EqualTo(0));
        }
        Assert.That(Op.Exp(a).RequiresGrad, Is.True);
        Assert.That(t.Count, Is.EqualTo(1));
    }
}

public class StructOpTests
{
    private static GradCheck.Input In(int rows, int cols, int seed, double lo = -1, double hi = 1) =>
        new(Close.RandomUniform(rows * cols, seed, lo, hi), rows, cols);

    private static Var Weighted(Tape t, Var y, int seed) =>
        Op.Sum(Op.Mul(y, t.Constant(Close.RandomUniform(y.Length, seed, -1, 1), y.Rows, y.Cols)));

    private static void AssertGrad(Func<Tape, Var[], Var> f, params GradCheck.Input[] inputs)
    {
        var r = GradCheck.Check(f, inputs, directions: 5, h: 1e-5, seed: 9);
        Assert.That(r.MaxRelativeError, Is.LessThanOrEqualTo(1e-6));
    }

    [Test]
    public void GatherSliceConcat_MatchFiniteDifferences()
    {
        AssertGrad((t, x) => Weighted(t, StructOp.GatherRows(x[0], new[] { 2, 0, 2, 4 }), 1), In(5, 3, 1));
        AssertGrad((t, x) => Weighted(t, StructOp.SliceCols(x[0], 1, 2), 2), In(5, 4, 2));
        AssertGrad((t, x) => Weighted(t, StructOp.ConcatCols(x[0], x[1]), 3), In(5, 2, 3), In(5, 3, 4));
    }

    [Test]
    public void RowNormsAndNormalize_MatchFiniteDifferences()
    {
        AssertGrad((t, x) => Weighted(t, StructOp.RowNorms(x[0]), 4), In(6, 3, 5));
        AssertGrad((t, x) => Weighted(t, StructOp.NormalizeRows(x[0]), 5), In(6, 3, 6));
    }

    [Test]
    public void SpMM_MatchesFiniteDifferences_AndDenseProduct()
    {
        var s = new CsrMatrix(3, 4, new[] { 0, 2, 2, 5 }, new[] { 0, 3, 0, 1, 2 }, new[] { 1.5, -2.0, 0.5, 3.0, -1.0 });
        AssertGrad((t, x) => Weighted(t, StructOp.SpMM(s, x[0]), 6), In(4, 2, 7));
        var tape = new Tape();
        var xv = tape.Constant(Close.RandomUniform(8, 8), 4, 2);
        var sparse = StructOp.SpMM(s, xv);
        var dense = Op.MatMul(tape.Constant(s.ToDense(), 3, 4), xv);
        Close.All(dense.Value, sparse.Value, 1e-15, 0, "SpMM vs dense product");
    }

    [Test]
    public void Geodesic_MatchesFiniteDifferences_OnTheSphere()
    {
        // Differentiate through the projection to S² so the check moves along the sphere.
        AssertGrad((t, x) => Weighted(t, StructOp.Geodesic(StructOp.NormalizeRows(x[0]), StructOp.NormalizeRows(x[1])), 7), In(4, 3, 9), In(5, 3, 10));
    }

    [Test]
    public void BadIndex_NamesIndexAndShape()
    {
        var t = new Tape();
        var a = t.Leaf(new double[6], 3, 2);
        var e = Assert.Throws<ArgumentException>(() => StructOp.GatherRows(a, new[] { 0, 3 }))!;
        Assert.That(e.Message, Does.Contain("index[1] = 3").And.Contain("3×2"));
    }
}

public class RankOpTests
{
    [Test]
    public void SoftRankRows_OnTape_MatchesFiniteDifferences_AndDirectCall()
    {
        var x = new GradCheck.Input(Close.RandomUniform(4 * 6, 3, -1, 1), 4, 6);
        var r = GradCheck.Check((t, v) => Op.Sum(Op.Mul(RankOp.SoftRankRows(v[0], 0.3),
            t.Constant(Close.RandomUniform(24, 4, -1, 1), 4, 6))), new[] { x }, directions: 6, h: 1e-6, seed: 2);
        Assert.That(r.MaxRelativeError, Is.LessThanOrEqualTo(1e-6));
        var tape = new Tape();
        var y = RankOp.SoftRankRows(tape.Constant(x.Value, 4, 6), 0.3);
        Close.All(SoftRanking.SoftRank(x.Value[6..12], 0.3), y.Value[6..12], 1e-15, 0, "row 1");
        var s = GradCheck.Check((t, v) => Op.Sum(Op.Mul(RankOp.SoftSortRows(v[0], 2.0),
            t.Constant(Close.RandomUniform(24, 5, -1, 1), 4, 6))), new[] { x }, directions: 6, h: 1e-6, seed: 3);
        Assert.That(s.MaxRelativeError, Is.LessThanOrEqualTo(1e-6));
    }
}

public class SinkhornUnrolledTests
{
    [Test]
    public void UnrolledPlan_EqualsTheSolver_AndItsGradientMatchesFiniteDifferences()
    {
        int n = 5, m = 4;
        var s = Close.RandomUniform(n, 1);
        var t = Close.RandomUniform(m, 2);
        var c = new double[n * m];
        for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) c[i * m + j] = (s[i] - t[j]) * (s[i] - t[j]);
        var a = Enumerable.Repeat(1.0 / n, n).ToArray();
        var b = Enumerable.Repeat(1.0 / m, m).ToArray();
        var tape = new Tape();
        var plan = SinkhornUnrolled.Plan(tape.Constant(c, n, m), tape.Constant(a, n, 1), tape.Constant(b, m, 1), 0.1, 30);
        var solver = Glass.Kernels.Sinkhorn.DenseSinkhorn.Solve(Glass.Kernels.Device.ComputeDevice.Cpu,
            Glass.Kernels.Sinkhorn.DenseGeometry.FromCostMatrix(c, n, m), null, null,
            new Glass.Kernels.Sinkhorn.SinkhornOptions { Gamma = 0.1, MaxIter = 30, Tol = 0, Overrelax = false, ReturnPlan = true });
        Close.All(solver.Plan!, plan.Value, 1e-14, 1e-10, "unrolled plan vs DenseSinkhorn after 30 iterations");

        var r = GradCheck.Check((tp, v) => Op.Sum(Op.Mul(SinkhornUnrolled.Plan(v[0], tp.Constant(a, n, 1), tp.Constant(b, m, 1), 0.1, 10), v[0])),
            new[] { new GradCheck.Input(c, n, m) }, directions: 4, h: 1e-6, seed: 4);
        Assert.That(r.MaxRelativeError, Is.LessThanOrEqualTo(1e-6));
    }
}

public class SinkhornOpTests
{
    private static (double[] C, int N, int M) Cost(int n, int m, int seed)
    {
        var x = Close.RandomUniform(n, seed, 0, 2);
        var y = Close.RandomUniform(m, seed + 1, 0, 2);
        var c = new double[n * m];
        for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) c[i * m + j] = (x[i] - y[j]) * (x[i] - y[j]);
        return (c, n, m);
    }

    [TestCase(0.5)]
    [TestCase(0.1)]
    public void DensePlan_ImplicitEqualsUnrolledEqualsFiniteDifferences(double gamma)
    {
        var (c, n, m) = Cost(6, 5, 3);
        var w = Close.RandomUniform(n * m, 9, -1, 1);
        var implicitOpt = new Glass.Kernels.Sinkhorn.SinkhornOptions { Gamma = gamma, MaxIter = 20_000, Tol = 1e-13 };
        var unrolledOpt = implicitOpt with { MaxIter = 3000 };
        double[] Grad(SinkhornGradient strategy)
        {
            var t = new Tape();
            var cv = t.Leaf((double[])c.Clone(), n, m);
            var p = SinkhornOp.DensePlan(cv, null, null, strategy == SinkhornGradient.Implicit ? implicitOpt : unrolledOpt, strategy);
            t.Backward(Op.Sum(Op.Mul(p, t.Constant(w, n, m))));
            return cv.Grad!;
        }
        var gi = Grad(SinkhornGradient.Implicit);
        var gu = Grad(SinkhornGradient.Unrolled);
        double scale = gi.Max(Math.Abs);
        Close.All(gu, gi, 1e-4 * scale, 1e-4, "implicit vs unrolled");
        var r = GradCheck.Check((t, v) => Op.Sum(Op.Mul(SinkhornOp.DensePlan(v[0], null, null, implicitOpt), t.Constant(w, n, m))),
            new[] { new GradCheck.Input(c, n, m) }, directions: 3, h: 1e-5, seed: 5);
        Assert.That(r.MaxRelativeError, Is.LessThanOrEqualTo(1e-4));
    }

    [Test]
    public void BandedPlan_ScoreGradients_MatchFiniteDifferences()
    {
        var s = Close.RandomUniform(9, 1);
        var t0 = Close.RandomUniform(7, 2);
        var opt = new Glass.Kernels.Sinkhorn.SinkhornOptions { Gamma = 0.1, MaxIter = 20_000, Tol = 1e-12 };
        var band = new Glass.Kernels.Sinkhorn.BandOptions { BandEps = 1e-30 };
        var t = new Tape();
        var sv = t.Leaf((double[])s.Clone(), 9, 1);
        var tv = t.Leaf((double[])t0.Clone(), 7, 1);
        var plan = SinkhornOp.BandedPlan(sv, tv, null, null, opt, band);
        var wts = Close.RandomUniform(plan.Structure.Nnz, 4, -1, 1);
        t.Backward(Op.Sum(Op.Mul(plan.Values, t.Constant(wts, 1, wts.Length))));
        // Finite differences of Σ w_k P_k(s) along e_3.
        double Eval(double h)
        {
            var s2 = (double[])s.Clone();
            s2[3] += h;
            var rr = Glass.Kernels.Sinkhorn.BandedSinkhorn.Solve(Glass.Kernels.Device.ComputeDevice.Cpu, s2, t0, null, null, opt, band);
            return rr.Plan.Values.Zip(wts, (p, w) => p * w).Sum();
        }
        double fd = (Eval(1e-6) - Eval(-1e-6)) / 2e-6;
        Close.Scalar(fd, sv.Grad![3], 1e-9, 1e-4, "∂/∂s_3 of Σ w·P");
    }
}

public class ReadmeExampleTests
{
    [Test]
    public void ReadmeExample_TrainingThroughOt_LowersTheTransportCost()
    {
        int n = 30, m = 25, d = 4;
        var x = Close.RandomNormal(n * d, 1);
        var y = Close.RandomNormal(m, 2, 0.3);
        var w = Glass.Autodiff.Optim.Parameter.Glorot("w", d, 1, seed: 0);
        var opt = Glass.Autodiff.Optim.Optimizer.Adam(new[] { w }, new Glass.Autodiff.Optim.OptimizerOptions { LearningRate = 1e-2 });
        double Step()
        {
            var tape = new Tape();
            var cost = Op.PairwiseSqEuclidean(Op.MatMul(tape.Constant(x, n, d), w.On(tape)), tape.Constant(y, m, 1));
            var plan = SinkhornOp.DensePlan(cost, null, null, new Glass.Kernels.Sinkhorn.SinkhornOptions { Gamma = 0.05 });
            var loss = Op.Sum(Op.Mul(plan, cost));
            tape.Backward(loss);
            opt.Update();
            return loss.Scalar;
        }
        double first = Step();
        double last = first;
        for (int k = 0; k < 60; k++) last = Step();
        Assert.That(last, Is.LessThan(0.5 * first), $"⟨P,C⟩ {first} → {last}");
    }
}
