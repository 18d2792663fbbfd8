using System.Globalization;
using Glass.Autodiff.Implicit;
using Glass.Kernels.Device;
using Glass.Kernels.Sinkhorn;

namespace Glass.Autodiff.Ops;

/// <summary>
/// Entropic OT as one tape op (OTT-JAX's design: the strategy is one option at one boundary). The forward calls the
/// untaped solvers of Glass.Kernels (one solver loop); <see cref="SinkhornOpOptions"/> decides the backward (implicit,
/// <see cref="SinkhornImplicit"/>, or unrolled, <see cref="SinkhornUnrolled"/>), what happens when the forward does not
/// converge, and the warm start (potentials).
/// </summary>
public static class SinkhornOp
{
    /// <summary>Dense plan P(C) (n×m) with gradients to the cost, and the forward solve (potentials, diagnostics).</summary>
    /// <param name="cost">C, n×m.</param>
    /// <param name="a">Row marginal (null = uniform).</param>
    /// <param name="b">Column marginal (null = uniform).</param>
    /// <param name="options">γ and the stopping rule of the forward solve.</param>
    /// <param name="op">Gradient mode, non-convergence policy, warm start, device (null = defaults: implicit, throw, cold, CPU).</param>
    /// <exception cref="ArgumentException">A warm start of the wrong length, only one of f⁰/g⁰, or not finite.</exception>
    /// <exception cref="InvalidOperationException">The forward solve did not converge and the policy is <see cref="SinkhornNonConvergence.Throw"/>.</exception>
    public static DensePlanSolve Dense(Var cost, double[]? a, double[]? b, SinkhornOptions options, SinkhornOpOptions? op = null)
    {
        ArgumentNullException.ThrowIfNull(cost);
        ArgumentNullException.ThrowIfNull(options);
        op ??= new SinkhornOpOptions();
        int n = cost.Rows, m = cost.Cols;
        op.Validate(n, m);
        var r = DenseSinkhorn.Solve(op.Device ?? ComputeDevice.Cpu, DenseGeometry.FromCostMatrix(cost.Value, n, m), a, b,
            options with { ReturnPlan = true }, op.InitialF, op.InitialG);
        Check(r.Converged, r.MarginalError, r.Iterations, options, op, "Sinkhorn");
        if (op.Gradient == SinkhornGradient.Unrolled)
        {
            var ta = cost.Tape.Constant(a ?? Uniform(n), n, 1);
            var tb = cost.Tape.Constant(b ?? Uniform(m), m, 1);
            return new DensePlanSolve(SinkhornUnrolled.Plan(cost, ta, tb, options.Gamma, options.MaxIter), r);
        }
        var plan = r.Plan!;
        double gamma = options.Gamma;
        var v = cost.Tape.Record(plan, n, m, cost.RequiresGrad, o =>
        {
            var g = SinkhornImplicit.DenseBackward(plan, n, m, gamma, a, b, o.Grad!);
            var gc = cost.GradBuffer();
            for (int k = 0; k < gc.Length; k++) gc[k] += g.DCost[k];
        });
        return new DensePlanSolve(v, r);
    }

    /// <summary>Banded 1-D plan between scores s (n×1 or 1×n) and t, with gradients to the scores.</summary>
    /// <param name="s">Row scores.</param>
    /// <param name="t">Column scores.</param>
    /// <param name="a">Row marginal (null = uniform).</param>
    /// <param name="b">Column marginal (null = uniform).</param>
    /// <param name="options">γ and the stopping rule of the forward solve.</param>
    /// <param name="band">Band truncation (null = defaults).</param>
    /// <param name="op">
    /// Implicit gradients (CG on the band, <see cref="SinkhornImplicit.BandedBackward"/>) or unrolled (MaxIter log-domain
    /// iterations from zero potentials taped on the forward solve's band pattern; the values are then the unrolled plan);
    /// the non-convergence policy; the device; the warm start <see cref="SinkhornOpOptions.InitialF"/>/<see cref="SinkhornOpOptions.InitialG"/>
    /// (potentials in the callers' order, lengths n and m, e.g. the previous step's <c>Result.F</c>/<c>Result.G</c> of the same
    /// slice: potentials belong to points, not to band positions, so they remain a valid start after the scores — and the band —
    /// have moved; the plan does not depend on it, only the iteration count; it replaces ε-scaling's coarse stages).
    /// </param>
    /// <exception cref="ArgumentException">Scores not vectors; a warm start of the wrong length, only one of f⁰/g⁰, or not finite.</exception>
    /// <exception cref="InvalidOperationException">Not converged under <see cref="SinkhornNonConvergence.Throw"/>, or operands on different tapes.</exception>
    public static BandedPlan Banded(Var s, Var t, double[]? a, double[]? b, SinkhornOptions options, BandOptions? band = null, SinkhornOpOptions? op = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        op ??= new SinkhornOpOptions();
        if (!ReferenceEquals(s.Tape, t.Tape)) throw new InvalidOperationException("Operands were recorded on different tapes.");
        if (s.Rows != 1 && s.Cols != 1) throw new ArgumentException($"BandedPlan: s is {s.Shape}; expected a vector of scores.", nameof(s));
        if (t.Rows != 1 && t.Cols != 1) throw new ArgumentException($"BandedPlan: t is {t.Shape}; expected a vector of scores.", nameof(t));
        op.Validate(s.Length, t.Length);
        var r = BandedSinkhorn.Solve(op.Device ?? ComputeDevice.Cpu, s.Value, t.Value, a, b, options, band, op.InitialF, op.InitialG);
        Check(r.Converged, r.MarginalError, r.Iterations, options, op, "Banded Sinkhorn");
        if (op.Gradient == SinkhornGradient.Unrolled)
            return new BandedPlan(r.Plan, SinkhornUnrolled.BandedPlan(s, t, r.Plan, a, b, options.Gamma, options.MaxIter), r);
        double gamma = options.Gamma;
        var values = s.Tape.Record((double[])r.Plan.Values.Clone(), 1, r.Nnz, s.RequiresGrad || t.RequiresGrad, o =>
        {
            var g = SinkhornImplicit.BandedBackward(r.Plan, s.Value, t.Value, gamma, a, b, o.Grad!);
            if (s.RequiresGrad) { var gs = s.GradBuffer(); for (int k = 0; k < gs.Length; k++) gs[k] += g.DS[k]; }
            if (t.RequiresGrad) { var gt = t.GradBuffer(); for (int k = 0; k < gt.Length; k++) gt[k] += g.DT[k]; }
        });
        return new BandedPlan(r.Plan, values, r);
    }

    /// <summary>Dense plan P(C) (n×m) with gradients to the cost; <see cref="Dense"/> with a gradient mode, throwing if not converged.</summary>
    /// <exception cref="InvalidOperationException">The forward solve did not converge.</exception>
    public static Var DensePlan(Var cost, double[]? a, double[]? b, SinkhornOptions options, SinkhornGradient gradient = SinkhornGradient.Implicit,
        ComputeDevice? device = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (gradient == SinkhornGradient.Unrolled)
        {
            // Unrolled: the taped iterations are the op; no forward solve is needed.
            int n = cost.Rows, m = cost.Cols;
            var ta = cost.Tape.Constant(a ?? Uniform(n), n, 1);
            var tb = cost.Tape.Constant(b ?? Uniform(m), m, 1);
            return SinkhornUnrolled.Plan(cost, ta, tb, options.Gamma, options.MaxIter);
        }
        return Dense(cost, a, b, options, new SinkhornOpOptions { Device = device }).Plan;
    }

    /// <summary>Dense plan warm-started from potentials (f⁰, g⁰) (both or neither); <see cref="Dense"/> with a warm start, throwing if not converged.</summary>
    /// <exception cref="ArgumentException">f0/g0 of the wrong length, only one of them, or not finite.</exception>
    /// <exception cref="InvalidOperationException">The forward solve did not converge.</exception>
    public static DensePlanSolve DensePlanWarm(Var cost, double[]? a, double[]? b, SinkhornOptions options, double[]? f0, double[]? g0,
        ComputeDevice? device = null)
    {
        ArgumentNullException.ThrowIfNull(cost);
        if ((f0 is null) != (g0 is null)) throw new ArgumentException("DensePlanWarm: give both f0 and g0 or neither.", f0 is null ? nameof(f0) : nameof(g0));
        if (f0 is not null && (f0.Length != cost.Rows || g0!.Length != cost.Cols))
            throw new ArgumentException($"DensePlanWarm: f0 has length {f0.Length}, g0 {g0!.Length}; expected {cost.Rows} and {cost.Cols} for a {cost.Rows}×{cost.Cols} cost.", nameof(f0));
        return Dense(cost, a, b, options, new SinkhornOpOptions { InitialF = f0, InitialG = g0, Device = device });
    }

    /// <summary>Banded 1-D plan; <see cref="Banded"/> with a gradient mode, throwing if not converged.</summary>
    /// <exception cref="InvalidOperationException">The forward solve did not converge.</exception>
    public static BandedPlan BandedPlan(Var s, Var t, double[]? a, double[]? b, SinkhornOptions options, BandOptions? band = null,
        ComputeDevice? device = null, SinkhornGradient gradient = SinkhornGradient.Implicit) =>
        Banded(s, t, a, b, options, band, new SinkhornOpOptions { Device = device, Gradient = gradient });

    private static void Check(bool converged, double err, int iterations, SinkhornOptions options, SinkhornOpOptions op, string what)
    {
        if (converged || op.OnNonConvergence == SinkhornNonConvergence.UseLastIterate) return;
        throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
            $"{what} did not converge (marginal error {err:E2} after {iterations} iterations, tol {options.Tol:E1}, gamma {options.Gamma:R}); implicit gradients need a converged plan — raise MaxIter or Gamma, or use SinkhornNonConvergence.UseLastIterate."));
    }

    private static double[] Uniform(int n) => Enumerable.Repeat(1.0 / n, n).ToArray();
}
