using System.Diagnostics;
using System.Globalization;
using Glass.Kernels.Device;
using Glass.Kernels.Sinkhorn;

namespace Glass.Models.Gw;

// Multiscale starts: k-means clusters, the cluster-level GW problem, lifting to all points.
public static partial class GwAligner
{
    /// <summary>
    /// The multiscale starts (<see cref="GwSolverOptions.Clusters"/>): k-means clusters of both sides, the cluster-level GW
    /// problem solved from the product coupling and from random couplings, and the best distinct coarse plans spread
    /// evenly over their clusters' members (each already in U(1/n, 1/m)).
    /// </summary>
    private static List<double[]> Multiscale(double[] zx, int n, int dX, double[] dx, double[] zy, int m, int dY, double[] dy, GwSolverOptions o, Random rng)
    {
        var lx = KMeans(zx, n, dX, o.Clusters, rng);
        var ly = KMeans(zy, m, dY, o.Clusters, rng);
        var (cdx, wx) = ClusterDistances(dx, n, lx, o.Clusters);
        var (cdy, wy) = ClusterDistances(dy, m, ly, o.Clusters);
        int kx = wx.Length, ky = wy.Length;
        var coarse = new List<ExactGwResult> { ExactGw.Solve(cdx, cdy, kx, ky, wx, wy, null, o.Exact) };
        for (int r = 0; r < o.CoarseRestarts; r++)
        {
            var start = new double[kx * ky];
            for (int k = 0; k < start.Length; k++) start[k] = -Math.Log(1 - rng.NextDouble());
            for (int round = 0; round < 50; round++)
            {
                for (int a = 0; a < kx; a++) { double s = 0; for (int b = 0; b < ky; b++) s += start[a * ky + b]; for (int b = 0; b < ky; b++) start[a * ky + b] *= wx[a] / s; }
                for (int b = 0; b < ky; b++) { double s = 0; for (int a = 0; a < kx; a++) s += start[a * ky + b]; for (int a = 0; a < kx; a++) start[a * ky + b] *= wy[b] / s; }
            }
            ExactGw.RoundToMarginals(start, kx, ky, wx, wy);
            coarse.Add(ExactGw.Solve(cdx, cdy, kx, ky, wx, wy, start, o.Exact));
        }
        // The best distinct coarse plans (plans closer than 1e-9 in L1 are one solution).
        var chosen = new List<ExactGwResult>();
        foreach (var c in coarse.OrderBy(c => c.GwLoss))
        {
            if (chosen.Any(q => q.Plan.Zip(c.Plan, (u, v) => Math.Abs(u - v)).Sum() < 1e-9)) continue;
            chosen.Add(c);
            if (chosen.Count == o.MultiscaleStarts) break;
        }
        var sizeX = new int[kx];
        var sizeY = new int[ky];
        foreach (int l in lx) sizeX[l]++;
        foreach (int l in ly) sizeY[l]++;
        return chosen.Select(c =>
        {
            var p = new double[(long)n * m];
            Parallel.For(0, n, i =>
            {
                int a = lx[i];
                for (int j = 0; j < m; j++) { int b = ly[j]; p[(long)i * m + j] = c.Plan[a * ky + b] / ((double)sizeX[a] * sizeY[b]); }
            });
            return p;
        }).ToList();
    }

    /// <summary>
    /// Lloyd's k-means with k-means++ seeding (Arthur &amp; Vassilvitskii 2007), at most 50 rounds; labels 0…K−1 with every
    /// label used (empty clusters are dropped and the labels renumbered).
    /// </summary>
    internal static int[] KMeans(double[] z, int n, int d, int k, Random rng)
    {
        k = Math.Min(k, n);
        var centres = new double[k * d];
        var dist = new double[n];
        Array.Fill(dist, double.PositiveInfinity);
        int first = rng.Next(n);
        Array.Copy(z, (long)first * d, centres, 0, d);
        for (int c = 1; c <= k; c++)
        {
            // Distances to the nearest chosen centre; the next centre is drawn ∝ distance².
            int prev = c - 1;
            double total = 0;
            for (int i = 0; i < n; i++)
            {
                double s = 0;
                for (int t = 0; t < d; t++) { double e = z[(long)i * d + t] - centres[prev * d + t]; s += e * e; }
                if (s < dist[i]) dist[i] = s;
                total += dist[i];
            }
            if (c == k) break;
            double u = rng.NextDouble() * total;
            int pick = n - 1;
            for (int i = 0; i < n; i++) { u -= dist[i]; if (u <= 0) { pick = i; break; } }
            Array.Copy(z, (long)pick * d, centres, c * d, d);
        }
        var label = new int[n];
        for (int round = 0; round < 50; round++)
        {
            bool changed = false;
            Parallel.For(0, n, () => false, (i, _, ch) =>
            {
                int best = 0;
                double bd = double.PositiveInfinity;
                for (int c = 0; c < k; c++)
                {
                    double s = 0;
                    for (int t = 0; t < d; t++) { double e = z[(long)i * d + t] - centres[c * d + t]; s += e * e; }
                    if (s < bd) { bd = s; best = c; }
                }
                if (label[i] != best || round == 0) { label[i] = best; ch = true; }
                return ch;
            }, ch => { if (ch) changed = true; });
            if (!changed && round > 0) break;
            var count = new int[k];
            Array.Clear(centres);
            for (int i = 0; i < n; i++) { count[label[i]]++; for (int t = 0; t < d; t++) centres[label[i] * d + t] += z[(long)i * d + t]; }
            for (int c = 0; c < k; c++) if (count[c] > 0) for (int t = 0; t < d; t++) centres[c * d + t] /= count[c];
        }
        // Renumber the non-empty clusters 0…K'−1.
        var map = new int[k];
        Array.Fill(map, -1);
        int next = 0;
        for (int i = 0; i < n; i++) if (map[label[i]] < 0) map[label[i]] = next++;
        for (int i = 0; i < n; i++) label[i] = map[label[i]];
        return label;
    }

    /// <summary>Mean distance between the members of every two clusters (K×K) and the clusters' weights |c|/n.</summary>
    private static (double[] D, double[] W) ClusterDistances(double[] d, int n, int[] label, int k)
    {
        int kk = label.Max() + 1;
        var size = new int[kk];
        foreach (int l in label) size[l]++;
        var sum = new double[kk * kk];
        for (int i = 0; i < n; i++)
        {
            int a = label[i];
            for (int j = 0; j < n; j++) sum[a * kk + label[j]] += d[(long)i * n + j];
        }
        for (int a = 0; a < kk; a++) for (int b = 0; b < kk; b++) sum[a * kk + b] /= (double)size[a] * size[b];
        // Exact symmetry for the solver.
        for (int a = 0; a < kk; a++) for (int b = a + 1; b < kk; b++) { double v = 0.5 * (sum[a * kk + b] + sum[b * kk + a]); sum[a * kk + b] = v; sum[b * kk + a] = v; }
        var w = size.Select(c => (double)c / n).ToArray();
        double tot = w.Sum();
        for (int a = 0; a < kk; a++) w[a] /= tot;
        return (sum, w);
    }

    /// <summary>All indices when n ≤ size, else a uniform sample of size indices (sorted).</summary>
    private static int[] Sample(int n, int size, Random rng)
    {
        if (n <= size) return Enumerable.Range(0, n).ToArray();
        var idx = Enumerable.Range(0, n).ToArray();
        for (int k = 0; k < size; k++) { int r = k + rng.Next(n - k); (idx[k], idx[r]) = (idx[r], idx[k]); }
        var s = idx[..size];
        Array.Sort(s);
        return s;
    }

    private static double[] Restrict(double[] d, int n, int[] idx)
    {
        if (idx.Length == n) return d;
        int s = idx.Length;
        var r = new double[(long)s * s];
        for (int a = 0; a < s; a++) for (int b = 0; b < s; b++) r[(long)a * s + b] = d[(long)idx[a] * n + idx[b]];
        return r;
    }

    /// <summary>
    /// Lifts a coarse plan (sample sx × sample sy) to all n × m points: each point joins its nearest sampled point, the
    /// mass of a coarse entry is spread evenly over its block, and the result is scaled onto the uniform marginals.
    /// </summary>
    public static double[] Lift(double[] coarse, int[] sx, int[] sy, double[] dx, int n, double[] dy, int m)
    {
        var lx = Nearest(dx, n, sx);
        var ly = Nearest(dy, m, sy);
        var cx = new int[sx.Length];
        var cy = new int[sy.Length];
        foreach (int l in lx) cx[l]++;
        foreach (int l in ly) cy[l]++;
        int s = sy.Length;
        var p = new double[(long)n * m];
        Parallel.For(0, n, i =>
        {
            int a = lx[i];
            for (int j = 0; j < m; j++) { int b = ly[j]; p[(long)i * m + j] = coarse[(long)a * s + b] / ((double)cx[a] * cy[b]); }
        });
        // A few rounds of matrix scaling onto (1/n, 1/m), then exact rounding.
        var rs = new double[n];
        var cs = new double[m];
        for (int round = 0; round < 20; round++)
        {
            Parallel.For(0, n, i => { double t = 0; for (int j = 0; j < m; j++) t += p[(long)i * m + j]; rs[i] = t > 0 ? 1.0 / (n * t) : 0; });
            Array.Clear(cs);
            for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) { double v = p[(long)i * m + j] *= rs[i]; cs[j] += v; }
            for (int j = 0; j < m; j++) cs[j] = cs[j] > 0 ? 1.0 / (m * cs[j]) : 0;
            Parallel.For(0, n, i => { for (int j = 0; j < m; j++) p[(long)i * m + j] *= cs[j]; });
        }
        ExactGw.RoundToMarginals(p, n, m);
        return p;
    }

    /// <summary>For every point, the index (into <paramref name="sample"/>) of the nearest sampled point under d.</summary>
    private static int[] Nearest(double[] d, int n, int[] sample)
    {
        var r = new int[n];
        Parallel.For(0, n, i =>
        {
            int best = 0;
            double bd = double.PositiveInfinity;
            for (int k = 0; k < sample.Length; k++) { double v = d[(long)i * n + sample[k]]; if (v < bd) { bd = v; best = k; } }
            r[i] = best;
        });
        return r;
    }
}
