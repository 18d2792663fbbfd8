using Glass.Kernels.Chebyshev;
using Glass.Kernels.Device;
using Glass.Kernels.Linalg;
using Glass.Models.Glass;

namespace Glass.Models.Data;

/// <summary>
/// Diffusion features ψ_τ of GLASS Eq. 3/5, by model.graph.features (<see cref="GraphFeatureMode"/>): structural (the
/// default, below), spectral (<see cref="Spectral"/>) or probes (<see cref="Probes"/>).
/// structural: eigenvector-free ψ_τ = exp(−τL)·V, n×p, by the degree-q
/// Chebyshev expansion (<see cref="HeatKernel.Apply"/>), where V = H·R/√h is a fixed seeded Gaussian
/// projection R (h×p) of h structural node signals H (n×h): log(1 + degree) and the local clustering
/// coefficient, each averaged over 0, 1, 2 and 3 random-walk hops ((D^{-1}W)^k·h), columns standardised.
/// </summary>
/// <remarks>
/// Why not random probe vectors V ~ N(0, I)? Those give a Johnson–Lindenstrauss sketch of the diffusion
/// distance within one graph, but two graphs' probes are unrelated under the unknown node correspondence
/// π, so ψ^X(i) and ψ^Y(π(i)) would not be comparable and L_spec (Eq. 5) could not align anything.
/// Every signal in H is a function of the graph alone, so for Y = π(X): H_Y = Π H_X, V_Y = Π V_X and
/// ψ^Y(π(i)) = ψ^X(i) exactly (permutation equivariance — the automorphism invariance of §6 —, which
/// eigenvector features (e^{−τλ_ℓ}u_ℓ(v)) only have up to signs and rotations within eigenspaces).
/// R is shared by both graphs (same seed). Cost O(nnz·(h + q·p)).
/// </remarks>
public static class GraphFeatures
{
    /// <summary>Number of structural signals h.</summary>
    internal const int Signals = 8;

    /// <summary>ψ_τ = exp(−τL)·V for one graph (n×p row-major); use the same seed for both graphs of a pair.</summary>
    /// <param name="adjacency">Symmetric W, n×n CSR, zero diagonal.</param>
    /// <param name="options">tau, cheby_degree, feat_dim.</param>
    /// <param name="seed">Seed of the projection R.</param>
    /// <param name="device">Where the Chebyshev recurrence runs.</param>
    /// <exception cref="ArgumentException">Bad adjacency or options; the message names them.</exception>
    public static double[] Diffusion(CsrMatrix adjacency, GraphProjectionOptions options, int seed, ComputeDevice? device = null)
    {
        ArgumentNullException.ThrowIfNull(adjacency);
        ArgumentNullException.ThrowIfNull(options);
        GlassValidation.Check(options);
        var lap = Laplacian.Normalized(adjacency);
        int n = adjacency.Rows, p = options.FeatDim;
        if (options.Features == GraphFeatureMode.Spectral) return Spectral(lap, n, p, options.Tau);
        if (options.Features == GraphFeatureMode.Probes)
            return HeatKernel.Apply(device ?? ComputeDevice.Cpu, lap, Probes(n, p, seed), p, options.Tau, options.ChebyDegree);
        var h = Structural(adjacency);
        var rng = new Random(seed);
        var r = new double[Signals * p];
        for (int k = 0; k < r.Length; k++) r[k] = S2Pair.Gauss(rng) / Math.Sqrt(Signals);
        var v = new double[n * p];
        for (int i = 0; i < n; i++)
            for (int a = 0; a < Signals; a++)
            {
                double hv = h[i * Signals + a];
                for (int j = 0; j < p; j++) v[i * p + j] += hv * r[a * p + j];
            }
        return HeatKernel.Apply(device ?? ComputeDevice.Cpu, lap, v, p, options.Tau, options.ChebyDegree);
    }

    /// <summary>
    /// features: spectral — the heat-kernel spectral embedding of GLASS Eq. 3, ψ_τ(v) = (e^{−τλ_ℓ} u_ℓ(v))_{ℓ=1..p} for
    /// the p smallest eigenpairs (λ_ℓ, u_ℓ) of the normalised Laplacian L (dense eigendecomposition, O(n³); columns beyond
    /// n are 0). Each u_ℓ's sign is fixed by Σ_v u_ℓ(v)³ &gt; 0 (a relabelling-invariant convention), so ψ is
    /// permutation-equivariant up to rotations within repeated eigenvalues and eigenvectors whose third moment is 0.
    /// </summary>
    internal static double[] Spectral(CsrMatrix lap, int n, int p, double tau)
    {
        var a = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int k = lap.RowPtr[i]; k < lap.RowPtr[i + 1]; k++) a[i * n + lap.ColIdx[k]] += lap.Values[k];
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++) { double m = 0.5 * (a[i * n + j] + a[j * n + i]); a[i * n + j] = m; a[j * n + i] = m; }
        var (lam, vec) = SymmetricEigen.Solve(a, n);
        var psi = new double[n * p];
        for (int l = 0; l < Math.Min(p, n); l++)
        {
            double m3 = 0;
            for (int v = 0; v < n; v++) m3 += vec[v * n + l] * vec[v * n + l] * vec[v * n + l];
            double scale = Math.Exp(-tau * lam[l]) * (m3 < 0 ? -1 : 1);
            for (int v = 0; v < n; v++) psi[v * p + l] = scale * vec[v * n + l];
        }
        return psi;
    }

    /// <summary>
    /// features: probes — V n×p of seeded random ±1 probes (diffused by the caller, ψ = e^{−τL}V): a sketch of diffusion
    /// distances within one graph; the same seed gives both graphs the same probes by node index, so without a shared
    /// node order ψ^X and ψ^Y are not comparable (the control the remarks above describe).
    /// </summary>
    internal static double[] Probes(int n, int p, int seed)
    {
        var rng = new Random(seed);
        var v = new double[n * p];
        for (int k = 0; k < v.Length; k++) v[k] = rng.Next(2) == 0 ? -1 : 1;
        return v;
    }

    /// <summary>H, n×h: log(1+deg), clustering coefficient, and their 1–3 hop random-walk averages, standardised columns.</summary>
    internal static double[] Structural(CsrMatrix w)
    {
        int n = w.Rows;
        var rp = w.RowPtr; var ci = w.ColIdx;
        var deg = new double[n];
        var logDeg = new double[n];
        for (int i = 0; i < n; i++) { deg[i] = rp[i + 1] - rp[i]; logDeg[i] = Math.Log(1 + deg[i]); }
        var clus = new double[n];
        // Exact per-node triangle counts: t_i = ½ Σ_{j ∈ N(i)} |N(i) ∩ N(j)|.
        for (int i = 0; i < n; i++)
        {
            long t = 0;
            for (int k = rp[i]; k < rp[i + 1]; k++) t += Intersect(ci, rp[i], rp[i + 1], rp[ci[k]], rp[ci[k] + 1]);
            double d = deg[i];
            clus[i] = d > 1 ? t / (d * (d - 1)) : 0; // (t/2) / (d(d−1)/2)
        }
        var h = new double[n * Signals];
        var cols = new List<double[]>();
        foreach (var baseSig in new[] { logDeg, clus })
        {
            var cur = baseSig;
            for (int hop = 0; hop < Signals / 2; hop++)
            {
                cols.Add(cur);
                var next = new double[n];
                for (int i = 0; i < n; i++)
                {
                    double s = 0;
                    for (int k = rp[i]; k < rp[i + 1]; k++) s += cur[ci[k]];
                    next[i] = rp[i + 1] > rp[i] ? s / (rp[i + 1] - rp[i]) : cur[i];
                }
                cur = next;
            }
        }
        for (int a = 0; a < Signals; a++)
        {
            var c = cols[a];
            double mean = c.Average(), var = 0;
            foreach (var z in c) var += (z - mean) * (z - mean);
            double sd = Math.Sqrt(var / n);
            for (int i = 0; i < n; i++) h[i * Signals + a] = sd > 1e-12 ? (c[i] - mean) / sd : 0;
        }
        return h;
    }

    private static int Intersect(int[] ci, int a0, int a1, int b0, int b1)
    {
        int c = 0;
        while (a0 < a1 && b0 < b1)
        {
            if (ci[a0] == ci[b0]) { c++; a0++; b0++; }
            else if (ci[a0] < ci[b0]) a0++;
            else b0++;
        }
        return c;
    }
}
