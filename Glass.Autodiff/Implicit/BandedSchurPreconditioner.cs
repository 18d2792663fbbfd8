namespace Glass.Autodiff.Implicit;

/// <summary>
/// Preconditioner for the Schur complement of the banded implicit backward. With the column block
/// eliminated exactly (its diagonal block diag(c) is diagonal), Hλ = (u, v) becomes
/// S λ_f = u − P diag(1/c) v, λ_g = diag(1/c)(v − Pᵀλ_f), where
/// S = diag(r) − P diag(1/c) Pᵀ is the Laplacian of the row graph with weights
/// W_ii' = Σ_j P_ij P_i'j / c_j (S·1 = 0). For a 1-D band this graph is a thickened path in the
/// order of the sorted scores, so its ill-conditioning is the path's (smooth modes along the sorted
/// order, κ ~ n²), which Jacobi cannot touch. M = the Laplacian of the same graph truncated to
/// |pos(i) − pos(i')| ≤ β in sorted order (a banded, still connected, spanning subgraph — Vaidya's
/// support-graph idea), plus δ·mean(diag)·I to fix the constant null vector, factored once as
/// LDLᵀ in O(n·β²) and applied in O(n·β) per CG step.
/// </summary>
internal sealed class BandedSchurPreconditioner
{
    private const double Regularization = 1e-10;
    private readonly int _n;
    private readonly int _beta;
    private readonly int[] _order;   // sorted position → original row
    private readonly double[] _l;    // L[p, k] = L_{p, p−k−1}, n×β
    private readonly double[] _d;
    private readonly double[] _work;

    /// <summary>Builds M from the plan (CSR, original order), its column sums c and the row scores s (which fix the order); O(n·β·nnz/n + n·β²).</summary>
    public BandedSchurPreconditioner(CsrPlanData plan, double[] c, double[] s, int beta)
    {
        int n = plan.Rows;
        _n = n;
        _beta = beta = Math.Max(1, Math.Min(beta, n - 1));
        _order = new int[n];
        for (int i = 0; i < n; i++) _order[i] = i;
        var keys = (double[])s.Clone();
        Array.Sort(keys, _order);

        // Truncated Laplacian in sorted order: off-diagonals −W_pq for 0 < p − q ≤ β, W_pq = Σ_j P_pj P_qj / c_j
        // (row p scattered into a per-thread dense scratch, each earlier row q gathered against it; rows in parallel);
        // diagonal Σ_q W_pq over the kept q.
        int m = plan.Cols;
        var cinv = new double[m];
        for (int j = 0; j < m; j++) cinv[j] = c[j] > 0 ? 1 / c[j] : 0;
        var band = new double[(long)n * beta];   // band[p·β + k] = M_{p, p−k−1}
        var rp = plan.RowPtr; var ci = plan.ColIdx; var pv = plan.Values;
        int blocks = Math.Min(n, Environment.ProcessorCount * 8);
        int per = (n + blocks - 1) / blocks;
        Parallel.For(0, blocks, () => new double[m], (blk, _, scratch) =>
        {
            int p1 = Math.Min(n, (blk + 1) * per);
            for (int p = blk * per; p < p1; p++)
            {
                int i = _order[p];
                for (int k = rp[i]; k < rp[i + 1]; k++) scratch[ci[k]] = pv[k] * cinv[ci[k]];
                for (int q = Math.Max(0, p - beta); q < p; q++)
                {
                    int iq = _order[q];
                    double w = 0;
                    for (int k = rp[iq]; k < rp[iq + 1]; k++) w += pv[k] * scratch[ci[k]];
                    band[(long)p * beta + (p - q - 1)] = -w;
                }
                for (int k = rp[i]; k < rp[i + 1]; k++) scratch[ci[k]] = 0;
            }
            return scratch;
        }, _ => { });
        var diag = new double[n];
        for (int p = 0; p < n; p++)
            for (int q = Math.Max(0, p - beta); q < p; q++)
            {
                double w = -band[(long)p * beta + (p - q - 1)];
                diag[p] += w;
                diag[q] += w;
            }
        double mean = 0;
        for (int p = 0; p < n; p++) mean += diag[p];
        mean = Math.Max(mean / n, double.Epsilon);
        for (int p = 0; p < n; p++) diag[p] += Regularization * mean;

        // Banded LDLᵀ.
        _l = band;
        _d = diag;
        for (int p = 0; p < n; p++)
        {
            int q0 = Math.Max(0, p - beta);
            for (int q = q0; q < p; q++)
            {
                double sum = _l[(long)p * beta + (p - q - 1)];
                for (int t = Math.Max(q0, q - beta); t < q; t++)
                    sum -= _l[(long)p * beta + (p - t - 1)] * _l[(long)q * beta + (q - t - 1)] * _d[t];
                _l[(long)p * beta + (p - q - 1)] = sum / _d[q];
            }
            double dp = _d[p];
            for (int t = q0; t < p; t++) { double lpt = _l[(long)p * beta + (p - t - 1)]; dp -= lpt * lpt * _d[t]; }
            _d[p] = dp > Regularization * mean ? dp : Regularization * mean;
        }
        _work = new double[n];
    }

    /// <summary>z = M⁻¹ r (original row order), projected to mean zero (S's range).</summary>
    public void Apply(ReadOnlySpan<double> r, Span<double> z)
    {
        int n = _n, beta = _beta;
        var y = _work;
        for (int p = 0; p < n; p++)
        {
            double sum = r[_order[p]];
            int q0 = Math.Max(0, p - beta);
            for (int q = q0; q < p; q++) sum -= _l[(long)p * beta + (p - q - 1)] * y[q];
            y[p] = sum;
        }
        for (int p = 0; p < n; p++) y[p] /= _d[p];
        for (int p = n - 1; p >= 0; p--)
        {
            double sum = y[p];
            int q1 = Math.Min(n - 1, p + beta);
            for (int q = p + 1; q <= q1; q++) sum -= _l[(long)q * beta + (q - p - 1)] * y[q];
            y[p] = sum;
        }
        double mean = 0;
        for (int p = 0; p < n; p++) mean += y[p];
        mean /= n;
        for (int p = 0; p < n; p++) z[_order[p]] = y[p] - mean;
    }
}

/// <summary>The raw CSR arrays of a plan (original order).</summary>
internal readonly record struct CsrPlanData(int Rows, int Cols, int[] RowPtr, int[] ColIdx, double[] Values);
