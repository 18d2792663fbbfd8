using System.Reflection;
using Glass.Kernels.Device;
using Glass.Models.Gw;
using NUnit.Framework;

namespace Glass.Tests.Models.Gw;

/// <summary>
/// The label-free restart protocol (LearnedGwRestarts): R = 1 is plain training, the lowest score wins with seeds
/// seed·R + r, restart-step semantics, scores recomputed by an independent route, and the argument checks.
/// Small clouds and a few full-batch steps, so each test runs in about a second.
/// </summary>
public class LearnedGwRestartsTests
{
    private const int N = 24, M = 22, Dx = 3, Dy = 4;

    // Two unpaired clusters-and-noise clouds of different sizes and dimensions (fixed seeds).
    private static (double[] X, double[] Y) Data()
    {
        var r = new Random(11);
        var x = new double[N * Dx];
        for (int i = 0; i < N; i++) for (int c = 0; c < Dx; c++) x[i * Dx + c] = (i % 3) * (c + 1) + r.NextDouble();
        var y = new double[M * Dy];
        for (int j = 0; j < M; j++) for (int c = 0; c < Dy; c++) y[j * Dy + c] = (j % 3 == c % 3 ? 2.0 : 0.0) + 0.5 * r.NextDouble();
        return (x, y);
    }

    private static LearnedGwOptions Small(int steps, int seed) => new()
    {
        Init = GwInit.None, Skip = false, // the restart protocol of the paper's training from random MLPs
        Loss = GwLossKind.Distance, Cost = GwCost.SqEuclidean, Steps = steps, BatchSize = 0, Depth = 2, Hidden = 16, EmbedDim = 4, Seed = seed,
        LearningRate = 1e-2, EpsilonStart = 0.5, EpsilonMin = 0.05, EpsilonDecay = 0.9, SinkhornTol = 1e-7,
        DistancesX = new DistanceOptions { Metric = DistanceMetric.Euclidean }, DistancesY = new DistanceOptions { Metric = DistanceMetric.Euclidean },
        PreprocessX = new GwPreprocessing { Standardize = true }, PreprocessY = new GwPreprocessing { Standardize = true },
    };

    private static double[] Params(GwModel m) => m.Parameters.SelectMany(p => p.Value).ToArray();

    [Test]
    public void OneRestart_IsPlainTraining_BitForBit()
    {
        var (x, y) = Data();
        var o = Small(8, seed: 5);
        var plain = LearnedGw.Train(x, N, Dx, y, M, Dy, o);
        int restartCalls = 0;
        var steps = new List<(int R, int Step)>();
        var r = LearnedGwRestarts.Train(x, N, Dx, y, M, Dy, o, new LearnedGwRestartOptions { Restarts = 1, RestartSteps = 3 }, null,
            (_, _, _) => restartCalls++, (rs, p, _) => steps.Add((rs, p.Step)));
        Assert.That(Params(r.Trainer.Model), Is.EqualTo(Params(plain.Model)), "same parameters, bit for bit");
        Assert.That(r.Trainer.Model.EmbedX(x, N), Is.EqualTo(plain.Model.EmbedX(x, N)));
        Assert.That(r.History.Select(p => p.Loss), Is.EqualTo(plain.History.Select(p => p.Loss)));
        Assert.That(r.Trainer.Options, Is.EqualTo(o), "the options' own seed, not seed·R");
        Assert.That((r.Seeds, r.Selected, r.SelectedSeed), Is.EqualTo((new[] { 5 }, 0, 5)));
        Assert.That(r.Scores, Has.Count.EqualTo(1).And.All.NaN, "nothing is scored");
        Assert.That(restartCalls, Is.Zero);
        Assert.That(steps, Is.EqualTo(Enumerable.Range(1, 8).Select(s => (0, s))), "one onStep per step, restart 0");
    }

    [Test]
    public void Restarts_KeepTheLowestScore_SeedsSeedTimesRPlusR_OthersStopAtRestartSteps()
    {
        var (x, y) = Data();
        const int R = 3, S = 4, Steps = 9, Seed = 2;
        var o = Small(Steps, Seed);
        var seen = new List<(int Seed, double Score, LearnedGwTrainer T, int StepsWhenScored)>();
        var r = LearnedGwRestarts.Train(x, N, Dx, y, M, Dy, o, new LearnedGwRestartOptions { Restarts = R, RestartSteps = S }, ComputeDevice.Cpu,
            (s, score, t) => seen.Add((s, score, t, t.CompletedSteps)));

        Assert.That(r.Seeds, Is.EqualTo(new[] { 6, 7, 8 }), "seed·R + r");
        Assert.That(seen.Select(v => v.Seed), Is.EqualTo(r.Seeds));
        Assert.That(seen.Select(v => v.Score), Is.EqualTo(r.Scores), "the callback sees the scores the result reports");
        Assert.That(r.Scores, Has.All.Matches<double>(v => double.IsFinite(v) && v > 0));
        Assert.That(r.Scores.Distinct().Count(), Is.EqualTo(R), "distinct initialisations give distinct scores (else this test proves nothing)");
        int argmin = Enumerable.Range(0, R).MinBy(i => r.Scores[i]);
        Assert.That(r.Selected, Is.EqualTo(argmin), "the lowest score is selected");
        Assert.That(r.SelectedSeed, Is.EqualTo(Seed * R + argmin));
        Assert.That(r.Trainer, Is.SameAs(seen[argmin].T));
        Assert.That(r.Trainer.Options, Is.EqualTo(o with { Seed = Seed * R + argmin }));

        Assert.That(seen.Select(v => v.StepsWhenScored), Has.All.EqualTo(S), "every restart is scored after restartSteps");
        Assert.That(r.Trainer.CompletedSteps, Is.EqualTo(Steps), "the selected one continues to Steps");
        for (int i = 0; i < R; i++)
            if (i != argmin) Assert.That(seen[i].T.CompletedSteps, Is.EqualTo(S), $"restart {i} is not trained further");
        Assert.That(r.History.Select(p => p.Step), Is.EqualTo(Enumerable.Range(1, Steps)), "the selected restart's whole history");

        // Independent route: retrain restart r alone for S steps and score it on Euclidean max-normalised distances.
        for (int i = 0; i < R; i++)
        {
            var t = new LearnedGwTrainer(x, N, Dx, y, M, Dy, o with { Seed = Seed * R + i });
            for (int k = 0; k < S; k++) t.Step();
            var sel = new DistanceOptions { Metric = DistanceMetric.Euclidean, NormalizeByMax = true };
            double expect = RestartSelection.Score(ComputeDevice.Cpu, t.Model.EmbedX(x, N), t.Model.EmbedY(y, M), N, M, t.Model.EmbedDim,
                Distances.Compute(t.NormalizedX, N, Dx, sel).Values, Distances.Compute(t.NormalizedY, M, Dy, sel).Values, o.EpsilonMin);
            Assert.That(r.Scores[i], Is.EqualTo(expect).Within(1e-12 * expect), $"restart {i}: score by the independent route");
        }
    }

    [Test]
    public void RestartStepsZero_TrainsEveryRestartToTheEnd_AndSelectStopsBeforeTheContinuation()
    {
        var (x, y) = Data();
        var o = Small(6, seed: 1);
        var trainers = new List<LearnedGwTrainer>();
        var r = LearnedGwRestarts.Train(x, N, Dx, y, M, Dy, o, new LearnedGwRestartOptions { Restarts = 2 }, null, (_, _, t) => trainers.Add(t));
        Assert.That(trainers.Select(t => t.CompletedSteps), Is.EqualTo(new[] { 6, 6 }));
        Assert.That(r.History, Has.Count.EqualTo(6));

        var s = LearnedGwRestarts.Select(x, N, Dx, y, M, Dy, o, new LearnedGwRestartOptions { Restarts = 2, RestartSteps = 2 });
        Assert.That(s.Trainer.CompletedSteps, Is.EqualTo(2), "Select does not continue");
        Assert.That(s.History.Select(p => p.Step), Is.EqualTo(new[] { 1, 2 }));
    }

    [Test]
    public void TrainingSelection_ScoresOnTheTrainingDistances()
    {
        var (x, y) = Data();
        // Training distances differ from the default selection (squared Euclidean, not max-normalised).
        var o = Small(3, seed: 4) with
        {
            DistancesX = new DistanceOptions { Metric = DistanceMetric.SqEuclidean, NormalizeByMax = false },
            DistancesY = new DistanceOptions { Metric = DistanceMetric.SqEuclidean, NormalizeByMax = false },
        };
        var expect = new List<double>();
        var eucl = new List<double>();
        var r = LearnedGwRestarts.Train(x, N, Dx, y, M, Dy, o, new LearnedGwRestartOptions { Restarts = 2, SelectOnTrainingDistances = true }, null,
            (_, _, t) => expect.Add(RestartSelection.Score(ComputeDevice.Cpu, t.Model.EmbedX(x, N), t.Model.EmbedY(y, M), N, M, t.Model.EmbedDim,
                t.DistanceX, t.DistanceY, o.EpsilonMin)));
        Assert.That(r.Scores, Is.EqualTo(expect));
        var e = LearnedGwRestarts.Train(x, N, Dx, y, M, Dy, o, new LearnedGwRestartOptions { Restarts = 2 }, null, (_, s, _) => eucl.Add(s));
        Assert.That(e.Scores, Is.Not.EqualTo(r.Scores), "the choice of distances matters (else the test above proves nothing)");
    }

    [Test]
    public void Selection_IsLabelFree_ByConstruction()
    {
        // Structural: the protocol's inputs are X, Y, their shapes, the options, the device and callbacks — no labels,
        // no pairing. A label or pairing argument added to any entry point (or to the options) fails here.
        var allowed = new[] { typeof(double[]), typeof(int), typeof(LearnedGwOptions), typeof(LearnedGwRestartOptions), typeof(ComputeDevice),
            typeof(Action<int, double, LearnedGwTrainer>), typeof(Action<int, LearnedGwProgress, LearnedGwTrainer>) };
        foreach (var name in new[] { nameof(LearnedGwRestarts.Train), nameof(LearnedGwRestarts.Select) })
        {
            var mi = typeof(LearnedGwRestarts).GetMethod(name, BindingFlags.Public | BindingFlags.Static)!;
            foreach (var p in mi.GetParameters())
            {
                Assert.That(allowed, Does.Contain(p.ParameterType), $"{name}({p.Name}: {p.ParameterType.Name})");
                Assert.That(p.Name, Does.Not.Contain("label").IgnoreCase.And.Not.Contain("pair").IgnoreCase, $"{name}({p.Name})");
            }
        }
        foreach (var p in typeof(LearnedGwRestartOptions).GetProperties())
            Assert.That(p.PropertyType, Is.AnyOf(typeof(int), typeof(bool), typeof(string), typeof(DistanceOptions)), p.Name);
        Assert.That(typeof(LearnedGwOptions).GetProperties().Select(p => p.Name), Has.None.Contains("Label"));
    }

    [Test]
    public void BadSettings_AreNamed_BeforeAnyTraining()
    {
        var (x, y) = Data();
        var o = Small(10, seed: 0);
        var e = Assert.Throws<ArgumentException>(() => LearnedGwRestarts.Train(x, N, Dx, y, M, Dy, o, new LearnedGwRestartOptions { Restarts = 0 }))!;
        Assert.That(e.Message, Does.Contain("Restarts = 0").And.Contain("≥ 1"));
        e = Assert.Throws<ArgumentException>(() => LearnedGwRestarts.Train(x, N, Dx, y, M, Dy, o, new LearnedGwRestartOptions { Restarts = 2, RestartSteps = 11 }))!;
        Assert.That(e.Message, Does.Contain("RestartSteps = 11").And.Contain("Steps = 10"));
        e = Assert.Throws<ArgumentException>(() => LearnedGwRestarts.Train(x, N, Dx, y, M, Dy, o,
            new LearnedGwRestartOptions { Restarts = 2, Selection = RestartSelection.DefaultDistances, SelectOnTrainingDistances = true }))!;
        Assert.That(e.Message, Does.Contain("SelectOnTrainingDistances"));
        // Too large for the dense score: refused before a trainer (or its n×n distances) is built.
        const int big = 5000;
        int steps = 0;
        e = Assert.Throws<ArgumentException>(() => LearnedGwRestarts.Train(new double[big], big, 1, new double[big], big, 1, o,
            new LearnedGwRestartOptions { Restarts = 2 }, null, null, (_, _, _) => steps++))!;
        Assert.That(e.Message, Does.Contain("5000×5000").And.Contain("restarts = 1").And.Contain(LearnedGwRestarts.MaxScoreEntries.ToString()));
        Assert.That(steps, Is.Zero);
        Assert.That(() => LearnedGwRestarts.SeedOf(int.MaxValue / 2, 6, 0), Throws.ArgumentException.With.Message.Contains("seed"));
    }

    [TestCase(3, 2)]
    [TestCase(2, 0)]
    [TestCase(2, 50)]
    [TestCase(1, 2)]
    public void RunLearned_IsTheProtocolWrittenOut(int restarts, int restartSteps)
    {
        // SnareSeqExperiment.RunLearned before it called LearnedGwRestarts, written out on a tiny paired stand-in for SNARE-seq:
        // same seeds, scores, selected restart, diagnostics calls and summary line.
        var (x, _) = Data();
        var rng = new Random(3);
        var y = new double[N * Dy];
        for (int i = 0; i < N; i++) for (int c = 0; c < Dy; c++) y[i * Dy + c] = (c < Dx ? x[i * Dx + c] : 0) + 0.5 * rng.NextDouble();
        var data = new Glass.Models.Gw.SnareSeqData(x, y, N, Dx, Dy, Enumerable.Range(0, N).Select(i => i % 3 + 1).ToArray());
        var o = Small(6, seed: 1) with { EpsilonMin = 0.1 }; // the scoring Sinkhorn converges comfortably on these clusters
        var calls = new List<(int, double, int)>();
        var got = SnareSeqExperiment.RunLearned(data, o, null, restarts, restartSteps, null, (s, g, t) => calls.Add((s, g, t.CompletedSteps)));

        var dev = ComputeDevice.Cpu;
        int firstSteps = restarts > 1 && restartSteps > 0 ? Math.Min(restartSteps, o.Steps) : o.Steps;
        (double Gw, LearnedGwTrainer T)? best = null;
        var scores = new List<string>();
        var expectCalls = new List<(int, double, int)>();
        double[]? selX = null, selY = null;
        for (int r = 0; r < restarts; r++)
        {
            var oo = restarts == 1 ? o : o with { Seed = o.Seed * restarts + r };
            var trainer = new LearnedGwTrainer(x, N, Dx, y, N, Dy, oo, dev);
            while (trainer.CompletedSteps < firstSteps) trainer.Step();
            double gw = double.NaN;
            if (restarts > 1)
            {
                selX ??= Distances.Compute(trainer.NormalizedX, N, Dx, SnareSeqExperiment.DefaultSelection).Values;
                selY ??= Distances.Compute(trainer.NormalizedY, N, Dy, SnareSeqExperiment.DefaultSelection).Values;
                var m = trainer.Model;
                gw = RestartSelection.Score(dev, m.EmbedX(x, N), m.EmbedY(y, N), N, N, m.EmbedDim, selX, selY, oo.EpsilonMin);
                scores.Add(gw.ToString("G5", System.Globalization.CultureInfo.InvariantCulture));
                expectCalls.Add((oo.Seed, gw, trainer.CompletedSteps));
            }
            if (best is null || gw < best.Value.Gw) best = (gw, trainer);
        }
        var (bgw, bt) = best!.Value;
        while (bt.CompletedSteps < bt.Options.Steps) bt.Step();

        Assert.That(calls, Is.EqualTo(expectCalls));
        Assert.That(got.GwLoss, Is.EqualTo(bgw));
        Assert.That(got.Detail, Does.Contain($"selected_seed={bt.Options.Seed} restart_gw=[{string.Join(",", scores)}]"));
        Assert.That(got.Detail, Does.StartWith($"loss=Distance steps=6 batch=0 restarts={restarts} restart_steps={restartSteps} selection=euclidean "));
        var al = InductiveAligner.Align(dev, bt.Model, x, N, y, N, new InductiveOptions { RelativeTol = 1e-6 });
        Assert.That(got.Foscttm, Is.EqualTo(Glass.Models.Metrics.AlignmentMetrics.Foscttm(al.ProjectionTarget!, bt.NormalizedY, N, Dy).Mean));
    }
}
