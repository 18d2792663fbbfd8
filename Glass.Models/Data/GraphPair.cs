using Glass.Kernels.Chebyshev;
using Glass.Kernels.Linalg;
using Glass.Models.Glass;

namespace Glass.Models.Data;

/// <summary>
/// Two undirected graphs to align and, when known, the ground-truth node correspondence
/// (GLASS §7.4; the reference's graph_data.py). Adjacencies are symmetric CSR (zero diagonal);
/// Laplacians are L = I − D^{-1/2} W D^{-1/2} (<see cref="Laplacian.Normalized"/>).
/// </summary>
/// <param name="AdjacencyX">W_X, n×n CSR.</param>
/// <param name="AdjacencyY">W_Y, m×m CSR.</param>
/// <param name="GroundTruth">π: node i of X corresponds to node π(i) of Y; null when unknown.</param>
/// <param name="BlocksX">Community of each node of X (SBM), or null.</param>
public sealed record GraphPair(CsrMatrix AdjacencyX, CsrMatrix AdjacencyY, int[]? GroundTruth, int[]? BlocksX)
{
    /// <summary>L_X = I − D_X^{-1/2} W_X D_X^{-1/2}.</summary>
    public CsrMatrix LaplacianX => _lx ??= Laplacian.Normalized(AdjacencyX);
    /// <summary>L_Y = I − D_Y^{-1/2} W_Y D_Y^{-1/2}.</summary>
    public CsrMatrix LaplacianY => _ly ??= Laplacian.Normalized(AdjacencyY);
    private CsrMatrix? _lx, _ly;

    /// <summary>
    /// A stochastic-block-model pair, deterministic in (options, seed). G_X: n nodes in `blocks` contiguous,
    /// near-equal communities; each pair {i, j} is an edge with probability p_in (same block) or p_out.
    /// G_Y: G_X with each edge rewired with probability rewire_prob (removed, and a uniformly random non-edge
    /// added, so the edge count is kept), then relabelled by a random permutation π (planted_perm; identity
    /// otherwise): node i of X is node π(i) of Y. O(n²) draws.
    /// </summary>
    /// <exception cref="ArgumentException">An option out of range; the message names the key.</exception>
    public static GraphPair Sbm(SbmDataOptions options, int seed)
    {
        ArgumentNullException.ThrowIfNull(options);
        GlassValidation.Check(options);
        int n = options.N, k = options.Blocks;
        var rng = new Random(seed);
        var block = new int[n];
        for (int i = 0; i < n; i++) block[i] = (int)((long)i * k / n);
        var edges = new List<(int, int)>();
        var set = new HashSet<long>();
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++)
                if (rng.NextDouble() < (block[i] == block[j] ? options.PIn : options.POut)) { edges.Add((i, j)); set.Add(Key(i, j, n)); }
        var ex = edges.ToArray();

        // Rewire on a copy: each edge with probability rewire_prob moves to a random non-edge.
        var ySet = new HashSet<long>(set);
        var yEdges = new List<(int, int)>(ex);
        long maxEdges = (long)n * (n - 1) / 2;
        for (int e = 0; e < yEdges.Count; e++)
        {
            if (!(rng.NextDouble() < options.RewireProb) || ySet.Count >= maxEdges) continue;
            int a, b;
            do { a = rng.Next(n); b = rng.Next(n); } while (a == b || ySet.Contains(Key(Math.Min(a, b), Math.Max(a, b), n)));
            var (i, j) = yEdges[e];
            ySet.Remove(Key(i, j, n));
            yEdges[e] = (Math.Min(a, b), Math.Max(a, b));
            ySet.Add(Key(Math.Min(a, b), Math.Max(a, b), n));
        }
        var perm = Enumerable.Range(0, n).ToArray();
        if (options.PlantedPerm) rng.Shuffle(perm);
        var permuted = yEdges.Select(e => (perm[e.Item1], perm[e.Item2])).ToArray();
        return new GraphPair(FromEdges(n, ex, null), FromEdges(n, permuted, null), perm, block);
    }

    private static long Key(int i, int j, int n) => (long)i * n + j;

    /// <summary>A symmetric CSR adjacency from undirected edges {i, j} (i ≠ j), weight 1 unless given.</summary>
    internal static CsrMatrix FromEdges(int n, IReadOnlyList<(int I, int J)> edges, IReadOnlyList<double>? weights)
    {
        var deg = new int[n];
        foreach (var (i, j) in edges) { deg[i]++; deg[j]++; }
        var rp = new int[n + 1];
        for (int i = 0; i < n; i++) rp[i + 1] = rp[i] + deg[i];
        var ci = new int[rp[n]];
        var v = new double[rp[n]];
        var fill = (int[])rp.Clone();
        for (int e = 0; e < edges.Count; e++)
        {
            var (i, j) = edges[e];
            double w = weights?[e] ?? 1.0;
            ci[fill[i]] = j; v[fill[i]++] = w;
            ci[fill[j]] = i; v[fill[j]++] = w;
        }
        for (int i = 0; i < n; i++)
        {
            Array.Sort(ci, v, rp[i], rp[i + 1] - rp[i]);
        }
        return new CsrMatrix(n, n, rp, ci, v);
    }
}
