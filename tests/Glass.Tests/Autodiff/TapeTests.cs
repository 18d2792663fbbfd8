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
