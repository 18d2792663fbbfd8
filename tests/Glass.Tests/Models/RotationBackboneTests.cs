using Glass.Autodiff;
using Glass.Autodiff.Ops;
using Glass.Kernels.Device;
using Glass.Models.Data;
using Glass.Models.Glass;
using NUnit.Framework;

namespace Glass.Tests.Models;

/// <summary>The rotation backbone of the S² experiment (model.manifold.learn_rotation): SO(3) helpers, gradients, training.</summary>
public class RotationBackboneTests
{
    private static double[] Rot(int seed) => S2Pair.Generate(new S2DataOptions { N = 2, NoiseDeg = 0, Rotation = true }, seed).Rotation;

    [Test]
    public void Exp_IsARotation_AndMatchesTheAxisAngleFormula()
    {
        // exp([θ e_z]×) is the rotation by θ about z: [[c, −s, 0], [s, c, 0], [0, 0, 1]].
        var r = Rotations.Exp(new[] { 0, 0, 0.7 });
        double c = Math.Cos(0.7), s = Math.Sin(0.7);
        Assert.That(r, Is.EqualTo(new[] { c, -s, 0, s, c, 0, 0, 0, 1 }).Within(1e-15));
        foreach (var w in new[] { new[] { 0.3, -1.2, 2.0 }, new[] { 1e-5, 2e-5, -1e-5 }, new[] { 0.0, 0.0, 0.0 } })
        {
            var q = Rotations.Exp(w);
            var qtq = Rotations.Multiply(Rotations.Transpose(q), q);
            Assert.That(qtq, Is.EqualTo(Rotations.Identity()).Within(1e-14), "RᵀR = I");
            double theta = Math.Sqrt(w.Sum(z => z * z));
            Assert.That(Rotations.AngleDeg(q, Rotations.Identity()), Is.EqualTo(theta * 180 / Math.PI).Within(1e-5), "angle = ‖ω‖");
        }
    }

    [TestCase(0.4, -0.9, 1.3)]   // Rodrigues branch
    [TestCase(2e-3, -1e-3, 4e-3)] // series branch (θ < 1e-2)
    [TestCase(0.0, 0.0, 0.0)]
    public void ExpOp_Gradient_MatchesFiniteDifferences(double a, double b, double c)
    {
        var g = new Random(4);
        var weights = Enumerable.Range(0, 9).Select(_ => g.NextDouble() - 0.5).ToArray();
        var r = GradCheck.Check((t, v) => Op.Sum(Op.Mul(Rotations.ExpOp(v[0]), t.Constant(weights, 3, 3))),
            new[] { new GradCheck.Input(new[] { a, b, c }, 1, 3) }, directions: 6, h: 1e-6, seed: 1);
        Assert.That(r.MaxRelativeError, Is.LessThan(1e-7), string.Join("; ", r.Directional.Select(p => $"fd {p.FiniteDifference:R} tape {p.Tape:R}")));
    }

    [Test]
    public void SymmetricEigen_Diagonalises()
    {
        var m = new[] { 2.0, 0.3, -0.1, 0.3, 1.0, 0.25, -0.1, 0.25, 0.5 };
        var (vals, v) = Rotations.SymmetricEigen(m);
        Assert.That(vals, Is.Ordered.Descending);
        for (int k = 0; k < 3; k++)
            for (int i = 0; i < 3; i++)
            {
                double mv = m[3 * i] * v[k] + m[3 * i + 1] * v[3 + k] + m[3 * i + 2] * v[6 + k];
                Assert.That(mv, Is.EqualTo(vals[k] * v[3 * i + k]).Within(1e-12), $"(M v_{k})_{i}");
            }
    }

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(5)]
    public void MomentMatch_RecoversTheRotationOfANoiselessPair(int seed)
    {
        // M_Y = R M_X Rᵀ exactly, so R₀ = U S Vᵀ = Rᵀ for the right sign flip S, and its sliced cost is 0.
        var p = S2Pair.Generate(new S2DataOptions { N = 40, NoiseDeg = 0, Rotation = true }, seed);
        var r0 = Rotations.MomentMatch(p.X, p.Y);
        Assert.That(Rotations.AngleDeg(r0, Rotations.Transpose(p.Rotation)), Is.LessThan(1e-5));
        Assert.That(Rotations.AngleDeg(Rotations.Identity(), Rotations.Transpose(p.Rotation)), Is.GreaterThan(10), "the data is really rotated");
    }

    [Test]
    public void LossGradientToTheRotation_MatchesFiniteDifferences()
    {
        // L_geo(X, R_θ·Y) as a function of ω (through the lifted cost and the plan via φ(R_θ y)); tight solves,
        // γ large enough that the band covers every pair (the pattern cannot switch under the perturbation).
        var p = S2Pair.Generate(new S2DataOptions { N = 9, NoiseDeg = 5, Rotation = true }, 3);
        var ot = new OtOptions { Gamma = 0.5, MaxIter = 100_000, Tol = 1e-13, BandEps = 1e-6 };
        var layer = GlassLayer.ForSphere(new ManifoldProjectionOptions { K = 3, ChartRadiusDeg = 60, InitUScale = 1.0 }, ot, slices: 2, seed: 2);
        var bb = new RotationBackbone(Rot(7), scale: 0.5);
        foreach (var banded in new[] { true, false })
        {
            var l = banded ? layer : GlassLayer.ForSphere(new ManifoldProjectionOptions { K = 3, ChartRadiusDeg = 60, InitUScale = 1.0 }, ot with { UseBanded = false }, slices: 2, seed: 2);
            var r = GradCheck.Check((t, v) => l.Forward(t.Constant(p.X, 9, 3), bb.Apply(t.Constant(p.Y, 9, 3), v[0])).Loss,
                new[] { new GradCheck.Input(new[] { 0.2, -0.1, 0.3 }, 1, 3) }, directions: 6, h: 1e-6, seed: 3);
            Assert.That(r.MaxRelativeError, Is.LessThan(1e-5), $"banded {banded}: " + string.Join("; ", r.Directional.Select(q => $"fd {q.FiniteDifference:R} tape {q.Tape:R}")));
        }
    }

    private static GlassExperimentOptions Rotated(double noise, int seed, bool learn = true) => new()
    {
        S2 = new S2DataOptions { N = 16, NoiseDeg = noise, Rotation = true },
        Manifold = new ManifoldProjectionOptions { K = 8, LearnRotation = learn, RotationLr = 0.002 },
        Ot = new OtOptions { Gamma = 0.05, MaxIter = 5000 },
        Train = new TrainOptions { Steps = 100, Lr = 0.05, Slices = 1, GammaDecay = 0.95, GammaMin = 5e-4, Seed = seed },
    };

    private static IReadOnlyDictionary<string, double> Train(GlassExperimentOptions o, out double firstPermAcc)
    {
        using var e = GlassExperiments.Create(o, ComputeDevice.Cpu);
        firstPermAcc = e.Step().Values[8];
        for (int t = 1; t < o.Train.Steps; t++) e.Step();
        return e.Evaluate();
    }

    [Test]
    public void NoiselessRotatedS2Pair_PermAccReachesOne_WithTheRotationBackbone()
    {
        // n = 16, a uniformly random rotation (≈ 107° for this seed) and a random permutation. The moment
        // initialisation is exact here; the test checks that refinement through L_geo keeps R_θ at the truth
        // while γ anneals, and that the layer's scores become sharp enough that the plan's argmax is the true partner
        // for (nearly) every row. With the γ back-off every solve converges and γ stays where it does (one slice:
        // measured 14/16 rows; without the back-off 16/16, on a plan whose Sinkhorn had stopped at max_iter).
        // Without the backbone the same run stays near chance.
        var ev = Train(Rotated(0, seed: 1), out double first);
        Assert.That(first, Is.LessThan(0.5), "not solved at initialisation (γ₀ blurs the plan)");
        Assert.That(ev["rotation_init_error_deg"], Is.LessThan(1e-5));
        Assert.That(ev["rotation_error_deg"], Is.LessThan(1.0));
        Assert.That(ev["sinkhorn_unconverged_steps"], Is.EqualTo(0));
        Assert.That(ev["perm_acc"], Is.GreaterThanOrEqualTo(0.85));

        var baseline = Train(Rotated(0, seed: 1, learn: false), out _);
        Assert.That(baseline["perm_acc"], Is.LessThan(0.25), "the shared projection alone cannot undo the rotation");
        Assert.That(baseline.ContainsKey("rotation_error_deg"), Is.False);
    }

    [Test]
    public void NoisyRotatedS2Pair_ReachesHighPermAcc()
    {
        // 2° tangent noise: the moment initialisation is off by ≈ 2.7° (eigenvectors of a noisy M_Y) and training
        // brings R_θ to ≈ 1.9°. perm_acc is limited by the 1-D projection (noise can swap neighbours in score
        // order), not by the rotation: over seeds 1–3 at n = 16 we measured 0.875, 1.0, 0.94 (and 0.69–0.84 at
        // n = 32). The threshold 0.8 is for this seed (measured 0.875); chance is 1/16.
        var ev = Train(Rotated(2, seed: 1), out _);
        Assert.That(ev["rotation_init_error_deg"], Is.InRange(0.5, 5.0));
        Assert.That(ev["rotation_error_deg"], Is.LessThan(ev["rotation_init_error_deg"]), "refinement improves on the initialisation");
        Assert.That(ev["perm_acc"], Is.GreaterThanOrEqualTo(0.8));
    }
}
