using System.Globalization;
using Glass.Models.Data;
using Glass.Models.Gw;
using Glass.Runner.Config;

namespace Glass.Runner.Experiments;

/// <summary>
/// The files and weights of learned GW's two extension terms as the runner takes them (config keys
/// <c>model.gw.supervised {pairs, weight}</c> and <c>model.gw.fused {x, y, weight}</c>; <c>glass align --known-pairs</c>,
/// <c>--supervised-weight</c>, <c>--fused-x</c>, <c>--fused-y</c>, <c>--fused-weight</c>). Paths are absolute. The files
/// are read only by <see cref="Apply"/>, once the data's row counts are known — before anything is written.
/// </summary>
/// <param name="Pairs">Known-pairs file (<see cref="KnownPairsReader"/>), or null: no semi-supervised term.</param>
/// <param name="SupervisedWeight">Weight of −(1/|K|) Σ log(n·Π_ij) (&gt; 0 with <paramref name="Pairs"/>).</param>
/// <param name="FusedX">Shared features of X (.npy or CSV, n×p), or null: no fused term.</param>
/// <param name="FusedY">Shared features of Y (m×p).</param>
/// <param name="FusedWeight">Weight α of ⟨Π, M⟩, M_ij = ‖a_i − b_j‖² / max (&gt; 0 with the fused files).</param>
internal sealed record GwExtensionFiles(string? Pairs, double SupervisedWeight, string? FusedX, string? FusedY, double FusedWeight)
{
    /// <summary>Neither term.</summary>
    public static GwExtensionFiles None { get; } = new(null, 0, null, null, 0);

    /// <summary>Default weight of either term when a file is given without a weight.</summary>
    public const double DefaultWeight = 1.0;

    /// <summary>True when either term is on.</summary>
    public bool Any => Pairs is not null || FusedX is not null;

    /// <summary>
    /// Binds <c>supervised: {pairs: FILE, weight: W}</c> and <c>fused: {x: FILE, y: FILE, weight: A}</c> of
    /// <c>model.gw</c> (<paramref name="m"/>); paths relative to the config file's folder, written absolute into the
    /// resolved config (so <c>--resume</c> and <c>glass align --model</c> find them). An absent section is off and
    /// stays absent from the resolved config.
    /// </summary>
    internal static GwExtensionFiles Bind(ConfigSection m)
    {
        string baseDir = Path.GetDirectoryName(Path.GetFullPath(m.File)) ?? ".";
        string FilePath(ConfigSection s, string key, string what)
        {
            if (!s.Has(key)) throw s.ErrorAt(key, $"missing; expected {what} (a path relative to the config's folder)");
            string v = s.String(key, "", t => t.Trim().Length > 0 ? null : what + " (a path relative to the config's folder)");
            string full = Path.GetFullPath(Path.Combine(baseDir, v));
            s.Resolved[key] = full;
            return full;
        }
        string? pairs = null, fx = null, fy = null;
        double sw = 0, fw = 0;
        if (m.Has("supervised"))
        {
            var s = m.Section("supervised");
            pairs = FilePath(s, "pairs", "a known-pairs file (lines 'i,j': 0-based row of X, row of Y)");
            sw = s.Double("weight", DefaultWeight, NumberRange.Positive);
            s.Finish();
        }
        else m.Declare("supervised");
        if (m.Has("fused"))
        {
            var s = m.Section("fused");
            fx = FilePath(s, "x", "the shared features of X (.npy or CSV, one row per row of X)");
            fy = FilePath(s, "y", "the shared features of Y (.npy or CSV, one row per row of Y)");
            fw = s.Double("weight", DefaultWeight, NumberRange.Positive);
            s.Finish();
        }
        else m.Declare("fused");
        return new GwExtensionFiles(pairs, sw, fx, fy, fw);
    }

    /// <summary>
    /// Reads the pairs and the shared features and returns <paramref name="options"/> with <c>KnownPairs</c>,
    /// <c>SupervisedWeight</c>, <c>FusedFeaturesX/Y</c> and <c>FusedWeight</c> set (unchanged when neither term is on).
    /// </summary>
    /// <exception cref="InvalidDataException">A bad pairs file (line, index, valid range), fused features whose row count
    /// differs from X's or Y's, or whose column counts differ from each other, or a non-finite value; the message names the file.</exception>
    internal LearnedGwOptions Apply(LearnedGwOptions options, int rowsX, int rowsY, string nameX, string nameY)
    {
        var o = options;
        if (Pairs is not null)
        {
            var pairs = KnownPairsReader.Read(Pairs, rowsX, rowsY, nameX, nameY);
            o = o with { KnownPairs = pairs, SupervisedWeight = SupervisedWeight };
        }
        if (FusedX is not null && FusedY is not null)
        {
            var fx = PointSetReader.Read(FusedX);
            var fy = PointSetReader.Read(FusedY);
            if (fx.Rows != rowsX)
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"{FusedX}: {fx.Rows} rows of shared features, but {nameX} has {rowsX}; expected one row per row of X, in the same order."));
            if (fy.Rows != rowsY)
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"{FusedY}: {fy.Rows} rows of shared features, but {nameY} has {rowsY}; expected one row per row of Y, in the same order."));
            if (fx.Cols != fy.Cols)
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"{FusedY}: {fy.Cols} shared features per row, but {FusedX} has {fx.Cols}; expected the same features on both sides."));
            o = o with { FusedFeaturesX = fx.Data, FusedFeaturesY = fy.Data, FusedWeight = FusedWeight };
        }
        return o;
    }

    /// <summary>Writes the sections back into the resolved <c>model.gw</c> (after command-line overrides); absent terms are removed.</summary>
    internal void WriteResolved(System.Text.Json.Nodes.JsonObject gw)
    {
        gw.Remove("supervised");
        gw.Remove("fused");
        if (Pairs is not null) gw["supervised"] = new System.Text.Json.Nodes.JsonObject { ["pairs"] = Pairs, ["weight"] = SupervisedWeight };
        if (FusedX is not null) gw["fused"] = new System.Text.Json.Nodes.JsonObject { ["x"] = FusedX, ["y"] = FusedY, ["weight"] = FusedWeight };
    }
}
