using System.Globalization;
using Glass.Models.Data;

namespace Glass.Runner.Commands;

/// <summary>
/// One pair of the alignment suite: X (n×dX), Y (m×dY) and the truth — the row of X that every row of Y came from.
/// </summary>
/// <param name="X">X, row-major.</param>
/// <param name="N">Rows of X.</param>
/// <param name="DimX">Features of X.</param>
/// <param name="Y">Y, row-major.</param>
/// <param name="M">Rows of Y (≤ N).</param>
/// <param name="DimY">Features of Y.</param>
/// <param name="SourceOfY">For each row j of Y, the row of X it is the image of.</param>
internal sealed record SuitePair(double[] X, int N, int DimX, double[] Y, int M, int DimY, int[] SourceOfY);

/// <summary>A case of the suite: how to build its pair for a seed.</summary>
/// <param name="Name">Short name (used by --cases).</param>
/// <param name="Kind">isometry | view | sizes | real.</param>
/// <param name="Description">What the pair is.</param>
/// <param name="Symmetric">The shape has self-isometries, so no GW method can be pinned to the true pairing: compare GW losses, not FOSCTTM alone.</param>
/// <param name="Build">The pair for a seed.</param>
internal sealed record SuiteCase(string Name, string Kind, string Description, bool Symmetric, Func<int, SuitePair> Build);

/// <summary>
/// The cases of <c>glass bench align-suite</c> (docs/reproduction.md, "The alignment suite"). Exact isometries of real
/// data (a data set vs a randomly rotated, row-shuffled copy of itself) and of synthetic shapes; non-isometric views
/// (noise, monotone feature maps, PCA of transformed features, other dimensions); unequal sizes and unbalanced classes;
/// SNARE-seq ATAC vs RNA. Every case draws its rotation, shuffle, noise and subsample from the seed.
/// </summary>
internal static class AlignSuiteCases
{
    /// <summary>The cases; real-data ones only when their files are in <paramref name="dataDir"/> or <paramref name="snareDir"/>.</summary>
    public static List<SuiteCase> All(string? dataDir, string? snareDir, TextWriter log)
    {
        var cases = new List<SuiteCase>();
        PointSet? Load(string? dir, string file)
        {
            if (dir is null) return null;
            string path = Path.Combine(dir, file);
            if (File.Exists(path)) return PointSetReader.Read(path);
            log.WriteLine($"note: {path} not found; the cases on it are skipped (bench/align_suite_data.py writes it).");
            return null;
        }
        var rna = Load(snareDir, "SNAREseq_rna_feat.npy");
        var atac = Load(snareDir, "SNAREseq_atac_feat.npy");
        if (rna is not null) cases.Add(Iso("snare-rna", "real", "SNARE-seq RNA (1047×10 PCs) vs a rotated, shuffled copy", rna));
        if (atac is not null)
            cases.Add(Iso("snare-atac", "real", "SNARE-seq ATAC (1047×19 topics, rows L2-normalised as SCOT) vs a rotated, shuffled copy", L2Rows(atac)));
        foreach (var (file, name, what) in new[]
        {
            ("breast_cancer.npy", "breast-cancer", "scikit-learn breast cancer (569×30, raw units)"),
            ("wine.npy", "wine", "scikit-learn wine (178×13, raw units)"),
            ("digits.npy", "digits", "scikit-learn digits, the first 1,000 images (1000×64 pixels)"),
        })
        {
            var p = Load(dataDir, file);
            if (p is null) continue;
            if (name == "digits") p = Head(p, 1000);
            cases.Add(Iso(name, "real", what + " vs a rotated, shuffled copy", p));
        }
        cases.Add(Iso("swiss-roll", "isometry", "Swiss roll, 1000 points in 3-d, vs a rotated, shuffled copy", null, seed => (SwissRoll(1000, seed, out _), 3)));
        cases.Add(Iso("s-curve", "isometry", "S-curve, 1000 points in 3-d (point-symmetric: a self-isometry), vs a rotated, shuffled copy", null, seed => (SCurve(1000, seed), 3), symmetric: true));
        cases.Add(Iso("gmm", "isometry", "8-component Gaussian mixture, 1000 points in 10-d, vs a rotated, shuffled copy", null, seed => (Mixture(1000, 10, 8, seed, false), 10)));
        cases.AddRange(Views());
        if (rna is not null && atac is not null) cases.Add(SnarePair(atac, rna));
        return cases;
    }

    /// <summary>The synthetic non-isometric views, unequal sizes and unbalanced classes.</summary>
    private static IEnumerable<SuiteCase> Views()
    {
        yield return new SuiteCase("gmm-noise", "view", "Gaussian mixture (10-d) vs a rotated copy with N(0, 0.2²) noise per coordinate (mixture scale ≈ 1.7)", false, seed =>
        {
            var x = Mixture(1000, 10, 8, seed, false);
            var r = new Random(seed * 31 + 1);
            var y = Rotate(x, 1000, 10, r);
            for (int k = 0; k < y.Length; k++) y[k] += 0.2 * Normal(r);
            return Shuffled(x, 1000, 10, y, 10, r);
        });
        yield return new SuiteCase("gmm-monotone", "view", "Gaussian mixture (10-d) vs a rotated copy passed through the monotone map v ↦ sinh(v/2) per coordinate", false, seed =>
        {
            var x = Mixture(1000, 10, 8, seed, false);
            var r = new Random(seed * 31 + 2);
            var y = Rotate(x, 1000, 10, r);
            for (int k = 0; k < y.Length; k++) y[k] = Math.Sinh(y[k] / 2);
            return Shuffled(x, 1000, 10, y, 10, r);
        });
        yield return new SuiteCase("gmm-pca", "view", "Gaussian mixture (10-d) vs the 6 leading principal components of tanh(X·A/3), A random orthogonal (non-linear, other dimension)", false, seed =>
        {
            var x = Mixture(1000, 10, 8, seed, false);
            var r = new Random(seed * 31 + 3);
            var t = Rotate(x, 1000, 10, r);
            for (int k = 0; k < t.Length; k++) t[k] = Math.Tanh(t[k] / 3);
            var y = Pca(t, 1000, 10, 6);
            return Shuffled(x, 1000, 10, y, 6, r);
        });
        yield return new SuiteCase("gmm-embed", "view", "Gaussian mixture (10-d) vs an isometric embedding in 16-d (random orthonormal columns) with N(0, 0.05²) noise", false, seed =>
        {
            var x = Mixture(1000, 10, 8, seed, false);
            var r = new Random(seed * 31 + 4);
            var q = RandomOrthogonal(16, r);
            var y = new double[1000 * 16];
            for (int i = 0; i < 1000; i++)
                for (int c = 0; c < 16; c++)
                {
                    double s = 0;
                    for (int k = 0; k < 10; k++) s += x[i * 10 + k] * q[k * 16 + c];
                    y[i * 16 + c] = s + 0.05 * Normal(r);
                }
            return Shuffled(x, 1000, 10, y, 16, r);
        });
        yield return new SuiteCase("gmm-subsample", "sizes", "Gaussian mixture (10-d, n = 1000) vs a rotated copy of a random 60 % of its rows (m = 600)", false, seed =>
        {
            var x = Mixture(1000, 10, 8, seed, false);
            var r = new Random(seed * 31 + 5);
            var y = Rotate(x, 1000, 10, r);
            var keep = Enumerable.Range(0, 1000).OrderBy(_ => r.Next()).Take(600).ToArray();
            var ys = new double[600 * 10];
            for (int j = 0; j < 600; j++) Array.Copy(y, keep[j] * 10, ys, j * 10, 10);
            return new SuitePair(x, 1000, 10, ys, 600, 10, keep);
        });
        yield return new SuiteCase("gmm-unbalanced", "sizes", "Gaussian mixture with component weights ∝ 16, 8, 4, 2, 1, 1, 1, 1 (10-d) vs a rotated copy with N(0, 0.1²) noise", false, seed =>
        {
            var x = Mixture(1000, 10, 8, seed, true);
            var r = new Random(seed * 31 + 6);
            var y = Rotate(x, 1000, 10, r);
            for (int k = 0; k < y.Length; k++) y[k] += 0.1 * Normal(r);
            return Shuffled(x, 1000, 10, y, 10, r);
        });
        yield return new SuiteCase("swiss-roll-noise", "view", "Swiss roll (3-d) vs a rotated copy with N(0, 0.3²) noise (roll radius 5–14)", false, seed =>
        {
            var x = SwissRoll(1000, seed, out _);
            var r = new Random(seed * 31 + 7);
            var y = Rotate(x, 1000, 3, r);
            for (int k = 0; k < y.Length; k++) y[k] += 0.3 * Normal(r);
            return Shuffled(x, 1000, 3, y, 3, r);
        });
    }

    /// <summary>SNARE-seq ATAC vs RNA (SCOT's preprocessing), row i ↔ row i before the shuffle.</summary>
    private static SuiteCase SnarePair(PointSet atac, PointSet rna)
    {
        return new SuiteCase("snare-atac-rna", "real", "SNARE-seq ATAC (19 topics) vs RNA (10 PCs), rows L2-normalised (SCOT's preprocessing), row i ↔ row i", false, seed =>
        {
            var a = L2Rows(atac);
            var b = L2Rows(rna);
            var r = new Random(seed * 31 + 8);
            var perm = Enumerable.Range(0, b.Rows).OrderBy(_ => r.Next()).ToArray();
            var y = new double[b.Data.Length];
            for (int j = 0; j < b.Rows; j++) Array.Copy(b.Data, perm[j] * b.Cols, y, j * b.Cols, b.Cols);
            return new SuitePair(a.Data, a.Rows, a.Cols, y, b.Rows, b.Cols, perm);
        });
    }

    private static SuiteCase Iso(string name, string kind, string what, PointSet? data, Func<int, (double[], int)>? make = null, bool symmetric = false)
    {
        return new SuiteCase(name, kind, what, symmetric, seed =>
        {
            double[] x; int n, d;
            if (data is not null) { x = data.Data; n = data.Rows; d = data.Cols; }
            else { (x, d) = make!(seed); n = x.Length / d; }
            var r = new Random(seed * 31 + 11);
            return Shuffled(x, n, d, Rotate(x, n, d, r), d, r);
        });
    }

    /// <summary>Y rows shuffled by a random permutation; SourceOfY records it.</summary>
    private static SuitePair Shuffled(double[] x, int n, int dx, double[] y, int dy, Random r)
    {
        var perm = Enumerable.Range(0, n).OrderBy(_ => r.Next()).ToArray();
        var ys = new double[(long)n * dy];
        for (int j = 0; j < n; j++) Array.Copy(y, (long)perm[j] * dy, ys, (long)j * dy, dy);
        return new SuitePair(x, n, dx, ys, n, dy, perm);
    }

    internal static double[] Rotate(double[] x, int n, int d, Random r)
    {
        var q = RandomOrthogonal(d, r);
        var y = new double[x.Length];
        for (int i = 0; i < n; i++)
            for (int c = 0; c < d; c++)
            {
                double s = 0;
                for (int k = 0; k < d; k++) s += x[(long)i * d + k] * q[k * d + c];
                y[(long)i * d + c] = s;
            }
        return y;
    }

    /// <summary>A random d×d orthogonal matrix (Gram–Schmidt on Gaussian columns), row-major.</summary>
    internal static double[] RandomOrthogonal(int d, Random r)
    {
        var a = new double[d * d];
        for (int k = 0; k < a.Length; k++) a[k] = Normal(r);
        for (int c = 0; c < d; c++)
        {
            for (int p = 0; p < c; p++)
            {
                double s = 0;
                for (int row = 0; row < d; row++) s += a[row * d + c] * a[row * d + p];
                for (int row = 0; row < d; row++) a[row * d + c] -= s * a[row * d + p];
            }
            double nn = 0;
            for (int row = 0; row < d; row++) nn += a[row * d + c] * a[row * d + c];
            nn = Math.Sqrt(nn);
            for (int row = 0; row < d; row++) a[row * d + c] /= nn;
        }
        return a;
    }

    internal static double Normal(Random r)
    {
        double u1 = 1 - r.NextDouble(), u2 = r.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>scikit-learn's make_swiss_roll: t = 1.5π(1 + 2u), (t cos t, 21v, t sin t).</summary>
    internal static double[] SwissRoll(int n, int seed, out double[] t)
    {
        var r = new Random(seed * 17 + 3);
        var x = new double[n * 3];
        t = new double[n];
        for (int i = 0; i < n; i++)
        {
            double tt = 1.5 * Math.PI * (1 + 2 * r.NextDouble());
            t[i] = tt;
            x[i * 3] = tt * Math.Cos(tt); x[i * 3 + 1] = 21 * r.NextDouble(); x[i * 3 + 2] = tt * Math.Sin(tt);
        }
        return x;
    }

    /// <summary>scikit-learn's make_s_curve: t = 3π(u − ½), (sin t, 2v, sign(t)(cos t − 1)).</summary>
    internal static double[] SCurve(int n, int seed)
    {
        var r = new Random(seed * 17 + 5);
        var x = new double[n * 3];
        for (int i = 0; i < n; i++)
        {
            double t = 3 * Math.PI * (r.NextDouble() - 0.5);
            x[i * 3] = Math.Sin(t); x[i * 3 + 1] = 2 * r.NextDouble(); x[i * 3 + 2] = Math.Sign(t) * (Math.Cos(t) - 1);
        }
        return x;
    }

    /// <summary>k Gaussian components in d dims: centres N(0, 2²·I), unit isotropic noise; equal or 16:8:4:2:1… weights.</summary>
    internal static double[] Mixture(int n, int d, int k, int seed, bool unbalanced)
    {
        var r = new Random(seed * 17 + 7);
        var centres = new double[k * d];
        for (int t = 0; t < centres.Length; t++) centres[t] = 2 * Normal(r);
        var w = Enumerable.Range(0, k).Select(c => unbalanced ? Math.Max(1.0, 16.0 / (1 << c)) : 1.0).ToArray();
        double tot = w.Sum();
        var x = new double[n * d];
        for (int i = 0; i < n; i++)
        {
            double u = r.NextDouble() * tot;
            int c = 0;
            while (c < k - 1 && u >= w[c]) { u -= w[c]; c++; }
            for (int t = 0; t < d; t++) x[i * d + t] = centres[c * d + t] + Normal(r);
        }
        return x;
    }

    /// <summary>The first p principal-component scores of x (n×d), by power iteration with deflation on the covariance.</summary>
    internal static double[] Pca(double[] x, int n, int d, int p)
    {
        var mu = new double[d];
        for (int i = 0; i < n; i++) for (int k = 0; k < d; k++) mu[k] += x[i * d + k] / n;
        var cov = new double[d * d];
        for (int i = 0; i < n; i++)
            for (int a = 0; a < d; a++)
                for (int b = 0; b < d; b++) cov[a * d + b] += (x[i * d + a] - mu[a]) * (x[i * d + b] - mu[b]) / n;
        var comps = new double[p * d];
        var r = new Random(1);
        for (int c = 0; c < p; c++)
        {
            var v = Enumerable.Range(0, d).Select(_ => Normal(r)).ToArray();
            for (int it = 0; it < 500; it++)
            {
                var w = new double[d];
                for (int a = 0; a < d; a++) for (int b = 0; b < d; b++) w[a] += cov[a * d + b] * v[b];
                for (int q = 0; q < c; q++)
                {
                    double s = 0;
                    for (int a = 0; a < d; a++) s += w[a] * comps[q * d + a];
                    for (int a = 0; a < d; a++) w[a] -= s * comps[q * d + a];
                }
                double nn = Math.Sqrt(w.Sum(t => t * t));
                for (int a = 0; a < d; a++) v[a] = w[a] / nn;
            }
            Array.Copy(v, 0, comps, c * d, d);
        }
        var y = new double[n * p];
        for (int i = 0; i < n; i++)
            for (int c = 0; c < p; c++)
            {
                double s = 0;
                for (int a = 0; a < d; a++) s += (x[i * d + a] - mu[a]) * comps[c * d + a];
                y[i * p + c] = s;
            }
        return y;
    }

    internal static PointSet L2Rows(PointSet p)
    {
        var z = (double[])p.Data.Clone();
        for (int i = 0; i < p.Rows; i++)
        {
            double s = 0;
            for (int k = 0; k < p.Cols; k++) s += z[i * p.Cols + k] * z[i * p.Cols + k];
            s = Math.Sqrt(s);
            if (s > 0) for (int k = 0; k < p.Cols; k++) z[i * p.Cols + k] /= s;
        }
        return p with { Data = z };
    }

    private static PointSet Head(PointSet p, int rows) =>
        p.Rows <= rows ? p : new PointSet(p.Data[..(rows * p.Cols)], rows, p.Cols);

    internal static string Fmt(double v) => v.ToString("G4", CultureInfo.InvariantCulture);
}
