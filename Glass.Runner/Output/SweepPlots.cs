using System.Globalization;
using ScottPlot;

namespace Glass.Runner.Output;

/// <summary>
/// A metric's mean ± sample std over the complete runs of a sweep against one config key (e.g. final loss vs τ,
/// paper 000 Figure 2), one line per value of an optional grouping key (e.g. cheby_degree).
/// </summary>
internal static class SweepPlots
{
    /// <summary>One point: runs sharing (group, x).</summary>
    public sealed record Point(string Group, double X, double Mean, double Std, int Runs);

    /// <summary>
    /// Points of <paramref name="metric"/> (a final metrics column such as <c>loss</c>, or <c>eval_…</c>) against the
    /// numeric config key <paramref name="xKey"/>, grouped by <paramref name="groupKey"/> when given. Where one
    /// (exp_name, seed) was run twice, the last folder counts, as in compile-runs.
    /// </summary>
    /// <exception cref="InvalidDataException">No complete run has the key or the metric; the message names both.</exception>
    public static IReadOnlyList<Point> Collect(IReadOnlyList<RunCompiler.RunRow> runs, string xKey, string metric, string? groupKey)
    {
        var complete = runs.Where(r => r.Complete)
            .GroupBy(r => (r.ExpName, r.Seed)).Select(g => g.OrderBy(r => r.Run, StringComparer.Ordinal).Last()).ToList();
        var points = new List<Point>();
        foreach (var g in complete.GroupBy(r => (Group: groupKey is null ? "" : r.Config.GetValueOrDefault(groupKey, "?"), X: r.Config.GetValueOrDefault(xKey))))
        {
            if (g.Key.X is null || !double.TryParse(g.Key.X, NumberStyles.Float, CultureInfo.InvariantCulture, out double x)) continue;
            var ys = g.Where(r => r.Values.ContainsKey(metric)).Select(r => r.Values[metric]).Where(double.IsFinite).ToArray();
            if (ys.Length == 0) continue;
            double mean = ys.Average();
            double std = ys.Length > 1 ? Math.Sqrt(ys.Sum(y => (y - mean) * (y - mean)) / (ys.Length - 1)) : 0;
            points.Add(new Point(g.Key.Group, x, mean, std, ys.Length));
        }
        if (points.Count == 0)
            throw new InvalidDataException($"no complete run has a numeric config key '{xKey}' and a final metric '{metric}' " +
                $"(metrics available: {string.Join(", ", complete.SelectMany(r => r.Values.Keys).Distinct().Order())}).");
        return points.OrderBy(p => p.Group, StringComparer.Ordinal).ThenBy(p => p.X).ToList();
    }

    /// <summary>Writes the plot (PNG, error bars = sample std) and the points as CSV beside it; returns both paths.</summary>
    public static IReadOnlyList<string> Write(IReadOnlyList<Point> points, string xKey, string metric, string? groupKey, bool logX, string pngPath)
    {
        var plt = new Plot();
        foreach (var g in points.GroupBy(p => p.Group))
        {
            var pts = g.OrderBy(p => p.X).ToArray();
            double[] xs = pts.Select(p => logX ? Math.Log10(p.X) : p.X).ToArray();
            var sc = plt.Add.Scatter(xs, pts.Select(p => p.Mean).ToArray());
            sc.MarkerSize = 7;
            if (groupKey is not null) sc.LegendText = groupKey + " = " + g.Key;
            var eb = plt.Add.ErrorBar(xs, pts.Select(p => p.Mean).ToArray(), pts.Select(p => p.Std).ToArray());
            eb.Color = sc.Color;
        }
        if (logX)
            plt.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
            {
                LabelFormatter = v => Math.Pow(10, v).ToString("G3", CultureInfo.InvariantCulture),
            };
        int runs = points.Sum(p => p.Runs);
        plt.Title($"{metric} vs {xKey} (mean ± std, {runs} runs)");
        plt.XLabel(xKey);
        plt.YLabel(metric);
        if (groupKey is not null) plt.ShowLegend();
        string? dir = Path.GetDirectoryName(Path.GetFullPath(pngPath));
        if (dir is not null) Directory.CreateDirectory(dir);
        plt.SavePng(pngPath, 800, 500);
        string csv = Path.ChangeExtension(pngPath, ".csv");
        var lines = new List<string> { string.Join(",", groupKey ?? "group", xKey, metric + "_mean", metric + "_std", "runs") };
        lines.AddRange(points.Select(p => string.Join(",", p.Group, MetricsWriter.Format(p.X), MetricsWriter.Format(p.Mean),
            MetricsWriter.Format(p.Std), p.Runs.ToString(CultureInfo.InvariantCulture))));
        File.WriteAllLines(csv, lines);
        return new[] { pngPath, csv };
    }
}
