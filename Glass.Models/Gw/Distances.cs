using System.Globalization;
using Glass.Kernels.Linalg;

namespace Glass.Models.Gw;

/// <summary>Intra-domain dissimilarity used for D_X, D_Y (learned-GW paper Eq. 2–6).</summary>
public enum DistanceMetric
{
    /// <summary>‖x_i − x_j‖₂.</summary>
    Euclidean,
    /// <summary>‖x_i − x_j‖₂² (POT's square-loss GW on point sets uses this).</summary>
    SqEuclidean,
    /// <summary>1 − ⟨x_i, x_j⟩ / (‖x_i‖‖x_j‖); a zero row is an error.</summary>
    Cosine,
    /// <summary>1 − Pearson correlation of rows x_i and x_j (each row centred by its own mean); a constant row is an error.</summary>
    Correlation,
    /// <summary>Shortest-path length on the k-nearest-neighbour graph (SCOT's recipe; see <see cref="DistanceOptions"/>).</summary>
    Geodesic,
}

/// <summary>Edge weights of the kNN graph used by <see cref="DistanceMetric.Geodesic"/>.</summary>
public enum KnnWeights
{
    /// <summary>Every edge has length 1 (hop counts; SCOT's default <c>mode="connectivity"</c>).</summary>
    Connectivity,
    /// <summary>Edge length = the base metric's distance (<c>mode="distance"</c>).</summary>
    Distance,
}

/// <summary>What <see cref="DistanceMetric.Geodesic"/> does when the kNN graph has several connected components.</summary>
public enum DisconnectedPolicy
{
    /// <summary>Stop with an <see cref="ArgumentException"/> naming the number of components and suggesting a larger k.</summary>
    Fail,
    /// <summary>
    /// SCOT's fallback: infinite path lengths between components are replaced by the largest finite
    /// path length (before normalisation); <see cref="DistanceMatrix.Components"/> reports how many components there were.
    /// </summary>
    ReplaceByMax,
}

/// <summary>How D_X or D_Y is computed from a point set (names match the YAML keys of the gw configs).</summary>
public sealed record DistanceOptions
{
    /// <summary>The dissimilarity (default geodesic on a kNN graph, as SCOT).</summary>
    public DistanceMetric Metric { get; init; } = DistanceMetric.Geodesic;
    /// <summary>Neighbours per point of the kNN graph (geodesic only); 1 ≤ k &lt; n.</summary>
    public int K { get; init; } = 30;
    /// <summary>Metric used to find neighbours and (with <see cref="KnnWeights.Distance"/>) edge lengths; SCOT uses correlation.</summary>
    public DistanceMetric KnnMetric { get; init; } = DistanceMetric.Correlation;
    /// <summary>Edge weights of the kNN graph.</summary>
    public KnnWeights Weights { get; init; } = KnnWeights.Connectivity;
    /// <summary>Divide the matrix by its largest entry so that max D = 1 (SCOT normalises geodesic distances this way).</summary>
    public bool NormalizeByMax { get; init; } = true;
    /// <summary>Disconnected kNN graph: fail or replace ∞ by the largest finite distance (default; reported in the result).</summary>
    public DisconnectedPolicy Disconnected { get; init; } = DisconnectedPolicy.ReplaceByMax;
}

/// <summary>A symmetric n×n dissimilarity matrix with zero diagonal.</summary>
/// <param name="Values">Row-major n×n values.</param>
/// <param name="N">Number of points.</param>
/// <param name="Components">Connected components of the kNN graph (1 for non-graph metrics).</param>
/// <param name="Scale">The factor the raw matrix was divided by (its max when normalised, else 1).</param>
public sealed record DistanceMatrix(double[] Values, int N, int Components, double Scale)
{
    /// <summary>True when the kNN graph was disconnected and ∞ entries were replaced by the finite maximum.</summary>
    public bool ReplacedInfinite => Components > 1;
}

/// <summary>
/// Intra-domain distance matrices D_X, D_Y (learned-GW paper §3; SCOT, Demetci et al. 2022):
/// Euclidean, cosine, correlation and kNN-graph geodesic distances, optionally normalised by the maximum.
/// Memory O(n²); use only for training-size sets (the inductive path never forms them).
/// </summary>
public static class Distances
{
    /// <summary>D for the rows of x (n×d, row-major).</summary>
    /// <param name="x">Points, n×d row-major, finite.</param>
    /// <param name="n">Rows.</param>
    /// <param name="d">Columns.</param>
    /// <param name="options">Metric, kNN settings, normalisation.</param>
    /// <param name="name">Name used in error messages (e.g. the file the points came from).</param>
    /// <exception cref="ArgumentException">Shape mismatch, NaN/Inf, zero rows (cosine), constant rows (correlation), k ∉ [1, n), or a disconnected graph under <see cref="DisconnectedPolicy.Fail"/>.</exception>
    public static DistanceMatrix Compute(double[] x, int n, int d, DistanceOptions options, string name = "x")
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(options);
        CheckPoints(x, n, d, name);
        double[] D;
        int components = 1;
        if (options.Metric == DistanceMetric.Geodesic)
        {
            if (options.KnnMetric == DistanceMetric.Geodesic)
                throw new ArgumentException($"{name}: KnnMetric = Geodesic; expected euclidean, sqeuclidean, cosine or correlation.", nameof(options));
            if (options.K < 1 || options.K >= n)
                throw new ArgumentException($"{name}: k = {options.K} nearest neighbours with n = {n} points; expected 1 ≤ k < n.", nameof(options));
            var baseD = Pairwise(x, n, d, options.KnnMetric, name);
            var graph = KnnGraph(baseD, n, options.K, options.Weights == KnnWeights.Distance);
            (D, components) = ShortestPaths(graph, n);
            if (components > 1)
            {
                if (options.Disconnected == DisconnectedPolicy.Fail)
                    throw new ArgumentException($"{name}: the {options.K}-nearest-neighbour graph has {components} connected components; geodesic distances between them are infinite. Raise k or use DisconnectedPolicy.ReplaceByMax.", nameof(options));
                double mx = 0;
                foreach (var v in D) if (double.IsFinite(v)) mx = Math.Max(mx, v);
                for (int k = 0; k < D.Length; k++) if (!double.IsFinite(D[k])) D[k] = mx;
            }
        }
        else
        {
            D = Pairwise(x, n, d, options.Metric, name);
        }
        double scale = 1;
        if (options.NormalizeByMax)
        {
            double mx = 0;
            foreach (var v in D) mx = Math.Max(mx, v);
            if (mx > 0) { scale = mx; for (int k = 0; k < D.Length; k++) D[k] /= mx; }
        }
        return new DistanceMatrix(D, n, components, scale);
    }

    internal static void CheckPoints(double[] x, int n, int d, string name)
    {
        if (n < 1 || d < 1) throw new ArgumentException($"{name}: shape {n}×{d}; expected positive dimensions.");
        if ((long)n * d != x.Length) throw new ArgumentException($"{name}: {x.Length} values; expected n·d = {n}·{d}.");
        for (int k = 0; k < x.Length; k++)
            if (!double.IsFinite(x[k]))
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{name}: value at row {k / d}, column {k % d} is {x[k]}; expected finite numbers."));
    }

    /// <summary>Dense pairwise dissimilarities (not graph-based), n×n, exact zeros on the diagonal.</summary>
    internal static double[] Pairwise(double[] x, int n, int d, DistanceMetric metric, string name)
    {
        var z = (double[])x.Clone();
        if (metric is DistanceMetric.Cosine or DistanceMetric.Correlation)
        {
            for (int i = 0; i < n; i++)
            {
                var row = z.AsSpan(i * d, d);
                if (metric == DistanceMetric.Correlation)
                {
                    double mean = 0;
                    foreach (var v in row) mean += v;
                    mean /= d;
                    for (int k = 0; k < d; k++) row[k] -= mean;
                }
                double s = 0;
                foreach (var v in row) s += v * v;
                if (!(s > 1e-300))
                    throw new ArgumentException(metric == DistanceMetric.Correlation
                        ? $"{name}: row {i} is constant; the correlation distance is undefined for it (drop the row or use metric euclidean)."
                        : $"{name}: row {i} is all zeros; the cosine distance is undefined for it.");
                double inv = 1 / Math.Sqrt(s);
                for (int k = 0; k < d; k++) row[k] *= inv;
            }
        }
        var norms = new double[n];
        for (int i = 0; i < n; i++) { double s = 0; for (int k = 0; k < d; k++) s += z[i * d + k] * z[i * d + k]; norms[i] = s; }
        var G = new double[(long)n * n];
        MatMulCpu.Gemm(z, z, G, n, d, n, transB: true);
        Parallel.For(0, n, i =>
        {
            for (int j = 0; j < n; j++)
            {
                double v;
                if (i == j) v = 0;
                else if (metric is DistanceMetric.Cosine or DistanceMetric.Correlation) v = Math.Max(0, 1 - G[(long)i * n + j]);
                else
                {
                    double sq = Math.Max(0, norms[i] + norms[j] - 2 * G[(long)i * n + j]);
                    v = metric == DistanceMetric.SqEuclidean ? sq : Math.Sqrt(sq);
                }
                G[(long)i * n + j] = v;
            }
        });
        // Exact symmetry (the GEMM's rounding is not symmetric).
        for (int i = 0; i < n; i++) for (int j = i + 1; j < n; j++) { double v = 0.5 * (G[(long)i * n + j] + G[(long)j * n + i]); G[(long)i * n + j] = v; G[(long)j * n + i] = v; }
        return G;
    }

    /// <summary>Undirected kNN graph (edge i–j if j is among i's k nearest or vice versa), CSR with lengths (1 or the distance).</summary>
    internal static CsrMatrix KnnGraph(double[] D, int n, int k, bool distanceWeights)
    {
        var nbrs = KNearest(D, n, k);
        var sets = new SortedDictionary<int, double>[n];
        for (int i = 0; i < n; i++) sets[i] = new SortedDictionary<int, double>();
        for (int i = 0; i < n; i++)
            foreach (int j in nbrs[i])
            {
                double w = distanceWeights ? D[(long)i * n + j] : 1.0;
                sets[i][j] = w;
                sets[j][i] = w;
            }
        var rowPtr = new int[n + 1];
        for (int i = 0; i < n; i++) rowPtr[i + 1] = rowPtr[i] + sets[i].Count;
        var col = new int[rowPtr[n]];
        var val = new double[rowPtr[n]];
        for (int i = 0; i < n; i++)
        {
            int p = rowPtr[i];
            foreach (var (j, w) in sets[i]) { col[p] = j; val[p] = w; p++; }
        }
        return new CsrMatrix(n, n, rowPtr, col, val);
    }

    /// <summary>Indices of the k nearest other points of each row (ties broken by index).</summary>
    internal static int[][] KNearest(double[] D, int n, int k)
    {
        var result = new int[n][];
        Parallel.For(0, n, i =>
        {
            var idx = new int[n - 1];
            var key = new double[n - 1];
            int p = 0;
            for (int j = 0; j < n; j++) if (j != i) { idx[p] = j; key[p] = D[(long)i * n + j]; p++; }
            Array.Sort(key, idx);
            // Array.Sort is unstable: re-sort equal keys by index for determinism.
            int s = 0;
            while (s < idx.Length)
            {
                int e = s + 1;
                while (e < idx.Length && key[e] == key[s]) e++;
                if (e - s > 1) Array.Sort(idx, s, e - s);
                s = e;
            }
            result[i] = idx[..k];
        });
        return result;
    }

    /// <summary>All-pairs shortest paths on an undirected graph (BFS for unit lengths, Dijkstra otherwise); ∞ between components.</summary>
    internal static (double[] D, int Components) ShortestPaths(CsrMatrix g, int n)
    {
        var D = new double[(long)n * n];
        bool unit = g.Values.All(v => v == 1.0);
        Parallel.For(0, n, s =>
        {
            var dist = D.AsSpan((int)((long)s * n), n);
            dist.Fill(double.PositiveInfinity);
            dist[s] = 0;
            if (unit)
            {
                var queue = new int[n];
                int head = 0, tail = 0;
                queue[tail++] = s;
                while (head < tail)
                {
                    int u = queue[head++];
                    double du = dist[u] + 1;
                    for (int p = g.RowPtr[u]; p < g.RowPtr[u + 1]; p++)
                    {
                        int v = g.ColIdx[p];
                        if (double.IsPositiveInfinity(dist[v])) { dist[v] = du; queue[tail++] = v; }
                    }
                }
            }
            else
            {
                var pq = new PriorityQueue<int, double>();
                var done = new bool[n];
                pq.Enqueue(s, 0);
                while (pq.TryDequeue(out int u, out double du))
                {
                    if (done[u]) continue;
                    done[u] = true;
                    for (int p = g.RowPtr[u]; p < g.RowPtr[u + 1]; p++)
                    {
                        int v = g.ColIdx[p];
                        double nd = du + g.Values[p];
                        if (nd < dist[v]) { dist[v] = nd; pq.Enqueue(v, nd); }
                    }
                }
            }
        });
        // Components from row 0.. by union of reachability.
        var comp = new int[n];
        Array.Fill(comp, -1);
        int count = 0;
        for (int i = 0; i < n; i++)
        {
            if (comp[i] >= 0) continue;
            for (int j = 0; j < n; j++) if (double.IsFinite(D[(long)i * n + j])) comp[j] = count;
            count++;
        }
        return (D, count);
    }

    /// <summary>
    /// Combinatorial Laplacian L = Deg − Ω of the symmetrised kNN graph with unit weights (learned-GW Eq. 5),
    /// from a dissimilarity matrix; CSR n×n (rows sum to 0).
    /// </summary>
    internal static CsrMatrix KnnLaplacian(double[] D, int n, int k)
    {
        if (k < 1 || k >= n) throw new ArgumentException($"spectral k = {k} with n = {n} points; expected 1 ≤ k < n.");
        var g = KnnGraph(D, n, k, distanceWeights: false);
        var rowPtr = new int[n + 1];
        var cols = new List<int>(g.Nnz + n);
        var vals = new List<double>(g.Nnz + n);
        for (int i = 0; i < n; i++)
        {
            double deg = 0;
            for (int p = g.RowPtr[i]; p < g.RowPtr[i + 1]; p++) deg += g.Values[p];
            bool placed = false;
            for (int p = g.RowPtr[i]; p < g.RowPtr[i + 1]; p++)
            {
                int j = g.ColIdx[p];
                if (!placed && j > i) { cols.Add(i); vals.Add(deg); placed = true; }
                cols.Add(j); vals.Add(-g.Values[p]);
            }
            if (!placed) { cols.Add(i); vals.Add(deg); }
            rowPtr[i + 1] = cols.Count;
        }
        return new CsrMatrix(n, n, rowPtr, cols.ToArray(), vals.ToArray());
    }
}
