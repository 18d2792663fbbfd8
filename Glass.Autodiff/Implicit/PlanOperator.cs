using Glass.Kernels.Linalg;

namespace Glass.Autodiff.Implicit;

/// <summary>
/// A plan P (n×m, non-negative) seen only through products P·x and Pᵀ·y — all the implicit
/// backward needs. Dense row-major or CSR; each product is O(n·m) resp. O(nnz).
/// </summary>
internal abstract class PlanOperator
{
    protected PlanOperator(int n, int m) { N = n; M = m; }
    public int N { get; }
    public int M { get; }

    /// <summary>y = P·x (x length m, y length n).</summary>
    public abstract void Apply(ReadOnlySpan<double> x, Span<double> y);

    /// <summary>x = Pᵀ·y (y length n, x length m).</summary>
    public abstract void ApplyTranspose(ReadOnlySpan<double> y, Span<double> x);
}

/// <summary>Dense row-major n×m plan.</summary>
internal sealed class DensePlan(double[] p, int n, int m) : PlanOperator(n, m)
{
    private const int ParallelWork = 1 << 15;
    private const int ColumnBlock = 64;

    public override void Apply(ReadOnlySpan<double> x, Span<double> y)
    {
        int m = M;
        if ((long)N * m < ParallelWork)
        {
            for (int i = 0; i < N; i++) y[i] = Dot(p.AsSpan(i * m, m), x);
            return;
        }
        var xa = x.ToArray();
        var ya = new double[N];
        Parallel.For(0, N, i => ya[i] = Dot(p.AsSpan(i * m, m), xa));
        ya.CopyTo(y);
    }

    public override void ApplyTranspose(ReadOnlySpan<double> y, Span<double> x)
    {
        int n = N, m = M;
        if ((long)n * m < ParallelWork)
        {
            x.Clear();
            for (int i = 0; i < n; i++)
            {
                double yi = y[i];
                var row = p.AsSpan(i * m, m);
                for (int j = 0; j < m; j++) x[j] += row[j] * yi;
            }
            return;
        }
        // Column blocks in parallel: each block sweeps the rows, so the writes never race.
        var ya = y.ToArray();
        var xa = new double[m];
        int blocks = (m + ColumnBlock - 1) / ColumnBlock;
        Parallel.For(0, blocks, blk =>
        {
            int j0 = blk * ColumnBlock, j1 = Math.Min(m, j0 + ColumnBlock);
            Span<double> acc = stackalloc double[ColumnBlock];
            acc.Clear();
            for (int i = 0; i < n; i++)
            {
                double yi = ya[i];
                int off = i * m;
                for (int j = j0; j < j1; j++) acc[j - j0] += p[off + j] * yi;
            }
            for (int j = j0; j < j1; j++) xa[j] = acc[j - j0];
        });
        xa.CopyTo(x);
    }

    private static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double s = 0;
        for (int j = 0; j < a.Length; j++) s += a[j] * b[j];
        return s;
    }
}

/// <summary>CSR plan (the banded solver's output, caller's original order); products O(nnz), no n×m storage.</summary>
/// <remarks>Pᵀ·y gathers through a transposed copy of the pattern (built once), so both products run row-parallel.</remarks>
internal sealed class CsrPlan : PlanOperator
{
    private const int ParallelNnz = 1 << 16;
    private readonly CsrMatrix _p;
    private readonly int[] _tPtr;
    private readonly int[] _tIdx;
    private readonly double[] _tVal;

    public CsrPlan(CsrMatrix p) : base(p.Rows, p.Cols)
    {
        _p = p;
        int m = p.Cols, nnz = p.Nnz;
        _tPtr = new int[m + 1];
        for (int k = 0; k < nnz; k++) _tPtr[p.ColIdx[k] + 1]++;
        for (int j = 0; j < m; j++) _tPtr[j + 1] += _tPtr[j];
        var next = (int[])_tPtr.Clone();
        _tIdx = new int[nnz];
        _tVal = new double[nnz];
        for (int i = 0; i < p.Rows; i++)
            for (int k = p.RowPtr[i]; k < p.RowPtr[i + 1]; k++)
            {
                int e = next[p.ColIdx[k]]++;
                _tIdx[e] = i;
                _tVal[e] = p.Values[k];
            }
    }

    public CsrPlanData Data => new(_p.Rows, _p.Cols, _p.RowPtr, _p.ColIdx, _p.Values);

    public override void Apply(ReadOnlySpan<double> x, Span<double> y) => Gather(_p.RowPtr, _p.ColIdx, _p.Values, N, x, y);

    public override void ApplyTranspose(ReadOnlySpan<double> y, Span<double> x) => Gather(_tPtr, _tIdx, _tVal, M, y, x);

    private static void Gather(int[] ptr, int[] idx, double[] val, int rows, ReadOnlySpan<double> x, Span<double> y)
    {
        if (ptr[rows] < ParallelNnz)
        {
            for (int i = 0; i < rows; i++)
            {
                double s = 0;
                for (int k = ptr[i]; k < ptr[i + 1]; k++) s += val[k] * x[idx[k]];
                y[i] = s;
            }
            return;
        }
        var xa = x.ToArray();
        var ya = new double[rows];
        int blocks = Environment.ProcessorCount * 4;
        int per = (rows + blocks - 1) / blocks;
        Parallel.For(0, blocks, blk =>
        {
            int i1 = Math.Min(rows, (blk + 1) * per);
            for (int i = blk * per; i < i1; i++)
            {
                double s = 0;
                for (int k = ptr[i]; k < ptr[i + 1]; k++) s += val[k] * xa[idx[k]];
                ya[i] = s;
            }
        });
        ya.CopyTo(y);
    }
}

/// <summary>
/// Preconditioned conjugate gradients for Hλ = rhs with H = [[diag(r), P],[Pᵀ, diag(c)]],
/// r = P1, c = Pᵀ1 (the Sinkhorn optimality Jacobian times γ). H is symmetric positive
/// semi-definite — H = Σ_ij P_ij (e_i + e'_j)(e_i + e'_j)ᵀ — with null vector ν = (1_n, −1_m)
/// (one-dimensional when the plan's bipartite support graph is connected). The right-hand sides
/// used here are orthogonal to ν, so the system is consistent; the residual is projected onto
/// ν^⊥ every step so rounding cannot feed the null direction. Jacobi preconditioner
/// diag(1/r, 1/c) (zero where a marginal is zero); the preconditioned spectrum is
/// 1 ± σ_k(diag(r)^{-1/2} P diag(c)^{-1/2}), so CG needs few steps unless the plan is nearly
/// block-diagonal (γ → 0 with separated clusters).
/// </summary>
internal static class PlanCg
{
    public static (double[] Lambda, int Iterations, double Residual, bool Converged) Solve(
        PlanOperator plan, double[] rhs, ImplicitOptions options)
    {
        int n = plan.N, m = plan.M, d = n + m;
        var ones = new double[Math.Max(n, m)];
        Array.Fill(ones, 1.0);
        var r = new double[n];
        var c = new double[m];
        plan.Apply(ones.AsSpan(0, m), r);
        plan.ApplyTranspose(ones.AsSpan(0, n), c);
        var minv = new double[d];
        for (int i = 0; i < n; i++) minv[i] = r[i] > 0 ? 1 / r[i] : 0;
        for (int j = 0; j < m; j++) minv[n + j] = c[j] > 0 ? 1 / c[j] : 0;

        var lambda = new double[d];
        double rhsNorm = Norm(rhs);
        if (rhsNorm == 0) return (lambda, 0, 0, true);

        var res = (double[])rhs.Clone();
        ProjectOutNull(res, n);
        var z = new double[d];
        for (int k = 0; k < d; k++) z[k] = minv[k] * res[k];
        var dir = (double[])z.Clone();
        var hd = new double[d];
        double rz = Dot(res, z);
        int it = 0;
        double target = options.Tol * rhsNorm;
        while (it < options.MaxIter && Norm(res) > target)
        {
            ApplyH(plan, r, c, dir, hd);
            double dhd = Dot(dir, hd);
            if (!(dhd > 0)) break; // direction in the null space: nothing left to reduce
            double alpha = rz / dhd;
            for (int k = 0; k < d; k++) { lambda[k] += alpha * dir[k]; res[k] -= alpha * hd[k]; }
            ProjectOutNull(res, n);
            for (int k = 0; k < d; k++) z[k] = minv[k] * res[k];
            double rzNew = Dot(res, z);
            double beta = rzNew / rz;
            rz = rzNew;
            for (int k = 0; k < d; k++) dir[k] = z[k] + beta * dir[k];
            it++;
        }
        // True residual, not the recursive estimate.
        ApplyH(plan, r, c, lambda, hd);
        for (int k = 0; k < d; k++) hd[k] -= rhs[k];
        double rel = Norm(hd) / rhsNorm;
        return (lambda, it, rel, rel <= options.Tol);
    }

    /// <summary>
    /// The same system with the column block eliminated exactly: CG on the Schur complement
    /// S = diag(r) − P diag(1/c) Pᵀ (n×n, never formed; one P·x and one Pᵀ·y per step) preconditioned
    /// by <see cref="BandedSchurPreconditioner"/> (banded LDLᵀ of S's truncation in sorted-score order),
    /// then λ_g = diag(1/c)(v − Pᵀλ_f). The H residual equals the Schur residual (the g block is solved
    /// exactly), so the stopping rule ‖Hλ − rhs‖ ≤ tol·‖rhs‖ is the same as <see cref="Solve"/>'s.
    /// </summary>
    public static (double[] Lambda, int Iterations, double Residual, bool Converged) SolveBandedSchur(
        CsrPlan plan, double[] s, double[] rhs, ImplicitOptions options)
    {
        int n = plan.N, m = plan.M, d = n + m;
        var ones = new double[Math.Max(n, m)];
        Array.Fill(ones, 1.0);
        var r = new double[n];
        var c = new double[m];
        plan.Apply(ones.AsSpan(0, m), r);
        plan.ApplyTranspose(ones.AsSpan(0, n), c);
        var cinv = new double[m];
        for (int j = 0; j < m; j++) cinv[j] = c[j] > 0 ? 1 / c[j] : 0;

        var lambda = new double[d];
        double rhsNorm = Norm(rhs);
        if (rhsNorm == 0) return (lambda, 0, 0, true);

        var tmpM = new double[m];
        var tmpN = new double[n];
        // b' = u − P diag(1/c) v
        for (int j = 0; j < m; j++) tmpM[j] = cinv[j] * rhs[n + j];
        plan.Apply(tmpM, tmpN);
        var res = new double[n];
        for (int i = 0; i < n; i++) res[i] = rhs[i] - tmpN[i];
        CenterInPlace(res);

        void ApplyS(double[] x, double[] y)
        {
            plan.ApplyTranspose(x, tmpM);
            for (int j = 0; j < m; j++) tmpM[j] *= cinv[j];
            plan.Apply(tmpM, y);
            for (int i = 0; i < n; i++) y[i] = r[i] * x[i] - y[i];
        }

        long nnz = plan.Data.RowPtr[n];
        int bandwidth = options.SchurBandwidth > 0 ? options.SchurBandwidth : (int)Math.Clamp(2 * nnz / Math.Max(1, n), 16, 64);
        var pre = new BandedSchurPreconditioner(plan.Data, c, s, bandwidth);
        var x = new double[n];
        var z = new double[n];
        pre.Apply(res, z);
        var dir = (double[])z.Clone();
        var sd = new double[n];
        double rz = Dot(res, z);
        int it = 0;
        double target = options.Tol * rhsNorm;
        while (it < options.MaxIter && Norm(res) > target)
        {
            ApplyS(dir, sd);
            double dsd = Dot(dir, sd);
            if (!(dsd > 0)) break;
            double alpha = rz / dsd;
            for (int i = 0; i < n; i++) { x[i] += alpha * dir[i]; res[i] -= alpha * sd[i]; }
            CenterInPlace(res);
            pre.Apply(res, z);
            double rzNew = Dot(res, z);
            double beta = rzNew / rz;
            rz = rzNew;
            for (int i = 0; i < n; i++) dir[i] = z[i] + beta * dir[i];
            it++;
        }
        // λ_g = diag(1/c)(v − Pᵀ λ_f)
        plan.ApplyTranspose(x, tmpM);
        for (int i = 0; i < n; i++) lambda[i] = x[i];
        for (int j = 0; j < m; j++) lambda[n + j] = cinv[j] * (rhs[n + j] - tmpM[j]);
        var hd = new double[d];
        ApplyH(plan, r, c, lambda, hd);
        for (int k = 0; k < d; k++) hd[k] -= rhs[k];
        double rel = Norm(hd) / rhsNorm;
        return (lambda, it, rel, rel <= options.Tol);
    }

    private static void CenterInPlace(double[] v)
    {
        double mean = 0;
        for (int k = 0; k < v.Length; k++) mean += v[k];
        mean /= v.Length;
        for (int k = 0; k < v.Length; k++) v[k] -= mean;
    }

    /// <summary>y = Hx: (r ⊙ x_f + P x_g, Pᵀ x_f + c ⊙ x_g).</summary>
    private static void ApplyH(PlanOperator plan, double[] r, double[] c, double[] x, double[] y)
    {
        int n = plan.N, m = plan.M;
        var xf = x.AsSpan(0, n); var xg = x.AsSpan(n, m);
        var yf = y.AsSpan(0, n); var yg = y.AsSpan(n, m);
        plan.Apply(xg, yf);
        plan.ApplyTranspose(xf, yg);
        for (int i = 0; i < n; i++) yf[i] += r[i] * xf[i];
        for (int j = 0; j < m; j++) yg[j] += c[j] * xg[j];
    }

    /// <summary>v ← v − (v·ν)ν / (ν·ν), ν = (1_n, −1_m).</summary>
    private static void ProjectOutNull(double[] v, int n)
    {
        double s = 0;
        for (int k = 0; k < v.Length; k++) s += k < n ? v[k] : -v[k];
        s /= v.Length;
        for (int k = 0; k < v.Length; k++) v[k] -= k < n ? s : -s;
    }

    private static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (int k = 0; k < a.Length; k++) s += a[k] * b[k];
        return s;
    }

    private static double Norm(double[] a) => Math.Sqrt(Dot(a, a));
}
