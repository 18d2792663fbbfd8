using System.Globalization;
using Glass.Models.Data;
using PureHDF;

namespace Glass.Runner.AnnData;

/// <summary>
/// Reads matrices and labels from AnnData <c>.h5ad</c> files (HDF5, the on-disk format of the <c>anndata</c> Python
/// package) with PureHDF: a dense matrix (<c>X</c>, <c>obsm/KEY</c>, <c>layers/KEY</c>: float32/float64/integer
/// dataset, 1-D or 2-D), a CSR or CSC sparse matrix (a group with <c>encoding-type</c> <c>csr_matrix</c> /
/// <c>csc_matrix</c>, datasets <c>data</c>, <c>indices</c>, <c>indptr</c> and the attribute <c>shape</c>), densified
/// row-major; and labels from an <c>obs</c> column (categorical: codes + categories; strings; integers). Every error
/// names the file, the key and, for a missing key, the keys present.
/// </summary>
internal static class H5adReader
{
    /// <summary>True when <paramref name="path"/> ends with <c>.h5ad</c>.</summary>
    public static bool IsH5ad(string path) => path.EndsWith(".h5ad", StringComparison.OrdinalIgnoreCase);

    /// <summary>Opens the file; a file that is not HDF5 gives an <see cref="InvalidDataException"/> naming it.</summary>
    internal static PureHDF.VOL.Native.NativeFile Open(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: AnnData file not found.", path);
        try { return H5File.OpenRead(path); }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidDataException($"{path}: not a readable HDF5/AnnData file ({e.Message}).", e);
        }
    }

    /// <summary>The matrix under <paramref name="key"/> (default <c>X</c>), n×d row-major, finite.</summary>
    /// <param name="path">The .h5ad file.</param>
    /// <param name="key">HDF5 path of the matrix: <c>X</c>, <c>obsm/X_pca</c>, <c>layers/counts</c>.</param>
    /// <param name="option">The option that named the key (for messages), e.g. <c>--x-key</c>.</param>
    public static PointSet ReadMatrix(string path, string key, string option)
    {
        using var f = Open(path);
        key = key.Trim('/');
        if (key.Length == 0 || !SafeExists(f, key))
            throw new ArgumentException($"{path}: no matrix '{key}' ({option}); matrices present: {string.Join(", ", MatrixKeys(f))}.");
        try
        {
            var obj = f.Get(key);
            PointSet ps = obj switch
            {
                IH5Dataset ds => ReadDense(ds, path, key),
                IH5Group g => ReadSparse(g, path, key, option),
                _ => throw new ArgumentException($"{path}: '{key}' ({option}) is neither a dataset nor a sparse-matrix group."),
            };
            for (long i = 0; i < ps.Data.Length; i++)
                if (!double.IsFinite(ps.Data[i]))
                    throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                        $"{path}: '{key}' row {i / ps.Cols}, column {i % ps.Cols} is not finite; expected finite values."));
            return ps;
        }
        catch (Exception e) when (e is not (ArgumentException or InvalidDataException or OutOfMemoryException))
        {
            throw new InvalidDataException($"{path}: cannot read '{key}' ({e.Message}).", e);
        }
    }

    /// <summary>Labels of the <c>obs</c> column <paramref name="key"/> (<c>obs/NAME</c> or <c>NAME</c>) as integer codes.</summary>
    /// <returns>One code per row, and the category names (null for an integer column).</returns>
    public static (int[] Codes, string[]? Names) ReadLabels(string path, string key, int rows, string option)
    {
        using var f = Open(path);
        string col = key.StartsWith("obs/", StringComparison.Ordinal) ? key[4..] : key;
        string full = "obs/" + col;
        if (col.Length == 0 || col.Contains('/') || !SafeExists(f, full))
            throw new ArgumentException($"{path}: no obs column '{col}' ({option} {key}); columns present: {string.Join(", ", ObsColumns(f))}.");
        try
        {
            var (codes, names) = f.Get(full) switch
            {
                IH5Group g => ReadCategorical(g, path, full),
                IH5Dataset ds => ReadColumn(ds, path, full),
                _ => throw new ArgumentException($"{path}: '{full}' is not an obs column."),
            };
            if (codes.Length != rows)
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{path}: '{full}' has {codes.Length} entries, but the matrix has {rows} rows; expected one label per row."));
            return (codes, names);
        }
        catch (Exception e) when (e is not (ArgumentException or InvalidDataException or OutOfMemoryException))
        {
            throw new InvalidDataException($"{path}: cannot read '{full}' ({e.Message}).", e);
        }
    }

    /// <summary>The obs names (<c>obs/_index</c>, or the dataframe's <c>_index</c> attribute), or null when absent.</summary>
    public static string[]? ReadObsNames(string path)
    {
        using var f = Open(path);
        try
        {
            if (!SafeExists(f, "obs")) return null;
            var obs = f.Group("obs");
            string index = obs.AttributeExists("_index") ? obs.Attribute("_index").Read<string>() : "_index";
            return obs.LinkExists(index) ? obs.Dataset(index).Read<string[]>() : null;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidDataException($"{path}: cannot read the obs names ({e.Message}).", e);
        }
    }

    private static bool SafeExists(IH5Group f, string key)
    {
        // LinkExists on a path through a dataset throws; walk the segments.
        IH5Group g = f;
        var parts = key.Split('/');
        for (int i = 0; i < parts.Length; i++)
        {
            if (!g.LinkExists(parts[i])) return false;
            if (i == parts.Length - 1) return true;
            if (g.Get(parts[i]) is not IH5Group next) return false;
            g = next;
        }
        return true;
    }

    /// <summary>X, obsm/* and layers/* (what --x-key may name).</summary>
    internal static List<string> MatrixKeys(IH5Group f)
    {
        var keys = new List<string>();
        if (f.LinkExists("X")) keys.Add("X");
        foreach (var grp in new[] { "obsm", "layers" })
            if (f.LinkExists(grp) && f.Get(grp) is IH5Group g)
                keys.AddRange(g.Children().Select(c => grp + "/" + c.Name).Order(StringComparer.Ordinal));
        if (keys.Count == 0) keys.Add("(none)");
        return keys;
    }

    private static IEnumerable<string> ObsColumns(IH5Group f)
    {
        if (!f.LinkExists("obs") || f.Get("obs") is not IH5Group obs) return new[] { "(no obs)" };
        var names = obs.Children().Select(c => c.Name).Where(c => c != "_index" && c != "__categories").Select(c => "obs/" + c).Order(StringComparer.Ordinal).ToList();
        return names.Count == 0 ? new[] { "(none)" } : names;
    }

    private static PointSet ReadDense(IH5Dataset ds, string path, string key)
    {
        var dims = ds.Space.Dimensions;
        if (dims.Length is < 1 or > 2)
            throw new InvalidDataException($"{path}: '{key}' has {dims.Length} dimensions; expected a 1-D or 2-D matrix.");
        ulong rows = dims[0], cols = dims.Length == 2 ? dims[1] : 1;
        CheckSize(path, key, rows, cols);
        var data = ReadNumbers(ds, path, key);
        return new PointSet(data, (int)rows, (int)cols);
    }

    private static PointSet ReadSparse(IH5Group g, string path, string key, string option)
    {
        string type = g.AttributeExists("encoding-type") ? g.Attribute("encoding-type").Read<string>() : "(none)";
        if (type is not ("csr_matrix" or "csc_matrix"))
            throw new ArgumentException($"{path}: '{key}' ({option}) is a group of encoding-type '{type}'; expected a dense dataset, csr_matrix or csc_matrix.");
        foreach (var part in new[] { "data", "indices", "indptr" })
            if (!g.LinkExists(part)) throw new InvalidDataException($"{path}: sparse matrix '{key}' has no '{part}' dataset.");
        if (!g.AttributeExists("shape")) throw new InvalidDataException($"{path}: sparse matrix '{key}' has no 'shape' attribute.");
        var sa = g.Attribute("shape");
        long[] shape = sa.Type.Size == 8 ? sa.Read<long[]>() : Array.ConvertAll(sa.Read<int[]>(), v => (long)v);
        if (shape.Length != 2 || shape[0] < 0 || shape[1] < 0)
            throw new InvalidDataException($"{path}: sparse matrix '{key}' has shape ({string.Join(", ", shape)}); expected two sizes ≥ 0.");
        CheckSize(path, key, (ulong)shape[0], (ulong)shape[1]);
        int rows = (int)shape[0], cols = (int)shape[1];
        bool csr = type == "csr_matrix";
        var values = ReadNumbers(g.Dataset("data"), path, key + "/data");
        var indices = ReadIndex(g.Dataset("indices"), path, key + "/indices");
        var indptr = ReadIndex(g.Dataset("indptr"), path, key + "/indptr");
        int major = csr ? rows : cols, minor = csr ? cols : rows;
        if (indptr.Length != major + 1 || indptr[0] != 0 || indptr[^1] != values.Length || indices.Length != values.Length)
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"{path}: sparse matrix '{key}': indptr has {indptr.Length} entries ending at {(indptr.Length > 0 ? indptr[^1] : 0)}, data {values.Length}, indices {indices.Length}; expected {major + 1} entries from 0 to the {values.Length} stored values."));
        var dense = new double[(long)rows * cols];
        for (int a = 0; a < major; a++)
        {
            if (indptr[a + 1] < indptr[a]) throw new InvalidDataException($"{path}: sparse matrix '{key}': indptr decreases at {a}.");
            for (long p = indptr[a]; p < indptr[a + 1]; p++)
            {
                long b = indices[p];
                if (b < 0 || b >= minor) throw new InvalidDataException($"{path}: sparse matrix '{key}': index {b} outside [0, {minor}).");
                long at = csr ? (long)a * cols + b : b * cols + a;
                dense[at] += values[p];
            }
        }
        return new PointSet(dense, rows, cols);
    }

    private static void CheckSize(string path, string key, ulong rows, ulong cols)
    {
        if (rows == 0 || cols == 0)
            throw new InvalidDataException($"{path}: '{key}' is empty ({rows}×{cols}); expected at least one row and one column.");
        if (rows > int.MaxValue || cols > int.MaxValue || rows * cols > (ulong)Array.MaxLength)
            throw new InvalidDataException($"{path}: '{key}' is {rows}×{cols}; expected at most {Array.MaxLength} values in all.");
        ulong bytes = rows * cols * 8;
        long avail = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (avail > 0 && bytes > (ulong)avail)
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"{path}: '{key}' is {rows}×{cols} ({bytes / 1e9:F1} GB as float64); more than the {avail / 1e9:F1} GB of memory available."));
    }

    private static double[] ReadNumbers(IH5Dataset ds, string path, string key)
    {
        var t = ds.Type;
        return (t.Class, t.Size) switch
        {
            (H5DataTypeClass.FloatingPoint, 8) => ds.Read<double[]>(),
            (H5DataTypeClass.FloatingPoint, 4) => Array.ConvertAll(ds.Read<float[]>(), v => (double)v),
            (H5DataTypeClass.FixedPoint, _) => Array.ConvertAll(ReadIndex(ds, path, key), v => (double)v),
            _ => throw new InvalidDataException($"{path}: '{key}' has HDF5 type {t.Class} of {t.Size} bytes; expected float32, float64 or integers."),
        };
    }

    private static long[] ReadIndex(IH5Dataset ds, string path, string key)
    {
        var t = ds.Type;
        if (t.Class != H5DataTypeClass.FixedPoint)
            throw new InvalidDataException($"{path}: '{key}' has HDF5 type {t.Class}; expected integers.");
        return t.Size switch
        {
            1 => Array.ConvertAll(ds.Read<sbyte[]>(), v => (long)v),
            2 => Array.ConvertAll(ds.Read<short[]>(), v => (long)v),
            4 => Array.ConvertAll(ds.Read<int[]>(), v => (long)v),
            8 => ds.Read<long[]>(),
            _ => throw new InvalidDataException($"{path}: '{key}' has integers of {t.Size} bytes; expected 1, 2, 4 or 8."),
        };
    }

    private static (int[], string[]?) ReadCategorical(IH5Group g, string path, string key)
    {
        string type = g.AttributeExists("encoding-type") ? g.Attribute("encoding-type").Read<string>() : "(none)";
        if (type != "categorical" || !g.LinkExists("codes") || !g.LinkExists("categories"))
            throw new InvalidDataException($"{path}: '{key}' is a group of encoding-type '{type}'; expected a categorical column (codes + categories).");
        var codes = ReadIndex(g.Dataset("codes"), path, key + "/codes");
        var cats = g.Dataset("categories");
        int count = (int)cats.Space.Dimensions[0];
        string[] names = cats.Type.Class == H5DataTypeClass.String || cats.Type.Class == H5DataTypeClass.VariableLength
            ? cats.Read<string[]>()
            : ReadNumbers(cats, path, key + "/categories").Select(v => v.ToString(CultureInfo.InvariantCulture)).ToArray();
        var result = new int[codes.Length];
        for (int i = 0; i < codes.Length; i++)
        {
            if (codes[i] < 0 || codes[i] >= count)
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"{path}: '{key}' row {i} has code {codes[i]} ({(codes[i] < 0 ? "a missing value" : "no such category")}); expected a category in [0, {count}) for every row."));
            result[i] = (int)codes[i];
        }
        return (result, names);
    }

    private static (int[], string[]?) ReadColumn(IH5Dataset ds, string path, string key)
    {
        var t = ds.Type;
        if (t.Class is H5DataTypeClass.String or H5DataTypeClass.VariableLength)
        {
            var s = ds.Read<string[]>();
            var names = s.Distinct().Order(StringComparer.Ordinal).ToArray();
            var index = names.Select((v, i) => (v, i)).ToDictionary(p => p.v, p => p.i);
            return (s.Select(v => index[v]).ToArray(), names);
        }
        if (t.Class != H5DataTypeClass.FixedPoint)
            throw new InvalidDataException($"{path}: '{key}' has HDF5 type {t.Class}; expected a categorical, string or integer column for labels.");
        var v = ReadIndex(ds, path, key);
        var codes = new int[v.Length];
        for (int i = 0; i < v.Length; i++)
        {
            if (v[i] is < int.MinValue or > int.MaxValue)
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{path}: '{key}' row {i} is {v[i]}; expected a 32-bit integer label."));
            codes[i] = (int)v[i];
        }
        return (codes, null);
    }
}
