using Glass.Kernels.Device;
using Glass.Kernels.Sinkhorn;
using Glass.Tests.Support;
using NUnit.Framework;

namespace Glass.Tests.Kernels.Sinkhorn;

/// <summary>
/// <see cref="BandedSinkhorn.Solve"/> warm-started from the potentials of a nearby problem (the previous training step:
/// scores moved, so the sort order and the band changed): the cold solve's fixed point, in fewer iterations. The
/// reference is always the managed backend's cold solve at a tight tolerance.
/// </summary>
public class BandedWarmStartTests
{
    private const double Gamma = 0.01;

    internal static SinkhornOptions Opt(double tol = 1e-10) => new() { Gamma = Gamma, MaxIter = 100_000, Tol = tol };

    // The previous step's scores and the current ones: every score moved (the order of close scores changes too), by
    // steps small against √γ = 0.1 — nearby problems. (How much a warm start saves depends on that: a move of δ changes
    // the exponents (f_i + g_j − C_ij)/γ by about 2δ|s_i − t_j|/γ, so at δ ≈ γ it starts no closer than a cold start.)
    internal static (double[] S0, double[] T0, double[] S, double[] T) Pair(int n, int m)
    {
        var s0 = Close.RandomNormal(n, 21);
        var t0 = Close.RandomNormal(m, 22, 0.9).Select(x => x + 0.3).ToArray();
        var ds = Close.RandomNormal(n, 23, 0.001);
        var dt = Close.RandomNormal(m, 24, 0.001);
        var s = s0.Select((x, i) => x + ds[i]).ToArray();
        // The two closest row scores trade places, so the sort order (and the band) differ for certain.
        var order = Enumerable.Range(0, n).OrderBy(i => s[i]).ToArray();
        int k = Enumerable.Range(0, n - 1).MinBy(q => s[order[q + 1]] - s[order[q]]);
        (s[order[k]], s[order[k + 1]]) = (s[order[k + 1]], s[order[k]] + 1e-12);
        return (s0, t0, s, t0.Select((x, j) => x + dt[j]).ToArray());
    }

    [Test]
    public void WarmFromANearbyProblem_SamePlanAsCold_FewerIterations()
    {
        var (s0, t0, s, t) = Pair(97, 83);
        var previous = BandedSinkhorn.Solve(ComputeDevice.Cpu, s0, t0, null, null, Opt());
        var cold = BandedSinkhorn.Solve(ComputeDevice.Cpu, s, t, null, null, Opt());
        var warm = BandedSinkhorn.Solve(ComputeDevice.Cpu, s, t, null, null, Opt(), null, previous.F, previous.G);
        Assert.That(previous.Converged && cold.Converged && warm.Converged, Is.True);
        Assert.That(Argsort(s), Is.Not.EqualTo(Argsort(s0)), "the sort order moved: the warm start is read through a new permutation");
        Assert.That(warm.Plan.RowPtr, Is.EqualTo(cold.Plan.RowPtr), "same band");
        Assert.That(warm.Plan.ColIdx, Is.EqualTo(cold.Plan.ColIdx));
        Close.All(cold.Plan.Values, warm.Plan.Values, 1e-11, 1e-7, "plan, warm vs cold");
        Close.Scalar(cold.Cost, warm.Cost, 1e-12, 1e-8, "cost");
        Assert.That(warm.Iterations, Is.LessThan(cold.Iterations), $"warm {warm.Iterations} vs cold {cold.Iterations}");
    }

    [Test]
    public void WarmFromItsOwnSolution_ConvergesAtTheFirstCheck()
    {
        // The exact potentials of the problem are its fixed point: one iteration, and the plan is unchanged.
        var (_, _, s, t) = Pair(64, 64);
        var band = new BandOptions { Refinements = 0 };
        var cold = BandedSinkhorn.Solve(ComputeDevice.Cpu, s, t, null, null, Opt(), band);
        var again = BandedSinkhorn.Solve(ComputeDevice.Cpu, s, t, null, null, Opt(1e-8), band, cold.F, cold.G);
        Assert.That(again.Iterations, Is.EqualTo(1));
        Close.All(cold.Plan.Values, again.Plan.Values, 1e-8, 1e-6, "plan");
    }

    [Test]
    public void WarmStart_ReplacesTheEpsScalingStages_AndKeepsThePlan()
    {
        var (s0, t0, s, t) = Pair(80, 70);
        var scaled = Opt() with { EpsScaling = EpsScaling.On };
        var previous = BandedSinkhorn.Solve(ComputeDevice.Cpu, s0, t0, null, null, Opt());
        var cold = BandedSinkhorn.Solve(ComputeDevice.Cpu, s, t, null, null, scaled);
        var warm = BandedSinkhorn.Solve(ComputeDevice.Cpu, s, t, null, null, scaled, null, previous.F, previous.G);
        Assert.That(cold.Converged && warm.Converged, Is.True);
        Close.All(cold.Plan.Values, warm.Plan.Values, 1e-11, 1e-7, "plan");
        Assert.That(warm.Iterations, Is.LessThan(cold.Iterations), "no coarse stages after a warm start");
    }

    [Test]
    public void ZeroMassPoints_TheirInfinitePotentialsAreAccepted()
    {
        // A result's potentials are −∞ where the marginal is 0; handing them back must work.
        var (s0, t0, s, t) = Pair(40, 30);
        var a = Enumerable.Repeat(1.0 / 38, 40).ToArray();
        a[3] = 0; a[17] = 0;
        var previous = BandedSinkhorn.Solve(ComputeDevice.Cpu, s0, t0, a, null, Opt());
        Assert.That(double.IsNegativeInfinity(previous.F[3]), "a zero-mass row's potential");
        var cold = BandedSinkhorn.Solve(ComputeDevice.Cpu, s, t, a, null, Opt());
        var warm = BandedSinkhorn.Solve(ComputeDevice.Cpu, s, t, a, null, Opt(), null, previous.F, previous.G);
        Close.All(cold.Plan.Values, warm.Plan.Values, 1e-11, 1e-7, "plan");
    }

    [Test]
    public void BadWarmStart_NamesTheArgument()
    {
        double[] s = [0.1, 0.5, 0.9], t = [0.2, 0.4];
        ArgumentException Bad(double[]? f, double[]? g) =>
            Assert.Throws<ArgumentException>(() => BandedSinkhorn.Solve(ComputeDevice.Cpu, s, t, null, null, Opt(), null, f, g))!;
        var e = Bad(new double[3], null);
        Assert.That(e.ParamName, Is.EqualTo("initialG"));
        Assert.That(e.Message, Does.Contain("both initialF and initialG"));
        Assert.That(Bad(null, new double[2]).ParamName, Is.EqualTo("initialF"));
        e = Bad(new double[4], new double[2]);
        Assert.That(e.ParamName, Is.EqualTo("initialF"));
        Assert.That(e.Message, Does.Contain("length 4").And.Contain("expected 3"));
        e = Bad(new double[3], [0.0, double.NaN]);
        Assert.That(e.ParamName, Is.EqualTo("initialG"));
        Assert.That(e.Message, Does.Contain("initialG[1] = NaN"));
    }

    private static int[] Argsort(double[] x) => Enumerable.Range(0, x.Length).OrderBy(i => x[i]).ToArray();
}

/// <summary>The warm start on the ILGPU path (CPU accelerator in CI, CUDA in the Gpu category) against the managed cold solve.</summary>
[TestFixtureSource(typeof(Devices), nameof(Devices.Accelerated))]
public class BandedWarmStartDeviceTests
{
    private readonly string _device;
    public BandedWarmStartDeviceTests(string device) => _device = device;

    [Test]
    public void WarmOnDevice_MatchesColdOnCpu_FewerIterations()
    {
        var dev = Devices.Get(_device);
        var (s0, t0, s, t) = BandedWarmStartTests.Pair(53, 41);
        var o = BandedWarmStartTests.Opt(1e-9);
        var previous = BandedSinkhorn.Solve(dev, s0, t0, null, null, o);
        var coldDev = BandedSinkhorn.Solve(dev, s, t, null, null, o);
        var warmDev = BandedSinkhorn.Solve(dev, s, t, null, null, o, null, previous.F, previous.G);
        var cpu = BandedSinkhorn.Solve(ComputeDevice.Cpu, s, t, null, null, o);
        Assert.That(coldDev.Converged && warmDev.Converged && cpu.Converged, Is.True);
        Assert.That(warmDev.Plan.ColIdx, Is.EqualTo(cpu.Plan.ColIdx), "same band");
        Close.All(cpu.Plan.Values, warmDev.Plan.Values, 1e-9, 1e-5, "plan, device warm vs CPU cold");
        Assert.That(warmDev.Iterations, Is.LessThan(coldDev.Iterations), $"warm {warmDev.Iterations} vs cold {coldDev.Iterations} on the device");
    }
}
