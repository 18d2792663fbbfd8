using System.Globalization;
using ScottPlot;

namespace Glass.Runner.Output;

/// <summary>
/// alignment.png of an S² run: the two point sets on the sphere with each x_i joined to its hard match y_{j*}
/// (green when j* is its true partner, red otherwise), seen from above the north and the south pole (orthographic
/// projections, a point drawn in the hemisphere of x_i), beside the loss and perm_acc curves of metrics.csv.
/// Reads the run folder's alignment.csv (columns x0..x2, y0..y2, correct).
/// </summary>
internal static class AlignmentPlot
{
    /// <summary>The artifact this plot reads (written by the S² experiment).</summary>
    public const string SourceFile = "alignment.csv";

    private const int PanelWidth = 560, Height = 560;

    /// <summary>Writes <c>alignment.png</c> into <paramref name="outDir"/> when <paramref name="runDir"/> has alignment.csv; returns its path or null.</summary>
    public static string? Write(string runDir, string outDir, MetricsTable metrics)
    {
        string src = Path.Combine(runDir, SourceFile);
        if (!File.Exists(src)) return null;
        var a = MetricsTable.Read(src);
        if (a.Rows.Count == 0 || new[] { "x0", "x1", "x2", "y0", "y1", "y2", "correct" }.Any(c => a.IndexOf(c) < 0)) return null;
        var mp = new Multiplot();
        mp.Reset(Hemisphere(a, north: true));
        mp.AddPlot(Hemisphere(a, north: false));
        mp.AddPlot(Curves(metrics));
        mp.Layout = new ScottPlot.MultiplotLayouts.Columns();
        string path = Path.Combine(outDir, "alignment.png");
        mp.SavePng(path, 3 * PanelWidth, Height);
        return path;
    }

    private static Plot Hemisphere(MetricsTable a, bool north)
    {
        var plt = new Plot();
        var rim = plt.Add.Circle(0, 0, 1);
        rim.LineColor = Colors.Gray;
        rim.FillColor = Colors.Transparent;
        int ok = 0, shown = 0;
        var good = Color.FromHex("#2ca02c");
        var bad = Color.FromHex("#d62728");
        var xs = new List<double>(); var xv = new List<double>(); var ys = new List<double>(); var yv = new List<double>();
        double flip = north ? 1 : -1;
        foreach (var r in a.Rows)
        {
            double x0 = r[a.IndexOf("x0")], x1 = r[a.IndexOf("x1")], x2 = r[a.IndexOf("x2")];
            double y0 = r[a.IndexOf("y0")], y1 = r[a.IndexOf("y1")];
            if ((north ? x2 < 0 : x2 >= 0) || double.IsNaN(y0)) continue;
            bool correct = r[a.IndexOf("correct")] == 1;
            shown++; if (correct) ok++;
            // Looking down on the pole: (x, y) for the north, (x, −y) for the south (so the view is not mirrored).
            var line = plt.Add.Line(x0, flip * x1, y0, flip * y1);
            line.LineColor = correct ? good : bad;
            line.LineWidth = correct ? 1.5f : 2.5f;
            xs.Add(x0); xv.Add(flip * x1); ys.Add(y0); yv.Add(flip * y1);
        }
        var mx = plt.Add.Markers(xs.ToArray(), xv.ToArray(), MarkerShape.FilledCircle, 6, Color.FromHex("#1f77b4"));
        mx.LegendText = "X";
        var my = plt.Add.Markers(ys.ToArray(), yv.ToArray(), MarkerShape.OpenCircle, 8, Color.FromHex("#ff7f0e"));
        my.LegendText = "matched y";
        plt.ShowLegend(Alignment.LowerRight);
        plt.Axes.SquareUnits();
        plt.Axes.SetLimits(-1.08, 1.08, -1.08, 1.08);
        plt.HideGrid();
        plt.Title(string.Create(CultureInfo.InvariantCulture, $"{(north ? "north" : "south")} (z {(north ? "≥" : "<")} 0): {ok}/{shown} true partners"));
        return plt;
    }

    private static Plot Curves(MetricsTable m)
    {
        var plt = new Plot();
        var steps = m.Column("step");
        var loss = m.Column("loss");
        if (steps.Length > 0 && loss.Length == steps.Length)
        {
            var l = plt.Add.Scatter(steps, loss);
            l.MarkerSize = 0;
            l.LegendText = "loss (left)";
        }
        var acc = m.Column("perm_acc");
        if (steps.Length > 0 && acc.Length == steps.Length)
        {
            var p = plt.Add.Scatter(steps, acc);
            p.MarkerSize = 0;
            p.LegendText = "perm_acc (right)";
            p.Axes.YAxis = plt.Axes.Right;
            plt.Axes.Right.Label.Text = "perm_acc";
        }
        plt.XLabel("step");
        plt.YLabel("lifted loss");
        plt.ShowLegend(Alignment.UpperRight);
        plt.Title("training");
        return plt;
    }
}
