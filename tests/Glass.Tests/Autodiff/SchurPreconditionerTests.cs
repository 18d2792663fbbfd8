using Glass.Autodiff.Implicit;
using Glass.Kernels.Device;
using Glass.Kernels.Sinkhorn;
using Glass.Tests.Support;
using NUnit.Framework;

namespace Glass.Tests.Autodiff;

/// <summary>The banded Schur-complement CG against the Jacobi CG on the full system: same gradients, fewer steps on a long thin band.</summary>
public class SchurPreconditionerTests
{
    [TestCase(1500, 0.01, 8)]
    [TestCase(801, 0.02, null)]
    public void Schur_MatchesJacobi_AndNeedsFewerSteps(int n, double gamma, int? rankCap)
    {
        var s = Close.RandomNormal(n, 31);
        var t = Close.RandomNormal(n, 32);
        var opt = new SinkhornOptions { Gamma = gamma, Tol = 1e-7, MaxIter = 50_000 };
        var r = BandedSinkhorn.Solve(ComputeDevice.Cpu, s, t, null, null, opt, new BandOptions { BandEps = 1e-6, RankCap = rankCap });
        Assert.That(r.Converged, Is.True, $"forward: marginal error {r.MarginalError:E2}");
        var jac = SinkhornImplicit.BandedTransportCostBackward(r.Plan, s, t, gamma, null, null,
            new ImplicitOptions { Preconditioner = CgPreconditioner.Jacobi, MaxIter = 20_000 });
        var sch = SinkhornImplicit.BandedTransportCostBackward(r.Plan, s, t, gamma, null, null,
            new ImplicitOptions { Preconditioner = CgPreconditioner.BandedSchur, MaxIter = 20_000 });
        TestContext.Out.WriteLine($"n {n}, γ {gamma}, cap {rankCap}: nnz {r.Nnz}; Jacobi {jac.CgIterations} steps (res {jac.CgResidual:E1}), Schur {sch.CgIterations} steps (res {sch.CgResidual:E1})");
        Assert.That(jac.Converged && sch.Converged, Is.True, $"residuals: Jacobi {jac.CgResidual:E2}, Schur {sch.CgResidual:E2}");
        double scale = jac.DS.Concat(jac.DT).Max(Math.Abs);
        Close.All(jac.DS, sch.DS, 1e-7 * scale, 0, "∂/∂s Schur vs Jacobi");
        Close.All(jac.DT, sch.DT, 1e-7 * scale, 0, "∂/∂t Schur vs Jacobi");
        Assert.That(sch.CgIterations, Is.LessThan(jac.CgIterations), "the Schur preconditioner should need fewer CG steps than Jacobi");
    }
}

/// <summary>With the bandwidth covering every pair, the preconditioner is S itself (up to the δ shift): CG is done in a step or two.</summary>
public class SchurPreconditionerExactTests
{
    [Test]
    public void FullBandwidth_IsAnExactSolve()
    {
        const int n = 151;
        var s = Close.RandomNormal(n, 41);
        var t = Close.RandomNormal(n + 6, 42);
        const double gamma = 0.01;
        var r = BandedSinkhorn.Solve(ComputeDevice.Cpu, s, t, null, null, new SinkhornOptions { Gamma = gamma, Tol = 1e-12, MaxIter = 100_000 }, new BandOptions { BandEps = 1e-8 });
        Assert.That(r.Converged, Is.True);
        var g = SinkhornImplicit.BandedTransportCostBackward(r.Plan, s, t, gamma, null, null,
            new ImplicitOptions { Preconditioner = CgPreconditioner.BandedSchur, SchurBandwidth = n });
        TestContext.Out.WriteLine($"nnz {r.Nnz}: {g.CgIterations} steps, residual {g.CgResidual:E1}");
        Assert.That(g.Converged, Is.True, $"residual {g.CgResidual:E2}");
        Assert.That(g.CgIterations, Is.LessThanOrEqualTo(3));
    }
}
