using PureHDF;

namespace Glass.Runner.AnnData;

/// <summary>
/// Writes a small AnnData <c>.h5ad</c> file (anndata on-disk format: root <c>encoding-type</c> <c>anndata</c> 0.1.0;
/// <c>obs</c>/<c>var</c> dataframes 0.2.0 with <c>_index</c> and <c>column-order</c>; <c>obsm</c>/<c>uns</c> dicts 0.1.0;
/// arrays 0.2.0; string arrays 0.2.0; scalars as <c>numeric-scalar</c> / <c>string</c> 0.2.0) with no <c>X</c>
/// (n_vars = 0): the obs names, obs columns, obsm matrices and one <c>uns</c> dict. <c>anndata.read_h5ad</c> reads it.
/// </summary>
internal sealed class H5adWriter
{
    private readonly int _rows;
    private readonly string[] _names;
    private readonly List<(string Name, object Data)> _obs = new();
    private readonly List<(string Name, double[] Data, int Cols)> _obsm = new();
    private readonly List<(string Name, object Value)> _uns = new();

    /// <summary>A file of <paramref name="rows"/> observations named <paramref name="obsNames"/> (null: "0", "1", …).</summary>
    public H5adWriter(int rows, string[]? obsNames)
    {
        if (obsNames is not null && obsNames.Length != rows)
            throw new ArgumentException($"{obsNames.Length} obs names for {rows} rows.", nameof(obsNames));
        _rows = rows;
        _names = obsNames ?? Enumerable.Range(0, rows).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
    }

    /// <summary>An obs column: long[], double[] or string[] of one entry per row.</summary>
    public H5adWriter Obs(string name, Array data)
    {
        if (data.Length != _rows) throw new ArgumentException($"obs column {name}: {data.Length} entries for {_rows} rows.", nameof(data));
        _obs.Add((name, data));
        return this;
    }

    /// <summary>An obsm matrix, rows×cols row-major.</summary>
    public H5adWriter Obsm(string name, double[] data, int cols)
    {
        if (data.Length != (long)_rows * cols) throw new ArgumentException($"obsm {name}: {data.Length} values for {_rows}×{cols}.", nameof(data));
        _obsm.Add((name, data, cols));
        return this;
    }

    /// <summary>An entry of <c>uns/glass</c>: a double, long, bool, string, or a (long[] / double[], cols) matrix.</summary>
    public H5adWriter Uns(string name, object value)
    {
        _uns.Add((name, value));
        return this;
    }

    /// <summary>Writes the file (replacing one at <paramref name="path"/>).</summary>
    public void Write(string path, string unsGroup = "glass")
    {
        var obs = Frame(_names, _obs.Select(c => c.Name).ToArray());
        foreach (var (name, data) in _obs)
            obs[name] = Spec(new H5Dataset(data), data is string[] ? "string-array" : "array", "0.2.0");
        var obsm = Dict();
        foreach (var (name, data, cols) in _obsm)
            obsm[name] = Spec(new H5Dataset(data, fileDims: new[] { (ulong)_rows, (ulong)cols }), "array", "0.2.0");
        var g = Dict();
        foreach (var (name, value) in _uns) g[name] = UnsValue(value);
        var uns = Dict();
        uns[unsGroup] = g;
        var file = new H5File
        {
            ["obs"] = obs,
            ["var"] = Frame(Array.Empty<string>(), Array.Empty<string>()),
            ["obsm"] = obsm,
            ["uns"] = uns,
        };
        foreach (var empty in new[] { "layers", "obsp", "varm", "varp" }) file[empty] = Dict();
        file.Attributes["encoding-type"] = "anndata";
        file.Attributes["encoding-version"] = "0.1.0";
        file.Write(path);
    }

    private static H5Dataset UnsValue(object value) => value switch
    {
        string s => Spec(new H5Dataset(s), "string", "0.2.0"),
        double or long or int or bool => Spec(new H5Dataset(value), "numeric-scalar", "0.2.0"),
        ValueTuple<long[], int> t => Spec(new H5Dataset(t.Item1, fileDims: new[] { (ulong)(t.Item1.Length / Math.Max(1, t.Item2)), (ulong)t.Item2 }), "array", "0.2.0"),
        ValueTuple<double[], int> t => Spec(new H5Dataset(t.Item1, fileDims: new[] { (ulong)(t.Item1.Length / Math.Max(1, t.Item2)), (ulong)t.Item2 }), "array", "0.2.0"),
        _ => throw new ArgumentException($"uns value of type {value.GetType().Name} is not supported.", nameof(value)),
    };

    private static H5Group Frame(string[] index, string[] columns)
    {
        var g = new H5Group
        {
            ["_index"] = Spec(new H5Dataset(index), "string-array", "0.2.0"),
        };
        g.Attributes["encoding-type"] = "dataframe";
        g.Attributes["encoding-version"] = "0.2.0";
        g.Attributes["_index"] = "_index";
        g.Attributes["column-order"] = columns;
        return g;
    }

    private static H5Group Dict()
    {
        var g = new H5Group();
        g.Attributes["encoding-type"] = "dict";
        g.Attributes["encoding-version"] = "0.1.0";
        return g;
    }

    private static H5Dataset Spec(H5Dataset d, string type, string version)
    {
        d.Attributes = new() { ["encoding-type"] = type, ["encoding-version"] = version };
        return d;
    }
}
