using Glass.Autodiff;
using Glass.Autodiff.Ops;
using Glass.Kernels.Device;
using Glass.Kernels.Sinkhorn;
using Glass.Tests.Support;
using NUnit.Framework;

namespace Glass.Tests.Autodiff;

/// <summary>Banded Sinkhorn differentiated three ways: implicit (CG on the band), unrolled on the band, central finite differences.</summary>
public class BandedUnrolledTests
{
    // Scores spread over [0, 2] so that at small γ the band (radius sqrt(−γ log ε)) is a real band, not the full matrix.
    [TestCase(0.5, 2_000)]
    [TestCase(0.1, 3_000)]
    [TestCase(0.01, 6_000)]
    public void ImplicitUnrolledAndFiniteDifferences_Agree(double gamma, int unrolledIterations)
    {
        const int n = 9, m = 7;
        int seed = (int)(1000 * gamma);
        var s = Close.RandomUniform(n, seed, 0, 2);
        var t = Close.RandomUniform(m, seed + 1, 0, 2);
        var a = Close.RandomUniform(n, seed + 2, 0.5, 1.5); var sa = a.Sum(); for (int i = 0; i < n; i++) a[i] /= sa;
        var b = Close.RandomUniform(m, seed + 3, 0.5, 1.5); var sb = b.Sum(); for (int j = 0; j < m; j++) b[j] /= sb;
        var up = Close.RandomNormal(n * m, seed + 4); // upstream weight per (i, j); the loss sees it on the band
        var band = new BandOptions { BandEps = 1e-6 };
        var solveOpt = new SinkhornOptions { Gamma = gamma, Tol = 1e-13, MaxIter = 20_000, CheckEvery = 5 };

        (double[] Ds, double[] Dt, double Loss, int Nnz) Taped(SinkhornGradient how, SinkhornOptions opt)
        {
            var tape = new Tape();
            var sv = tape.Leaf((double[])s.Clone(), n, 1);
            var tv = tape.Leaf((double[])t.Clone(), m, 1);
            var plan = SinkhornOp.BandedPlan(sv, tv, a, b, opt, band, gradient: how);
            var w = new double[plan.Structure.Nnz];
            for (int i = 0; i < n; i++)
                for (int k = plan.Structure.RowPtr[i]; k < plan.Structure.RowPtr[i + 1]; k++) w[k] = up[i * m + plan.Structure.ColIdx[k]];
            var loss = Op.Sum(Op.Mul(plan.Values, tape.Constant(w, 1, w.Length)));
            double l = loss.Scalar;
            tape.Backward(loss);
            return (sv.Grad!, tv.Grad!, l, plan.Structure.Nnz);
        }
        double Loss(double[] ss, double[] tt)
        {
            var p = BandedSinkhorn.Solve(ComputeDevice.Cpu, ss, tt, a, b, solveOpt, band).Plan;
            double l = 0;
            for (int i = 0; i < n; i++)
                for (int k = p.RowPtr[i]; k < p.RowPtr[i + 1]; k++) l += up[i * m + p.ColIdx[k]] * p.Values[k];
            return l;
        }

        var imp = Taped(SinkhornGradient.Implicit, solveOpt);
        var unr = Taped(SinkhornGradient.Unrolled, solveOpt with { MaxIter = unrolledIterations });
        if (gamma <= 0.1) Assert.That(imp.Nnz, Is.LessThan(n * m), "at small γ the band must be a real band (not all pairs)");
        TestContext.Out.WriteLine($"γ = {gamma}: nnz {imp.Nnz} of {n * m}; loss implicit {imp.Loss:R}, unrolled {unr.Loss:R}");
        Close.Scalar(imp.Loss, unr.Loss, 1e-12, 1e-6, "unrolled plan's loss vs the solver's");

        double h = 1e-4 * gamma;
        var fdS = new double[n];
        for (int i = 0; i < n; i++)
        {
            var sp = (double[])s.Clone(); sp[i] += h;
            var sm = (double[])s.Clone(); sm[i] -= h;
            fdS[i] = (Loss(sp, t) - Loss(sm, t)) / (2 * h);
        }
        var fdT = new double[m];
        for (int j = 0; j < m; j++)
        {
            var tp = (double[])t.Clone(); tp[j] += h;
            var tm = (double[])t.Clone(); tm[j] -= h;
            fdT[j] = (Loss(s, tp) - Loss(s, tm)) / (2 * h);
        }
        double scale = fdS.Concat(fdT).Max(Math.Abs);
        Assert.That(scale, Is.GreaterThan(1e-6), "gradient too small for the comparison to mean anything");
        // ≤ 1e-4 relative to the gradient's scale, entry by entry.
        Close.All(fdS, imp.Ds, 1e-4 * scale, 0, $"∂L/∂s implicit vs FD, γ = {gamma}");
        Close.All(fdT, imp.Dt, 1e-4 * scale, 0, $"∂L/∂t implicit vs FD, γ = {gamma}");
        Close.All(imp.Ds, unr.Ds, 1e-4 * scale, 0, $"∂L/∂s unrolled vs implicit, γ = {gamma}");
        Close.All(imp.Dt, unr.Dt, 1e-4 * scale, 0, $"∂L/∂t unrolled vs implicit, γ = {gamma}");
    }

    [Test]
    public void Unrolled_BadPatternShape_NamesShapes()
    {
        var r = BandedSinkhorn.Solve(ComputeDevice.Cpu, new[] { 0.1, 0.5, 0.9 }, new[] { 0.2, 0.8 }, null, null, new SinkhornOptions { Gamma = 0.1 }, null);
        var tape = new Tape();
        var e = Assert.Throws<ArgumentException>(() => SinkhornUnrolled.BandedPlan(tape.Leaf(new double[4], 4, 1), tape.Leaf(new double[2], 2, 1), r.Plan, null, null, 0.1, 3))!;
        Assert.That(e.Message, Does.Contain("4×1").And.Contain("3×2"));
    }
}
