using Glass.Kernels.Gw;
using Glass.Tests.Support;
using NUnit.Framework;

namespace Glass.Tests.Kernels.Gw;

/// <summary>The fused one-pass exp-domain Sinkhorn of the entropic GW loop against POT's two-pass loop written out naively.</summary>
public sealed class ScalingSinkhornCpuTests
{
    /// <summary>POT 0.8.2 <c>sinkhorn_knopp</c>, literally: v = b/(Kᵀu), u = 1/((K/a)·v), error ‖v⊙Kᵀu − b‖ at it % 10 == 0.</summary>
    private static (double[] Plan, int Iterations) Reference(double[] cost, double[] a, double[] b, int n, int m, double gamma, int maxIter, double tol)
    {
        var k = cost.Select(c => Math.Exp(-c / gamma)).ToArray();
        var u = Enumerable.Repeat(1.0 / n, n).ToArray();
        var v = Enumerable.Repeat(1.0 / m, m).ToArray();
        int it = 0;
        for (; it < maxIter; it++)
        {
            for (int j = 0; j < m; j++) { double s = 0; for (int i = 0; i < n; i++) s += k[i * m + j] * u[i]; v[j] = b[j] / s; }
            for (int i = 0; i < n; i++) { double s = 0; for (int j = 0; j < m; j++) s += k[i * m + j] / a[i] * v[j]; u[i] = 1.0 / s; }
            if (it % 10 == 0)
            {
                double e = 0;
                for (int j = 0; j < m; j++) { double s = 0; for (int i = 0; i < n; i++) s += u[i] * k[i * m + j]; double d = s * v[j] - b[j]; e += d * d; }
                if (Math.Sqrt(e) < tol) { it++; break; }
            }
        }
        var plan = new double[n * m];
        for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) plan[i * m + j] = u[i] * k[i * m + j] * v[j];
        return (plan, it);
    }

    // 300×260 = 78,000 entries: above the 65,536 threshold, so the rows split over the workers (partial Kᵀu sums).
    [TestCase(300, 260, 0.05)]
    [TestCase(7, 5, 0.1)]
    public void MatchesPotsTwoPassLoop(int n, int m, double gamma)
    {
        var cost = Close.RandomNormal(n * m, seed: 3).Select(x => x * x).ToArray();
        var a = Close.RandomNormal(n, seed: 4).Select(x => 1 + 0.3 * Math.Abs(x)).ToArray();
        var b = Close.RandomNormal(m, seed: 5).Select(x => 1 + 0.3 * Math.Abs(x)).ToArray();
        double sa = a.Sum(), sb = b.Sum();
        for (int i = 0; i < n; i++) a[i] /= sa;
        for (int j = 0; j < m; j++) b[j] /= sb;
        var (expected, iters) = Reference(cost, a, b, n, m, gamma, 1000, 1e-9);
        var s = new ScalingSinkhornCpu(n, m);
        var plan = new double[n * m];
        s.Solve(cost, a, b, gamma, 1000, 1e-9, plan);
        Assert.That(s.Numerical, Is.False);
        Assert.That(s.Iterations, Is.EqualTo(iters), "same stopping iteration as the two-pass loop");
        Assert.That(iters, Is.GreaterThan(1), "the comparison is not vacuous");
        Close.All(expected, plan, atol: 1e-15, rtol: 1e-9, what: "plan");
        // A warm start from the converged scalings stops at the first check, on the same plan.
        var warm = new double[n * m];
        s.Solve(cost, a, b, gamma, 1000, 1e-9, warm, warmStart: true);
        Assert.That(s.Iterations, Is.EqualTo(1));
        Close.All(expected, warm, atol: 1e-15, rtol: 1e-8, what: "warm-started plan");
    }
}
