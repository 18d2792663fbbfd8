using Glass.Autodiff;
using Glass.Kernels.Device;
using Glass.Models.Data;
using Glass.Models.Glass;
using NUnit.Framework;

namespace Glass.Tests.Models;

/// <summary>The stopping rule, the γ back-off, the yardsticks and the reading options (chart mask, spectral features).</summary>
public class GlassConvergenceTests
{
    [Test]
    public void StoppingRule_ComparesTheMeansOfTheLastTwoWindows()
    {
        var rule = new StoppingRule(0.1, 2);
        Assert.That(rule.Change(new double[] { 4, 4, 2 }), Is.Null, "fewer than 2w steps");
        // prev = mean(4, 2) = 3, last = mean(2, 2) = 2 → |3 − 2| / 3 = 1/3.
        Assert.That(rule.Change(new double[] { 4, 2, 2, 2 })!.Value, Is.EqualTo(1.0 / 3).Within(1e-15));
        Assert.That(rule.ShouldStop(new double[] { 4, 2, 2, 2 }), Is.False);
        // prev = mean(2, 2) = 2, last = mean(2, 1.8) = 1.9 → 0.05 ≤ 0.1.
        Assert.That(rule.ShouldStop(new double[] { 4, 2, 2, 2, 1.8 }), Is.True);
        // γ must have settled too: a back-off that doubled γ in the last window blocks the stop.
        Assert.That(rule.ShouldStop(new double[] { 4, 2, 2, 2, 1.8 }, new double[] { 1, 1, 1, 1, 1 }), Is.True);
        Assert.That(rule.ShouldStop(new double[] { 4, 2, 2, 2, 1.8 }, new double[] { 1, 1, 1, 1, 2 }), Is.False);
        Assert.That(StoppingRule.From(new TrainOptions()), Is.Null, "stop_rel_change 0 = off");
        Assert.That(StoppingRule.From(new TrainOptions { StopRelChange = 0.01, StopWindow = 7 }), Is.EqualTo(new StoppingRule(0.01, 7)));
    }

    [Test]
    public void Yardsticks_MatchBruteForceOverAllPermutations()
    {
        // n = 5 on S²: the exact plan of uniform marginals is a permutation (Birkhoff), so brute force over 5! is the optimum.
        var p = S2Pair.Generate(new S2DataOptions { N = 5, NoiseDeg = 1, Rotation = false }, seed: 4);
        var ys = Yardsticks.Compute(p.X, p.Y, 3, geodesic: true, p.GroundTruth)!;
        double D(int i, int j)
        {
            double c = p.X[3 * i] * p.Y[3 * j] + p.X[3 * i + 1] * p.Y[3 * j + 1] + p.X[3 * i + 2] * p.Y[3 * j + 2];
            double t = Math.Acos(Math.Clamp(c, -1, 1));
            return t * t;
        }
        double mean = 0, best = double.PositiveInfinity;
        for (int i = 0; i < 5; i++) for (int j = 0; j < 5; j++) mean += D(i, j) / 25;
        foreach (var perm in Permutations(5))
            best = Math.Min(best, Enumerable.Range(0, 5).Sum(i => D(i, perm[i])) / 5);
        Assert.That(ys.IndependentLoss, Is.EqualTo(mean).Within(1e-12));
        Assert.That(ys.ExactLoss, Is.EqualTo(best).Within(1e-12));
        Assert.That(ys.ExactLoss, Is.LessThan(ys.IndependentLoss));
        Assert.That(ys.ExactPermAcc, Is.EqualTo(1.0), "1° noise on 5 points: the optimum is the planted pairing");
    }

    private static IEnumerable<int[]> Permutations(int n)
    {
        if (n == 1) { yield return new[] { 0 }; yield break; }
        foreach (var q in Permutations(n - 1))
            for (int k = 0; k < n; k++)
            {
                var r = new List<int>(q);
                r.Insert(k, n - 1);
                yield return r.ToArray();
            }
    }

    [Test]
    public void GammaBackoff_LeavesNoStepOnAnUnconvergedSolve()
    {
        // A tight iteration cap with a deep anneal: without the back-off most late steps stop at max_iter; with it none
        // does, γ is raised instead (and the floor is reported).
        var o = new GlassExperimentOptions
        {
            S2 = new S2DataOptions { N = 48, NoiseDeg = 0.5, Rotation = false },
            Manifold = new ManifoldProjectionOptions { K = 8 },
            Ot = new OtOptions { Gamma = 0.05, MaxIter = 300 },
            // Cold solves: the warm start (GlassWarmStartTests) lowers the stress this test needs.
            Train = new TrainOptions { Steps = 60, Lr = 0.05, Slices = 2, GammaDecay = 0.9, GammaMin = 1e-4, Seed = 1, WarmStart = false },
        };
        IReadOnlyDictionary<string, double> Run(bool backoff)
        {
            using var e = GlassExperiments.Create(o with { Train = o.Train with { GammaBackoff = backoff } }, ComputeDevice.Cpu);
            for (int t = 0; t < o.Train.Steps; t++) e.Step();
            return e.Evaluate();
        }
        var off = Run(false);
        var on = Run(true);
        Assert.That(off["sinkhorn_unconverged_steps"], Is.GreaterThan(5), "the setting must stress the solver, else the test proves nothing");
        Assert.That(off["gamma_backoffs"], Is.EqualTo(0));
        Assert.That(on["sinkhorn_unconverged_steps"], Is.EqualTo(0));
        Assert.That(on["gamma_backoffs"], Is.GreaterThan(0));
        Assert.That(on["gamma"], Is.GreaterThan(off["gamma"]));
        Assert.That(on["exact_ot_loss"], Is.LessThan(on["final_loss"]).And.LessThan(on["independent_loss"]));
    }

    [Test]
    public void GammaBackoffMax_RaisesGammaAboveGamma0_OnlyWhenAsked()
    {
        // max_iter far too small for γ₀: at the default cap (γ₀) the steps stay unconverged; with gamma_backoff_max the
        // back-off goes above γ₀ until the solves converge.
        var o = new GlassExperimentOptions
        {
            S2 = new S2DataOptions { N = 48, NoiseDeg = 0.5, Rotation = false },
            Manifold = new ManifoldProjectionOptions { K = 8 },
            Ot = new OtOptions { Gamma = 1e-4, MaxIter = 11, Tol = 1e-9 },
            Train = new TrainOptions { Steps = 4, Lr = 0.05, Slices = 2, AnnealGamma = false, Seed = 1, WarmStart = false },
        };
        IReadOnlyDictionary<string, double> Run(double max)
        {
            using var e = GlassExperiments.Create(o with { Train = o.Train with { GammaBackoffMax = max } }, ComputeDevice.Cpu);
            for (int t = 0; t < o.Train.Steps; t++) e.Step();
            return e.Evaluate();
        }
        var capped = Run(1);
        var raised = Run(1e4);
        Assert.That(capped["sinkhorn_unconverged_steps"], Is.EqualTo(4), "γ₀ alone cannot converge here, else the test proves nothing");
        Assert.That(capped["gamma"], Is.EqualTo(1e-4));
        Assert.That(raised["sinkhorn_unconverged_steps"], Is.EqualTo(0));
        Assert.That(raised["gamma"], Is.GreaterThan(1e-4).And.LessThanOrEqualTo(1.0));
        Assert.Throws<ArgumentException>(() => GlassExperiments.Create(o with { Train = o.Train with { GammaBackoffMax = 0.5 } }, ComputeDevice.Cpu));
    }

    [Test]
    public void ChartMask_ZeroesAnAnchorsTermOutsideItsRadius()
    {
        using var tape = new Tape();
        double r = 0.5;
        var c = new[] { Math.Cos(0.3), Math.Cos(0.7), Math.Cos(2.0) };
        var clamp = GlassOps.LogMapScale(tape.Constant(c, 1, 3), r).Value;
        var mask = GlassOps.LogMapScale(tape.Constant(c, 1, 3), r, mask: true).Value;
        Assert.That(mask[0], Is.EqualTo(clamp[0]), "inside the chart both readings are the log map");
        Assert.That(mask[0], Is.EqualTo(0.3 / Math.Sin(0.3)).Within(1e-12));
        Assert.That(mask[1], Is.EqualTo(0));
        Assert.That(mask[2], Is.EqualTo(0));
        Assert.That(clamp[1], Is.EqualTo(r / Math.Sin(0.7)).Within(1e-12));
    }

    [Test]
    public void SymmetricEigen_ReconstructsTheMatrix()
    {
        int n = 31;
        var rng = new Random(5);
        var a = new double[n * n];
        for (int i = 0; i < n; i++) for (int j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = rng.NextDouble() - 0.5;
        var (lam, v) = SymmetricEigen.Solve(a, n);
        for (int l = 1; l < n; l++) Assert.That(lam[l], Is.GreaterThanOrEqualTo(lam[l - 1]));
        for (int i = 0; i < n; i++)
            for (int l = 0; l < n; l++)
            {
                double av = 0, vv = 0;
                for (int k = 0; k < n; k++) { av += a[i * n + k] * v[k * n + l]; vv += v[k * n + i] * v[k * n + l]; }
                Assert.That(av, Is.EqualTo(lam[l] * v[i * n + l]).Within(1e-10), $"A v_{l} = λ v_{l} at row {i}");
                Assert.That(vv, Is.EqualTo(i == l ? 1 : 0).Within(1e-10), $"VᵀV at ({i}, {l})");
            }
    }
}
