using Glass.Autodiff.Implicit;
using Glass.Kernels.Device;
using Glass.Kernels.Linalg;
using Glass.Kernels.Sinkhorn;

namespace Glass.Autodiff.Ops;

/// <summary>How a Sinkhorn op is differentiated.</summary>
public enum SinkhornGradient
{
    /// <summary>Implicit differentiation of the optimality conditions (CG on plan–vector products); the solver loop is not taped.</summary>
    Implicit,
    /// <summary>Differentiate through the iterations (memory O(iterations·n·m) dense, O(iterations·nnz) banded; for checks and small problems).</summary>
    Unrolled,
}

/// <summary>A banded plan on the tape: CSR structure (original index order) and its values as a 1×nnz node.</summary>
/// <param name="Structure">CSR pattern and forward values (from <see cref="BandedSinkhorn"/>).</param>
/// <param name="Values">Plan values P on the band, 1×nnz, differentiable w.r.t. the scores.</param>
/// <param name="Result">The forward solve's diagnostics.</param>
public sealed record BandedPlan(CsrMatrix Structure, Var Values, BandedSinkhornResult Result);

/// <summary>A dense plan on the tape and its forward solve (<see cref="SinkhornOp.DensePlanWarm"/>).</summary>
/// <param name="Plan">P, n×m, differentiable w.r.t. the cost (implicit backward).</param>
/// <param name="Result">Diagnostics and the potentials (f, g) of the cost as given, for the next warm start.</param>
public sealed record DensePlanSolve(Var Plan, DenseSinkhornResult Result);

/// <summary>
/// Entropic OT as one tape op (OTT-JAX's design: the strategy is one option at one boundary).
/// The forward calls the untaped solvers of Glass.Kernels; the backward is implicit differentiation
/// (<see cref="SinkhornImplicit"/>) or, for dense problems, unrolling (<see cref="SinkhornUnrolled"/>).
/// </summary>
public static class SinkhornOp
{
    /// <summary>Dense plan P(C) (n×m) with gradients to the cost.</summary>
    /// <param name="cost">C, n×m.</param>
    /// <param name="a">Row marginal (null = uniform).</param>
    /// <param name="b">Column marginal (null = uniform).</param>
    /// <param name="options">γ and the stopping rule of the forward solve.</param>
    /// <param name="gradient">Implicit (default) or unrolled (then <see cref="SinkhornOptions.MaxIter"/> iterations are taped).</param>
    /// <param name="device">Where the forward runs (default: managed CPU).</param>
    /// <exception cref="InvalidOperationException">The forward solve did not converge (implicit gradients assume the optimality conditions hold).</exception>
    public static Var DensePlan(Var cost, double[]? a, double[]? b, SinkhornOptions options, SinkhornGradient gradient = SinkhornGradient.Implicit,
        ComputeDevice? device = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        int n = cost.Rows, m = cost.Cols;
        if (gradient == SinkhornGradient.Unrolled)
        {
            var ta = cost.Tape.Constant(a ?? Uniform(n), n, 1);
            var tb = cost.Tape.Constant(b ?? Uniform(m), m, 1);
            return SinkhornUnrolled.Plan(cost, ta, tb, options.Gamma, options.MaxIter);
        }
        var r = DenseSinkhorn.Solve(device ?? ComputeDevice.Cpu, DenseGeometry.FromCostMatrix(cost.Value, n, m), a, b, options with { ReturnPlan = true });
        if (!r.Converged)
            throw new InvalidOperationException($"Sinkhorn did not converge (marginal error {r.MarginalError:E2} after {r.Iterations} iterations, tol {options.Tol:E1}); implicit gradients need a converged plan — raise MaxIter or Gamma.");
        var plan = r.Plan!;
        return cost.Tape.Record(plan, n, m, cost.RequiresGrad, o =>
        {
            var g = SinkhornImplicit.DenseBackward(plan, n, m, options.Gamma, a, b, o.Grad!);
            var gc = cost.GradBuffer();
            for (int k = 0; k < gc.Length; k++) gc[k] += g.DCost[k];
        });
    }

    /// <summary>
    /// Dense plan P(C) (n×m) with gradients to the cost, optionally warm-started from potentials (f⁰, g⁰), and the
    /// forward solve's diagnostics and potentials (to warm-start the next solve of a slowly changing cost, e.g. the
    /// next training step on the same rows). Warm start = Sinkhorn from zero potentials on the shifted cost
    /// C'_ij = C_ij − f⁰_i − g⁰_j: P = exp((f' + g' − C')/γ) = exp((f' + f⁰ + g' + g⁰ − C)/γ), so the fixed
    /// point — the plan — is exactly that of a cold start on C; only the iteration count drops. The returned
    /// potentials are f = f' + f⁰, g = g' + g⁰ (potentials of C). The backward is the implicit one of
    /// <see cref="DensePlan"/> (it depends on P and γ only).
    /// </summary>
    /// <param name="cost">C, n×m.</param>
    /// <param name="a">Row marginal (null = uniform).</param>
    /// <param name="b">Column marginal (null = uniform).</param>
    /// <param name="options">γ and the stopping rule of the forward solve.</param>
    /// <param name="f0">Initial row potential (length n, finite) or null for a cold start; needs <paramref name="g0"/>.</param>
    /// <param name="g0">Initial column potential (length m, finite) or null.</param>
    /// <param name="device">Where the forward runs (default: managed CPU).</param>
    /// <returns>The plan on the tape and the solve's result (potentials of C; <c>Cost</c> = ⟨P, C⟩ on C itself).</returns>
    /// <exception cref="ArgumentException">f0/g0 of the wrong length, only one of them, or not finite.</exception>
    /// <exception cref="InvalidOperationException">The forward solve did not converge.</exception>
    public static DensePlanSolve DensePlanWarm(Var cost, double[]? a, double[]? b, SinkhornOptions options, double[]? f0, double[]? g0,
        ComputeDevice? device = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        int n = cost.Rows, m = cost.Cols;
        if ((f0 is null) != (g0 is null)) throw new ArgumentException("DensePlanWarm: give both f0 and g0 or neither.", f0 is null ? nameof(f0) : nameof(g0));
        var c = cost.Value;
        if (f0 is not null && g0 is not null)
        {
            if (f0.Length != n || g0.Length != m)
                throw new ArgumentException($"DensePlanWarm: f0 has length {f0.Length}, g0 {g0.Length}; expected {n} and {m} for a {n}×{m} cost.", nameof(f0));
            c = new double[(long)n * m];
            for (int i = 0; i < n; i++)
            {
                double fi = f0[i];
                if (!double.IsFinite(fi)) throw new ArgumentException($"DensePlanWarm: f0[{i}] = {fi}; expected finite potentials.", nameof(f0));
                int off = i * m;
                for (int j = 0; j < m; j++) c[off + j] = cost.Value[off + j] - fi - g0[j];
            }
            for (int j = 0; j < m; j++)
                if (!double.IsFinite(g0[j])) throw new ArgumentException($"DensePlanWarm: g0[{j}] = {g0[j]}; expected finite potentials.", nameof(g0));
        }
        var r = DenseSinkhorn.Solve(device ?? ComputeDevice.Cpu, DenseGeometry.FromCostMatrix(c, n, m), a, b, options with { ReturnPlan = true });
        if (!r.Converged)
            throw new InvalidOperationException($"Sinkhorn did not converge (marginal error {r.MarginalError:E2} after {r.Iterations} iterations, tol {options.Tol:E1}); implicit gradients need a converged plan — raise MaxIter or Gamma.");
        var plan = r.Plan!;
        if (f0 is not null && g0 is not null)
        {
            var f = (double[])r.F.Clone(); var g = (double[])r.G.Clone();
            for (int i = 0; i < n; i++) f[i] += f0[i];
            for (int j = 0; j < m; j++) g[j] += g0[j];
            double pc = 0;
            for (long k = 0; k < plan.LongLength; k++) pc += plan[k] * cost.Value[k];
            r = r with { F = f, G = g, Cost = pc };
        }
        var v = cost.Tape.Record(plan, n, m, cost.RequiresGrad, o =>
        {
            var gr = SinkhornImplicit.DenseBackward(plan, n, m, options.Gamma, a, b, o.Grad!);
            var gc = cost.GradBuffer();
            for (int k = 0; k < gc.Length; k++) gc[k] += gr.DCost[k];
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
    /// <param name="device">Where the forward runs (default: managed CPU).</param>
    /// <param name="gradient">
    /// Implicit (default: CG on the band, <see cref="SinkhornImplicit.BandedBackward"/>) or unrolled:
    /// <see cref="SinkhornOptions.MaxIter"/> log-domain iterations from zero potentials taped on the
    /// forward solve's band pattern (<see cref="SinkhornUnrolled.BandedPlan"/>); the returned values are
    /// then the unrolled plan.
    /// </param>
    /// <exception cref="InvalidOperationException">The forward solve did not converge.</exception>
    public static BandedPlan BandedPlan(Var s, Var t, double[]? a, double[]? b, SinkhornOptions options, BandOptions? band = null,
        ComputeDevice? device = null, SinkhornGradient gradient = SinkhornGradient.Implicit)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!ReferenceEquals(s.Tape, t.Tape)) throw new InvalidOperationException("Operands were recorded on different tapes.");
        if (s.Rows != 1 && s.Cols != 1) throw new ArgumentException($"BandedPlan: s is {s.Shape}; expected a vector of scores.", nameof(s));
        if (t.Rows != 1 && t.Cols != 1) throw new ArgumentException($"BandedPlan: t is {t.Shape}; expected a vector of scores.", nameof(t));
        var r = BandedSinkhorn.Solve(device ?? ComputeDevice.Cpu, s.Value, t.Value, a, b, options, band);
        if (!r.Converged)
            throw new InvalidOperationException($"Banded Sinkhorn did not converge (marginal error {r.MarginalError:E2} after {r.Iterations} iterations); implicit gradients need a converged plan.");
        if (gradient == SinkhornGradient.Unrolled)
            return new BandedPlan(r.Plan, SinkhornUnrolled.BandedPlan(s, t, r.Plan, a, b, options.Gamma, options.MaxIter), r);
        var values = s.Tape.Record((double[])r.Plan.Values.Clone(), 1, r.Nnz, s.RequiresGrad || t.RequiresGrad, o =>
        {
            var g = SinkhornImplicit.BandedBackward(r.Plan, s.Value, t.Value, options.Gamma, a, b, o.Grad!);
            if (s.RequiresGrad) { var gs = s.GradBuffer(); for (int k = 0; k < gs.Length; k++) gs[k] += g.DS[k]; }
            if (t.RequiresGrad) { var gt = t.GradBuffer(); for (int k = 0; k < gt.Length; k++) gt[k] += g.DT[k]; }
        });
        return new BandedPlan(r.Plan, values, r);
    }

    private static double[] Uniform(int n) => Enumerable.Repeat(1.0 / n, n).ToArray();
}
