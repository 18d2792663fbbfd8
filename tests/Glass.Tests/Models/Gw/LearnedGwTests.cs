using Glass.Autodiff.Ops;
using Glass.Kernels.Device;
using Glass.Kernels.Sinkhorn;
using Glass.Models.Gw;
using Glass.Models.Metrics;
using NUnit.Framework;

namespace Glass.Tests.Models.Gw;

public class LearnedGwTests
{
    // An anisotropic cloud X (n×3) and Y = X·Q with rows permuted (an exact isometry).
    private static (double[] X, double[] Y, int[] Perm) Isometric(int n, int seed)
    {
        var r = new Random(seed);
        var x = new double[n * 3];
        for (int i = 0; i < n; i++) { x[i * 3] = 4 * r.NextDouble(); x[i * 3 + 1] = 2 * r.NextDouble(); x[i * 3 + 2] = r.NextDouble(); }
        double c = Math.Cos(0.7), s = Math.Sin(0.7);
        var perm = Enumerable.Range(0, n).OrderBy(_ => r.Next()).ToArray();
        var y = new double[n * 3];
        for (int i = 0; i < n; i++)
        {
            int p = perm[i];
            y[p * 3] = c * x[i * 3] - s * x[i * 3 + 1];
            y[p * 3 + 1] = s * x[i * 3] + c * x[i * 3 + 1];
            y[p * 3 + 2] = -x[i * 3 + 2];
        }
        return (x, y, perm);
    }

    /// <summary>
    /// The minibatch seed of a step is a pure function of (seed, step): the values are SplitMix64's finaliser computed
    /// independently (Python big integers, in the comment). With System.HashCode (per-process random), as before, this
    /// fails in every process, and two processes trained different models from the same seed.
    /// </summary>
    [Test]
    public void StepSeed_IsTheSameInEveryProcess_AndDistinctAcrossSteps()
    {
        // M = 2**64 - 1; z = (seed % 2**32 * 0x9E3779B97F4A7C15 + step + 0x6777) & M;
        // z = ((z ^ z >> 30) * 0xBF58476D1CE4E5B9) & M; z = ((z ^ z >> 27) * 0x94D049BB133111EB) & M; (z ^ z >> 31) & 0x7FFFFFFF
        Assert.That(LearnedGwTrainer.StepSeed(0, 0), Is.EqualTo(1807133094));
        Assert.That(LearnedGwTrainer.StepSeed(0, 1), Is.EqualTo(1374583142));
        Assert.That(LearnedGwTrainer.StepSeed(7, 199), Is.EqualTo(624140239));
        Assert.That(LearnedGwTrainer.StepSeed(-1, 3), Is.EqualTo(291040042));
        var seen = new HashSet<int>();
        for (int seed = 0; seed < 20; seed++)
            for (int step = 0; step < 500; step++)
                Assert.That(seen.Add(LearnedGwTrainer.StepSeed(seed, step)), Is.True, $"seed {seed}, step {step} repeats an earlier batch seed");
    }

    private static LearnedGwOptions Small(int steps, int seed = 0) => new()
    {
        Init = GwInit.None, Skip = false, // the training loop itself, from random MLPs (GwAlignerTests cover the solver start)
        Loss = GwLossKind.Distance, Cost = GwCost.SqEuclidean, Steps = steps, BatchSize = 0, Hidden = 32, EmbedDim = 8, Seed = seed,
        LearningRate = 1e-2, EpsilonStart = 0.5, EpsilonMin = 0.03, EpsilonDecay = 0.97, SinkhornTol = 1e-7,
        DistancesX = new DistanceOptions { Metric = DistanceMetric.Euclidean }, DistancesY = new DistanceOptions { Metric = DistanceMetric.Euclidean },
        PreprocessX = new GwPreprocessing { Standardize = false, CenterScale = false }, PreprocessY = new GwPreprocessing { Standardize = false, CenterScale = false },
    };

    private static readonly Lazy<(GwModel Model, double[] X, double[] Y, int[] Perm)> Trained = new(() =>
    {
        var (x, y, perm) = Isometric(40, 1);
        var r = LearnedGw.Train(x, 40, 3, y, 40, 3, Small(150));
        return (r.Model, x, y, perm);
    });

    [Test]
    public void RecoversAnIsometricPairExactly()
    {
        var (model, x, y, perm) = Trained.Value;
        var al = InductiveAligner.Align(ComputeDevice.Cpu, model, x, 40, y, 40);
        Assert.That(al.Matches, Is.EqualTo(perm), "hard matches = the hidden permutation");
        // FOSCTTM 0: X represented by its matched Y rows vs the true partners (any wrong match of distinct points counts).
        var matched = new double[40 * 3]; var truth = new double[40 * 3];
        for (int i = 0; i < 40; i++) { Array.Copy(y, al.Matches[i] * 3, matched, i * 3, 3); Array.Copy(y, perm[i] * 3, truth, i * 3, 3); }
        Assert.That(AlignmentMetrics.Foscttm(matched, truth, 40, 3).Mean, Is.EqualTo(0));
    }

    [Test]
    public void InductiveEqualsTransductiveSinkhorn()
    {
        var (model, x, y, _) = Trained.Value;
        int n = 40, d = model.EmbedDim;
        var zx = model.EmbedX(x, n); var zy = model.EmbedY(y, n);
        var al = InductiveAligner.AlignEmbeddings(ComputeDevice.Cpu, zx, zy, n, n, d, model.Epsilon, new InductiveOptions { RelativeTol = 1e-8, TopK = 3 });
        // Transductive: the cost matrix stored, the tape's Sinkhorn op.
        var t = new Glass.Autodiff.Tape();
        var cost = Glass.Autodiff.Ops.Op.PairwiseSqEuclidean(t.Constant(zx, n, d), t.Constant(zy, n, d));
        var plan = SinkhornOp.DensePlan(cost, null, null, new SinkhornOptions { Gamma = al.Gamma, Tol = 1e-10, MaxIter = 100_000 }).Value;
        for (int i = 0; i < n; i++)
        {
            var order = Enumerable.Range(0, n).OrderByDescending(j => plan[i * n + j]).Take(3).ToArray();
            Assert.That(al.TopKIndex.Skip(i * 3).Take(3), Is.EqualTo(order), $"row {i} top-3");
            for (int k = 0; k < 3; k++) Assert.That(al.TopKValue[i * 3 + k], Is.EqualTo(plan[i * n + order[k]]).Within(1e-6 * plan[i * n + order[k]] + 1e-9), $"row {i} value {k}");
            double s = Enumerable.Range(0, n).Sum(j => plan[i * n + j]);
            for (int c = 0; c < d; c++)
            {
                double pc = Enumerable.Range(0, n).Sum(j => plan[i * n + j] * zy[j * d + c]) / s;
                Assert.That(al.ProjectionEmbedding[i * d + c], Is.EqualTo(pc).Within(1e-6), $"projection [{i},{c}]");
            }
        }
    }

    public static IEnumerable<TestCaseData> AcceleratedDevices() => Glass.Tests.Support.Devices.AcceleratedCases();

    [TestCaseSource(nameof(AcceleratedDevices))]
    public void InductiveOnAnAccelerator_MatchesTheManagedPath(string device)
    {
        // The whole accelerated chain: device k-nearest candidates, the sparse phase, warm-started dense sweeps on the
        // device (float32 costs) and the device read-out of matches, top-k and projections (PlanRows).
        var (model, x, y, _) = Trained.Value;
        var o = new InductiveOptions { RelativeTol = 1e-5, TopK = 3, Neighbors = 8 };
        var cpu = InductiveAligner.Align(ComputeDevice.Cpu, model, x, 40, y, 40, o);
        var acc = InductiveAligner.Align(Glass.Tests.Support.Devices.Get(device), model, x, 40, y, 40, o);
        Assert.That(acc.Converged, Is.True);
        Assert.That(acc.Matches, Is.EqualTo(cpu.Matches));
        Assert.That(acc.TopKIndex, Is.EqualTo(cpu.TopKIndex));
        double scale = cpu.TopKValue.Max();
        for (int q = 0; q < cpu.TopKValue.Length; q++) Assert.That(acc.TopKValue[q], Is.EqualTo(cpu.TopKValue[q]).Within(1e-3 * scale), $"top-k value {q}");
        for (int q = 0; q < cpu.ProjectionEmbedding.Length; q++)
            Assert.That(acc.ProjectionEmbedding[q], Is.EqualTo(cpu.ProjectionEmbedding[q]).Within(1e-3), $"projection {q}");
        Assert.That(acc.ProjectionTarget!.Length, Is.EqualTo(cpu.ProjectionTarget!.Length));
        for (int q = 0; q < cpu.ProjectionTarget.Length; q++)
            Assert.That(acc.ProjectionTarget[q], Is.EqualTo(cpu.ProjectionTarget[q]).Within(1e-3), $"target projection {q}");
    }

    [Test]
    public void SaveLoadGivesIdenticalAlignments()
    {
        var (model, x, y, _) = Trained.Value;
        string dir = Path.Combine(Path.GetTempPath(), "glass-gw-" + Guid.NewGuid().ToString("N"));
        try
        {
            model.Save(dir);
            var back = GwModel.Load(dir);
            var a = InductiveAligner.Align(ComputeDevice.Cpu, model, x, 40, y, 40);
            var b = InductiveAligner.Align(ComputeDevice.Cpu, back, x, 40, y, 40);
            Assert.That(b.Matches, Is.EqualTo(a.Matches));
            Assert.That(b.ProjectionTarget, Is.EqualTo(a.ProjectionTarget), "bit-identical projection");
            Assert.That(b.TopKValue, Is.EqualTo(a.TopKValue));
            Assert.That(back.Epsilon, Is.EqualTo(model.Epsilon));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Test]
    public void WarmStartedTrainingFollowsTheColdOne()
    {
        // Full batch: every step after the first starts Sinkhorn from the previous potentials. Same fixed points
        // (to the solver tolerance), so the parameters after 12 steps agree with a cold-started run.
        var (x, y, _) = Isometric(40, 1);
        var o = Small(12) with { SinkhornTol = 1e-11, SinkhornMaxIter = 20_000 };
        var warm = new LearnedGwTrainer(x, 40, 3, y, 40, 3, o);
        var cold = new LearnedGwTrainer(x, 40, 3, y, 40, 3, o) { WarmStart = false };
        int itWarm = 0, itCold = 0;
        for (int k = 0; k < 12; k++) { itWarm += warm.Step().SinkhornIterations; itCold += cold.Step().SinkhornIterations; }
        var pw = warm.Model.Parameters.SelectMany(p => p.Value).ToArray();
        var pc = cold.Model.Parameters.SelectMany(p => p.Value).ToArray();
        Glass.Tests.Support.Close.All(pc, pw, 1e-7, 1e-6, "parameters after 12 steps");
        Assert.That(itWarm, Is.LessThan(itCold), "warm starts save iterations");
    }

    [Test]
    public void ResumeIsBitIdentical()
    {
        var (x, y, _) = Isometric(30, 2);
        var o = Small(6) with { BatchSize = 20, Loss = GwLossKind.Rank, SpectralWeight = 0.1, SpectralK = 3 };
        var a = new LearnedGwTrainer(x, 30, 3, y, 30, 3, o);
        for (int k = 0; k < 3; k++) a.Step();
        string dir = Path.Combine(Path.GetTempPath(), "glass-gw-" + Guid.NewGuid().ToString("N"));
        try
        {
            a.Save(dir);
            for (int k = 0; k < 3; k++) a.Step();
            var b = new LearnedGwTrainer(x, 30, 3, y, 30, 3, o);
            b.Load(dir);
            Assert.That(b.CompletedSteps, Is.EqualTo(3));
            for (int k = 0; k < 3; k++) b.Step();
            var pa = a.Model.Parameters.SelectMany(p => p.Value).ToArray();
            var pb = b.Model.Parameters.SelectMany(p => p.Value).ToArray();
            Assert.That(pb, Is.EqualTo(pa));
            var other = new LearnedGwTrainer(x, 30, 3, y, 30, 3, o with { Seed = 5 });
            var ex = Assert.Throws<InvalidDataException>(() => other.Load(dir));
            Assert.That(ex!.Message, Does.Contain("trainer.txt").And.Contain("another configuration"));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Test]
    public void Resume_RefusesACheckpointTakenWithOtherExtensionTerms()
    {
        var (x, y, perm) = Isometric(30, 2);
        var pairs = Enumerable.Range(0, 4).Select(i => (i, perm[i])).ToArray();
        var feats = Enumerable.Range(0, 30).Select(i => (double)i).ToArray();
        var o = Small(4) with { BatchSize = 20, KnownPairs = pairs, SupervisedWeight = 1 };
        var a = new LearnedGwTrainer(x, 30, 3, y, 30, 3, o);
        a.Step();
        string dir = Path.Combine(Path.GetTempPath(), "glass-gw-" + Guid.NewGuid().ToString("N"));
        try
        {
            a.Save(dir);
            var same = new LearnedGwTrainer(x, 30, 3, y, 30, 3, o);
            same.Load(dir);
            Assert.That(same.CompletedSteps, Is.EqualTo(1));
            foreach (var other in new[]
            {
                o with { SupervisedWeight = 2 },
                o with { KnownPairs = pairs[..3] },
                o with { KnownPairs = null, SupervisedWeight = 0 },
                o with { FusedWeight = 0.5, FusedFeaturesX = feats, FusedFeaturesY = feats },
            })
            {
                var t = new LearnedGwTrainer(x, 30, 3, y, 30, 3, other);
                var ex = Assert.Throws<InvalidDataException>(() => t.Load(dir));
                Assert.That(ex!.Message, Does.Contain("another configuration"));
            }
        }
        finally { Directory.Delete(dir, true); }
    }

    [Test]
    public void FullBatchResumeKeepsTheWarmStart()
    {
        // Full batch: the saved Sinkhorn potentials make the resumed run start where the original one does.
        var (x, y, _) = Isometric(30, 2);
        var o = Small(6);
        var a = new LearnedGwTrainer(x, 30, 3, y, 30, 3, o);
        for (int k = 0; k < 3; k++) a.Step();
        string dir = Path.Combine(Path.GetTempPath(), "glass-gw-" + Guid.NewGuid().ToString("N"));
        try
        {
            a.Save(dir);
            Assert.That(File.Exists(Path.Combine(dir, "sinkhorn_potentials.bin")), Is.True);
            for (int k = 0; k < 3; k++) a.Step();
            var b = new LearnedGwTrainer(x, 30, 3, y, 30, 3, o);
            b.Load(dir);
            for (int k = 0; k < 3; k++) b.Step();
            Assert.That(b.Model.Parameters.SelectMany(p => p.Value).ToArray(), Is.EqualTo(a.Model.Parameters.SelectMany(p => p.Value).ToArray()));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Test]
    public void BadInputNamesTheProblem()
    {
        var (model, x, y, _) = Trained.Value;
        var ex = Assert.Throws<ArgumentException>(() => InductiveAligner.Align(ComputeDevice.Cpu, model, new double[40 * 4], 40, y, 40, null, "new_x.npy"));
        Assert.That(ex!.Message, Does.Contain("new_x.npy: 4 features per row, but the model was trained on 3 features"));
        var nan = (double[])y.Clone(); nan[7] = double.NaN;
        ex = Assert.Throws<ArgumentException>(() => InductiveAligner.Align(ComputeDevice.Cpu, model, x, 40, nan, 40, null, "x.npy", "y.npy"));
        Assert.That(ex!.Message, Does.Contain("y.npy: value at row 2, column 1 is NaN"));
        var constCol = (double[])x.Clone(); for (int i = 0; i < 40; i++) constCol[i * 3 + 1] = 2.5;
        ex = Assert.Throws<ArgumentException>(() => new LearnedGwTrainer(constCol, 40, 3, y, 40, 3, Small(1) with { PreprocessX = new GwPreprocessing { Standardize = true } }));
        Assert.That(ex!.Message, Does.Contain("x: column 1 is constant"));
        ex = Assert.Throws<ArgumentException>(() => new LearnedGwTrainer(x, 40, 3, y, 40, 3, Small(1) with { DistancesY = new DistanceOptions { K = 40 } }));
        Assert.That(ex!.Message, Does.Contain("y: k = 40"));
        ex = Assert.Throws<ArgumentException>(() => GwExperiment.Create(x, 40, 3, y, 40, 3, Small(1), labelsX: new int[39]));
        Assert.That(ex!.Message, Does.Contain("39 labels for 40 rows of X"));
        string dir = Path.Combine(Path.GetTempPath(), "glass-gw-missing-" + Guid.NewGuid().ToString("N"));
        var ioe = Assert.Throws<InvalidDataException>(() => GwModel.Load(dir));
        Assert.That(ioe!.Message, Does.Contain(dir));
        Directory.CreateDirectory(dir);
        try
        {
            model.Save(dir);
            string f = Path.Combine(dir, "gw_model.json");
            File.WriteAllText(f, File.ReadAllText(f).Replace("\"embed_dim\":8", "\"embed_dim\":9"));
            ioe = Assert.Throws<InvalidDataException>(() => GwModel.Load(dir));
            Assert.That(ioe!.Message, Does.Contain(f).And.Contain("expected"));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Test]
    public void ExperimentRunsStepsAndReportsColumns()
    {
        var (x, y, perm) = Isometric(30, 3);
        // Re-pair Y with X so FOSCTTM is defined.
        var yp = new double[y.Length];
        for (int i = 0; i < 30; i++) Array.Copy(y, perm[i] * 3, yp, i * 3, 3);
        using var e = GwExperiment.Create(x, 30, 3, yp, 30, 3, Small(4), paired: true, evalEvery: 2);
        Assert.That(e.Kind, Is.EqualTo("gw"));
        var rows = Enumerable.Range(0, 4).Select(_ => e.Step()).ToArray();
        Assert.That(rows[1].Values.Count, Is.EqualTo(e.MetricColumns.Count));
        Assert.That(double.IsNaN(rows[0].Values[^1]), Is.True, "foscttm only every evalEvery steps");
        Assert.That(rows[1].Values[^1], Is.InRange(0.0, 1.0));
        Assert.That(e.Evaluate()["foscttm"], Is.InRange(0.0, 1.0));
    }
}
