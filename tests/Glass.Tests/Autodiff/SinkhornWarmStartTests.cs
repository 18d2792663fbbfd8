using Glass.Autodiff;
using Glass.Autodiff.Ops;
using Glass.Kernels.Sinkhorn;
using Glass.Tests.Support;
using NUnit.Framework;

namespace Glass.Tests.Autodiff;

/// <summary>
/// <see cref="SinkhornOp.DensePlanWarm"/>: a warm start from the potentials of a nearby cost (the previous training
/// step) reaches the cold start's fixed point — same plan, same implicit gradient, potentials of the given cost — in
/// fewer iterations.
/// </summary>
public class SinkhornWarmStartTests
{
    private const int N = 23, M = 31;
    private const double Gamma = 0.03;

    private static double[] Cost(int seed, double shift)
    {
        var x = Close.RandomUniform(N, seed, 0, 2);
        var y = Close.RandomUniform(M, seed + 7, 0, 2);
        var c = new double[N * M];
        for (int i = 0; i < N; i++)
            for (int j = 0; j < M; j++) c[i * M + j] = (x[i] - y[j] + shift * Math.Sin(i + 2 * j)) * (x[i] - y[j]);
        return c;
    }

    private static (double[] Plan, double[] Grad, DenseSinkhornResult Result) Solve(double[] c, double[]? f0, double[]? g0, double tol)
    {
        var tape = new Tape();
        var cost = tape.Leaf(c, N, M);
        var so = new SinkhornOptions { Gamma = Gamma, Tol = tol, MaxIter = 50_000 };
        var s = SinkhornOp.DensePlanWarm(cost, null, null, so, f0, g0);
        // L = Σ W ⊙ P with a fixed non-trivial W: its gradient goes through the implicit backward.
        var w = Close.RandomUniform(N * M, 99, -1, 1);
        var loss = Op.Sum(Op.Mul(s.Plan, tape.Constant(w, N, M)));
        tape.Backward(loss);
        return (s.Plan.Value, cost.Grad!, s.Result);
    }

    [Test]
    public void WarmStartKeepsThePlanAndTheGradient()
    {
        var previous = Solve(Cost(1, 0), null, null, 1e-12).Result;
        var c = Cost(1, 0.02); // the next step's cost: close, not equal
        var cold = Solve(c, null, null, 1e-12);
        var warm = Solve(c, previous.F, previous.G, 1e-12);
        Close.All(cold.Plan, warm.Plan, 1e-12, 1e-8, "plan");
        Close.All(cold.Grad, warm.Grad, 1e-9, 1e-6, "∂L/∂C");
        Assert.That(warm.Result.Iterations, Is.LessThan(cold.Result.Iterations), "a nearby start converges sooner");
        // The returned potentials belong to C itself: P_ij = exp((f_i + g_j − C_ij)/γ).
        for (int i = 0; i < N; i++)
            for (int j = 0; j < M; j++)
                Assert.That(Math.Exp((warm.Result.F[i] + warm.Result.G[j] - c[i * M + j]) / Gamma), Is.EqualTo(warm.Plan[i * M + j]).Within(1e-12 + 1e-9 * warm.Plan[i * M + j]), $"P[{i},{j}] from (f, g)");
        double pc = 0;
        for (int k = 0; k < c.Length; k++) pc += warm.Plan[k] * c[k];
        Assert.That(warm.Result.Cost, Is.EqualTo(pc).Within(1e-12), "⟨P, C⟩ on the given cost");
    }

    [Test]
    public void BadWarmStartNamesTheArgument()
    {
        var tape = new Tape();
        var cost = tape.Leaf(Cost(2, 0), N, M);
        var so = new SinkhornOptions { Gamma = Gamma, Tol = 1e-9, MaxIter = 5000 };
        var ex = Assert.Throws<ArgumentException>(() => SinkhornOp.DensePlanWarm(cost, null, null, so, new double[N], null));
        Assert.That(ex!.Message, Does.Contain("both f0 and g0"));
        ex = Assert.Throws<ArgumentException>(() => SinkhornOp.DensePlanWarm(cost, null, null, so, new double[N + 1], new double[M]));
        Assert.That(ex!.Message, Does.Contain("f0 has length 24"));
    }

    // Banded op: scores s (n), t (m); L = Σ w ⊙ P over the band with fixed weights; returns values, ∂L/∂s, ∂L/∂t, solve.
    private static (double[] Plan, double[] Ds, double[] Dt, BandedSinkhornResult Result) Banded(double[] sv, double[] tv, double[]? f0, double[]? g0)
    {
        var tape = new Tape();
        var s = tape.Leaf(sv, sv.Length, 1);
        var t = tape.Leaf(tv, tv.Length, 1);
        var so = new SinkhornOptions { Gamma = Gamma, Tol = 1e-12, MaxIter = 100_000 };
        var bp = SinkhornOp.Banded(s, t, null, null, so, null, new SinkhornOpOptions { InitialF = f0, InitialG = g0 });
        var w = Close.RandomUniform(bp.Values.Length, 98, -1, 1);
        tape.Backward(Op.Sum(Op.Mul(bp.Values, tape.Constant(w, 1, w.Length))));
        return (bp.Values.Value, s.Grad!, t.Grad!, bp.Result);
    }

    [Test]
    public void BandedWarmStartKeepsThePlanAndTheGradient()
    {
        // The previous step's scores (same points, every score moved a little): its potentials start the next solve.
        var s0 = Close.RandomUniform(N, 5, 0, 2);
        var t0 = Close.RandomUniform(M, 6, 0, 2);
        var s = s0.Select((x, i) => x + 0.01 * Math.Sin(3 * i)).ToArray();
        var t = t0.Select((x, j) => x + 0.01 * Math.Cos(2 * j)).ToArray();
        var previous = Banded(s0, t0, null, null).Result;
        var cold = Banded(s, t, null, null);
        var warm = Banded(s, t, previous.F, previous.G);
        Assert.That(warm.Result.Plan.ColIdx, Is.EqualTo(cold.Result.Plan.ColIdx), "same band");
        Close.All(cold.Plan, warm.Plan, 1e-12, 1e-8, "banded plan");
        Close.All(cold.Ds, warm.Ds, 1e-9, 1e-6, "∂L/∂s");
        Close.All(cold.Dt, warm.Dt, 1e-9, 1e-6, "∂L/∂t");
        Assert.That(cold.Ds.Any(v => Math.Abs(v) > 1e-6), "the gradient is not trivially zero");
        Assert.That(warm.Result.Iterations, Is.LessThan(cold.Result.Iterations), "a nearby start converges sooner");
    }

    [Test]
    public void BandedBadWarmStartNamesTheArgument()
    {
        var tape = new Tape();
        var s = tape.Leaf(Close.RandomUniform(N, 5), N, 1);
        var t = tape.Leaf(Close.RandomUniform(M, 6), M, 1);
        var so = new SinkhornOptions { Gamma = Gamma, Tol = 1e-9, MaxIter = 5000 };
        var ex = Assert.Throws<ArgumentException>(() => SinkhornOp.Banded(s, t, null, null, so, null, new SinkhornOpOptions { InitialF = new double[N] }));
        Assert.That(ex!.Message, Does.Contain("both InitialF and InitialG"));
        ex = Assert.Throws<ArgumentException>(() => SinkhornOp.Banded(s, t, null, null, so, null,
            new SinkhornOpOptions { InitialF = new double[N], InitialG = new double[M + 1] }));
        Assert.That(ex!.Message, Does.Contain("InitialG 32").And.Contain("expected 23 and 31"));
    }
}
