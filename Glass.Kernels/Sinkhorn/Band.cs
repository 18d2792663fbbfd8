using Glass.Kernels.Linalg;

namespace Glass.Kernels.Sinkhorn;

/// <summary>
/// The band of a 1-D entropic OT problem in sorted order: row i (i-th smallest s) keeps the
/// contiguous columns [Lo_i, Hi_i) of the sorted t with |s_i − t_j| ≤ r = sqrt(−γ log ε)
/// (two-pointer sweep), optionally capped to w columns around the rank diagonal, and always
/// including the support of the north-west-corner (monotone) coupling of the sorted marginals
/// widened by one column each side, so the banded problem is feasible, contains the exact 1-D
/// optimum, and its sparsity pattern has total support (Sinkhorn converges linearly on it). Lo and Hi are
/// non-decreasing, so column j's rows are also contiguous: [RLo_j, RHi_j). CSR row pointers give
/// each band entry a slot; memory O(n + m + nnz), never O(n·m).
/// </summary>
public sealed class Band
{
    /// <summary>Rows (n) and columns (m).</summary>
    public int N, M;
    /// <summary>Band radius r = sqrt(−γ log ε).</summary>
    public double Radius;
    /// <summary>Sorted scores s and t.</summary>
    public double[] S = [], T = [];
    /// <summary>Sorted position → original index, for s and t.</summary>
    public int[] PermS = [], PermT = [];
    /// <summary>Marginals a and b in sorted order.</summary>
    public double[] A = [], B = [];
    /// <summary>Row i keeps sorted columns [Lo_i, Hi_i); RowPtr_i is the CSR slot of its first entry (length n + 1).</summary>
    public int[] Lo = [], Hi = [], RowPtr = [];
    /// <summary>Column j's rows are [RLo_j, RHi_j).</summary>
    public int[] RLo = [], RHi = [];
    /// <summary>Number of band entries.</summary>
    public int Nnz => RowPtr[N];

    /// <summary>Builds the band of sorted scores (with their permutations), marginals a, b (original order) and γ.</summary>
    public static Band Build(double[] sSorted, int[] permS, double[] tSorted, int[] permT, double[] a, double[] b,
        double gamma, BandOptions opt)
    {
        int n = sSorted.Length, m = tSorted.Length;
        double r = Math.Sqrt(-gamma * Math.Log(opt.BandEps));
        var band = new Band
        {
            N = n, M = m, Radius = r, S = sSorted, T = tSorted, PermS = permS, PermT = permT,
            A = new double[n], B = new double[m], Lo = new int[n], Hi = new int[n],
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
            // One extra column each side: the staircase then has total support, so Sinkhorn converges
            // linearly even where the radius window is tight (sparse tails), instead of stalling.
            int nwLo = Math.Max(0, jl - 1), nwHi = Math.Min(m, jh + 2);

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
            // Rows are contiguous: join the radius window and the monotone support when they overlap
            // or touch. When they are disjoint (a tail row whose neighbours in score are far from its
            // partners in rank) the gap between them would be filled too, so keep the monotone support
            // alone — the exact plan lives there, and refinement widens it if the potentials ask.
            if (rLo >= rHi || rLo > nwHi || rHi < nwLo) { band.Lo[i] = nwLo; band.Hi[i] = nwHi; }
            else { band.Lo[i] = Math.Min(rLo, nwLo); band.Hi[i] = Math.Max(rHi, nwHi); }
            lowA = highA;
        }
        band.Finish();
        return band;
    }

    /// <summary>Monotone staircase (only ever widens rows), CSR row pointers and column ranges.</summary>
    private void Finish()
    {
        int n = N, m = M;
        RowPtr = new int[n + 1];
        RLo = new int[m];
        RHi = new int[m];
        // Enforce monotone staircase (only ever widens rows).
        for (int i = 1; i < n; i++) Hi[i] = Math.Max(Hi[i], Hi[i - 1]);
        for (int i = n - 2; i >= 0; i--) Lo[i] = Math.Min(Lo[i], Lo[i + 1]);

        long nnz = 0;
        for (int i = 0; i < n; i++)
        {
            RowPtr[i] = (int)nnz;
            nnz += Hi[i] - Lo[i];
            if (nnz > int.MaxValue)
                throw new ArgumentException($"The band has more than {int.MaxValue} entries (n = {n}, m = {m}, radius {Radius:G4}); lower gamma, raise band_eps or set a rank cap.", "gamma");
        }
        RowPtr[n] = (int)nnz;

        // Column ranges: rows i with Lo_i ≤ j < Hi_i.
        int p = 0, q = 0;
        for (int j = 0; j < m; j++)
        {
            while (p < n && Hi[p] <= j) p++;
            while (q < n && Lo[q] <= j) q++;
            RLo[j] = p;
            RHi[j] = Math.Max(p, q);
        }
    }

    /// <summary>
    /// Widens the band where the solved plan says it is too tight. The paper's band keeps
    /// exp(−C_ij/γ) ≥ ε, which ignores the potentials: where the transport moves mass further than
    /// r (sparse tails, shifted distributions) plan entries above ε times their row's peak fall
    /// outside it. With potentials f, g the log-plan z_ij = (f_i + g_j − C_ij)/γ is concave along
    /// each sorted row (t ↦ t² − g(t) is a log-sum-exp of affine functions), so the set
    /// {j : z_ij ≥ max_j z_ij + log ε} is an interval: each row is extended outward while the entries
    /// stay within ε of the running peak. Returns null when no row grows.
    /// </summary>
    public Band? Refine(double[] f, double[] g, double gamma, double eps)
    {
        double invG = 1 / gamma, logEps = Math.Log(eps);
        var lo = (int[])Lo.Clone();
        var hi = (int[])Hi.Clone();
        int grown = 0;
        Parallel.For(0, N, () => 0, (i, _, count) =>
        {
            if (double.IsNegativeInfinity(f[i])) return count;
            double si = S[i], fi = f[i];
            double Z(int j) { double d = si - T[j]; return (fi + g[j] - d * d) * invG; }
            double peak = double.NegativeInfinity;
            for (int j = lo[i]; j < hi[i]; j++) peak = Math.Max(peak, Z(j));
            int l = lo[i], h = hi[i];
            while (l > 0) { double z = Z(l - 1); if (z < peak + logEps) break; peak = Math.Max(peak, z); l--; }
            while (h < M) { double z = Z(h); if (z < peak + logEps) break; peak = Math.Max(peak, z); h++; }
            if (l < lo[i] || h > hi[i]) { lo[i] = l; hi[i] = h; count++; }
            return count;
        }, c => Interlocked.Add(ref grown, c));
        if (grown == 0) return null;
        var band = new Band { N = N, M = M, Radius = Radius, S = S, T = T, PermS = PermS, PermT = PermT, A = A, B = B, Lo = lo, Hi = hi };
        band.Finish();
        return band;
    }

    /// <summary>
    /// Builds the caller-order CSR plan from band values in sorted order (row i ↔ s[PermS[i]],
    /// columns sorted ascending by original index within each row).
    /// </summary>
    public CsrMatrix ToOriginalOrder(double[] values) =>
        ToOriginalOrder((i, slot) => values.AsSpan(RowPtr[i], slot.Length).CopyTo(slot), null);

    /// <summary>Writes sorted row <paramref name="row"/>'s band values (Hi − Lo of them, in sorted column order) into <paramref name="slot"/>.</summary>
    public delegate void RowValues(int row, Span<double> slot);

    /// <summary>
    /// Builds a caller-order CSR matrix on the band whose sorted row i's values <paramref name="fill"/> writes: rows are
    /// independent, so each is filled straight into its caller-order slot and sorted by column there, in parallel.
    /// The values go into <paramref name="storage"/> when it holds exactly nnz entries, else into a fresh array; the
    /// column indices are always fresh. Fresh arrays are taken uninitialised (every entry is written), so their pages
    /// are first touched by the parallel loop rather than by a single-threaded zeroing pass.
    /// </summary>
    public CsrMatrix ToOriginalOrder(RowValues fill, double[]? storage)
    {
        var rowPtr = new int[N + 1];
        for (int i = 0; i < N; i++) rowPtr[PermS[i] + 1] = Hi[i] - Lo[i];
        for (int i = 0; i < N; i++) rowPtr[i + 1] += rowPtr[i];
        var cols = GC.AllocateUninitializedArray<int>(Nnz);
        var vals = storage is not null && storage.Length == Nnz ? storage : GC.AllocateUninitializedArray<double>(Nnz);
        int chunks = Math.Max(1, Math.Min(N, Environment.ProcessorCount * 16));
        Parallel.For(0, chunks, c =>
        {
            int i0 = (int)((long)N * c / chunks), i1 = (int)((long)N * (c + 1) / chunks);
            for (int i = i0; i < i1; i++)
            {
                int lo = Lo[i], len = Hi[i] - lo, dst = rowPtr[PermS[i]];
                var vs = vals.AsSpan(dst, len);
                fill(i, vs);
                var cs = cols.AsSpan(dst, len);
                PermT.AsSpan(lo, len).CopyTo(cs);
                cs.Sort(vs);
            }
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
