using Glass.Autodiff.Implicit;
using Glass.Kernels.Device;
using Glass.Kernels.Linalg;
using Glass.Kernels.Sinkhorn;
using Glass.Tests.Support;
using NUnit.Framework;

namespace Glass.Tests.Autodiff;

/// <summary>
/// Implicit Sinkhorn backward against an independent route: central finite differences of the
/// tightly converged forward solver (managed CPU, double, Tol 1e-13, over-relaxed); Danskin's
/// envelope identity; CG diagnostics; bad input.
/// </summary>
public class SinkhornImplicitTests
{
    private const double Rtol = 1e-4;

    // Tol 1e-13 is near the rounding floor of the marginal sums: a few perturbed solves plateau just above
    // it, so the loop is capped and a marginal error ≤ 1e-12 is accepted (FD noise ~1e-12/h stays ≪ 1e-4·|∂L|).
    private static SinkhornOptions Tight(double gamma) =>
        new() { Gamma = gamma, Tol = 1e-13, MaxIter = 20_000, CheckEvery = 5, Overrelax = true, ReturnPlan = true };

    private const double AcceptedMarginalError = 1e-12;

    /// <summary>
    /// Costs with γ-scale gaps between competing assignments (so the gradient is not exponentially small)
    /// and a large range: C_ij = (x_i − y_j)² + 0.05·U, x, y ~ U(0, 2), up to ~4 — at γ = 0.01 exp(−C/γ)
    /// reaches e^{−400}, so only a log-domain forward works.
    /// </summary>
    private static double[] Costs(int n, int m, int seed)
    {
        var x = Close.RandomUniform(n, seed, 0, 2);
        var y = Close.RandomUniform(m, seed + 7, 0, 2);
        var u = Close.RandomUniform(n * m, seed + 13, 0, 0.05);
        var c = new double[n * m];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++) c[i * m + j] = (x[i] - y[j]) * (x[i] - y[j]) + u[i * m + j];
        return c;
    }

    /// <summary>Non-uniform marginal: weights 0.3 + U(0,1), normalised.</summary>
    private static double[] Marginal(int n, int seed)
    {
        var w = Close.RandomUniform(n, seed, 0.3, 1.3);
        double s = w.Sum();
        for (int i = 0; i < n; i++) w[i] /= s;
        return w;
    }

    private static DenseSinkhornResult SolveDense(double[] c, int n, int m, double[] a, double[] b, double gamma)
    {
        var r = DenseSinkhorn.Solve(ComputeDevice.Cpu, DenseGeometry.FromCostMatrix(c, n, m), a, b, Tight(gamma));
        Assert.That(r.MarginalError, Is.LessThanOrEqualTo(AcceptedMarginalError), $"forward solve did not converge (γ = {gamma}, marginal error {r.MarginalError:E2})");
        return r;
    }

    private static double Inner(double[] g, double[] p)
    {
        double s = 0;
        for (int k = 0; k < p.Length; k++) s += g[k] * p[k];
        return s;
    }

    /// <summary>Central difference of <paramref name="loss"/> along x ± h·d.</summary>
    private static double Central(Func<double> plus, Func<double> minus, double h) => (plus() - minus()) / (2 * h);

    /// <summary>Centred gradient on the simplex from directional derivatives along e_k − e_0.</summary>
    private static double[] SimplexFd(double[] w, double h, Func<double[], double> loss)
    {
        int n = w.Length;
        var d = new double[n];
        for (int k = 1; k < n; k++)
        {
            var p = (double[])w.Clone(); p[k] += h; p[0] -= h;
            var q = (double[])w.Clone(); q[k] -= h; q[0] += h;
            d[k] = (loss(p) - loss(q)) / (2 * h);
        }
        double mean = d.Average();
        for (int k = 0; k < n; k++) d[k] -= mean;
        return d;
    }

    private static void Compare(double[] fd, double[] implicitGrad, string what)
    {
        double scale = fd.Max(Math.Abs);
        Assert.That(scale, Is.GreaterThan(0), $"{what}: finite-difference gradient is identically zero (test would be vacuous)");
        Close.All(fd, implicitGrad, Rtol * scale, Rtol, what);
        double num = 0, den = 0;
        for (int k = 0; k < fd.Length; k++) { num += (fd[k] - implicitGrad[k]) * (fd[k] - implicitGrad[k]); den += fd[k] * fd[k]; }
        Assert.That(Math.Sqrt(num / den), Is.LessThanOrEqualTo(Rtol), $"{what}: norm-wise relative error");
    }

    [TestCase(7, 5, 0.5)]
    [TestCase(7, 5, 0.1)]
    [TestCase(7, 5, 0.01)]
    [TestCase(9, 11, 0.5)]
    [TestCase(9, 11, 0.1)]
    [TestCase(9, 11, 0.01)]
    public void Dense_MatchesFiniteDifferences(int n, int m, double gamma)
    {
        int seed = 100 * n + m + (int)(1000 * gamma);
        var c = Costs(n, m, seed);
        var a = Marginal(n, seed + 1);
        var b = Marginal(m, seed + 2);
        var g = Close.RandomNormal(n * m, seed + 3);
        var sol = SolveDense(c, n, m, a, b, gamma);
        var grad = SinkhornImplicit.DenseBackward(sol.Plan!, n, m, gamma, a, b, g);
        Assert.That(grad.Converged, Is.True, $"CG residual {grad.CgResidual:E2} after {grad.CgIterations} iterations");
        TestContext.Out.WriteLine($"dense {n}×{m} γ={gamma}: CG {grad.CgIterations} iterations, residual {grad.CgResidual:E2}, forward {sol.Iterations} iterations");

        double h = 1e-4 * gamma;
        double Loss(double[] cc, double[] aa, double[] bb) => Inner(g, SolveDense(cc, n, m, aa, bb, gamma).Plan!);
        var fdC = new double[n * m];
        for (int k = 0; k < n * m; k++)
        {
            double c0 = c[k];
            fdC[k] = Central(() => { c[k] = c0 + h; return Loss(c, a, b); }, () => { c[k] = c0 - h; return Loss(c, a, b); }, h);
            c[k] = c0;
        }
        Compare(fdC, grad.DCost, $"∂L/∂C, {n}×{m}, γ = {gamma}");
        double hw = 1e-4 * Math.Min(a.Min(), b.Min());
        Compare(SimplexFd(a, hw, aa => Loss(c, aa, b)), grad.DA, $"∂L/∂a, {n}×{m}, γ = {gamma}");
        Compare(SimplexFd(b, hw, bb => Loss(c, a, bb)), grad.DB, $"∂L/∂b, {n}×{m}, γ = {gamma}");
    }

    [TestCase(9, 7, 0.5)]
    [TestCase(9, 7, 0.1)]
    [TestCase(9, 7, 0.01)]
    public void Banded_WideBand_MatchesFiniteDifferences(int n, int m, double gamma)
    {
        int seed = 7 * n + m + (int)(1000 * gamma);
        var s = Close.RandomUniform(n, seed);
        var t = Close.RandomUniform(m, seed + 1);
        var a = Marginal(n, seed + 2);
        var b = Marginal(m, seed + 3);
        var gFull = Close.RandomNormal(n * m, seed + 4); // upstream on every pair; restricted to the band below
        var band = new BandOptions { BandEps = 1e-30 };
        BandedSinkhornResult Solve(double[] ss, double[] tt, double[] aa, double[] bb)
        {
            var r = BandedSinkhorn.Solve(ComputeDevice.Cpu, ss, tt, aa, bb, Tight(gamma), band);
            Assert.That(r.MarginalError, Is.LessThanOrEqualTo(AcceptedMarginalError), $"banded forward did not converge (γ = {gamma}, marginal error {r.MarginalError:E2})");
            return r;
        }
        // L = Σ_band G_ij P_ij, evaluated through the pattern of each perturbed solve (robust to band changes).
        double Loss(double[] ss, double[] tt, double[] aa, double[] bb)
        {
            var p = Solve(ss, tt, aa, bb).Plan;
            double l = 0;
            for (int i = 0; i < p.Rows; i++)
                for (int k = p.RowPtr[i]; k < p.RowPtr[i + 1]; k++) l += gFull[i * m + p.ColIdx[k]] * p.Values[k];
            return l;
        }
        var sol = Solve(s, t, a, b);
        var plan = sol.Plan;
        var up = new double[plan.Nnz];
        for (int i = 0; i < n; i++)
            for (int k = plan.RowPtr[i]; k < plan.RowPtr[i + 1]; k++) up[k] = gFull[i * m + plan.ColIdx[k]];
        var grad = SinkhornImplicit.BandedBackward(plan, s, t, gamma, a, b, up);
        Assert.That(grad.Converged, Is.True, $"CG residual {grad.CgResidual:E2}");
        TestContext.Out.WriteLine($"banded {n}×{m} γ={gamma}: nnz {plan.Nnz}, CG {grad.CgIterations} iterations, residual {grad.CgResidual:E2}");

        double h = 1e-4 * gamma;
        var fdS = new double[n];
        for (int i = 0; i < n; i++)
        {
            double s0 = s[i];
            fdS[i] = Central(() => { s[i] = s0 + h; return Loss(s, t, a, b); }, () => { s[i] = s0 - h; return Loss(s, t, a, b); }, h);
            s[i] = s0;
        }
        var fdT = new double[m];
        for (int j = 0; j < m; j++)
        {
            double t0 = t[j];
            fdT[j] = Central(() => { t[j] = t0 + h; return Loss(s, t, a, b); }, () => { t[j] = t0 - h; return Loss(s, t, a, b); }, h);
            t[j] = t0;
        }
        Compare(fdS, grad.DS, $"∂L/∂s, banded {n}×{m}, γ = {gamma}");
        Compare(fdT, grad.DT, $"∂L/∂t, banded {n}×{m}, γ = {gamma}");
        double hw = 1e-4 * Math.Min(a.Min(), b.Min());
        Compare(SimplexFd(a, hw, aa => Loss(s, t, aa, b)), grad.DA, $"∂L/∂a, banded, γ = {gamma}");
        Compare(SimplexFd(b, hw, bb => Loss(s, t, a, bb)), grad.DB, $"∂L/∂b, banded, γ = {gamma}");
    }

    [Test]
    public void Banded_FullBand_EqualsDenseBackward()
    {
        // When the band covers every pair the banded backward is the dense one on the CSR pattern.
        int n = 11, m = 9;
        double gamma = 0.2;
        var s = Close.RandomUniform(n, 31);
        var t = Close.RandomUniform(m, 32);
        var a = Marginal(n, 33);
        var b = Marginal(m, 34);
        var gFull = Close.RandomNormal(n * m, 35);
        var banded = BandedSinkhorn.Solve(ComputeDevice.Cpu, s, t, a, b, Tight(gamma), new BandOptions { BandEps = 1e-30 });
        Assert.That(banded.Nnz, Is.EqualTo(n * m));
        var pDense = banded.Plan.ToDense();
        var up = new double[banded.Nnz];
        var dcBanded = new double[n * m];
        for (int i = 0; i < n; i++)
            for (int k = banded.Plan.RowPtr[i]; k < banded.Plan.RowPtr[i + 1]; k++) up[k] = gFull[i * m + banded.Plan.ColIdx[k]];
        var gb = SinkhornImplicit.BandedBackward(banded.Plan, s, t, gamma, a, b, up);
        for (int i = 0; i < n; i++)
            for (int k = banded.Plan.RowPtr[i]; k < banded.Plan.RowPtr[i + 1]; k++) dcBanded[i * m + banded.Plan.ColIdx[k]] = gb.DCost[k];
        var gd = SinkhornImplicit.DenseBackward(pDense, n, m, gamma, a, b, gFull);
        double scale = gd.DCost.Max(Math.Abs);
        Close.All(gd.DCost, dcBanded, 1e-10 * scale, 1e-8, "∂L/∂C banded vs dense");
        Close.All(gd.DA, gb.DA, 1e-12, 1e-8, "∂L/∂a banded vs dense");
        Close.All(gd.DB, gb.DB, 1e-12, 1e-8, "∂L/∂b banded vs dense");
    }

    [TestCase(0.5)]
    [TestCase(0.1)]
    [TestCase(0.01)]
    public void Danskin_ObjectiveGradientIsPlan(double gamma)
    {
        int n = 7, m = 5;
        var c = Costs(n, m, 41);
        var a = Marginal(n, 42);
        var b = Marginal(m, 43);
        var sol = SolveDense(c, n, m, a, b, gamma);
        var env = SinkhornImplicit.EntropicObjectiveGradient(sol.Plan!, sol.F, sol.G);

        // Route 1: central differences of the regularised value ⟨P,C⟩ − γH(P).
        double h = 1e-4 * gamma;
        var fd = new double[n * m];
        for (int k = 0; k < n * m; k++)
        {
            double c0 = c[k];
            fd[k] = Central(() => { c[k] = c0 + h; return SolveDense(c, n, m, a, b, gamma).Objective(gamma); },
                            () => { c[k] = c0 - h; return SolveDense(c, n, m, a, b, gamma).Objective(gamma); }, h);
            c[k] = c0;
        }
        Compare(fd, env.DCost, $"∂OT_γ/∂C vs P, γ = {gamma}");
        double hw = 1e-4 * a.Min();
        Compare(SimplexFd(a, hw, aa => SolveDense(c, n, m, aa, b, gamma).Objective(gamma)), env.DA, $"∂OT_γ/∂a vs centred f, γ = {gamma}");

        // Route 2: the implicit backward with the value's upstream G = C + γ(log P + 1) = f ⊕ g + γ has a
        // vanishing implicit term, and its marginal gradients are the centred potentials.
        var up = new double[n * m];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++) up[i * m + j] = sol.F[i] + sol.G[j] + gamma;
        var imp = SinkhornImplicit.DenseBackward(sol.Plan!, n, m, gamma, a, b, up);
        double pmax = sol.Plan!.Max();
        Assert.That(imp.DCost.Max(Math.Abs), Is.LessThan(1e-7 * pmax / gamma), "implicit term of the envelope gradient should vanish");
        Close.All(env.DA, imp.DA, 1e-9, 1e-7, "implicit ∂/∂a vs centred f");
        Close.All(env.DB, imp.DB, 1e-9, 1e-7, "implicit ∂/∂b vs centred g");
    }

    [TestCase(0.1)]
    [TestCase(0.01)]
    public void TransportCost_MatchesFiniteDifferences(double gamma)
    {
        int n = 9, m = 11;
        var c = Costs(n, m, 51);
        var a = Marginal(n, 52);
        var b = Marginal(m, 53);
        var sol = SolveDense(c, n, m, a, b, gamma);
        var grad = SinkhornImplicit.DenseTransportCostBackward(sol.Plan!, c, n, m, gamma, a, b);
        Assert.That(grad.Converged, Is.True);
        double h = 1e-4 * gamma;
        var fd = new double[n * m];
        for (int k = 0; k < n * m; k++)
        {
            double c0 = c[k];
            fd[k] = Central(() => { c[k] = c0 + h; return SolveDense(c, n, m, a, b, gamma).Cost; },
                            () => { c[k] = c0 - h; return SolveDense(c, n, m, a, b, gamma).Cost; }, h);
            c[k] = c0;
        }
        Compare(fd, grad.DCost, $"∂⟨P,C⟩/∂C, γ = {gamma}");
    }

    [Test]
    public void BandedTransportCost_MatchesFiniteDifferences()
    {
        int n = 9, m = 7;
        double gamma = 0.05;
        var s = Close.RandomUniform(n, 61);
        var t = Close.RandomUniform(m, 62);
        var opts = new BandOptions { BandEps = 1e-30 };
        double Cost(double[] ss, double[] tt) => BandedSinkhorn.Solve(ComputeDevice.Cpu, ss, tt, null, null, Tight(gamma), opts).Cost;
        var sol = BandedSinkhorn.Solve(ComputeDevice.Cpu, s, t, null, null, Tight(gamma), opts);
        var grad = SinkhornImplicit.BandedTransportCostBackward(sol.Plan, s, t, gamma, null, null);
        double h = 1e-4 * gamma;
        var fd = new double[n];
        for (int i = 0; i < n; i++)
        {
            double s0 = s[i];
            fd[i] = Central(() => { s[i] = s0 + h; return Cost(s, t); }, () => { s[i] = s0 - h; return Cost(s, t); }, h);
            s[i] = s0;
        }
        Compare(fd, grad.DS, "∂⟨P,C⟩/∂s, banded");
        // Danskin on the band: ∂OT_γ/∂s from P alone.
        var env = SinkhornImplicit.BandedEntropicObjectiveGradient(sol.Plan, sol.F, sol.G, s, t);
        double Obj(double[] ss) => BandedSinkhorn.Solve(ComputeDevice.Cpu, ss, t, null, null, Tight(gamma), opts).Objective(gamma);
        for (int i = 0; i < n; i++)
        {
            double s0 = s[i];
            fd[i] = Central(() => { s[i] = s0 + h; return Obj(s); }, () => { s[i] = s0 - h; return Obj(s); }, h);
            s[i] = s0;
        }
        Compare(fd, env.DS, "∂OT_γ/∂s from P (Danskin), banded");
    }

    [TestCase(0.5)]
    [TestCase(0.01)]
    public void Cg_ConvergesWithSmallTrueResidual_AndReportsNonConvergence(double gamma)
    {
        int n = 33, m = 27;
        var c = Costs(n, m, 71);
        var a = Marginal(n, 72);
        var b = Marginal(m, 73);
        var g = Close.RandomNormal(n * m, 74);
        var sol = SolveDense(c, n, m, a, b, gamma);
        var grad = SinkhornImplicit.DenseBackward(sol.Plan!, n, m, gamma, a, b, g);
        TestContext.Out.WriteLine($"dense {n}×{m} γ={gamma}: CG {grad.CgIterations} iterations, true relative residual {grad.CgResidual:E2}");
        Assert.That(grad.Converged, Is.True);
        Assert.That(grad.CgIterations, Is.InRange(1, 4 * (n + m)));
        Assert.That(grad.CgResidual, Is.LessThanOrEqualTo(1e-10));
        Assert.That(Math.Abs(grad.DA.Sum()) + Math.Abs(grad.DB.Sum()), Is.LessThan(1e-12), "marginal gradients are centred");

        var capped = SinkhornImplicit.DenseBackward(sol.Plan!, n, m, gamma, a, b, g, new ImplicitOptions { MaxIter = 1 });
        Assert.That(capped.CgIterations, Is.EqualTo(1));
        Assert.That(capped.Converged, Is.False, "one CG step cannot reach 1e-10; non-convergence must be reported");
        Assert.That(capped.CgResidual, Is.GreaterThan(1e-10));
    }

    [Test]
    public void BadInput_Throws_NamingShapesAndArgument()
    {
        var p = new double[35];
        Array.Fill(p, 1.0 / 35);
        var g = new double[35];
        var ex = Assert.Throws<ArgumentException>(() => SinkhornImplicit.DenseBackward(p, 7, 5, 0.1, null, null, new double[30]));
        Assert.That(ex!.ParamName, Is.EqualTo("upstream"));
        Assert.That(ex.Message, Does.Contain("30").And.Contain("7×5"));
        ex = Assert.Throws<ArgumentException>(() => SinkhornImplicit.DenseBackward(p, 5, 5, 0.1, null, null, g));
        Assert.That(ex!.ParamName, Is.EqualTo("plan"));
        Assert.That(ex.Message, Does.Contain("35").And.Contain("5×5"));
        ex = Assert.Throws<ArgumentException>(() => SinkhornImplicit.DenseBackward(p, 7, 5, 0.1, new double[6], null, g));
        Assert.That(ex!.ParamName, Is.EqualTo("a"));
        Assert.That(ex.Message, Does.Contain("6").And.Contain("7×5"));
        ex = Assert.Throws<ArgumentException>(() => SinkhornImplicit.DenseBackward(p, 7, 5, 0.1, null, new double[4], g));
        Assert.That(ex!.ParamName, Is.EqualTo("b"));
        foreach (double bad in new[] { 0.0, -0.1, double.NaN, double.PositiveInfinity })
        {
            ex = Assert.Throws<ArgumentException>(() => SinkhornImplicit.DenseBackward(p, 7, 5, bad, null, null, g));
            Assert.That(ex!.ParamName, Is.EqualTo("gamma"), $"gamma = {bad}");
        }
        ex = Assert.Throws<ArgumentException>(() => SinkhornImplicit.EntropicObjectiveGradient(p, new double[7], new double[4]));
        Assert.That(ex!.ParamName, Is.EqualTo("plan"));
        Assert.That(ex.Message, Does.Contain("7×4"));

        var csr = new CsrMatrix(2, 3, [0, 2, 3], [0, 1, 2], [0.4, 0.1, 0.5]);
        ex = Assert.Throws<ArgumentException>(() => SinkhornImplicit.BandedBackward(csr, new double[2], new double[4], 0.1, null, null, new double[3]));
        Assert.That(ex!.ParamName, Is.EqualTo("plan"));
        Assert.That(ex.Message, Does.Contain("2×3").And.Contain("length 4"));
        ex = Assert.Throws<ArgumentException>(() => SinkhornImplicit.BandedBackward(csr, new double[2], new double[3], 0.1, null, null, new double[6]));
        Assert.That(ex!.ParamName, Is.EqualTo("upstream"));
        Assert.That(ex.Message, Does.Contain("6").And.Contain("3 band entries"));
        ex = Assert.Throws<ArgumentException>(() => SinkhornImplicit.BandedBackward(csr, new double[2], new double[3], 0, null, null, new double[3]));
        Assert.That(ex!.ParamName, Is.EqualTo("gamma"));
    }
}
