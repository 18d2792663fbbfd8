using System.Globalization;
using Glass.Kernels.Linalg;
using Glass.Kernels.Validation;

namespace Glass.Autodiff.Implicit;

/// <summary>
/// Implicit-differentiation backward of entropic OT (Eisenberger et al. 2022, "A unified framework
/// for implicit Sinkhorn differentiation", as used by the learned-GW paper §3): array-level
/// functions that a tape op wraps; the Sinkhorn loop itself is never taped.
/// <para>
/// Derivation. The converged plan is P_ij = exp((f_i + g_j − C_ij)/γ) with potentials (f, g) solving
/// F(f, g; C, a, b) = (P1 − a, Pᵀ1 − b) = 0. Its Jacobian is ∂F/∂(f, g) = H/γ,
/// H = [[diag(a), P], [Pᵀ, diag(b)]] (diagonals taken as P's own marginals, equal to a, b at convergence),
/// and ∂F/∂C_ij = −(P_ij/γ)(e_i, e'_j), ∂F/∂a = −[I; 0], ∂F/∂b = −[0; I]. For a loss L(P) with
/// upstream G = ∂L/∂P let W = G ⊙ P; then ∂L/∂(f, g) = (W1, Wᵀ1)/γ and the explicit part is
/// ∂L/∂C_ij = −W_ij/γ. The adjoint λ solves H λ = (W1, Wᵀ1) (conjugate gradients with P·x and
/// Pᵀ·y only), and the implicit function theorem gives
/// ∂L/∂C_ij = P_ij (λ_f,i + λ_g,j − G_ij)/γ,  ∂L/∂a = λ_f,  ∂L/∂b = λ_g.
/// H is singular along ν = (1, −1) (shifting f by +c and g by −c leaves P unchanged); the right-hand
/// side is orthogonal to ν (both blocks sum to ΣW), so CG runs in ν^⊥. ∂L/∂C is invariant under
/// λ → λ + cν; the marginal gradients are returned centred (each sums to 0), the gradient on the
/// simplex's tangent space, which is all a mass-preserving perturbation of a or b can see.
/// </para>
/// <para>
/// Envelope (Danskin): for the regularised value OT_γ = ⟨P, C⟩ − γH(P), H(P) = −Σ P log P, the
/// upstream is G = C + γ(log P + 1) = f ⊕ g + γ, the adjoint is λ = (f, g) + γ/2, the implicit term
/// vanishes and ∂OT_γ/∂C = P (explicit), ∂OT_γ/∂a = f, ∂OT_γ/∂b = g (centred) —
/// <see cref="EntropicObjectiveGradient"/>, no solve needed.
/// </para>
/// </summary>
public static class SinkhornImplicit
{
    /// <summary>
    /// Backward of the dense entropic OT plan: ∂L/∂C, ∂L/∂a, ∂L/∂b from the upstream G = ∂L/∂P
    /// (see the class summary for the derivation). O(n·m) per CG step, memory O(n·m) for the outputs only.
    /// </summary>
    /// <param name="plan">Converged plan P, n×m row-major (e.g. <c>DenseSinkhornResult.Plan</c>).</param>
    /// <param name="n">Rows.</param>
    /// <param name="m">Columns.</param>
    /// <param name="gamma">Entropic regularisation γ &gt; 0 the plan was solved with.</param>
    /// <param name="a">Row marginal (length n) or null for uniform; checked for shape.</param>
    /// <param name="b">Column marginal (length m) or null for uniform; checked for shape.</param>
    /// <param name="upstream">G = ∂L/∂P, n×m row-major, finite.</param>
    /// <param name="options">CG tolerance and iteration cap (null = defaults).</param>
    /// <exception cref="ArgumentException">Shape mismatch (the message names both shapes), γ ≤ 0 or non-finite, non-finite input.</exception>
    public static DenseImplicitGradient DenseBackward(double[] plan, int n, int m, double gamma, double[]? a, double[]? b,
        double[] upstream, ImplicitOptions? options = null)
    {
        ValidateDense(plan, n, m, gamma, a, b, upstream, nameof(upstream));
        options ??= new ImplicitOptions();
        options.Validate();
        return DenseCore(plan, n, m, gamma, upstream, options);
    }

    /// <summary>
    /// Gradient of the transport cost L = ⟨P(C), C⟩ — the most common upstream: the implicit
    /// backward with G = C plus the explicit term P, i.e. ∂L/∂C = P + P ⊙ (λ_f ⊕ λ_g − C)/γ.
    /// </summary>
    /// <param name="plan">Converged plan P, n×m row-major.</param>
    /// <param name="cost">Cost C, n×m row-major.</param>
    /// <param name="n">Rows.</param>
    /// <param name="m">Columns.</param>
    /// <param name="gamma">γ &gt; 0.</param>
    /// <param name="a">Row marginal (length n) or null.</param>
    /// <param name="b">Column marginal (length m) or null.</param>
    /// <param name="options">CG options (null = defaults).</param>
    /// <exception cref="ArgumentException">Shape mismatch, γ ≤ 0, non-finite input.</exception>
    public static DenseImplicitGradient DenseTransportCostBackward(double[] plan, double[] cost, int n, int m, double gamma,
        double[]? a, double[]? b, ImplicitOptions? options = null)
    {
        ValidateDense(plan, n, m, gamma, a, b, cost, nameof(cost));
        options ??= new ImplicitOptions();
        options.Validate();
        var r = DenseCore(plan, n, m, gamma, cost, options);
        for (int k = 0; k < r.DCost.Length; k++) r.DCost[k] += plan[k];
        return r;
    }

    /// <summary>
    /// Danskin/envelope gradient of the regularised value OT_γ(C, a, b) = ⟨P, C⟩ − γH(P) at the optimum:
    /// ∂/∂C = P, ∂/∂a = f − mean(f), ∂/∂b = g − mean(g). No linear solve (CgIterations = 0).
    /// </summary>
    /// <param name="plan">Converged plan P, n×m row-major (copied into DCost).</param>
    /// <param name="f">Row potential, length n.</param>
    /// <param name="g">Column potential, length m.</param>
    /// <exception cref="ArgumentException">Shape mismatch between the plan and the potentials.</exception>
    public static DenseImplicitGradient EntropicObjectiveGradient(double[] plan, double[] f, double[] g)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(g);
        if ((long)f.Length * g.Length != plan.Length)
            throw new ArgumentException(Inv($"plan has length {plan.Length}; expected n·m = {f.Length}×{g.Length} = {(long)f.Length * g.Length} from f (length {f.Length}) and g (length {g.Length})."), nameof(plan));
        return new DenseImplicitGradient((double[])plan.Clone(), Centred(f), Centred(g), 0, 0, true);
    }

    /// <summary>
    /// Backward of the banded 1-D entropic OT plan (<c>BandedSinkhorn.Solve</c>) with C_ij = (s_i − t_j)²:
    /// the dense derivation on the band only (P is zero off the band, so H and the pull-back live on
    /// the plan's CSR pattern), then ∂L/∂s_i = Σ_j ∂L/∂C_ij · 2(s_i − t_j) and
    /// ∂L/∂t_j = −Σ_i ∂L/∂C_ij · 2(s_i − t_j). The plan is taken as the solver returns it: CSR in the
    /// caller's original index order. O(nnz) per CG step; nothing n×m is allocated. By default
    /// (<see cref="CgPreconditioner.Auto"/>) the column block is eliminated and CG runs on the Schur
    /// complement with a banded preconditioner in sorted-score order (<see cref="ImplicitOptions.SchurBandwidth"/>);
    /// <see cref="CgPreconditioner.Jacobi"/> runs Jacobi-preconditioned CG on the full system.
    /// </summary>
    /// <param name="plan">Converged banded plan (CSR, n×m, original order).</param>
    /// <param name="s">Row scores, length n.</param>
    /// <param name="t">Column scores, length m.</param>
    /// <param name="gamma">γ &gt; 0.</param>
    /// <param name="a">Row marginal (length n) or null.</param>
    /// <param name="b">Column marginal (length m) or null.</param>
    /// <param name="upstream">∂L/∂P on the band: length nnz, aligned with <c>plan.Values</c>.</param>
    /// <param name="options">CG options (null = defaults).</param>
    /// <exception cref="ArgumentException">Shape mismatch (names both shapes), γ ≤ 0, non-finite input.</exception>
    public static BandedImplicitGradient BandedBackward(CsrMatrix plan, double[] s, double[] t, double gamma,
        double[]? a, double[]? b, double[] upstream, ImplicitOptions? options = null)
    {
        ValidateBanded(plan, s, t, gamma, a, b, upstream, nameof(upstream));
        options ??= new ImplicitOptions();
        options.Validate();
        return BandedCore(plan, s, t, gamma, upstream, options, addPlan: false);
    }

    /// <summary>
    /// Gradient of the banded transport cost L = Σ_band P_ij (s_i − t_j)² with respect to the scores
    /// and marginals: implicit backward with G = C on the band plus the explicit term P.
    /// </summary>
    /// <param name="plan">Converged banded plan (CSR, original order).</param>
    /// <param name="s">Row scores, length n.</param>
    /// <param name="t">Column scores, length m.</param>
    /// <param name="gamma">γ &gt; 0.</param>
    /// <param name="a">Row marginal or null.</param>
    /// <param name="b">Column marginal or null.</param>
    /// <param name="options">CG options (null = defaults).</param>
    /// <exception cref="ArgumentException">Shape mismatch, γ ≤ 0, non-finite input.</exception>
    public static BandedImplicitGradient BandedTransportCostBackward(CsrMatrix plan, double[] s, double[] t, double gamma,
        double[]? a, double[]? b, ImplicitOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(s);
        ArgumentNullException.ThrowIfNull(t);
        if (plan.Rows != s.Length || plan.Cols != t.Length)
            throw ShapeError(plan, s, t);
        var cost = BandCost(plan, s, t);
        ValidateBanded(plan, s, t, gamma, a, b, cost, "cost");
        options ??= new ImplicitOptions();
        options.Validate();
        return BandedCore(plan, s, t, gamma, cost, options, addPlan: true);
    }

    /// <summary>
    /// Danskin gradient of the banded regularised value ⟨P, C⟩ − γH(P): ∂/∂C = P on the band, pulled
    /// back to s and t; ∂/∂a, ∂/∂b = centred potentials. No linear solve.
    /// </summary>
    /// <param name="plan">Converged banded plan (CSR, original order).</param>
    /// <param name="f">Row potential (original order), length n.</param>
    /// <param name="g">Column potential (original order), length m.</param>
    /// <param name="s">Row scores, length n.</param>
    /// <param name="t">Column scores, length m.</param>
    /// <exception cref="ArgumentException">Shape mismatch.</exception>
    public static BandedImplicitGradient BandedEntropicObjectiveGradient(CsrMatrix plan, double[] f, double[] g, double[] s, double[] t)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(g);
        ArgumentNullException.ThrowIfNull(s);
        ArgumentNullException.ThrowIfNull(t);
        if (plan.Rows != s.Length || plan.Cols != t.Length) throw ShapeError(plan, s, t);
        if (f.Length != s.Length || g.Length != t.Length)
            throw new ArgumentException(Inv($"potentials f (length {f.Length}) and g (length {g.Length}) do not match the plan {plan.Rows}×{plan.Cols}."), nameof(f));
        var dc = (double[])plan.Values.Clone();
        var (ds, dt) = PullBackToScores(plan, s, t, dc);
        return new BandedImplicitGradient(dc, ds, dt, Centred(f), Centred(g), 0, 0, true);
    }

    private static DenseImplicitGradient DenseCore(double[] plan, int n, int m, double gamma, double[] upstream, ImplicitOptions options)
    {
        var rhs = new double[n + m];
        for (int i = 0; i < n; i++)
        {
            double acc = 0;
            int off = i * m;
            for (int j = 0; j < m; j++)
            {
                double w = upstream[off + j] * plan[off + j];
                acc += w;
                rhs[n + j] += w;
            }
            rhs[i] = acc;
        }
        var (lambda, it, res, ok) = PlanCg.Solve(new DensePlan(plan, n, m), rhs, options);
        var dc = new double[plan.Length];
        double invG = 1 / gamma;
        for (int i = 0; i < n; i++)
        {
            int off = i * m;
            double lf = lambda[i];
            for (int j = 0; j < m; j++)
            {
                double p = plan[off + j];
                dc[off + j] = p == 0 ? 0 : p * (lf + lambda[n + j] - upstream[off + j]) * invG;
            }
        }
        return new DenseImplicitGradient(dc, Centred(lambda.AsSpan(0, n)), Centred(lambda.AsSpan(n, m)), it, res, ok);
    }

    private static BandedImplicitGradient BandedCore(CsrMatrix plan, double[] s, double[] t, double gamma, double[] upstream,
        ImplicitOptions options, bool addPlan)
    {
        int n = plan.Rows, m = plan.Cols;
        var rp = plan.RowPtr; var ci = plan.ColIdx; var v = plan.Values;
        var rhs = new double[n + m];
        for (int i = 0; i < n; i++)
        {
            double acc = 0;
            for (int k = rp[i]; k < rp[i + 1]; k++)
            {
                double w = upstream[k] * v[k];
                acc += w;
                rhs[n + ci[k]] += w;
            }
            rhs[i] = acc;
        }
        var csr = new CsrPlan(plan);
        var (lambda, it, res, ok) = options.Preconditioner == CgPreconditioner.Jacobi
            ? PlanCg.Solve(csr, rhs, options)
            : PlanCg.SolveBandedSchur(csr, s, rhs, options);
        var dc = new double[v.Length];
        double invG = 1 / gamma;
        for (int i = 0; i < n; i++)
        {
            double lf = lambda[i];
            for (int k = rp[i]; k < rp[i + 1]; k++)
            {
                double p = v[k];
                double d = p == 0 ? 0 : p * (lf + lambda[n + ci[k]] - upstream[k]) * invG;
                dc[k] = addPlan ? d + p : d;
            }
        }
        var (ds, dt) = PullBackToScores(plan, s, t, dc);
        return new BandedImplicitGradient(dc, ds, dt, Centred(lambda.AsSpan(0, n)), Centred(lambda.AsSpan(n, m)), it, res, ok);
    }

    /// <summary>C_ij = (s_i − t_j)²: ∂L/∂s_i = Σ_j D_ij·2(s_i − t_j), ∂L/∂t_j = −Σ_i D_ij·2(s_i − t_j), on the pattern.</summary>
    private static (double[] Ds, double[] Dt) PullBackToScores(CsrMatrix plan, double[] s, double[] t, double[] dc)
    {
        int n = plan.Rows;
        var rp = plan.RowPtr; var ci = plan.ColIdx;
        var ds = new double[n];
        var dt = new double[plan.Cols];
        for (int i = 0; i < n; i++)
        {
            double acc = 0, si = s[i];
            for (int k = rp[i]; k < rp[i + 1]; k++)
            {
                double q = dc[k] * 2 * (si - t[ci[k]]);
                acc += q;
                dt[ci[k]] -= q;
            }
            ds[i] = acc;
        }
        return (ds, dt);
    }

    private static double[] BandCost(CsrMatrix plan, double[] s, double[] t)
    {
        var c = new double[plan.Nnz];
        for (int i = 0; i < plan.Rows; i++)
            for (int k = plan.RowPtr[i]; k < plan.RowPtr[i + 1]; k++)
            {
                double d = s[i] - t[plan.ColIdx[k]];
                c[k] = d * d;
            }
        return c;
    }

    private static double[] Centred(ReadOnlySpan<double> x)
    {
        double mean = 0;
        for (int i = 0; i < x.Length; i++) mean += x[i];
        mean /= Math.Max(1, x.Length);
        var o = new double[x.Length];
        for (int i = 0; i < x.Length; i++) o[i] = x[i] - mean;
        return o;
    }

    private static void ValidateDense(double[] plan, int n, int m, double gamma, double[]? a, double[]? b, double[] upstream, string upstreamName)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(upstream, upstreamName);
        if (n < 1 || m < 1)
            throw new ArgumentException(Inv($"n = {n}, m = {m}; expected n ≥ 1 and m ≥ 1."), n < 1 ? nameof(n) : nameof(m));
        long nm = (long)n * m;
        if (plan.Length != nm)
            throw new ArgumentException(Inv($"plan has length {plan.Length}; expected n·m = {n}×{m} = {nm}."), nameof(plan));
        if (upstream.Length != nm)
            throw new ArgumentException(Inv($"{upstreamName} has length {upstream.Length}, plan is {n}×{m} ({nm}); expected the same n×m shape."), upstreamName);
        CheckCommon(gamma, a, b, n, m);
        Guard.Finite(plan, nameof(plan));
        Guard.Finite(upstream, upstreamName);
    }

    private static void ValidateBanded(CsrMatrix plan, double[] s, double[] t, double gamma, double[]? a, double[]? b, double[] upstream, string upstreamName)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(s);
        ArgumentNullException.ThrowIfNull(t);
        ArgumentNullException.ThrowIfNull(upstream, upstreamName);
        if (plan.Rows != s.Length || plan.Cols != t.Length) throw ShapeError(plan, s, t);
        if (upstream.Length != plan.Nnz)
            throw new ArgumentException(Inv($"{upstreamName} has length {upstream.Length}, plan has {plan.Nnz} band entries ({plan.Rows}×{plan.Cols} CSR); expected one value per plan entry."), upstreamName);
        CheckCommon(gamma, a, b, plan.Rows, plan.Cols);
        Guard.Finite(s, nameof(s));
        Guard.Finite(t, nameof(t));
        Guard.Finite(upstream, upstreamName);
    }

    private static ArgumentException ShapeError(CsrMatrix plan, double[] s, double[] t) =>
        new(Inv($"plan is {plan.Rows}×{plan.Cols} but s has length {s.Length} and t has length {t.Length}; expected plan rows = |s| and columns = |t|."), nameof(plan));

    private static void CheckCommon(double gamma, double[]? a, double[]? b, int n, int m)
    {
        if (!(gamma > 0) || !double.IsFinite(gamma))
            throw new ArgumentException(Inv($"gamma = {gamma:R}; expected a finite value > 0."), nameof(gamma));
        if (a is not null && a.Length != n)
            throw new ArgumentException(Inv($"a has length {a.Length}, plan has {n} rows ({n}×{m}); expected one weight per row."), nameof(a));
        if (b is not null && b.Length != m)
            throw new ArgumentException(Inv($"b has length {b.Length}, plan has {m} columns ({n}×{m}); expected one weight per column."), nameof(b));
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
