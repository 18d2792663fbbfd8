using Glass.Autodiff;
using Glass.Autodiff.Ops;
using Glass.Tests.Support;
using NUnit.Framework;

namespace Glass.Tests.Autodiff;

/// <summary>The fused linear layer and the tape's buffer pool: same gradients as the unfused, unpooled tape.</summary>
public class TapeArenaTests
{
    [Test]
    public void Linear_MatchesFiniteDifferences_WithAndWithoutBias()
    {
        var x = new GradCheck.Input(Close.RandomUniform(7 * 5, 1, -1, 1), 7, 5);
        var w = new GradCheck.Input(Close.RandomUniform(5 * 9, 2, -1, 1), 5, 9);
        var b = new GradCheck.Input(Close.RandomUniform(9, 3, -1, 1), 1, 9);
        var wt = Close.RandomUniform(7 * 9, 4, -1, 1);
        var r = GradCheck.Check((t, p) => Op.Sum(Op.Mul(Op.Tanh(Op.Linear(p[0], p[1], p[2])), t.Constant(wt, 7, 9))),
            new[] { x, w, b }, directions: 5, h: 1e-5, seed: 3);
        Assert.That(r.MaxRelativeError, Is.LessThanOrEqualTo(1e-6));
        r = GradCheck.Check((t, p) => Op.Sum(Op.Mul(Op.Linear(p[0], p[1], null), t.Constant(wt, 7, 9))),
            new[] { x, w }, directions: 3, h: 1e-5, seed: 4);
        Assert.That(r.MaxRelativeError, Is.LessThanOrEqualTo(1e-6));
    }

    [Test]
    public void Linear_BadBias_NamesShapes()
    {
        var t = new Tape();
        var e = Assert.Throws<ArgumentException>(() => Op.Linear(t.Leaf(new double[6], 2, 3), t.Leaf(new double[12], 3, 4), t.Leaf(new double[3], 1, 3)))!;
        Assert.That(e.Message, Does.Contain("1×3").And.Contain("3×4"));
    }

    private static (double[][] Grads, double Loss) MlpStep(Tape tape, double[] x, double[][] p, bool fused)
    {
        // x is 40×6; x feeds two branches (fan-out into a non-leaf gradient).
        var leaves = new[] { tape.Leaf(p[0], 6, 33), tape.Leaf(p[1], 1, 33), tape.Leaf(p[2], 33, 5) };
        var xin = tape.Constant(x, 40, 6);
        var pre = fused ? Op.Linear(xin, leaves[0], leaves[1]) : Op.Add(Op.MatMul(xin, leaves[0]), leaves[1]);
        var h = Op.Add(Op.Relu(pre), Op.Tanh(pre));
        var y = Op.MatMul(h, leaves[2]);
        var loss = Op.Mean(Op.Mul(y, y));
        double l = loss.Scalar;
        tape.Backward(loss);
        return (leaves.Select(v => (double[])v.Grad!.Clone()).ToArray(), l);
    }

    [Test]
    public void Arena_RecyclesBuffers_AndGivesTheSameGradients()
    {
        var x = Close.RandomNormal(40 * 6, 10);
        var p = new[] { Close.RandomNormal(6 * 33, 11, 0.3), Close.RandomNormal(33, 12, 0.1), Close.RandomNormal(33 * 5, 13, 0.3) };
        var (reference, refLoss) = MlpStep(new Tape(), x, p, fused: false);

        var arena = new TapeArena();
        int freeAfterFirst = -1;
        for (int step = 0; step < 3; step++)
        {
            double[][] g; double l;
            using (var tape = new Tape(arena)) (g, l) = MlpStep(tape, x, p, fused: step % 2 == 0);
            Assert.That(l, Is.EqualTo(refLoss).Within(1e-12 * Math.Abs(refLoss)), $"step {step}: loss");
            for (int k = 0; k < g.Length; k++) Close.All(reference[k], g[k], 1e-13, 1e-11, $"step {step}: gradient of leaf {k}");
            Assert.That(arena.FreeBuffers, Is.GreaterThan(0), $"step {step}: the disposed tape returned its buffers");
            if (step == 1) freeAfterFirst = arena.FreeBuffers; // both variants have run once
            // Recycled buffers are dirty: steps after the first must still match (no op may rely on zeroed memory).
            if (step == 2) Assert.That(arena.FreeBuffers, Is.EqualTo(freeAfterFirst), "a steady loop reuses the pool instead of growing it");
        }
    }

    [Test]
    public void Arena_LeafGradients_OutliveTheTape()
    {
        var arena = new TapeArena();
        var w = new[] { 1.0, 2.0, 3.0 };
        Var leaf;
        using (var tape = new Tape(arena))
        {
            leaf = tape.Leaf(w, 1, 3);
            tape.Backward(Op.Sum(Op.Mul(Op.Exp(leaf), Op.Exp(leaf))));
        }
        using (var tape = new Tape(arena))
        {
            var other = tape.Leaf(new[] { 5.0, 5.0, 5.0 }, 1, 3);
            tape.Backward(Op.Sum(Op.Mul(Op.Exp(other), Op.Exp(other))));
        }
        Assert.That(leaf.Grad, Is.EqualTo(w.Select(v => 2 * Math.Exp(2 * v)).ToArray()).Within(1e-9));
    }
}
