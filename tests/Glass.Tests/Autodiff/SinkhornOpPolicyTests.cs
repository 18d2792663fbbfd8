using Glass.Autodiff;
using Glass.Autodiff.Ops;
using Glass.Kernels.Sinkhorn;
using Glass.Tests.Support;
using NUnit.Framework;

namespace Glass.Tests.Autodiff;

/// <summary>The one differentiable Sinkhorn op: non-convergence policy and warm start by potentials.</summary>
public class SinkhornOpPolicyTests
{
    private const int N = 17, M = 13;

    private static double[] Cost(int seed)
    {
        var x = Close.RandomNormal(N, seed);
        var y = Close.RandomNormal(M, seed + 1);
        var c = new double[N * M];
        for (int i = 0; i < N; i++) for (int j = 0; j < M; j++) c[i * M + j] = (x[i] - y[j]) * (x[i] - y[j]);
        return c;
    }

    [Test]
    public void NotConverged_Throw_NamesErrorAndTol()
    {
        var tape = new Tape();
        var cost = tape.Leaf(Cost(1), N, M);
        var so = new SinkhornOptions { Gamma = 0.01, MaxIter = 2, Tol = 1e-12 };
        var ex = Assert.Throws<InvalidOperationException>(() => SinkhornOp.Dense(cost, null, null, so));
        Assert.That(ex!.Message, Does.Contain("did not converge").And.Contain("after 2 iterations"));
        Assert.Throws<InvalidOperationException>(() => SinkhornOp.Banded(tape.Leaf(Close.RandomNormal(N, 3), N, 1),
            tape.Leaf(Close.RandomNormal(M, 4), M, 1), null, null, so));
    }

    [Test]
    public void NotConverged_UseLastIterate_ReportsAndRecords()
    {
        var tape = new Tape();
        var cost = tape.Leaf(Cost(1), N, M);
        var so = new SinkhornOptions { Gamma = 0.01, MaxIter = 2, Tol = 1e-12 };
        var r = SinkhornOp.Dense(cost, null, null, so, new SinkhornOpOptions { OnNonConvergence = SinkhornNonConvergence.UseLastIterate });
        Assert.That(r.Converged, Is.False);
        Assert.That(r.Result.Iterations, Is.EqualTo(2));
        // The recorded plan is the last iterate: P = exp((f + g − C)/γ) from the reported potentials.
        for (int i = 0; i < N; i++)
            for (int j = 0; j < M; j++)
            {
                double p = Math.Exp((r.Result.F[i] + r.Result.G[j] - cost.Value[i * M + j]) / so.Gamma);
                Close.Scalar(p, r.Plan.Value[i * M + j], 1e-15, 1e-9, $"P[{i},{j}]");
            }
        var loss = Op.Sum(Op.Mul(r.Plan, cost));
        tape.Backward(loss);
        Assert.That(cost.Grad!.All(double.IsFinite), Is.True, "the backward runs at the last iterate");
    }

    [Test]
    public void WarmStartByPotentials_SamePlanAsCold_FewerIterations()
    {
        var so = new SinkhornOptions { Gamma = 0.05, MaxIter = 20_000, Tol = 1e-10, CheckEvery = 1 };
        var tape = new Tape();
        var first = SinkhornOp.Dense(tape.Leaf(Cost(5), N, M), null, null, so);
        var c2 = Cost(5).Select((v, k) => v * (1 + 1e-3 * Math.Cos(k))).ToArray();
        var cold = SinkhornOp.Dense(tape.Leaf(c2, N, M), null, null, so);
        var warm = SinkhornOp.Dense(tape.Leaf(c2, N, M), null, null, so,
            new SinkhornOpOptions { InitialF = first.Result.F, InitialG = first.Result.G });
        Assert.That(warm.Converged && cold.Converged, Is.True);
        Assert.That(warm.Result.Iterations, Is.LessThan(cold.Result.Iterations), "warm start from a nearby problem's potentials");
        Close.All(cold.Plan.Value, warm.Plan.Value, 1e-12, 1e-7, "same fixed point");
        Assert.Throws<ArgumentException>(() => SinkhornOp.Dense(tape.Leaf(c2, N, M), null, null, so, new SinkhornOpOptions { InitialF = new double[N] }));
    }
}
