using System.Diagnostics;
using System.Globalization;
using Glass.Kernels.Exact;
using Glass.Kernels.Linalg;

namespace Glass.Models.Gw;

/// <summary>Options of <see cref="ExactGw"/> (POT 0.8.2 <c>ot.gromov.gromov_wasserstein</c> defaults where they exist).</summary>
public sealed record ExactGwOptions
{
    /// <summary>Conditional-gradient iterations at most.</summary>
    public int MaxIter { get; init; } = 200;
    /// <summary>Stop when the loss changes by less than this relative amount (POT <c>tol_rel</c>) …</summary>
    public double RelativeTol { get; init; } = 1e-9;
    /// <summary>… or by less than this absolute amount (POT <c>tol_abs</c>).</summary>
    public double AbsoluteTol { get; init; } = 1e-9;

    internal void Validate()
    {
        if (MaxIter < 1) throw new ArgumentException($"MaxIter = {MaxIter}; expected ≥ 1.", nameof(MaxIter));
        if (!(RelativeTol >= 0)) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"RelativeTol = {RelativeTol}; expected ≥ 0."), nameof(RelativeTol));
        if (!(AbsoluteTol >= 0)) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"AbsoluteTol = {AbsoluteTol}; expected ≥ 0."), nameof(AbsoluteTol));
    }
}

/// <summary>Result of <see cref="ExactGw"/>.</summary>
/// <param name="Plan">Π, n×m row-major, in U(a, b); a vertex (a permutation / n when n = m) whenever the last step was a full one.</param>
/// <param name="N">Rows.</param>
/// <param name="M">Columns.</param>
/// <param name="GwLoss">Σ_ijkl (D_X,ik − D_Y,jl)² Π_ij Π_kl.</param>
/// <param name="Iterations">Conditional-gradient iterations (linear programs solved).</param>
/// <param name="Converged">The loss stopped changing (tolerances) or no descent direction was left, before MaxIter.</param>
/// <param name="Seconds">Wall time.</param>
public sealed record ExactGwResult(double[] Plan, int N, int M, double GwLoss, int Iterations, bool Converged, double Seconds);

/// <summary>
/// Gromov–Wasserstein with the square loss by conditional gradient (Frank–Wolfe) with an exact linear program per step
/// (Titouan et al. 2019, "Optimal transport for structured data", Alg. 2; POT's <c>ot.gromov.gromov_wasserstein</c>):
/// L(Π) = Σ_ijkl (D_X,ik − D_Y,jl)² Π_ij Π_kl = aᵀ(D_X⊙D_X)a + bᵀ(D_Y⊙D_Y)b − 2⟨T(Π), Π⟩ on U(a, b), T(Π) = D_X Π D_Y.
/// Each step solves the exact OT problem X = argmin ⟨−T(Π), X⟩ (<see cref="ExactTransportSolver"/>, warm-started from the
/// previous step's basis; a permutation when n = m),
/// then takes the exact line search on the quadratic L(Π + α(X − Π)), α ∈ [0, 1]. No entropic blur: on an exact isometry
/// the true pairing (loss 0) is a fixed point, and from a start in its basin the solver lands on it exactly.
/// T(X) costs one n×n×m GEMM because X is sparse (≤ n + m − 1 non-zeros); T(Π) is updated by linearity.
/// Memory O(n² + m² + n·m). Managed CPU.
/// </summary>
public static class ExactGw
{
    /// <summary>Runs conditional gradient from <paramref name="init"/> (null = the product coupling abᵀ, POT's default).</summary>
    /// <param name="dx">D_X, n×n row-major, symmetric, finite.</param>
    /// <param name="dy">D_Y, m×m row-major, symmetric, finite.</param>
    /// <param name="n">Points of X.</param>
    /// <param name="m">Points of Y.</param>
    /// <param name="init">Starting coupling n×m with uniform marginals (each within relative 1e−3; it is rounded onto U(a, b) exactly), or null.</param>
    /// <param name="options">Iteration limits (null = defaults).</param>
    /// <exception cref="ArgumentException">Shapes or non-finite entries; an initial plan whose marginals are not uniform (relative 1e−3).</exception>
    public static ExactGwResult Solve(double[] dx, double[] dy, int n, int m, double[]? init = null, ExactGwOptions? options = null) =>
        Solve(dx, dy, n, m, null, null, init, options);

    /// <summary>As <see cref="Solve(double[], double[], int, int, double[], ExactGwOptions)"/> with marginals a (n) and b (m), positive and summing to 1 (null = uniform).</summary>
    /// <exception cref="ArgumentException">Shapes, non-finite entries, marginals that are not positive or do not sum to 1, or an initial plan off them (relative 1e−3).</exception>
    public static ExactGwResult Solve(double[] dx, double[] dy, int n, int m, double[]? a, double[]? b, double[]? init, ExactGwOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(dx);
        ArgumentNullException.ThrowIfNull(dy);
        var o = options ?? new ExactGwOptions();
        o.Validate();
        CheckSquare(dx, n, nameof(dx));
        CheckSquare(dy, m, nameof(dy));
        var aa = Marginal(a, n, nameof(a));
        var bb = Marginal(b, m, nameof(b));
        var sw = Stopwatch.StartNew();
        long nm = (long)n * m;
        var plan = new double[nm];
        var t = new double[nm];
        if (init is null)
        {
            var ra = Times(dx, n, aa, squared: false);
            var rb = Times(dy, m, bb, squared: false);
            Parallel.For(0, n, i => { for (int j = 0; j < m; j++) { plan[(long)i * m + j] = aa[i] * bb[j]; t[(long)i * m + j] = ra[i] * rb[j]; } });
        }
        else
        {
            CheckPlan(init, n, m, aa, bb);
            Array.Copy(init, plan, nm);
            RoundToMarginals(plan, n, m, aa, bb);
            Transform(dx, dy, plan, n, m, t);
        }
        double constant = Dot(aa, Times(dx, n, aa, squared: true)) + Dot(bb, Times(dy, m, bb, squared: true));
        double loss = constant - 2 * Dot(t, plan);
        var neg = new double[nm];
        var tx = new double[nm];
        var scratch = new double[nm];
        var lp = new ExactTransportSolver(n, m, a is null ? null : aa, b is null ? null : bb);
        int it = 0;
        bool converged = false;
        while (it < o.MaxIter)
        {
            it++;
            for (long k = 0; k < nm; k++) neg[k] = -t[k];
            var x = lp.Solve(neg);
            SparseTransform(dx, dy, x, n, m, scratch, tx);
            // Δ = X − Π; L(Π + αΔ) = L(Π) − 4α⟨T(Π), Δ⟩ − 2α²⟨T(Δ), Δ⟩ with T(Δ) = T(X) − T(Π).
            double tDelta = 0, quad = 0;
            var xd = x.ToDense();
            for (long k = 0; k < nm; k++)
            {
                double d = xd[k] - plan[k];
                tDelta += t[k] * d;
                quad += (tx[k] - t[k]) * d;
            }
            double qa = -2 * quad, qb = -4 * tDelta;
            double alpha;
            if (qa > 0) alpha = Math.Clamp(-qb / (2 * qa), 0, 1);
            else alpha = qa + qb < 0 ? 1 : 0;
            // No decrease along X − Π (neither the first-order gap −qb nor the curvature qa gives one): a stationary point.
            // A zero gap with negative curvature (ties in the linearisation, e.g. equal eccentricities) still steps.
            if (!(alpha > 0) || !(qb * alpha + qa * alpha * alpha < 0)) { converged = true; break; }
            double next = loss + qb * alpha + qa * alpha * alpha;
            for (long k = 0; k < nm; k++)
            {
                plan[k] += alpha * (xd[k] - plan[k]);
                t[k] += alpha * (tx[k] - t[k]);
            }
            if (alpha == 1) { Array.Copy(xd, plan, nm); Array.Copy(tx, t, nm); }
            double change = Math.Abs(loss - next);
            loss = next;
            if (change <= o.AbsoluteTol || change <= o.RelativeTol * Math.Abs(loss)) { converged = true; break; }
        }
        // The loss from scratch (the running value accumulates rounding).
        Transform(dx, dy, plan, n, m, t);
        loss = Math.Max(0, constant - 2 * Dot(t, plan));
        return new ExactGwResult(plan, n, m, loss, it, converged, sw.Elapsed.TotalSeconds);
    }

    /// <summary>GW loss Σ_ijkl (D_X,ik − D_Y,jl)² Π_ij Π_kl of any coupling Π (marginals taken from Π itself).</summary>
    public static double Loss(double[] dx, double[] dy, double[] plan, int n, int m)
    {
        CheckSquare(dx, n, nameof(dx));
        CheckSquare(dy, m, nameof(dy));
        if (plan.Length != (long)n * m) throw new ArgumentException($"plan has {plan.Length} entries; expected {n}×{m}.", nameof(plan));
        var t = new double[(long)n * m];
        Transform(dx, dy, plan, n, m, t);
        var p = new double[n];
        var q = new double[m];
        for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) { double v = plan[(long)i * m + j]; p[i] += v; q[j] += v; }
        double s = 0;
        for (int i = 0; i < n; i++) for (int k = 0; k < n; k++) { double d = dx[(long)i * n + k]; s += d * d * p[i] * p[k]; }
        for (int j = 0; j < m; j++) for (int l = 0; l < m; l++) { double d = dy[(long)j * m + l]; s += d * d * q[j] * q[l]; }
        return Math.Max(0, s - 2 * Dot(t, plan));
    }

    /// <summary>T(Π) = D_X Π D_Y for a dense Π (two GEMMs).</summary>
    public static void Transform(double[] dx, double[] dy, double[] plan, int n, int m, double[] output)
    {
        var tmp = new double[(long)n * m];
        MatMulCpu.Gemm(plan, dy, tmp, n, m, m);
        MatMulCpu.Gemm(dx, tmp, output, n, n, m);
    }

    /// <summary>T(X) = D_X (X D_Y) for a sparse X: X D_Y row by row (O(nnz·m)), then one GEMM.</summary>
    private static void SparseTransform(double[] dx, double[] dy, ExactTransportResult x, int n, int m, double[] scratch, double[] output)
    {
        Array.Clear(scratch);
        var start = new int[n + 1];
        for (int k = 0; k < x.Nnz; k++) start[x.Rows[k] + 1]++;
        for (int i = 0; i < n; i++) start[i + 1] += start[i];
        Parallel.For(0, n, i =>
        {
            var row = scratch.AsSpan((int)((long)i * m), m);
            for (int k = start[i]; k < start[i + 1]; k++)
            {
                double w = x.Mass[k];
                var src = dy.AsSpan((int)((long)x.Cols[k] * m), m);
                for (int l = 0; l < m; l++) row[l] += w * src[l];
            }
        });
        MatMulCpu.Gemm(dx, scratch, output, n, n, m);
    }

    private static double Dot(double[] u, double[] v)
    {
        double s = 0;
        for (long k = 0; k < u.Length; k++) s += u[k] * v[k];
        return s;
    }

    /// <summary>
    /// Puts a nearly feasible coupling exactly on U(1/n, 1/m) (Altschuler, Weed &amp; Rigollet 2017, Alg. 2: scale rows and
    /// columns down to their marginals, then add the rank-one remainder); a coupling already in U(a, b) is unchanged.
    /// </summary>
    public static void RoundToMarginals(double[] p, int n, int m) => RoundToMarginals(p, n, m, null, null);

    /// <summary>As <see cref="RoundToMarginals(double[], int, int)"/>, onto U(a, b) (null = uniform).</summary>
    internal static void RoundToMarginals(double[] p, int n, int m, double[]? a, double[]? b)
    {
        double A(int i) => a is null ? 1.0 / n : a[i];
        double B(int j) => b is null ? 1.0 / m : b[j];
        var rs = new double[n];
        var cs = new double[m];
        for (int i = 0; i < n; i++) { double s = 0; for (int j = 0; j < m; j++) s += p[(long)i * m + j]; rs[i] = s > A(i) ? A(i) / s : 1; }
        for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) { p[(long)i * m + j] *= rs[i]; cs[j] += p[(long)i * m + j]; }
        for (int j = 0; j < m; j++) cs[j] = cs[j] > B(j) ? B(j) / cs[j] : 1;
        var er = new double[n];
        var ec = new double[m];
        for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) { double v = p[(long)i * m + j] *= cs[j]; er[i] += v; ec[j] += v; }
        double total = 0;
        for (int i = 0; i < n; i++) { er[i] = Math.Max(0, A(i) - er[i]); total += er[i]; }
        for (int j = 0; j < m; j++) ec[j] = Math.Max(0, B(j) - ec[j]);
        if (total > 0)
            for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) p[(long)i * m + j] += er[i] * ec[j] / total;
    }

    private static void CheckPlan(double[] p, int n, int m, double[] a, double[] b)
    {
        if (p.Length != (long)n * m) throw new ArgumentException($"init has {p.Length} entries; expected {n}×{m}.", "init");
        var col = new double[m];
        for (int i = 0; i < n; i++)
        {
            double s = 0;
            for (int j = 0; j < m; j++)
            {
                double v = p[(long)i * m + j];
                if (!(v >= 0) || !double.IsFinite(v)) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"init[{i}, {j}] = {v}; expected a finite mass ≥ 0."), "init");
                s += v; col[j] += v;
            }
            if (Math.Abs(s / a[i] - 1) > 1e-3) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"init row {i} sums to {s:G6}; expected a_{i} = {a[i]:G6} (within relative 1e-3)."), "init");
        }
        for (int j = 0; j < m; j++)
            if (Math.Abs(col[j] / b[j] - 1) > 1e-3) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"init column {j} sums to {col[j]:G6}; expected b_{j} = {b[j]:G6} (within relative 1e-3)."), "init");
    }

    private static double[] Marginal(double[]? w, int len, string name)
    {
        if (w is null) { var u = new double[len]; Array.Fill(u, 1.0 / len); return u; }
        if (w.Length != len) throw new ArgumentException($"{name} has {w.Length} entries; expected {len}.", name);
        double s = 0;
        for (int k = 0; k < len; k++)
        {
            if (!(w[k] > 0) || !double.IsFinite(w[k])) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{name}[{k}] = {w[k]}; expected a finite mass > 0."), name);
            s += w[k];
        }
        if (Math.Abs(s - 1) > 1e-9) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{name} sums to {s:R}; expected 1."), name);
        return w;
    }

    /// <summary>D·w, or (D⊙D)·w when <paramref name="squared"/>.</summary>
    private static double[] Times(double[] d, int n, double[] w, bool squared)
    {
        var r = new double[n];
        Parallel.For(0, n, i =>
        {
            double acc = 0;
            for (int k = 0; k < n; k++) { double v = d[(long)i * n + k]; acc += (squared ? v * v : v) * w[k]; }
            r[i] = acc;
        });
        return r;
    }

    private static void CheckSquare(double[] d, int n, string name)
    {
        if (n < 1) throw new ArgumentException($"{name}: size {n}; expected ≥ 1.", name);
        if ((long)n * n != d.Length) throw new ArgumentException($"{name} has {d.Length} entries; expected {n}×{n} = {(long)n * n}.", name);
        for (long k = 0; k < d.Length; k++)
            if (!double.IsFinite(d[k])) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{name}[{k / n}, {k % n}] = {d[k]}; expected finite distances."), name);
    }
}
