using Glass.Kernels.Linalg;

namespace Glass.Kernels.Sinkhorn;

/// <summary>
/// The band of a 1-D entropic OT problem in sorted order: row i (i-th smallest s) keeps the
/// contiguous columns [Lo_i, Hi_i) of the sorted t with |s_i − t_j| ≤ r = sqrt(−γ log ε)
/// (two-pointer sweep), optionally capped to w columns around the rank diagonal, and always
/// including the support of the north-west-corner (monotone) coupling of the sorted marginals,
/// so the banded problem is feasible and contains the exact 1-D optimum. Lo and Hi are
/// non-decreasing, so column j's rows are also contiguous: [RLo_j, RHi_j). CSR row pointers give
/// each band entry a slot; memory O(n + m + nnz), never O(n·m).
/// </summary>
internal sealed class Band
{
    public int N, M;
    public double Radius;
    public double[] S = [], T = [];          // sorted scores
    public int[] PermS = [], PermT = [];     // sorted position → original index
    public double[] A = [], B = [];          // marginals in sorted order
    public int[] Lo = [], Hi = [], RowPtr = [];
    public int[] RLo = [], RHi = [];
    public int Nnz => RowPtr[N];

    public static Band Build(double[] sSorted, int[] permS, double[] tSorted, int[] permT, double[] a, double[] b,
        double gamma, BandOptions opt)
    {
        int n = sSorted.Length, m = tSorted.Length;
        double r = Math.Sqrt(-gamma * Math.Log(opt.BandEps));
        var band = new Band
        {
            N = n, M = m, Radius = r, S = sSorted, T = tSorted, PermS = permS, PermT = permT,
            A = new double[n], B = new double[m], Lo = new int[n], Hi = new int[n], RowPtr = new int[n + 1],
            RLo = new int[m], RHi = new int[m],
        };
        for (int i = 0; i < n; i++) band.A[i] = a[permS[i]];
        for (int j = 0; j < m; j++) band.B[j] = b[permT[j]];

        // North-west-corner support: row i's mass interval [cumA_{i−1}, cumA_i) against the columns'.
        var cumB = new double[m];
        double acc = 0;
        for (int j = 0; j < m; j++) { acc += band.B[j]; cumB[j] = acc; }
        const double tiny = 1e-12;
        double lowA = 0;
        int jl = 0, jh = 0;
        int lo = 0, hi = 0;
        for (int i = 0; i < n; i++)
        {
            double highA = lowA + band.A[i];
            while (jl < m - 1 && cumB[jl] <= lowA + tiny) jl++;
            if (jh < jl) jh = jl;
            while (jh < m - 1 && cumB[jh] < highA - tiny) jh++;
            int nwLo = jl, nwHi = jh + 1;

            // Radius window by two pointers on the sorted scores.
            double si = sSorted[i];
            while (lo < m && tSorted[lo] < si - r) lo++;
            if (hi < lo) hi = lo;
            while (hi < m && tSorted[hi] <= si + r) hi++;
            int rLo = lo, rHi = hi;
            if (opt.RankCap is { } w)
            {
                double c = (i + 0.5) * m / n;
                int capLo = Math.Max(0, (int)Math.Floor(c - 0.5 * w));
                int capHi = Math.Min(m, capLo + w);
                rLo = Math.Max(rLo, capLo);
                rHi = Math.Min(rHi, capHi);
            }
            if (rLo >= rHi) { band.Lo[i] = nwLo; band.Hi[i] = nwHi; }
            else { band.Lo[i] = Math.Min(rLo, nwLo); band.Hi[i] = Math.Max(rHi, nwHi); }
            lowA = highA;
        }
        // Enforce monotone staircase (only ever widens rows).
        for (int i = 1; i < n; i++) band.Hi[i] = Math.Max(band.Hi[i], band.Hi[i - 1]);
        for (int i = n - 2; i >= 0; i--) band.Lo[i] = Math.Min(band.Lo[i], band.Lo[i + 1]);

        long nnz = 0;
        for (int i = 0; i < n; i++)
        {
            band.RowPtr[i] = (int)nnz;
            nnz += band.Hi[i] - band.Lo[i];
            if (nnz > int.MaxValue)
                throw new ArgumentException($"The band has more than {int.MaxValue} entries (n = {n}, m = {m}, radius {r:G4}); lower gamma, raise band_eps or set a rank cap.", nameof(gamma));
        }
        band.RowPtr[n] = (int)nnz;

        // Column ranges: rows i with Lo_i ≤ j < Hi_i.
        int p = 0, q = 0;
        for (int j = 0; j < m; j++)
        {
            while (p < n && band.Hi[p] <= j) p++;
            while (q < n && band.Lo[q] <= j) q++;
            band.RLo[j] = p;
            band.RHi[j] = Math.Max(p, q);
        }
        return band;
    }

    /// <summary>
    /// Builds the caller-order CSR plan from band values in sorted order (row i ↔ s[PermS[i]],
    /// columns sorted ascending by original index within each row).
    /// </summary>
    public CsrMatrix ToOriginalOrder(double[] values)
    {
        var rowLen = new int[N];
        for (int i = 0; i < N; i++) rowLen[PermS[i]] = Hi[i] - Lo[i];
        var rowPtr = new int[N + 1];
        for (int i = 0; i < N; i++) rowPtr[i + 1] = rowPtr[i] + rowLen[i];
        var cols = new int[Nnz];
        var vals = new double[Nnz];
        Parallel.For(0, N, i =>
        {
            int o = PermS[i], dst = rowPtr[o], len = Hi[i] - Lo[i];
            for (int k = 0; k < len; k++)
            {
                cols[dst + k] = PermT[Lo[i] + k];
                vals[dst + k] = values[RowPtr[i] + k];
            }
            Array.Sort(cols, vals, dst, len);
        });
        return new CsrMatrix(N, M, rowPtr, cols, vals, trusted: true);
    }

    /// <summary>Potentials from sorted to original order.</summary>
    public static double[] Unpermute(double[] sorted, int[] perm)
    {
        var o = new double[sorted.Length];
        for (int i = 0; i < sorted.Length; i++) o[perm[i]] = sorted[i];
        return o;
    }
}
