using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Glass.Models.Data;
using Glass.Models.Gw;
using ScottPlot;

namespace Glass.Runner.Output;

/// <summary>
/// The output folder of <c>glass align</c> (docs/formats.md, "align output folder"), built in a hidden temporary
/// sibling and renamed into place at the end, so a failure leaves neither a half-written folder nor the sibling.
/// The sibling's name carries the PID (<see cref="StaleTemp"/>): one left by a killed process is removed by the next
/// <c>glass align</c> into the same parent.
/// </summary>
internal sealed class AlignFolder : IDisposable
{
    private bool _committed;

    private AlignFolder(string target, string temp)
    {
        Target = target;
        Dir = temp;
    }

    /// <summary>The final folder (<c>--out</c>).</summary>
    public string Target { get; }

    /// <summary>The folder being written (a sibling of <see cref="Target"/> until <see cref="Commit"/>).</summary>
    public string Dir { get; }

    /// <summary>Longest <c>--out</c> folder name: 255 (the usual per-name limit) less room for the temporary sibling's suffix.</summary>
    internal const int MaxNameLength = 200;

    /// <summary>
    /// Checks that <paramref name="outDir"/> can be created (absent, or an empty folder) before any work starts: no file
    /// in its place or in place of a parent folder, and the nearest existing parent lets a folder be created in it
    /// (probed by creating and removing a hidden folder there).
    /// </summary>
    /// <exception cref="ArgumentException">It is a file, a folder that is not empty, or under a file or an unwritable folder.</exception>
    public static string CheckTarget(string outDir)
    {
        if (string.IsNullOrWhiteSpace(outDir)) throw new ArgumentException("--out: expected a folder path.");
        string full = Path.GetFullPath(outDir);
        int nameLength = Path.GetFileName(Path.TrimEndingDirectorySeparator(full)).Length;
        if (nameLength > MaxNameLength)
            throw new ArgumentException($"--out: the folder name is {nameLength} characters; expected at most {MaxNameLength} (file systems allow 255 per name, and the temporary sibling adds a suffix).");
        if (File.Exists(full)) throw new ArgumentException($"--out {outDir}: is a file; expected a new (or empty) folder.");
        if (Directory.Exists(full) && Directory.EnumerateFileSystemEntries(full).Any())
            throw new ArgumentException($"--out {outDir}: the folder exists and is not empty; expected a new (or empty) folder (nothing is overwritten).");
        string? parent = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(full));
        while (parent is not null && !Directory.Exists(parent))
        {
            if (File.Exists(parent)) throw new ArgumentException($"--out {outDir}: {parent} is a file, not a folder; the output folder cannot be created under it.");
            parent = Path.GetDirectoryName(parent);
        }
        if (parent is not null) ProbeWritable(parent, outDir);
        return full;
    }

    /// <summary>Creates and removes a hidden folder in <paramref name="dir"/>; refuses <c>--out</c> when that fails.</summary>
    private static void ProbeWritable(string dir, string outDir)
    {
        string probe = Path.Combine(dir, ".glass-write-probe-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            Directory.CreateDirectory(probe);
            Directory.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"--out {outDir}: cannot create a folder in {dir} ({e.Message}).", e);
        }
    }

    /// <summary>Creates the temporary sibling of <paramref name="outDir"/> (after <see cref="CheckTarget"/>).</summary>
    public static AlignFolder Begin(string outDir)
    {
        string full = CheckTarget(outDir);
        string parent = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(full)) ?? ".";
        Directory.CreateDirectory(parent);
        StaleTemp.Clean(parent); // siblings left by a killed glass align
        string temp = Path.Combine(parent, StaleTemp.Name(Path.GetFileName(Path.TrimEndingDirectorySeparator(full))));
        Directory.CreateDirectory(temp);
        return new AlignFolder(full, temp);
    }

    /// <summary>Path of <paramref name="name"/> inside the folder being written.</summary>
    public string PathOf(string name) => Path.Combine(Dir, name);

    /// <summary>Renames the temporary folder to <see cref="Target"/> (an empty target folder is replaced).</summary>
    public void Commit()
    {
        if (Directory.Exists(Target))
        {
            if (Directory.EnumerateFileSystemEntries(Target).Any())
                throw new IOException($"--out {Target}: the folder was filled by someone else while aligning; the result is left in {Dir}.");
            Directory.Delete(Target);
        }
        Directory.Move(Dir, Target);
        _committed = true;
    }

    /// <summary>Removes the temporary folder unless committed.</summary>
    public void Dispose()
    {
        if (_committed) return;
        try { if (Directory.Exists(Dir)) Directory.Delete(Dir, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>Writes an n×d matrix as <c>name.npy</c> (float64) and <c>name.csv</c> (header c0,c1,…).</summary>
    public void WriteMatrix(string name, double[] data, int rows, int cols)
    {
        Npy.Write(PathOf(name + ".npy"), data, cols);
        var sb = new StringBuilder();
        sb.AppendJoin(',', Enumerable.Range(0, cols).Select(c => "c" + c.ToString(CultureInfo.InvariantCulture))).Append('\n');
        for (int i = 0; i < rows; i++)
        {
            for (int c = 0; c < cols; c++)
            {
                if (c > 0) sb.Append(',');
                sb.Append(MetricsWriter.Format(data[(long)i * cols + c]));
            }
            sb.Append('\n');
        }
        File.WriteAllText(PathOf(name + ".csv"), sb.ToString());
    }

    /// <summary>
    /// <c>matches.csv</c> (x,y,plan: the hard match argmax_j Π_ij of every row and its plan entry) and the sparse
    /// top-k plan as COO triplets: <c>plan_topk.npy</c> ((n·k)×3 float64: row, column, Π_ij) and <c>plan_topk.csv</c>.
    /// </summary>
    public void WriteAlignment(InductiveAlignment al)
    {
        var m = new StringBuilder("x,y,plan\n");
        for (int i = 0; i < al.N; i++)
            m.Append(i.ToString(CultureInfo.InvariantCulture)).Append(',').Append(al.Matches[i].ToString(CultureInfo.InvariantCulture))
             .Append(',').Append(MetricsWriter.Format(al.TopKValue[(long)i * al.TopK])).Append('\n');
        File.WriteAllText(PathOf("matches.csv"), m.ToString());
        int k = al.TopK;
        var coo = new double[(long)al.N * k * 3];
        var csv = new StringBuilder("x,y,plan\n");
        for (int i = 0; i < al.N; i++)
            for (int r = 0; r < k; r++)
            {
                long e = (long)i * k + r;
                coo[e * 3] = i; coo[e * 3 + 1] = al.TopKIndex[e]; coo[e * 3 + 2] = al.TopKValue[e];
                csv.Append(i.ToString(CultureInfo.InvariantCulture)).Append(',').Append(al.TopKIndex[e].ToString(CultureInfo.InvariantCulture))
                   .Append(',').Append(MetricsWriter.Format(al.TopKValue[e])).Append('\n');
            }
        Npy.Write(PathOf("plan_topk.npy"), coo, 3);
        File.WriteAllText(PathOf("plan_topk.csv"), csv.ToString());
    }

    /// <summary>Writes <c>metrics.json</c> (indented, NaN written as null).</summary>
    public void WriteMetrics(JsonObject metrics) =>
        File.WriteAllText(PathOf("metrics.json"), JsonText.ToFileText(metrics));

    /// <summary>
    /// PNG plots: <c>pca_domain.png</c> (2-D PCA of the stacked aligned rows, coloured by domain), <c>pca_labels.png</c>
    /// (coloured by label, when any labels are given) and <c>foscttm_sorted.png</c> (when paired). Returns the files.
    /// </summary>
    public IReadOnlyList<string> WritePlots(double[] xa, int n, double[] ya, int m, int d, int[]? labelsX, int[]? labelsY, double[]? foscttmSorted)
    {
        var written = new List<string>();
        var stacked = new double[(long)(n + m) * d];
        Array.Copy(xa, stacked, (long)n * d);
        Array.Copy(ya, 0, stacked, (long)n * d, (long)m * d);
        var pc = Pca2(stacked, n + m, d);
        const int maxPoints = 20000;
        int stride = Math.Max(1, (n + m + maxPoints - 1) / maxPoints);
        (double[] X, double[] Y) Pick(IEnumerable<int> rows)
        {
            var r = rows.Where(i => i % stride == 0).ToArray();
            return (r.Select(i => pc[2 * i]).ToArray(), r.Select(i => pc[2 * i + 1]).ToArray());
        }
        {
            var plt = new Plot();
            var (ax, ay) = Pick(Enumerable.Range(0, n));
            var (bx, by) = Pick(Enumerable.Range(n, m));
            AddPoints(plt, ax, ay, "X (projected onto Y)", Colors.C0);
            AddPoints(plt, bx, by, "Y", Colors.C1);
            plt.Title("aligned data, 2-D PCA, by domain");
            plt.XLabel("PC1"); plt.YLabel("PC2"); plt.ShowLegend();
            string p = PathOf("pca_domain.png");
            plt.SavePng(p, 800, 600);
            written.Add(p);
        }
        if (labelsX is not null || labelsY is not null)
        {
            var all = new int?[n + m];
            for (int i = 0; i < n; i++) all[i] = labelsX?[i];
            for (int j = 0; j < m; j++) all[n + j] = labelsY?[j];
            var plt = new Plot();
            var palette = new ScottPlot.Palettes.Category10();
            int c = 0;
            foreach (var lab in all.Where(v => v is not null).Select(v => v!.Value).Distinct().Order())
            {
                var (lx, ly) = Pick(Enumerable.Range(0, n + m).Where(i => all[i] == lab));
                AddPoints(plt, lx, ly, "label " + lab.ToString(CultureInfo.InvariantCulture), palette.GetColor(c++));
            }
            plt.Title("aligned data (X and Y), 2-D PCA, by label");
            plt.XLabel("PC1"); plt.YLabel("PC2"); plt.ShowLegend();
            string p = PathOf("pca_labels.png");
            plt.SavePng(p, 800, 600);
            written.Add(p);
        }
        if (foscttmSorted is { Length: > 0 } f)
        {
            var plt = new Plot();
            var sc = plt.Add.Scatter(Enumerable.Range(0, f.Length).Select(i => (double)i).ToArray(), f);
            sc.MarkerSize = 0;
            plt.Title(string.Create(CultureInfo.InvariantCulture, $"sorted FOSCTTM (mean {f.Average():F4})"));
            plt.XLabel("sample (sorted)"); plt.YLabel("FOSCTTM");
            string p = PathOf("foscttm_sorted.png");
            plt.SavePng(p, 800, 500);
            written.Add(p);
        }
        return written;
    }

    private static void AddPoints(Plot plt, double[] x, double[] y, string legend, Color color)
    {
        var sc = plt.Add.Scatter(x, y);
        sc.LineWidth = 0;
        sc.MarkerSize = 4;
        sc.Color = color.WithAlpha(0.6);
        sc.LegendText = legend;
    }

    /// <summary>Scores on the first two principal components of the rows of a (rows×d), by power iteration on the d×d covariance.</summary>
    internal static double[] Pca2(double[] a, int rows, int d)
    {
        var mean = new double[d];
        for (int i = 0; i < rows; i++) for (int k = 0; k < d; k++) mean[k] += a[(long)i * d + k];
        for (int k = 0; k < d; k++) mean[k] /= rows;
        var cov = new double[d * d];
        for (int i = 0; i < rows; i++)
            for (int p = 0; p < d; p++)
            {
                double u = a[(long)i * d + p] - mean[p];
                for (int q = p; q < d; q++) cov[p * d + q] += u * (a[(long)i * d + q] - mean[q]);
            }
        for (int p = 0; p < d; p++) for (int q = 0; q < p; q++) cov[p * d + q] = cov[q * d + p];
        var comps = new double[2][];
        for (int c = 0; c < Math.Min(2, d); c++)
        {
            var v = new double[d];
            for (int k = 0; k < d; k++) v[k] = 1.0 + 0.01 * k;
            for (int it = 0; it < 300; it++)
            {
                var w = new double[d];
                for (int p = 0; p < d; p++) { double s = 0; for (int q = 0; q < d; q++) s += cov[p * d + q] * v[q]; w[p] = s; }
                if (c == 1) { double dot = 0; for (int k = 0; k < d; k++) dot += w[k] * comps[0][k]; for (int k = 0; k < d; k++) w[k] -= dot * comps[0][k]; }
                double norm = Math.Sqrt(w.Sum(t => t * t));
                if (!(norm > 1e-300)) break;
                for (int k = 0; k < d; k++) v[k] = w[k] / norm;
            }
            comps[c] = v;
        }
        var scores = new double[(long)rows * 2];
        for (int i = 0; i < rows; i++)
            for (int c = 0; c < 2; c++)
            {
                if (comps[c] is not { } v) continue;
                double s = 0;
                for (int k = 0; k < d; k++) s += (a[(long)i * d + k] - mean[k]) * v[k];
                scores[2 * i + c] = s;
            }
        return scores;
    }
}
