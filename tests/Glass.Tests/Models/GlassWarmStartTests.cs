using Glass.Autodiff;
using Glass.Kernels.Device;
using Glass.Models.Data;
using Glass.Models.Experiments;
using Glass.Models.Glass;
using NUnit.Framework;

namespace Glass.Tests.Models;

/// <summary>
/// train.warm_start: each slice's solve starts from its potentials of the previous step. The plan (and so the loss) is
/// the cold solve's to the tolerance; iterations drop; the potentials travel in the checkpoint, so a resumed run is
/// bit-identical to an uninterrupted one.
/// </summary>
public class GlassWarmStartTests
{
    private string _dir = "";
    [SetUp] public void SetUp() { _dir = Path.Combine(Path.GetTempPath(), "glass-warm-" + Guid.NewGuid().ToString("N")); Directory.CreateDirectory(_dir); }
    [TearDown] public void TearDown() => Directory.Delete(_dir, true);

    private static GlassExperimentOptions S2(bool warm, int steps = 6) => new()
    {
        S2 = new S2DataOptions { N = 24, NoiseDeg = 2.0, Rotation = true },
        Manifold = new ManifoldProjectionOptions { K = 4, GateMode = GateMode.Learn },
        Ot = new OtOptions { Gamma = 0.05 },
        Train = new TrainOptions { Steps = steps, Lr = 0.01, Slices = 2, Seed = 3, WarmStart = warm },
    };

    [TestCase(true, true)]
    [TestCase(true, false)]
    [TestCase(false, true)]
    public void Layer_WarmStartFromThePreviousStep_SameLossFewerIterations(bool banded, bool sphere)
    {
        var ot = new OtOptions { Gamma = 0.02, MaxIter = 100_000, Tol = 1e-11, UseBanded = banded };
        var pair = S2Pair.Generate(new S2DataOptions { N = 40, NoiseDeg = 3, Rotation = false }, 4);
        var layer = sphere ? GlassLayer.ForSphere(new ManifoldProjectionOptions { K = 4 }, ot, slices: 2, seed: 1) : GlassLayer.ForFeatures(3, ot, slices: 2, seed: 1);
        GlassOutput Forward(IReadOnlyList<SlicePotentials?>? warm)
        {
            var tape = new Tape();
            using var _ = tape.NoGrad();
            return layer.Forward(tape.Constant(pair.X, 40, 3), tape.Constant(pair.Y, 40, 3), warm);
        }
        var previous = Forward(null);
        foreach (var p in layer.Parameters) for (int k = 0; k < p.Value.Length; k++) p.Value[k] += 0.01 * Math.Sin(k + 1); // one "step"
        var cold = Forward(null);
        var warm = Forward(previous.Potentials);
        Assert.That(cold.Coupling.Converged && warm.Coupling.Converged, Is.True);
        Assert.That(warm.Loss.Scalar, Is.EqualTo(cold.Loss.Scalar).Within(1e-9 * cold.Loss.Scalar), "same plan, same loss");
        Assert.That(warm.Coupling.Plan.ColIdx, Is.EqualTo(cold.Coupling.Plan.ColIdx), "same support");
        // Not more iterations (the strict drop is asserted per solve in BandedWarmStartTests and over a run below; here the
        // sphere's solves converge within two checks either way).
        Assert.That(warm.Coupling.SinkhornIterations, Is.LessThanOrEqualTo(cold.Coupling.SinkhornIterations),
            $"warm {warm.Coupling.SinkhornIterations} vs cold {cold.Coupling.SinkhornIterations}");
        var mixed = Forward(new[] { previous.Potentials[0], null }); // a null entry: that slice cold
        Assert.That(mixed.Loss.Scalar, Is.EqualTo(cold.Loss.Scalar).Within(1e-9 * cold.Loss.Scalar));
    }

    [Test]
    public void Layer_WarmStartOfTheWrongShape_NamesIt()
    {
        var layer = GlassLayer.ForFeatures(3, new OtOptions { Gamma = 0.1 }, slices: 2, seed: 1);
        var tape = new Tape();
        var x = tape.Constant(new double[30], 10, 3);
        var ex = Assert.Throws<ArgumentException>(() => layer.Forward(x, x, new SlicePotentials?[1]));
        Assert.That(ex!.Message, Does.Contain("warmStart has 1 entries").And.Contain("one per slice (2)"));
        ex = Assert.Throws<ArgumentException>(() => layer.Forward(x, x, new[] { null, new SlicePotentials(new double[10], new double[9]) }));
        Assert.That(ex!.Message, Does.Contain("warmStart[1]").And.Contain("m = 10"));
    }

    [TestCase(true)]
    [TestCase(false)]
    public void Resume_WithWarmStart_ContinuesBitIdentically(bool warm)
    {
        var o = S2(warm);
        using var full = GlassExperiments.Create(o, ComputeDevice.Cpu);
        var rows = Enumerable.Range(0, 6).Select(_ => full.Step().Values.ToArray()).ToArray();
        using (var first = GlassExperiments.Create(o, ComputeDevice.Cpu))
        {
            for (int t = 0; t < 3; t++) first.Step();
            first.Evaluate(); // evaluating reads the potentials, it must not change them
            first.SaveState(_dir);
        }
        Assert.That(File.Exists(Path.Combine(_dir, "sinkhorn_potentials.bin")), Is.EqualTo(warm), "the potentials are checkpointed with warm start only");
        using var resumed = GlassExperiments.Create(o, ComputeDevice.Cpu);
        resumed.LoadState(_dir);
        for (int t = 3; t < 6; t++)
        {
            var r = resumed.Step().Values;
            for (int c = 0; c < r.Count; c++)
                if (resumed.MetricColumns[c] != "runtime_sec")
                    Assert.That(BitConverter.DoubleToInt64Bits(r[c]), Is.EqualTo(BitConverter.DoubleToInt64Bits(rows[t][c])),
                        $"step {t + 1}, {resumed.MetricColumns[c]}: {r[c]:R} vs {rows[t][c]:R}");
        }
        var ef = full.Evaluate();
        var er = resumed.Evaluate();
        Assert.That(er["sinkhorn_iter_total"], Is.EqualTo(ef["sinkhorn_iter_total"]));
        Assert.That(er["sinkhorn_worst_marginal_error"], Is.EqualTo(ef["sinkhorn_worst_marginal_error"]));
        Assert.That(BitConverter.DoubleToInt64Bits(er["final_loss"]), Is.EqualTo(BitConverter.DoubleToInt64Bits(ef["final_loss"])));
    }

    [Test]
    public void Resume_WithWarmStart_RejectsAMissingOrDamagedPotentialsFile()
    {
        var o = S2(true);
        using (var e = GlassExperiments.Create(o, ComputeDevice.Cpu)) { e.Step(); e.SaveState(_dir); }
        string path = Path.Combine(_dir, "sinkhorn_potentials.bin");
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^8]);
        using var r = GlassExperiments.Create(o, ComputeDevice.Cpu);
        var ex = Assert.Throws<InvalidDataException>(() => r.LoadState(_dir));
        Assert.That(ex!.Message, Does.Contain("sinkhorn_potentials.bin").And.Contain("truncated"));
        File.Delete(path);
        ex = Assert.Throws<InvalidDataException>(() => r.LoadState(_dir));
        Assert.That(ex!.Message, Does.Contain("sinkhorn_potentials.bin").And.Contain("missing"));
        Assert.That(r.CompletedSteps, Is.EqualTo(0), "nothing restored");
    }

    [Test]
    public void WarmStart_FewerIterationsAndUnconvergedSteps_UnderATightCap()
    {
        // A stress setting, back-off off: γ annealed to 5e-3 at max_iter 300, where cold solves stop at max_iter on a few
        // late steps (annealing much lower leaves every late step unconvergeable cold or warm, which tests nothing).
        var o = new GlassExperimentOptions
        {
            S2 = new S2DataOptions { N = 48, NoiseDeg = 0.5, Rotation = false },
            Manifold = new ManifoldProjectionOptions { K = 8 },
            Ot = new OtOptions { Gamma = 0.05, MaxIter = 300 },
            Train = new TrainOptions { Steps = 60, Lr = 0.05, Slices = 2, GammaDecay = 0.9, GammaMin = 5e-3, Seed = 1, GammaBackoff = false },
        };
        IReadOnlyDictionary<string, double> Run(bool warm)
        {
            using var e = GlassExperiments.Create(o with { Train = o.Train with { WarmStart = warm } }, ComputeDevice.Cpu);
            for (int t = 0; t < o.Train.Steps; t++) e.Step();
            return e.Evaluate();
        }
        var cold = Run(false);
        var warm = Run(true);
        Assert.That(cold["sinkhorn_unconverged_steps"], Is.GreaterThanOrEqualTo(2), "the setting must stress the solver");
        Assert.That(warm["sinkhorn_unconverged_steps"], Is.LessThan(cold["sinkhorn_unconverged_steps"]));
        Assert.That(warm["sinkhorn_iter_total"], Is.LessThan(cold["sinkhorn_iter_total"]));
    }
}
