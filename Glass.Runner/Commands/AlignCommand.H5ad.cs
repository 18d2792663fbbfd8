using System.Text.Json;
using System.Text.Json.Nodes;
using Glass.Models.Data;
using Glass.Runner.AnnData;
using Glass.Runner.Experiments;
using Glass.Runner.Output;

namespace Glass.Runner.Commands;

/// <summary><c>glass align</c> with AnnData: <c>.h5ad</c> inputs (--x-key, --y-key, obs labels) and <c>.h5ad</c> results.</summary>
internal static partial class AlignCommand
{
    /// <summary>The obsm key of the aligned coordinates in the written .h5ad files.</summary>
    internal const string AlignedObsm = "X_glass";

    /// <summary>The matrix key of an .h5ad input when --x-key / --y-key are not given.</summary>
    internal const string DefaultKey = "X";

    private static void ValidateKeys(AlignRequest r)
    {
        if (r.XKey is not null && !H5adReader.IsH5ad(r.X))
            throw new ArgumentException($"--x-key {r.XKey} names a matrix inside an AnnData file, but --x {r.X} is not .h5ad.");
        if (r.YKey is not null && r.Y is { } y && !H5adReader.IsH5ad(y))
            throw new ArgumentException($"--y-key {r.YKey} names a matrix inside an AnnData file, but --y {y} is not .h5ad.");
    }

    /// <summary>X, Y and the labels: .npy/CSV via the gw run's reader, .h5ad via <see cref="H5adReader"/> (labels then an obs column unless a file of that name exists).</summary>
    private static (PointSet X, PointSet Y, int[]? LabelsX, int[]? LabelsY) ReadInputs(AlignRequest r, GwDataSpec spec)
    {
        bool hx = H5adReader.IsH5ad(spec.X!), hy = H5adReader.IsH5ad(spec.Y!);
        if (!hx && !hy) return GwKind.ReadData(spec);
        var xs = hx ? H5adReader.ReadMatrix(spec.X!, r.XKey ?? DefaultKey, "--x-key") : PointSetReader.Read(spec.X!);
        var ys = hy ? H5adReader.ReadMatrix(spec.Y!, r.YKey ?? DefaultKey, "--y-key") : PointSetReader.Read(spec.Y!);
        var lx = Labels(r.LabelsX, hx, spec.X!, xs.Rows, "--labels-x");
        var ly = Labels(r.LabelsY, hy, spec.Y!, ys.Rows, "--labels-y");
        if (spec.Paired && xs.Rows != ys.Rows)
            throw new ArgumentException($"{spec.Y}: {ys.Rows} rows, but {spec.X} has {xs.Rows}; paired data needs equal row counts (row i of X ↔ row i of Y).");
        return (xs, ys, lx, ly);
    }

    private static int[]? Labels(string? labels, bool h5ad, string points, int rows, string option)
    {
        if (labels is null) return null;
        if (h5ad && !File.Exists(labels)) return H5adReader.ReadLabels(points, labels, rows, option).Codes;
        return GwKind.ReadLabels(Path.GetFullPath(labels), rows, points);
    }

    /// <summary>
    /// <c>x_aligned.h5ad</c> / <c>y_aligned.h5ad</c> for each .h5ad input: the input's obs names, the aligned coordinates
    /// under <c>obsm/X_glass</c>, for X the hard match (<c>obs/glass_match</c>: row of Y; <c>glass_match_name</c>: its obs
    /// name; <c>glass_match_mass</c>: its share n·Π_ij of the row's mass) and the top-k plan rows
    /// (<c>uns/glass/top_k_index</c>, <c>top_k_value</c>), and for both the scalar metrics under <c>uns/glass</c>.
    /// </summary>
    private static void WriteH5ad(AlignInputs a, AlignOutcome o, AlignFolder folder, double[] xAligned, double[] yAligned, int d, JsonObject metrics)
    {
        bool hx = H5adReader.IsH5ad(a.Spec.X!), hy = H5adReader.IsH5ad(a.Spec.Y!);
        if (!hx && !hy) return;
        int n = a.Xs.Rows, m = a.Ys.Rows;
        var namesY = hy ? H5adReader.ReadObsNames(a.Spec.Y!) : null;
        if (hx)
        {
            var al = o.Al;
            var w = new H5adWriter(n, H5adReader.ReadObsNames(a.Spec.X!));
            w.Obs("glass_match", al.Matches.Select(v => (long)v).ToArray())
             .Obs("glass_match_mass", Enumerable.Range(0, n).Select(i => al.TopKValue[(long)i * al.TopK] * n).ToArray());
            if (namesY is not null) w.Obs("glass_match_name", al.Matches.Select(j => namesY[j]).ToArray());
            w.Obsm(AlignedObsm, xAligned, d)
             .Uns("top_k_index", (al.TopKIndex.Select(v => (long)v).ToArray(), al.TopK))
             .Uns("top_k_value", (al.TopKValue, al.TopK))
             .Uns("x_key", a.R.XKey ?? DefaultKey);
            AddScalars(w, metrics).Write(folder.PathOf("x_aligned.h5ad"));
        }
        if (hy)
        {
            var w = new H5adWriter(m, namesY).Obsm(AlignedObsm, yAligned, d).Uns("y_key", a.R.YKey ?? DefaultKey);
            AddScalars(w, metrics).Write(folder.PathOf("y_aligned.h5ad"));
        }
    }

    /// <summary>Every number, string and bool of metrics.json as a scalar of uns/glass.</summary>
    private static H5adWriter AddScalars(H5adWriter w, JsonObject metrics)
    {
        foreach (var (key, node) in metrics)
        {
            if (node is not JsonValue v) continue;
            switch (v.GetValueKind())
            {
                case JsonValueKind.String: w.Uns(key, v.GetValue<string>()); break;
                case JsonValueKind.True or JsonValueKind.False: w.Uns(key, v.GetValue<bool>()); break;
                case JsonValueKind.Number: w.Uns(key, Number(v.ToJsonString())); break;
            }
        }
        return w;
    }

    /// <summary>A JSON number as long when it is written as an integer, else as double.</summary>
    private static object Number(string text) =>
        long.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out long l)
            ? l : double.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
}
