using Glass.Runner.Experiments;
using NUnit.Framework;

namespace Glass.Tests.Runner;

/// <summary>The one-line summary of a run: what it achieved, and a warning when rows match their own index.</summary>
public class HeadlineTests
{
    private static Dictionary<string, double> Eval(double permAcc, double identity) => new()
    {
        ["perm_acc"] = permAcc, ["identity_match_rate"] = identity, ["final_loss"] = 1, ["independent_loss"] = 2, ["exact_ot_loss"] = 0,
    };

    [Test]
    public void IndexLeak_IsFlagged()
    {
        // The `probes` reading of ψ_τ on a relabelled SBM pair: 60 % of nodes matched to their own index, perm_acc at chance.
        var h = RunDriver.Headline(Eval(0.003, 0.6));
        Assert.That(h, Does.Contain("warning: 60 % of rows matched to their own index"));
    }

    [TestCase(0.98, 0.016)]   // an alignment under a planted permutation: own-index matches at chance
    [TestCase(0.45, 0.45)]    // no permutation (truth = identity): the two rates coincide
    [TestCase(0.05, 0.004)]   // a weak alignment, own-index matches at chance
    public void NoLeak_NoWarning(double permAcc, double identity) =>
        Assert.That(RunDriver.Headline(Eval(permAcc, identity)), Does.Not.Contain("warning"));
}
