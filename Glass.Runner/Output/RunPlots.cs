using System.Globalization;
using System.Text.Json.Nodes;
using ScottPlot;

namespace Glass.Runner.Output;

/// <summary>
/// PNG plots with ScottPlot 5 (SkiaSharp; the Linux native library without system dependencies comes with it):
/// per run, loss, γ, nnz and perm_acc over steps; across runs, the same metrics overlaid, and runtime per step
/// vs n on log–log axes with the least-squares exponent in the title (paper 000, Figure 1); for an S² run with
/// alignment.csv, the matched point sets beside the curves (<see cref="AlignmentPlot"/>).
/// </summary>
internal static class RunPlots
{
    /// <summary>The metrics plotted over steps, when the run has them.</summary>
    public static readonly string[] StepMetrics = { "loss", "gamma", "nnz", "perm_acc" };

    private const int Width = 800, Height = 500;

    /// <summary>Writes <c>&lt;metric&gt;.png</c> for each of <see cref="StepMetrics"/> the run has (and alignment.png when the run has alignment.csv); returns the files.</summary>
    public static IReadOnlyList<string> WriteRunPlots(string runDir, string outDir)
    {
        var table = MetricsTable.Read(Path.Combine(runDir, RunFolder.MetricsFile));
        Directory.CreateDirectory(outDir);
        var written = new List<string>();
        string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(runDir));
        var steps = StepsOf(table);
        foreach (var metric in StepMetrics)
        {
            if (table.IndexOf(metric) < 0 || table.Rows.Count == 0) continue;
            var plt = new Plot();
            var sc = plt.Add.Scatter(steps, table.Column(metric));
            sc.MarkerSize = table.Rows.Count <= 50 ? 4 : 0;
            plt.Title($"{metric} — {name}");
            plt.XLabel("step");
            plt.YLabel(metric);
            string path = Path.Combine(outDir, metric + ".png");
            plt.SavePng(path, Width, Height);
            written.Add(path);
        }
        if (AlignmentPlot.Write(runDir, outDir, table) is { } picture) written.Add(picture);
        return written;
    }

    /// <summary>Overlays each metric of <see cref="StepMetrics"/> across runs: <c>&lt;metric&gt;_runs.png</c>.</summary>
    public static IReadOnlyList<string> WriteComparisonPlots(IReadOnlyList<string> runDirs, string outDir)
    {
        Directory.CreateDirectory(outDir);
        var tables = runDirs.Select(d => (Name: Path.GetFileName(Path.TrimEndingDirectorySeparator(d)), Table: MetricsTable.Read(Path.Combine(d, RunFolder.MetricsFile)))).ToList();
        var written = new List<string>();
        foreach (var metric in StepMetrics)
        {
            var have = tables.Where(t => t.Table.IndexOf(metric) >= 0 && t.Table.Rows.Count > 0).ToList();
            if (have.Count == 0) continue;
            var plt = new Plot();
            foreach (var (n, t) in have)
            {
                var sc = plt.Add.Scatter(StepsOf(t), t.Column(metric));
                sc.MarkerSize = 0;
                sc.LegendText = n;
            }
            plt.Title($"{metric} over steps ({have.Count} runs)");
            plt.XLabel("step");
            plt.YLabel(metric);
            if (have.Count <= 12) plt.ShowLegend();
            string path = Path.Combine(outDir, metric + "_runs.png");
            plt.SavePng(path, Width, Height);
            written.Add(path);
        }
        return written;
    }

    /// <summary>One point of the runtime-vs-n plot.</summary>
    public sealed record RuntimePoint(double N, double SecondsPerStep, int Runs);

    /// <summary>
    /// Runtime per step (median of <c>runtime_sec</c> over a run's steps, the first step dropped as warm-up when
    /// there are more) against <c>data.n</c> (else the first key <c>n</c>) from each run's config.json, averaged over runs with the same n;
    /// null when fewer than two distinct n.
    /// </summary>
    public static (IReadOnlyList<RuntimePoint> Points, double Exponent, double Intercept)? RuntimeVsN(IReadOnlyList<string> runDirs)
    {
        var byN = new SortedDictionary<double, List<double>>();
        foreach (var d in runDirs)
        {
            var cfg = JsonNode.Parse(File.ReadAllText(Path.Combine(d, RunFolder.ConfigFile)));
            double? n = (cfg?["data"]?["n"] ?? FindLeaf(cfg, "n"))?.GetValue<double>();
            var t = MetricsTable.Read(Path.Combine(d, RunFolder.MetricsFile));
            var rt = t.Column("runtime_sec");
            if (n is null || rt.Length == 0) continue;
            var use = rt.Length > 2 ? rt[1..] : rt;
            Array.Sort(use);
            double med = use.Length % 2 == 1 ? use[use.Length / 2] : 0.5 * (use[use.Length / 2 - 1] + use[use.Length / 2]);
            if (!(med > 0)) continue;
            if (!byN.TryGetValue(n.Value, out var list)) byN[n.Value] = list = new List<double>();
            list.Add(med);
        }
        if (byN.Count < 2) return null;
        var pts = byN.Select(kv => new RuntimePoint(kv.Key, kv.Value.Average(), kv.Value.Count)).ToList();
        var (slope, icpt) = FitLogLog(pts.Select(p => p.N).ToArray(), pts.Select(p => p.SecondsPerStep).ToArray());
        return (pts, slope, icpt);
    }

    /// <summary>Least-squares fit log10 y = a + b·log10 x; returns (b, a).</summary>
    public static (double Slope, double Intercept) FitLogLog(double[] x, double[] y)
    {
        if (x.Length != y.Length || x.Length < 2) throw new ArgumentException($"need ≥ 2 points of equal count; got {x.Length} and {y.Length}.");
        var lx = x.Select(Math.Log10).ToArray();
        var ly = y.Select(Math.Log10).ToArray();
        double mx = lx.Average(), my = ly.Average(), sxy = 0, sxx = 0;
        for (int i = 0; i < lx.Length; i++) { sxy += (lx[i] - mx) * (ly[i] - my); sxx += (lx[i] - mx) * (lx[i] - mx); }
        if (sxx == 0) throw new ArgumentException("all x values are equal; the exponent is undefined.");
        double b = sxy / sxx;
        return (b, my - b * mx);
    }

    /// <summary>Writes runtime_vs_n.png (log–log, fitted exponent in the title) and runtime_vs_n.csv; null when not applicable.</summary>
    public static IReadOnlyList<string>? WriteRuntimeVsN(IReadOnlyList<string> runDirs, string outDir)
    {
        var fit = RuntimeVsN(runDirs);
        if (fit is null) return null;
        var (pts, b, a) = fit.Value;
        Directory.CreateDirectory(outDir);
        var lx = pts.Select(p => Math.Log10(p.N)).ToArray();
        var ly = pts.Select(p => Math.Log10(p.SecondsPerStep)).ToArray();
        var plt = new Plot();
        var sc = plt.Add.Scatter(lx, ly);
        sc.LineWidth = 0;
        sc.MarkerSize = 8;
        sc.LegendText = "median runtime per step";
        var fitLine = plt.Add.Scatter(new[] { lx[0], lx[^1] }, new[] { a + b * lx[0], a + b * lx[^1] });
        fitLine.MarkerSize = 0;
        fitLine.LinePattern = LinePattern.Dashed;
        fitLine.LegendText = "fit: t ∝ n^" + b.ToString("F2", CultureInfo.InvariantCulture);
        plt.Axes.Bottom.TickGenerator = LogTicks();
        plt.Axes.Left.TickGenerator = LogTicks();
        plt.Title($"runtime per step vs n (fitted exponent {b.ToString("F2", CultureInfo.InvariantCulture)})");
        plt.XLabel("n");
        plt.YLabel("seconds per step");
        plt.ShowLegend();
        string png = Path.Combine(outDir, "runtime_vs_n.png");
        plt.SavePng(png, Width, Height);
        string csv = Path.Combine(outDir, "runtime_vs_n.csv");
        var lines = new List<string> { "n,seconds_per_step,runs" };
        lines.AddRange(pts.Select(p => string.Join(",", MetricsWriter.Format(p.N), MetricsWriter.Format(p.SecondsPerStep), p.Runs.ToString(CultureInfo.InvariantCulture))));
        lines.Add("# fitted exponent " + MetricsWriter.Format(b) + ", log10 intercept " + MetricsWriter.Format(a));
        File.WriteAllLines(csv, lines);
        return new[] { png, csv };
    }

    private static ScottPlot.TickGenerators.NumericAutomatic LogTicks() => new()
    {
        MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
        IntegerTicksOnly = true,
        LabelFormatter = v => Math.Pow(10, v).ToString("G4", CultureInfo.InvariantCulture),
    };

    /// <summary>The first value named <paramref name="key"/> anywhere in <paramref name="node"/> (depth first), or null.</summary>
    private static JsonNode? FindLeaf(JsonNode? node, string key)
    {
        if (node is not JsonObject o) return null;
        foreach (var (k, v) in o)
        {
            if (k == key && v is JsonValue) return v;
            if (FindLeaf(v, key) is { } hit) return hit;
        }
        return null;
    }

    private static double[] StepsOf(MetricsTable t)
    {
        var s = t.Column("step");
        return s.Length == t.Rows.Count && s.Length > 0 ? s : Enumerable.Range(1, t.Rows.Count).Select(i => (double)i).ToArray();
    }
}
