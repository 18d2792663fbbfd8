using Glass.Kernels.Device;
using Glass.Kernels.Validation;

namespace Glass.Kernels.Sinkhorn;

/// <summary>
/// Dense entropic OT by log-domain Sinkhorn (GLASS paper Eq. 1; learned-GW paper, Appendix):
/// P = diag(e^{f/γ}) K diag(e^{g/γ}), K = e^{−C/γ}, potentials updated alternately
/// g ← γ log b − γ LSE_i((f_i − C_ij)/γ), f ← γ log a − γ LSE_j((g_j − C_ij)/γ), optionally
/// over-relaxed. Stops when sqrt(‖P1 − a‖² + ‖Pᵀ1 − b‖²) ≤ tol (checked every k iterations) or at MaxIter.
/// </summary>
public static class DenseSinkhorn
{
    /// <summary>Solves entropic OT for the cost given by <paramref name="geometry"/>.</summary>
    /// <param name="device">Where to run: the managed CPU backend (double) or an ILGPU accelerator (float32 costs, double potentials).</param>
    /// <param name="geometry">Cost matrix or point clouds (<see cref="DenseGeometry"/>).</param>
    /// <param name="a">Row marginal (length n, non-negative, sums to 1); null = uniform 1/n.</param>
    /// <param name="b">Column marginal (length m); null = uniform 1/m.</param>
    /// <param name="options">γ, tolerances, iteration limits.</param>
    /// <param name="initialF">Warm start: row potentials f (length n, finite), e.g. from a solve at a larger γ or on a
    /// sparse candidate set (<see cref="CandidateSinkhorn"/>); null = 0. The fixed point does not depend on it.</param>
    /// <param name="initialG">Warm start: column potentials g (length m, finite); null = 0.</param>
    /// <exception cref="ArgumentException">Invalid γ, marginals, warm start or options; the message names the argument and value.</exception>
    public static DenseSinkhornResult Solve(ComputeDevice device, DenseGeometry geometry, double[]? a, double[]? b, SinkhornOptions options,
        double[]? initialF = null, double[]? initialG = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(geometry);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var aa = Marginals.Resolve(a, geometry.N, nameof(a));
        var bb = Marginals.Resolve(b, geometry.M, nameof(b));
        var f0 = WarmStart(initialF, aa, nameof(initialF));
        var g0 = WarmStart(initialG, bb, nameof(initialG));
        double spread = options.EpsScaling == EpsScaling.Off ? 0 : EpsSchedule.Spread(geometry);
        if (!EpsSchedule.Active(options, spread)) return SolveOn(device, geometry, aa, bb, options, f0, g0);
        var (f, g, used, _) = EpsSchedule.RunCoarse(options, EpsSchedule.Gammas(options.Gamma, spread), f0, g0, (so, fk, gk) =>
        {
            var r = SolveOn(device, geometry, aa, bb, so, fk!, gk!);
            return (r.F, r.G, r.Iterations, 0.0);
        });
        var res = SolveOn(device, geometry, aa, bb, EpsSchedule.Final(options, used), f!, g!);
        return res with { Iterations = res.Iterations + used };
    }

    private static DenseSinkhornResult SolveOn(ComputeDevice device, DenseGeometry geometry, double[] a, double[] b, SinkhornOptions o,
        double[] f, double[] g) =>
        device.IsAccelerated
            ? device.GetKernels(acc => new DenseSinkhornKernels(acc)).Solve(geometry, a, b, o, f, g)
            : DenseSinkhornCpu.Solve(geometry, a, b, o, f, g);

    /// <summary>Initial potentials: the warm start (copied) or zeros; −∞ where the marginal is 0.</summary>
    internal static double[] WarmStart(double[]? init, double[] w, string name)
    {
        var p = new double[w.Length];
        if (init is not null)
        {
            Guard.Length<double>(init, w.Length, name, w.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Guard.Finite(init, name);
            Array.Copy(init, p, w.Length);
        }
        for (int i = 0; i < w.Length; i++) if (w[i] == 0) p[i] = double.NegativeInfinity;
        return p;
    }
}

/// <summary>Marginal defaults and checks shared by the solvers.</summary>
public static class Marginals
{
    /// <summary>The uniform 1/n vector when <paramref name="w"/> is null, else <paramref name="w"/> checked (length n, finite, ≥ 0, positive sum) and named <paramref name="name"/> in errors.</summary>
    public static double[] Resolve(double[]? w, int n, string name)
    {
        if (w is null)
        {
            var u = new double[n];
            Array.Fill(u, 1.0 / n);
            return u;
        }
        Guard.Marginal(w, n, name);
        return w;
    }
}
