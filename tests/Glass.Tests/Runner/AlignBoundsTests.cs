using Glass.Models.Data;
using Glass.Runner.Commands;
using NUnit.Framework;
using static Glass.Tests.Runner.RunnerTestSupport;

namespace Glass.Tests.Runner;

/// <summary>`glass align` refuses sizes and scalars it cannot run (exit 2, the option named) and speaks in the user's terms.</summary>
[NonParallelizable]
public class AlignBoundsTests
{
    private string _dir = "", _x = "", _y = "", _one = "";

    [OneTimeSetUp]
    public void SetUp()
    {
        _dir = TempDir();
        (_x, _y, _, _, _) = AlignCliTests.WritePair(_dir, n: 30);
        _one = Path.Combine(_dir, "one.npy");
        Npy.Write(_one, new[] { 1.0, 2, 3, 4, 5 }, 5);
    }

    [OneTimeTearDown]
    public void TearDown()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private string Out => Path.Combine(_dir, "out");

    [Test]
    public void OneRowInput_SaysTwoRowsAreNeeded_NotConstantColumns()
    {
        foreach (var (x, y, opt) in new[] { (_one, _y, "--x"), (_x, _one, "--y") })
            foreach (var init in new[] { "solver", "none" })
            {
                var r = AlignCli("--x", x, "--y", y, "--init", init, "--device", "cpu", "--out", Out);
                AssertRefused(r, Out, _dir, opt, "1 row", "at least 2 rows");
                Assert.That(r.Err, Does.Not.Contain("constant"));
            }
    }

    [Test]
    public void OneRow_LibraryNormalisation_SaysTwoRowsAreNeeded()
    {
        var e = Assert.Throws<ArgumentException>(() => Glass.Models.Gw.GwNormalization.Fit(new[] { 1.0, 2, 3 }, 1, 3,
            new Glass.Models.Gw.GwPreprocessing { Standardize = true }, "one.npy"))!;
        Assert.That(e.Message, Does.Contain("one.npy").And.Contain("at least 2 rows").And.Not.Contain("constant"));
    }

    [Test]
    public void ScalarOptions_OutOfBounds_Exit2_NamingTheOption()
    {
        AssertRefused(AlignCli("--x", _x, "--y", _y, "--steps", "-1", "--out", Out), Out, _dir, "--steps = -1", "[1, 10000000]");
        AssertRefused(AlignCli("--x", _x, "--y", _y, "--steps", "2000000000", "--out", Out), Out, _dir, "--steps = 2000000000");
        AssertRefused(AlignCli("--x", _x, "--y", _y, "--init", "none", "--restarts", "100000", "--out", Out), Out, _dir, "--restarts = 100000");
        AssertRefused(AlignCli("--x", _x, "--y", _y, "--seed", "-5", "--out", Out), Out, _dir, "--seed = -5");
    }

    [Test]
    public void TrainingMemoryEstimate_AboveTheMachine_IsRefusedWithTheEstimate()
    {
        var big = new PointSet(new double[1], 2_000_000, 1);
        var req = new AlignCommand.AlignRequest("big.npy", "y.npy", null, null, false, null, null, "cpu", null, null, null, null, null, null, false, Out);
        var e = Assert.Throws<ArgumentException>(() => AlignCommand.CheckSizes(req, big, big, training: true))!;
        Assert.That(e.Message, Does.Contain("big.npy").And.Contain("GB").And.Contain("available").And.Contain("--rows"));
        Assert.DoesNotThrow(() => AlignCommand.CheckSizes(req, big, big, training: false), "--model needs no n×m memory");
    }

    [Test]
    public void LibraryArgumentErrors_NameTheOption_NotTheParameter()
    {
        // 30 rows with the rank loss's default k = 50 nearest neighbours: a library check deep in training.
        var r = AlignCli("--x", _x, "--y", _y, "--init", "none", "--steps", "2", "--device", "cpu", "--out", Out);
        AssertRefused(r, Out, _dir, "k = 50", "--config");
        Assert.That(r.Err, Does.Not.Contain("(Parameter"));
        var g = AlignCommand.InUserTerms(new ArgumentException("Gamma = 0; expected a finite value > 0.", "Gamma"));
        Assert.That(g.Message, Does.Not.Contain("(Parameter").And.Contain("train.epsilon_min"));
        Assert.That(AlignCommand.InUserTerms(new ArgumentException("k = 9 > m", "topK")).Message, Does.Contain("--top-k"));
    }
}
