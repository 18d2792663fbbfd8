using Glass.Models.Metrics;
using NUnit.Framework;

namespace Glass.Tests.Models.Gw;

public class MetricsTests
{
    [Test]
    public void FoscttmMatchesAHandComputedExample()
    {
        // U = {0, 1, 2}, V = {0.1, 2.2, 0.9} on the line (worked out in the comment of each count):
        // p = (0, 2/3 [v0, v2 closer to u1 than v1], 1/3 [v1 closer to u2 than v2]),
        // q = (0, 1/3 [u2 closer to v1 than u1], 2/3 [u0, u1 closer to v2 than u2]); FOSCTTM = (1 + 1)/6 = 1/3.
        var r = AlignmentMetrics.Foscttm(new[] { 0.0, 1, 2 }, new[] { 0.1, 2.2, 0.9 }, 3, 1);
        Assert.That(r.P, Is.EqualTo(new[] { 0, 2.0 / 3, 1.0 / 3 }).Within(1e-15));
        Assert.That(r.Q, Is.EqualTo(new[] { 0, 1.0 / 3, 2.0 / 3 }).Within(1e-15));
        Assert.That(r.Mean, Is.EqualTo(1.0 / 3).Within(1e-15));
    }

    [Test]
    public void FoscttmIsZeroForIdenticalSetsAndTiesDoNotCount()
    {
        var u = new[] { 0.0, 0, 1, 1, 3, 0 };
        Assert.That(AlignmentMetrics.Foscttm(u, u, 3, 2).Mean, Is.EqualTo(0));
        // Two V points at the same distance as the true match: strict inequality, still 0.
        Assert.That(AlignmentMetrics.Foscttm(new[] { 0.0, 5 }, new[] { 1.0, -1 }, 2, 1).P[0], Is.EqualTo(0));
    }

    [Test]
    public void LabelTransferAccuracy()
    {
        var reference = new[] { 0.0, 0.1, 10, 10.1 };
        var labels = new[] { 1, 1, 2, 2 };
        Assert.That(AlignmentMetrics.LabelTransferAccuracy(reference, labels, new[] { 0.05, 9.9 }, new[] { 1, 1 }, 1, 1), Is.EqualTo(0.5));
        var ex = Assert.Throws<ArgumentException>(() => AlignmentMetrics.LabelTransferAccuracy(reference, new[] { 1, 2 }, new[] { 0.0 }, new[] { 1 }, 1));
        Assert.That(ex!.Message, Does.Contain("2 reference labels for 4 reference rows"));
    }
}
