using Glass.Autodiff;
using Glass.Autodiff.Ops;
using Glass.Autodiff.Optim;
using Glass.Models.Data;
using Glass.Models.Glass;
using NUnit.Framework;

namespace Glass.Tests.Models;

public class GlassLayerTests
{
    // Tight, converged solves so finite differences see a smooth map; γ large enough that the band covers
    // every pair of these tiny problems (the band pattern cannot switch under a 1e-6 perturbation).
    private static OtOptions Ot(bool banded) => new() { Gamma = 0.5, MaxIter = 100_000, Tol = 1e-13, UseBanded = banded, BandEps = 1e-6 };

    private static double[] Sphere(int n, int seed) => S2Pair.Generate(new S2DataOptions { N = n, NoiseDeg = 0, Rotation = false }, seed).X;

    [TestCase(true, GateMode.Tie)]
    [TestCase(false, GateMode.Learn)]
    [TestCase(true, GateMode.Fixed)]
    public void SphereLoss_GradientToXAndY_MatchesFiniteDifferences(bool banded, GateMode gate)
    {
        var layer = GlassLayer.ForSphere(new ManifoldProjectionOptions { K = 3, GateMode = gate, ChartRadiusDeg = 60, InitUScale = 1.0 }, Ot(banded), slices: 2, seed: 3);
        var x = Sphere(7, 1); var y = Sphere(6, 2);
        var r = GradCheck.Check((t, v) => layer.Forward(v[0], v[1]).Loss,
            new[] { new GradCheck.Input(x, 7, 3), new GradCheck.Input(y, 6, 3) }, directions: 6, h: 1e-5, seed: 1);
        Assert.That(r.MaxRelativeError, Is.LessThan(1e-5), string.Join("; ", r.Directional.Select(p => $"fd {p.FiniteDifference:R} tape {p.Tape:R}")));
    }

    [TestCase(true, GateMode.Tie)]
    [TestCase(false, GateMode.Learn)]
    public void SphereLoss_GradientToParameters_MatchesFiniteDifferences(bool banded, GateMode gate)
    {
        // Chart radius 25°: some points lie outside an anchor's chart, so the clamped branch is exercised too.
        var layer = GlassLayer.ForSphere(new ManifoldProjectionOptions { K = 3, GateMode = gate, ChartRadiusDeg = 25, InitUScale = 1.0 }, Ot(banded), slices: 2, seed: 5);
        var x = Sphere(8, 3); var y = Sphere(8, 4);
        CheckParameters(layer, x, y, 8, 3);
    }

    [TestCase(true)]
    [TestCase(false)]
    public void FeatureLoss_GradientsToInputsAndWeights_MatchFiniteDifferences(bool banded)
    {
        var rng = new Random(7);
        var x = Enumerable.Range(0, 9 * 4).Select(_ => rng.NextDouble() - 0.5).ToArray();
        var y = Enumerable.Range(0, 8 * 4).Select(_ => rng.NextDouble() - 0.5).ToArray();
        var layer = GlassLayer.ForFeatures(4, Ot(banded), slices: 2, seed: 1);
        var r = GradCheck.Check((t, v) => layer.Forward(v[0], v[1]).Loss,
            new[] { new GradCheck.Input(x, 9, 4), new GradCheck.Input(y, 8, 4) }, directions: 6, h: 1e-5, seed: 2);
        Assert.That(r.MaxRelativeError, Is.LessThan(1e-5), string.Join("; ", r.Directional.Select(p => $"fd {p.FiniteDifference:R} tape {p.Tape:R}")));
        CheckParameters(layer, x, y, 9, 4, ny: 8);
    }

    /// <summary>Tape gradient of every parameter entry vs a central difference on that entry.</summary>
    private static void CheckParameters(GlassLayer layer, double[] x, double[] y, int nx, int d, int? ny = null)
    {
        double Loss()
        {
            var t = new Tape();
            using var _ = t.NoGrad();
            return layer.Forward(t.Constant(x, nx, d), t.Constant(y, ny ?? nx, d)).Loss.Scalar;
        }
        var tape = new Tape();
        tape.Backward(layer.Forward(tape.Constant(x, nx, d), tape.Constant(y, ny ?? nx, d)).Loss);
        const double h = 1e-5;
        int checkedEntries = 0;
        var grads = layer.Parameters.Select(p => (double[])p.Grad!.Clone()).ToArray(); // read before Loss() re-puts them on no-grad tapes
        foreach (var (p, g) in layer.Parameters.Zip(grads))
        {
            for (int k = 0; k < p.Value.Length; k++)
            {
                double v0 = p.Value[k];
                p.Value[k] = v0 + h; double lp = Loss();
                p.Value[k] = v0 - h; double lm = Loss();
                p.Value[k] = v0;
                double fd = (lp - lm) / (2 * h);
                Assert.That(Math.Abs(fd - g[k]), Is.LessThanOrEqualTo(1e-6 + 1e-4 * Math.Abs(fd)), $"{p.Name}[{k}]: fd {fd:R}, tape {g[k]:R}");
                checkedEntries++;
            }
        }
        Assert.That(checkedEntries, Is.GreaterThan(3));
    }

    [Test]
    public void LogMapScale_IsTheClampedLogMap_AndItsDerivativeMatchesFiniteDifferences()
    {
        // ⟨u, Log_a(x)⟩ for u ⊥ a equals g(⟨a,x⟩)·⟨u,x⟩ with g = θ/sin θ inside the chart (Sphere.Log reference).
        var a = new[] { 0.0, 0.0, 1.0 };
        var xs = new[] { 0.3, 0.2, Math.Sqrt(1 - 0.13) };
        var log = Glass.Kernels.PointClouds.Sphere.Log(Glass.Kernels.Device.ComputeDevice.Cpu, a, xs);
        var u = new[] { 0.6, -0.8, 0.0 };
        double want = u[0] * log[0] + u[1] * log[1] + u[2] * log[2];
        var tape = new Tape();
        var g = GlassOps.LogMapScale(tape.Constant(new[] { xs[2] }, 1, 1), radius: Math.PI / 2);
        Assert.That(g.Scalar * (u[0] * xs[0] + u[1] * xs[1]), Is.EqualTo(want).Within(1e-12));
        // Derivatives across the three branches: series near θ = 0, θ/sin θ, and the clamp R/sin θ.
        var c = new[] { 1 - 1e-4, 0.999, 0.7, 0.2, -0.5, -0.95 };
        foreach (var radius in new[] { 0.5, 2.0 })
        {
            var r1 = GradCheck.Check((t, v) => Op.Sum(GlassOps.LogMapScale(v[0], radius)), new[] { new GradCheck.Input(c, 1, c.Length) }, directions: 4, h: 1e-7);
            Assert.That(r1.MaxRelativeError, Is.LessThan(1e-5), $"LogMapScale radius {radius}");
        }
        var r2 = GradCheck.Check((t, v) => Op.Sum(GlassOps.ArccosSquared(v[0])), new[] { new GradCheck.Input(c, 1, c.Length) }, directions: 4, h: 1e-7);
        Assert.That(r2.MaxRelativeError, Is.LessThan(1e-5), "ArccosSquared");
        // The series branch (θ < 1e-3) joins the closed form continuously, in value and derivative
        // (finite differences are useless that close to c = 1, where arccos is ill-conditioned).
        foreach (var op in new Func<Var, Var>[] { v => GlassOps.LogMapScale(v, 1.0), GlassOps.ArccosSquared })
        {
            var t3 = new Tape();
            var cc = t3.Leaf(new[] { Math.Cos(0.999e-3), Math.Cos(1.001e-3) }, 1, 2);
            var yv = op(cc);
            t3.Backward(Op.Sum(yv));
            Assert.That(yv.Value[1] - yv.Value[0], Is.EqualTo(0).Within(1e-6));
            Assert.That(cc.Grad![1] - cc.Grad[0], Is.EqualTo(0).Within(1e-5));
        }
    }

    [Test]
    public void Coupling_IsTheMeanOfTheSlicePlans_WithUniformMarginals()
    {
        var layer = GlassLayer.ForSphere(new ManifoldProjectionOptions { K = 4 }, new OtOptions { Gamma = 0.05, MaxIter = 5000, Tol = 1e-10 }, slices: 3, seed: 2);
        var tape = new Tape();
        var o = layer.Forward(tape.Constant(Sphere(40, 1), 40, 3), tape.Constant(Sphere(40, 2), 40, 3));
        Assert.That(o.Coupling.Converged, Is.True);
        Assert.That(o.SliceLosses, Has.Count.EqualTo(3));
        Assert.That(o.Loss.Scalar, Is.EqualTo(o.SliceLosses.Average()).Within(1e-12));
        foreach (var r in o.Coupling.Plan.RowSums()) Assert.That(r, Is.EqualTo(1.0 / 40).Within(1e-8));
        foreach (var c in o.Coupling.Plan.ColSums()) Assert.That(c, Is.EqualTo(1.0 / 40).Within(1e-8));
    }

    [Test]
    public void MultiView_SumsWeightedPairLosses()
    {
        var layer = GlassLayer.ForSphere(new ManifoldProjectionOptions { K = 4 }, new OtOptions { Gamma = 0.2, MaxIter = 5000, Tol = 1e-10 }, seed: 1);
        var tape = new Tape();
        var v = new[] { 1, 2, 3 }.Select(s => tape.Leaf(Sphere(10, s), 10, 3)).ToArray();
        var (loss, pairs) = layer.MultiView(v, (a, b) => a + b + 1.0);
        Assert.That(pairs, Has.Count.EqualTo(3));
        double want = 2 * pairs[0].Loss.Scalar + 3 * pairs[1].Loss.Scalar + 4 * pairs[2].Loss.Scalar;
        Assert.That(loss.Scalar, Is.EqualTo(want).Within(1e-12));
        tape.Backward(loss);
        Assert.That(v.All(z => z.Grad is not null && z.Grad.Any(g => g != 0)), Is.True, "every view receives a gradient");
    }

    [Test]
    public void BackboneTrainedThroughTheLayer_LossDrops()
    {
        // §5, Eq. 6: a linear backbone f(y) = normalise(y·W) on a rotated copy of X, trained with the GLASS head.
        int n = 32;
        var pair = S2Pair.Generate(new S2DataOptions { N = n, NoiseDeg = 0, Rotation = true }, 1);
        var layer = GlassLayer.ForSphere(new ManifoldProjectionOptions { K = 8 }, new OtOptions { Gamma = 0.05, MaxIter = 2000, Tol = 1e-9 }, slices: 2, seed: 0);
        var w = new Parameter("backbone.w", new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, 3, 3);
        var opt = Optimizer.Adam(layer.Parameters.Append(w).ToArray(), new OptimizerOptions { LearningRate = 0.05 });
        var schedule = new GammaSchedule(0.05, 0.98, 0.01);
        double first = 0, last = 0;
        for (int t = 0; t < 60; t++)
        {
            layer.Gamma = schedule.At(t);
            var tape = new Tape();
            var y = StructOp.NormalizeRows(Op.MatMul(tape.Constant(pair.Y, n, 3), w.On(tape)));
            var o = layer.Forward(tape.Constant(pair.X, n, 3), y);
            tape.Backward(o.Loss);
            Assert.That(w.Grad, Is.Not.Null, "the backbone receives a gradient");
            opt.Update();
            if (t == 0) first = o.Loss.Scalar;
            last = o.Loss.Scalar;
        }
        Assert.That(last, Is.LessThan(0.5 * first), $"loss {first} → {last}");
    }

    [Test]
    public void NonConvergence_IsFlagged_OrThrows()
    {
        var layer = GlassLayer.ForSphere(new ManifoldProjectionOptions { K = 4, InitUScale = 3 }, new OtOptions { Gamma = 1e-4, MaxIter = 2, Tol = 1e-12 }, seed: 1);
        var tape = new Tape();
        var x = tape.Leaf(Sphere(30, 1), 30, 3); var y = tape.Leaf(Sphere(30, 2), 30, 3);
        var o = layer.Forward(x, y);
        Assert.That(o.Coupling.Converged, Is.False);
        Assert.That(o.Coupling.UnconvergedSlices, Is.EqualTo(1));
        tape.Backward(o.Loss);
        Assert.That(x.Grad!.All(double.IsFinite), Is.True);
        layer.NonConvergence = NonConvergencePolicy.Throw;
        var t2 = new Tape();
        Assert.Throws<InvalidOperationException>(() => layer.Forward(t2.Constant(Sphere(30, 1), 30, 3), t2.Constant(Sphere(30, 2), 30, 3)));
    }

    [Test]
    public void BadInput_NamesTheProblem()
    {
        var layer = GlassLayer.ForSphere(new ManifoldProjectionOptions());
        var tape = new Tape();
        var ex = Assert.Throws<ArgumentException>(() => layer.Forward(tape.Constant(new double[8], 4, 2), tape.Constant(new double[8], 4, 2)));
        Assert.That(ex!.Message, Does.Contain("expected 3 columns"));
        var e2 = Assert.Throws<ArgumentException>(() => GlassLayer.ForSphere(new ManifoldProjectionOptions { K = 0 }));
        Assert.That(e2!.Message, Does.Contain("model.manifold.K"));
        var e3 = Assert.Throws<ArgumentException>(() => GlassLayer.ForSphere(new ManifoldProjectionOptions(), new OtOptions { Gamma = 0 }));
        Assert.That(e3!.Message, Does.Contain("ot.gamma"));
    }
}
