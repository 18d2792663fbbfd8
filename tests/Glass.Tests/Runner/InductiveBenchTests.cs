using Glass.Kernels.Device;
using Glass.Models.Gw;
using Glass.Runner.Commands;
using NUnit.Framework;

namespace Glass.Tests.Runner;

/// <summary>
/// The synthetic stand-in of <c>glass bench inductive</c> (orthogonal Q, non-linear map) and a small run of its
/// training recipe that must recover the class correspondence on unseen points.
/// </summary>
public class InductiveBenchTests
{
    [Test]
    public void OrthogonalMapIsAnIsometry()
    {
        const int d = 17;
        var mix = new IsometricMixture(d, classes: 4, seed: 3);
        var q = mix.Q;
        for (int a = 0; a < d; a++)
            for (int b = 0; b < d; b++)
            {
                double s = 0;
                for (int r = 0; r < d; r++) s += q[r * d + a] * q[r * d + b];
                Assert.That(s, Is.EqualTo(a == b ? 1 : 0).Within(1e-12), $"(QᵀQ)[{a},{b}]");
            }
        var (x, y, _) = mix.Sample(9);
        var dx = Distances.Compute(x, 9, d, new DistanceOptions { Metric = DistanceMetric.Euclidean, NormalizeByMax = false }, "x").Values;
        var dy = Distances.Compute(y, 9, d, new DistanceOptions { Metric = DistanceMetric.Euclidean, NormalizeByMax = false }, "y").Values;
        for (int k = 0; k < dx.Length; k++) Assert.That(dy[k], Is.EqualTo(dx[k]).Within(1e-10 * (1 + dx[k])), $"distance {k}");
    }

    [Test]
    public void NonlinearMapChangesDistancesAndScale()
    {
        const int d = 16, n = 50;
        var mix = new IsometricMixture(d, classes: 4, seed: 3, MixtureMap.Nonlinear);
        var (x, y, _) = mix.Sample(n);
        var raw = new DistanceOptions { Metric = DistanceMetric.Euclidean, NormalizeByMax = false };
        var dx = Distances.Compute(x, n, d, raw, "x").Values;
        var dy = Distances.Compute(y, n, d, raw, "y").Values;
        double sx = dx.Average(), sy = dy.Average();
        Assert.That(sy / sx, Is.LessThan(0.5), "scale shrinks (s = 0.5, tanh saturates)");
        // Not a similarity: the ratio of distances varies across pairs.
        var ratio = dx.Select((v, k) => v > 0 ? dy[k] / v : double.NaN).Where(double.IsFinite).ToArray();
        double mean = ratio.Average(), sd = Math.Sqrt(ratio.Average(r => (r - mean) * (r - mean)));
        Assert.That(sd / mean, Is.GreaterThan(0.05), "distances are not preserved up to scale");
    }

    [Test]
    public void SmallIsometricRunRecoversTheClasses()
    {
        // 4 classes in 16-d, 60 training samples, 60 steps: chance class accuracy is ≈ 0.25.
        var mix = new IsometricMixture(16, classes: 4, seed: 1);
        var recipe = InductiveRecipe.Default with { TrainN = 60, Steps = 60 };
        var bench = InductiveBenchmark.Train(mix, recipe, seed: 1, ComputeDevice.Cpu);
        var r = bench.Align(300);
        Assert.That(r.ClassAccuracy, Is.GreaterThan(0.9), $"class accuracy on 300 unseen pairs (exact {r.Accuracy:F3})");
        Assert.That(r.Converged, Is.True);
    }
}
