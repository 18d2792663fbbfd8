using System.Diagnostics;
using System.Globalization;
using Glass.Kernels.Device;
using Glass.Kernels.Sinkhorn;

namespace Glass.Models.Gw;

// Discrepancy-principle smoothing of the selected GW plan.
public static partial class GwAligner
{
    /// <summary>Relative ε of the smoothing family, least soft first (each solve warm-starts the next).</summary>
    private static readonly double[] SmoothingEpsilons = { 2e-3, 5e-3, 1e-2, 2e-2 };

    /// <summary>
    /// The discrepancy-principle smoothing of an exact plan Π* with loss L*: the family P(ε) = Sinkhorn(−4·T(Π*), ε) — one
    /// mirror-descent step of entropic GW from Π* (Peyré, Cuturi &amp; Solomon 2016), soft where the linearised GW cost does
    /// not tell columns apart — for ε in <see cref="SmoothingEpsilons"/>, then the mixtures (1 − α)Π* + αP(ε_min); the
    /// softest member with L ≤ τ·L* is returned. The family is walked from the least soft member up and stops at the first
    /// that spends more than the budget (the loss grows with ε); the mixture's loss is an exact quadratic in α, read off
    /// ⟨T(Π*), Π*⟩, ⟨T(Π*), P⟩ and ⟨T(P), P⟩ (D_X, D_Y symmetric). L* = 0 returns Π*.
    /// </summary>
    internal static (double[] Plan, double Loss, string How) Smooth(double[] dx, double[] dy, int n, int m, double[] best, double bestLoss, double tau)
    {
        double budget = tau * bestLoss;
        if (!(bestLoss > 1e-12)) return (best, bestLoss, "none");
        long nm = (long)n * m;
        // On U(1/n, 1/m): L(Π) = c − 2⟨T(Π), Π⟩ with c = Σ D_X² / n² + Σ D_Y² / m².
        double constant = SumOfSquares(dx) / ((double)n * n) + SumOfSquares(dy) / ((double)m * m);
        var tb = new double[nm];
        ExactGw.Transform(dx, dy, best, n, m, tb);
        var cost = new double[nm];
        double min = double.PositiveInfinity;
        for (long k = 0; k < nm; k++) { cost[k] = -4 * tb[k]; if (cost[k] < min) min = cost[k]; }
        for (long k = 0; k < nm; k++) cost[k] -= min;
        var geom = DenseGeometry.FromCostMatrix(cost, n, m);
        var tp = new double[nm];
        // ε-scaling for the potentials (softest first, each warm-starting the next), then the members are read least soft first.
        double Tol() => 1e-4 * Math.Sqrt(1.0 / n + 1.0 / m);
        var potentials = new (double[] F, double[] G)[SmoothingEpsilons.Length];
        double[]? f = null, g = null;
        for (int i = SmoothingEpsilons.Length - 1; i >= 0; i--)
        {
            var r = DenseSinkhorn.Solve(ComputeDevice.Cpu, geom, null, null,
                new SinkhornOptions { Gamma = SmoothingEpsilons[i], MaxIter = 20000, Tol = Tol() }, f, g);
            f = r.F; g = r.G;
            potentials[i] = (r.F, r.G);
        }
        double[]? passed = null;
        double passedLoss = 0, passedEps = 0;
        for (int i = 0; i < SmoothingEpsilons.Length; i++)
        {
            double e = SmoothingEpsilons[i];
            var p = DenseSinkhorn.Solve(ComputeDevice.Cpu, geom, null, null,
                new SinkhornOptions { Gamma = e, MaxIter = 20000, Tol = Tol(), ReturnPlan = true }, potentials[i].F, potentials[i].G).Plan!;
            ExactGw.RoundToMarginals(p, n, m);
            ExactGw.Transform(dx, dy, p, n, m, tp);
            double pp = Dot(tp, p);
            double l = Math.Max(0, constant - 2 * pp);
            if (l <= budget) { (passed, passedLoss, passedEps) = (p, l, e); continue; }
            if (passed is not null) break;
            // Even the least soft member spends too much: mix it with Π*.
            double bb = Dot(tb, best), cross = Dot(tb, p);
            double qb = 4 * (bb - cross), qa = 2 * (2 * cross - bb - pp);
            double alpha = LargestRoot(qa, qb, budget - bestLoss);
            if (alpha <= 0) return (best, bestLoss, "none");
            var mix = new double[nm];
            for (long k = 0; k < nm; k++) mix[k] = (1 - alpha) * best[k] + alpha * p[k];
            return (mix, Math.Max(0, bestLoss + qb * alpha + qa * alpha * alpha), string.Create(CultureInfo.InvariantCulture, $"mix({alpha:G3}, {e:G3})"));
        }
        return (passed!, passedLoss, string.Create(CultureInfo.InvariantCulture, $"entropic({passedEps:G3})"));
    }

    private static double SumOfSquares(double[] d)
    {
        double s = 0;
        foreach (double v in d) s += v * v;
        return s;
    }

    private static double Dot(double[] u, double[] v)
    {
        double s = 0;
        for (long k = 0; k < u.Length; k++) s += u[k] * v[k];
        return s;
    }

    /// <summary>Largest α ∈ [0, 1] with a·α² + b·α ≤ c (c ≥ 0; the quadratic is 0 at α = 0).</summary>
    private static double LargestRoot(double a, double b, double c)
    {
        if (a * 1 + b <= c) return 1;
        if (Math.Abs(a) < 1e-300) return b > 0 ? Math.Clamp(c / b, 0, 1) : 1;
        double disc = b * b + 4 * a * c;
        if (disc < 0) return 0;
        double r1 = (-b + Math.Sqrt(disc)) / (2 * a), r2 = (-b - Math.Sqrt(disc)) / (2 * a);
        // The feasible set starts at α = 0; its right end is the smallest root above 0.
        double root = double.PositiveInfinity;
        foreach (var r in new[] { r1, r2 }) if (r > 0 && r < root) root = r;
        return double.IsFinite(root) ? Math.Clamp(root, 0, 1) : 0;
    }

}
