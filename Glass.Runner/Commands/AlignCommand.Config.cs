using System.Globalization;
using System.Text.Json.Nodes;
using Glass.Kernels.Device;
using Glass.Kernels.Sinkhorn;
using Glass.Models.Data;
using Glass.Models.Gw;
using Glass.Models.Metrics;
using Glass.Runner.Config;
using Glass.Runner.Experiments;
using Glass.Runner.Output;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Glass.Runner.Commands;

/// <summary><c>glass align</c>: the --config options, the GW loss metric and the training history file.</summary>
internal static partial class AlignCommand
{
    /// <summary>The options from <c>--config</c> (model.gw, train — the restart keys included) or the defaults, and their resolved form for metrics.json.</summary>
    internal static (LearnedGwOptions Options, LearnedGwRestartOptions Restarts, JsonObject Resolved, GwExtensionFiles Extensions) LoadOptions(string? configPath, int? seed, int? steps, string? init, TextWriter stderr)
    {
        string file = configPath ?? "(defaults)";
        YamlDocument? doc = null;
        if (configPath is not null)
        {
            if (!File.Exists(configPath)) throw new FileNotFoundException($"config file not found: {configPath}", configPath);
            string text = File.ReadAllText(configPath);
            YamlDepth.Check(text, configPath);
            var stream = new YamlStream();
            try { stream.Load(new StringReader(text)); }
            catch (YamlException e)
            {
                throw new ConfigException(configPath, (int)e.Start.Line, (int)e.Start.Column, "", "YAML syntax error: " + (e.InnerException?.Message ?? e.Message));
            }
            doc = stream.Documents.Count == 0 ? null : stream.Documents[0];
        }
        var root = doc is null ? ConfigSection.Root(file, new YamlDocument(new YamlMappingNode())) : ConfigSection.Root(file, doc);
        foreach (var k in new[] { "exp_name", "log" }) root.Declare(k);
        if (root.Has("data"))
        {
            root.Declare("data");
            stderr.WriteLine($"note: {configPath}: data: is ignored by glass align (the data comes from --x/--y).");
        }
        var model = root.Section("model");
        var (options, restarts, _, ext) = GwKind.BindOptions(model.Section("gw"), root.Section("train"), new ConfigOverrides { Seed = seed, Steps = steps, Init = init });
        model.Finish();
        root.Finish();
        return (options, restarts, root.Resolved, ext);
    }

    private static (double? Value, string? Note) GwLoss(ComputeDevice dev, LearnedGwTrainer? trainer, GwModel model, LearnedGwOptions options,
        PointSet xs, PointSet ys, double gamma, AlignRequest r)
    {
        int n = xs.Rows, m = ys.Rows;
        if ((long)n * m > GwLossMaxEntries || (long)n * n > GwLossMaxEntries || (long)m * m > GwLossMaxEntries)
            return (null, string.Create(CultureInfo.InvariantCulture, $"not computed: the dense plan and distance matrices would need {n}×{m}, {n}², {m}² entries (limit {GwLossMaxEntries})"));
        double[] dx, dy;
        if (trainer is not null) { dx = trainer.DistanceX; dy = trainer.DistanceY; }
        else
        {
            // D_X, D_Y as in training: the distance options of --config (or the defaults) on the normalised inputs.
            var zx = model.NormalizationX.Apply(xs.Data, n, xs.Cols, r.X);
            var zy = model.NormalizationY.Apply(ys.Data, m, ys.Cols, r.Y);
            try
            {
                dx = Distances.Compute(zx, n, xs.Cols, options.DistancesX, r.X).Values;
                dy = Distances.Compute(zy, m, ys.Cols, options.DistancesY, r.Y).Values;
            }
            catch (ArgumentException e)
            {
                // The new data may not suit the training's distance options (e.g. k ≥ n): the alignment stands, the metric says why it is missing.
                return (null, "not computed: " + Plain(e) + " (pass --config with another model.gw.distance)");
            }
        }
        var ex = model.EmbedX(xs.Data, n, r.X);
        var ey = model.EmbedY(ys.Data, m, r.Y);
        var s = DenseSinkhorn.Solve(dev, DenseGeometry.FromPoints(ex, ey, model.EmbedDim), null, null,
            new SinkhornOptions { Gamma = gamma, MaxIter = 5000, Tol = 1e-9, ReturnPlan = true });
        return (AlignmentMetrics.GwLoss(dx, dy, s.Plan!, n, m), trainer is null ? "D_X, D_Y from model.gw.distance of " + (r.Config ?? "the model's config.json or the defaults") : null);
    }

    private static void WriteHistory(string path, IReadOnlyList<LearnedGwProgress> h)
    {
        var lines = new List<string> { "step,loss,main_loss,spectral,epsilon,gamma,seconds" };
        lines.AddRange(h.Select(p => string.Join(",", p.Step.ToString(CultureInfo.InvariantCulture), MetricsWriter.Format(p.Loss), MetricsWriter.Format(p.MainLoss),
            MetricsWriter.Format(p.Spectral), MetricsWriter.Format(p.Epsilon), MetricsWriter.Format(p.Gamma), MetricsWriter.Format(p.Seconds))));
        File.WriteAllLines(path, lines);
    }
}
