using System.Globalization;
using Glass.Kernels.Linalg;

namespace Glass.Models.Metrics;

/// <summary>FOSCTTM per sample and its mean (learned-GW paper, Appendix).</summary>
/// <param name="Mean">FOSCTTM = (1/2N) Σ_i (p_i + q_i) ∈ [0, 1]; 0 is a perfect alignment.</param>
/// <param name="P">p_i = |{j : d(u_i, v_j) &lt; d(u_i, v_i)}| / N, length N.</param>
/// <param name="Q">q_i = |{j : d(v_i, u_j) &lt; d(v_i, u_i)}| / N, length N.</param>
public sealed record FoscttmResult(double Mean, double[] P, double[] Q)
{
    /// <summary>(p_i + q_i)/2 sorted ascending: the "sorted FOSCTTM" curve of the paper's Fig. 6.</summary>
    public double[] SortedCurve()
    {
        var c = new double[P.Length];
        for (int i = 0; i < c.Length; i++) c[i] = 0.5 * (P[i] + Q[i]);
        Array.Sort(c);
        return c;
    }
}

/// <summary>Alignment metrics of the learned-GW paper: FOSCTTM, label-transfer accuracy, GW loss.</summary>
public static class AlignmentMetrics
{
    /// <summary>
    /// Fraction of samples closer than the true match, exactly as the learned-GW paper's Appendix
    /// defines it: U, V (N×d each, row i of U matches row i of V), Euclidean d_Z,
    /// p_i = |{j : d(u_i, v_j) &lt; d(u_i, v_i)}|/N, q_i likewise from v_i, FOSCTTM = (1/2N)Σ(p_i + q_i).
    /// (SCOT divides by N − 1 instead of N; multiply by N/(N − 1) to compare at that convention.)
    /// Strict inequality: ties do not count. Cost O(N²d) time, O(N) memory beyond the inputs (tiles of rows).
    /// </summary>
    /// <param name="u">U, N×d row-major.</param>
    /// <param name="v">V, N×d row-major.</param>
    /// <param name="n">N.</param>
    /// <param name="d">Dimension of the common space.</param>
    /// <exception cref="ArgumentException">Shapes differ or a non-finite value.</exception>
    public static FoscttmResult Foscttm(double[] u, double[] v, int n, int d)
    {
        ArgumentNullException.ThrowIfNull(u);
        ArgumentNullException.ThrowIfNull(v);
        Gw.Distances.CheckPoints(u, n, d, "u");
        Gw.Distances.CheckPoints(v, n, d, "v");
        var p = new double[n];
        var q = new double[n];
        var colCount = new int[n];
        var diag = new double[n];
        for (int i = 0; i < n; i++) diag[i] = Sq(u, i, v, i, d);
        const int tile = 256;
        int tiles = (n + tile - 1) / tile;
        var partialQ = new int[tiles][];
        Parallel.For(0, tiles, t =>
        {
            var local = new int[n];
            int i0 = t * tile, i1 = Math.Min(n, i0 + tile);
            for (int i = i0; i < i1; i++)
            {
                int cnt = 0;
                for (int j = 0; j < n; j++)
                {
                    double dij = Sq(u, i, v, j, d);
                    if (dij < diag[i]) cnt++;
                    if (dij < diag[j]) local[j]++; // u_i closer to v_j than v_j's true match u_j
                }
                p[i] = (double)cnt / n;
            }
            partialQ[t] = local;
        });
        for (int t = 0; t < tiles; t++) for (int j = 0; j < n; j++) colCount[j] += partialQ[t][j];
        double s = 0;
        for (int i = 0; i < n; i++) { q[i] = (double)colCount[i] / n; s += p[i] + q[i]; }
        return new FoscttmResult(s / (2.0 * n), p, q);
    }

    /// <summary>
    /// FOSCTTM over a subset S of the paired rows: <see cref="Foscttm(double[], double[], int, int)"/> on U' = (u_i)_{i∈S},
    /// V' = (v_i)_{i∈S}, so N' = |S| replaces N and only rows of S count as closer:
    /// p_i = |{j ∈ S : d(u_i, v_j) &lt; d(u_i, v_i)}|/N', q_i likewise, FOSCTTM = (1/2N')Σ_{i∈S}(p_i + q_i).
    /// P and Q of the result follow the order of <paramref name="rows"/>.
    /// </summary>
    /// <param name="u">U, N×d row-major.</param>
    /// <param name="v">V, N×d row-major.</param>
    /// <param name="n">N.</param>
    /// <param name="d">Dimension.</param>
    /// <param name="rows">S: distinct row indices in [0, N), at least one.</param>
    /// <exception cref="ArgumentException">An index out of range or repeated, an empty subset, or as the full overload.</exception>
    public static FoscttmResult Foscttm(double[] u, double[] v, int n, int d, IReadOnlyList<int> rows)
    {
        ArgumentNullException.ThrowIfNull(u);
        ArgumentNullException.ThrowIfNull(v);
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0) throw new ArgumentException("Foscttm: empty row subset; expected at least one row.", nameof(rows));
        if (u.Length != (long)n * d || v.Length != (long)n * d)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Foscttm: U has {u.Length}, V {v.Length} values; expected {n}×{d}."));
        var seen = new bool[n];
        var us = new double[(long)rows.Count * d];
        var vs = new double[(long)rows.Count * d];
        for (int k = 0; k < rows.Count; k++)
        {
            int i = rows[k];
            if (i < 0 || i >= n) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Foscttm: row {i} outside [0, {n})."), nameof(rows));
            if (seen[i]) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Foscttm: row {i} given twice in the subset."), nameof(rows));
            seen[i] = true;
            Array.Copy(u, (long)i * d, us, (long)k * d, d);
            Array.Copy(v, (long)i * d, vs, (long)k * d, d);
        }
        return Foscttm(us, vs, rows.Count, d);
    }

    /// <summary>
    /// The rows of a paired alignment (row i of X ↔ row i of Y, N rows) that no known pair touches: S = {i ∈ [0, N) : no
    /// pair (a, b) has a = i or b = i}. With known pairs of true partners (i, i) these are the rows that are not anchors;
    /// <c>Foscttm(u, v, n, d, UnanchoredRows(n, pairs))</c> is the FOSCTTM on them alone ("foscttm_unanchored").
    /// </summary>
    /// <param name="n">N.</param>
    /// <param name="knownPairs">Known pairs (row of X, row of Y); indices outside [0, N) are ignored.</param>
    public static int[] UnanchoredRows(int n, IEnumerable<(int X, int Y)> knownPairs)
    {
        ArgumentNullException.ThrowIfNull(knownPairs);
        var anchored = new bool[n];
        foreach (var (a, b) in knownPairs)
        {
            if (a >= 0 && a < n) anchored[a] = true;
            if (b >= 0 && b < n) anchored[b] = true;
        }
        return Enumerable.Range(0, n).Where(i => !anchored[i]).ToArray();
    }

    private static double Sq(double[] a, int i, double[] b, int j, int d)
    {
        double s = 0;
        for (int k = 0; k < d; k++) { double e = a[i * d + k] - b[j * d + k]; s += e * e; }
        return s;
    }

    /// <summary>
    /// Label-transfer accuracy: a k-nearest-neighbour classifier (Euclidean, majority vote, ties broken
    /// by the nearest of the tied labels) trained on the aligned reference rows predicts each query row's
    /// label; returns the fraction predicted correctly.
    /// </summary>
    /// <param name="reference">Reference rows (e.g. Y in the common space), nr×d.</param>
    /// <param name="referenceLabels">Their labels, length nr.</param>
    /// <param name="query">Query rows (e.g. X projected into the common space), nq×d.</param>
    /// <param name="queryLabels">True labels of the queries, length nq.</param>
    /// <param name="d">Dimension.</param>
    /// <param name="k">Neighbours (≥ 1, ≤ nr).</param>
    /// <exception cref="ArgumentException">Label counts that differ from row counts, k out of range, non-finite values.</exception>
    public static double LabelTransferAccuracy(double[] reference, int[] referenceLabels, double[] query, int[] queryLabels, int d, int k = 5)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(referenceLabels);
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(queryLabels);
        if (d < 1 || reference.Length % d != 0 || query.Length % d != 0) throw new ArgumentException($"LabelTransferAccuracy: d = {d} does not divide the row data.", nameof(d));
        int nr = reference.Length / d, nq = query.Length / d;
        if (referenceLabels.Length != nr) throw new ArgumentException($"LabelTransferAccuracy: {referenceLabels.Length} reference labels for {nr} reference rows.", nameof(referenceLabels));
        if (queryLabels.Length != nq) throw new ArgumentException($"LabelTransferAccuracy: {queryLabels.Length} query labels for {nq} query rows.", nameof(queryLabels));
        if (k < 1 || k > nr) throw new ArgumentException($"LabelTransferAccuracy: k = {k}; expected 1 ≤ k ≤ {nr}.", nameof(k));
        Gw.Distances.CheckPoints(reference, nr, d, "reference");
        Gw.Distances.CheckPoints(query, nq, d, "query");
        int correct = 0;
        object gate = new();
        Parallel.For(0, nq, () => 0, (i, _, acc) =>
        {
            var dist = new double[nr];
            var idx = new int[nr];
            for (int j = 0; j < nr; j++) { dist[j] = Sq(query, i, reference, j, d); idx[j] = j; }
            Array.Sort(dist, idx);
            var votes = new Dictionary<int, (int Count, int First)>();
            for (int t = 0; t < k; t++)
            {
                int lab = referenceLabels[idx[t]];
                votes[lab] = votes.TryGetValue(lab, out var c) ? (c.Count + 1, c.First) : (1, t);
            }
            int best = votes.OrderByDescending(kv => kv.Value.Count).ThenBy(kv => kv.Value.First).First().Key;
            return acc + (best == queryLabels[i] ? 1 : 0);
        }, acc => { lock (gate) correct += acc; });
        return (double)correct / nq;
    }

    /// <summary>
    /// GW loss of a coupling Π (n×m) with the square loss, Σ_ijkl (D_X,ik − D_Y,jl)² Π_ij Π_kl, computed
    /// without the 4-D tensor: pᵀ(D_X⊙D_X)p + qᵀ(D_Y⊙D_Y)q − 2⟨D_X Π D_Y, Π⟩ with p = Π1, q = Πᵀ1
    /// (learned-GW Eq. 4 up to the 1/N² scale of a permutation coupling). O(n²m + nm²) time, O(nm) memory.
    /// </summary>
    /// <param name="dx">D_X, n×n symmetric.</param>
    /// <param name="dy">D_Y, m×m symmetric.</param>
    /// <param name="plan">Π, n×m.</param>
    /// <param name="n">n.</param>
    /// <param name="m">m.</param>
    public static double GwLoss(double[] dx, double[] dy, double[] plan, int n, int m)
    {
        ArgumentNullException.ThrowIfNull(dx);
        ArgumentNullException.ThrowIfNull(dy);
        ArgumentNullException.ThrowIfNull(plan);
        if (dx.Length != (long)n * n || dy.Length != (long)m * m || plan.Length != (long)n * m)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"GwLoss: D_X {dx.Length}, D_Y {dy.Length}, Π {plan.Length} entries; expected {n}×{n}, {m}×{m}, {n}×{m}."));
        var p = new double[n];
        var q = new double[m];
        for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) { double v = plan[(long)i * m + j]; p[i] += v; q[j] += v; }
        double s = 0;
        var rx = Kernels.Gw.GwLinearizationCpu.SquaredTimes(dx, n, p);
        var ry = Kernels.Gw.GwLinearizationCpu.SquaredTimes(dy, m, q);
        for (int i = 0; i < n; i++) s += rx[i] * p[i];
        for (int j = 0; j < m; j++) s += ry[j] * q[j];
        var tmp = new double[(long)n * m];
        var g = new double[(long)n * m];
        MatMulCpu.Gemm(dx, plan, tmp, n, n, m);
        MatMulCpu.Gemm(tmp, dy, g, n, m, m);
        double cross = 0;
        for (long k = 0; k < g.Length; k++) cross += g[k] * plan[k];
        return s - 2 * cross;
    }
}
