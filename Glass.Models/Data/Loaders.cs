using System.Globalization;
using Glass.Kernels.Linalg;

namespace Glass.Models.Data;

/// <summary>A point set read from a file: n×d row-major.</summary>
/// <param name="Data">Values, row-major, length Rows·Cols.</param>
/// <param name="Rows">n.</param>
/// <param name="Cols">d.</param>
public sealed record PointSet(double[] Data, int Rows, int Cols);

/// <summary>
/// Readers of user point sets: <c>.npy</c> (float32/float64, 1-D or 2-D, via <see cref="Npy"/>) and CSV
/// (one point per line; an optional non-numeric header line; blank lines and lines starting with '#' skipped).
/// CSV fields are separated by ',' with '.' as decimal mark (InvariantCulture), or, when the first non-comment line
/// holds a ';', by ';' with ',' (or '.') as decimal mark. Every row must have as many fields as the first data row.
/// A ','-separated file in which every row has an even number of fields, every odd field an integer and every even
/// field only digits, and which carries a mark of split decimals somewhere — an even field with a leading zero ("1,05")
/// or an odd field "-0" ("-0,5") — is refused as ambiguous: it is what decimal commas split by the ',' separator look
/// like. Plain integer data ("10,20") has neither mark and is read as integers.
/// </summary>
public static class PointSetReader
{
    /// <summary>Reads by extension: <c>.npy</c> → <see cref="Npy.Read"/>, anything else → <see cref="ReadCsv"/>.</summary>
    /// <exception cref="InvalidDataException">Malformed file; the message names the file, the line and what was expected.</exception>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    public static PointSet Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: point set file not found.", path);
        if (new FileInfo(path).Length == 0)
            throw new InvalidDataException($"{path}: the file has length 0 (empty, or a device, pipe or /proc file, which are not read); expected a point set.");
        if (path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
        {
            var a = Npy.Read(path);
            foreach (var v in a.Data)
                if (!double.IsFinite(v)) throw new InvalidDataException($"{path}: contains a non-finite value; expected finite coordinates.");
            return new PointSet(a.Data, a.Rows, a.Cols);
        }
        return ReadCsv(path);
    }

    /// <summary>Reads a CSV point set (see the class summary).</summary>
    /// <exception cref="InvalidDataException">A non-number, a row of another length, a non-finite value, no rows, or a
    /// ','-separated file that looks like split decimal commas; the message names the file and line.</exception>
    public static PointSet ReadCsv(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var data = new List<double>();
        int cols = -1, rows = 0, lineNo = 0;
        bool first = true;
        char sep = ',';
        bool splitDecimalsLook = true; // ','-separated only: every row "int,digits,int,digits,…" (see the class summary)
        bool splitDecimalsMark = false; // … and some row shows a leading-zero fraction ("1,05") or a "-0" integer part
        foreach (var raw in File.ReadLines(path))
        {
            lineNo++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            if (first && line.Contains(';')) sep = ';'; // the first line decides: ';' between fields, ',' as decimal mark
            var parts = line.Split(sep);
            if (first)
            {
                first = false;
                if (!TryParseNumber(parts[0].Trim(), sep, out _)) continue; // header
            }
            if (cols < 0) cols = parts.Length;
            else if (parts.Length != cols)
                throw new InvalidDataException(sep == ';'
                    ? $"{path}:{lineNo}: {parts.Length} values; expected {cols} ';'-separated numbers like the first row."
                    : $"{path}:{lineNo}: {parts.Length} values; expected {cols} comma-separated numbers like the first row. "
                      + "The ',' separator is ambiguous if the numbers use decimal commas: then separate fields with ';'.");
            for (int q = 0; q < parts.Length; q++)
            {
                var tok = parts[q].Trim();
                if (!TryParseNumber(tok, sep, out double v) || !double.IsFinite(v))
                    throw new InvalidDataException(sep == ';'
                        ? $"{path}:{lineNo}: column {q + 1} is '{tok}'; expected a finite number (';' between fields, ',' or '.' as decimal mark)."
                        : $"{path}:{lineNo}: column {q + 1} is '{tok}'; expected a finite number (InvariantCulture, '.' decimal separator).");
                data.Add(v);
            }
            if (sep == ',' && splitDecimalsLook)
            {
                splitDecimalsLook = LooksLikeSplitDecimals(parts);
                if (splitDecimalsLook && !splitDecimalsMark) splitDecimalsMark = HasSplitDecimalMark(parts);
            }
            rows++;
        }
        if (rows == 0) throw new InvalidDataException($"{path}: no data rows; expected one point per line.");
        if (sep == ',' && splitDecimalsLook && splitDecimalsMark)
            throw new InvalidDataException(
                $"{path}: the ',' separator is ambiguous: every row reads as integer,digits pairs ({cols} fields), as if numbers with "
                + "decimal commas were split in two; for decimal commas separate fields with ';' (e.g. '1,5;2,25'), "
                + "for integer coordinates write them as '1.0' or separate them with ';'.");
        return new PointSet(data.ToArray(), rows, cols);
    }

    /// <summary>Parses one field: InvariantCulture; with <paramref name="sep"/> ';' a ',' in the field is the decimal mark.</summary>
    private static bool TryParseNumber(string tok, char sep, out double v)
    {
        if (sep == ';')
        {
            if (tok.Contains(',') && tok.Contains('.')) { v = 0; return false; } // no thousands separators
            tok = tok.Replace(',', '.');
        }
        return double.TryParse(tok, NumberStyles.Float, CultureInfo.InvariantCulture, out v);
    }

    /// <summary>
    /// True when <paramref name="parts"/> has an even count, every odd field (1st, 3rd, …) is an integer (optional sign,
    /// digits) and every even field (2nd, 4th, …) is digits only: what "1,5,-2,25" (1,5 and -2,25 with decimal commas) gives.
    /// </summary>
    private static bool HasSplitDecimalMark(string[] parts)
    {
        for (int q = 0; q < parts.Length; q++)
        {
            var t = parts[q].Trim();
            if (q % 2 == 1 && t.Length > 1 && t[0] == '0') return true;
            if (q % 2 == 0 && (t == "-0" || t == "+0")) return true;
        }
        return false;
    }

    private static bool LooksLikeSplitDecimals(string[] parts)
    {
        if (parts.Length % 2 != 0) return false;
        for (int q = 0; q < parts.Length; q++)
        {
            var t = parts[q].Trim();
            if (q % 2 == 0 && t.Length > 1 && (t[0] == '-' || t[0] == '+')) t = t[1..];
            if (t.Length == 0 || !t.All(char.IsAsciiDigit)) return false;
        }
        return true;
    }

    /// <summary>Checks a point set is on S² (n×3, every row norm within <paramref name="tolerance"/> of 1) and returns it unchanged.</summary>
    /// <exception cref="InvalidDataException">Not 3 columns, or a row whose norm differs from 1 by more than <paramref name="tolerance"/>; the message names the file and the row.</exception>
    public static PointSet RequireSphere(PointSet points, string path, double tolerance = 1e-4)
    {
        ArgumentNullException.ThrowIfNull(points);
        if (points.Cols != 3) throw new InvalidDataException($"{path}: {points.Rows}×{points.Cols} points; expected n×3 points on S².");
        for (int i = 0; i < points.Rows; i++)
        {
            double r = Math.Sqrt(points.Data[3 * i] * points.Data[3 * i] + points.Data[3 * i + 1] * points.Data[3 * i + 1] + points.Data[3 * i + 2] * points.Data[3 * i + 2]);
            if (Math.Abs(r - 1) > tolerance)
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{path}: row {i} has norm {r:R}; expected unit vectors (|‖x‖ − 1| ≤ {tolerance})."));
        }
        return points;
    }
}

/// <summary>
/// Readers of user graphs as symmetric CSR adjacencies (zero diagonal, undirected): Matrix Market
/// coordinate files (<c>.mtx</c>: real | integer | pattern, general | symmetric; 1-based) and edge lists
/// (other extensions: "i j [w]" per line, 0-based node ids, whitespace or comma separated, '#' and '%'
/// comments). An entry (i, j, w) sets W_ij = W_ji = w; the same edge twice with different weights is an
/// error; self-loops are ignored (the normalised Laplacian needs a zero diagonal); pattern entries weigh 1.
/// </summary>
public static class GraphReader
{
    /// <summary>Reads by extension: <c>.mtx</c> → <see cref="ReadMatrixMarket"/>, else <see cref="ReadEdgeList"/>.</summary>
    /// <exception cref="InvalidDataException">Malformed file; the message names the file, line and expectation.</exception>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    public static CsrMatrix Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: graph file not found.", path);
        return path.EndsWith(".mtx", StringComparison.OrdinalIgnoreCase) ? ReadMatrixMarket(path) : ReadEdgeList(path);
    }

    /// <summary>Reads a Matrix Market coordinate file as an undirected weighted graph.</summary>
    /// <exception cref="InvalidDataException">Bad banner, size line, entry, index range, weight or entry count; the message names the file and line.</exception>
    public static CsrMatrix ReadMatrixMarket(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var reader = new StreamReader(path);
        string? line = reader.ReadLine();
        int lineNo = 1;
        if (line is null || !line.StartsWith("%%MatrixMarket", StringComparison.OrdinalIgnoreCase))
            throw new InvalidDataException($"{path}:1: expected the banner '%%MatrixMarket matrix coordinate <real|integer|pattern> <general|symmetric>'.");
        var banner = line.ToLowerInvariant().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (banner.Length < 5 || banner[1] != "matrix" || banner[2] != "coordinate")
            throw new InvalidDataException($"{path}:1: banner '{line}'; expected 'matrix coordinate' (dense 'array' files are not graphs).");
        bool pattern = banner[3] == "pattern";
        if (!pattern && banner[3] != "real" && banner[3] != "integer")
            throw new InvalidDataException($"{path}:1: field '{banner[3]}'; expected real, integer or pattern.");
        if (banner[4] != "general" && banner[4] != "symmetric")
            throw new InvalidDataException($"{path}:1: symmetry '{banner[4]}'; expected general or symmetric.");
        int n = -1; long expected = 0, seen = 0;
        var b = new EdgeBuilder(path);
        while ((line = reader.ReadLine()) is not null)
        {
            lineNo++;
            var t = line.Trim();
            if (t.Length == 0 || t.StartsWith('%')) continue;
            var parts = t.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (n < 0)
            {
                if (parts.Length != 3 || !int.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int r)
                    || !int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out int c)
                    || !long.TryParse(parts[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out expected) || r < 1 || expected < 0)
                    throw new InvalidDataException($"{path}:{lineNo}: size line '{t}'; expected 'rows cols entries' with rows ≥ 1.");
                if (r != c) throw new InvalidDataException($"{path}:{lineNo}: matrix is {r}×{c}; expected a square adjacency matrix.");
                n = r;
                continue;
            }
            int want = pattern ? 2 : 3;
            if (parts.Length < want)
                throw new InvalidDataException($"{path}:{lineNo}: '{t}'; expected {(pattern ? "'i j'" : "'i j value'")} (1-based indices).");
            int i = ParseIndex(parts[0], path, lineNo, 1, n), j = ParseIndex(parts[1], path, lineNo, 1, n);
            double w = pattern ? 1 : ParseWeight(parts[2], path, lineNo);
            b.Add(i - 1, j - 1, w, lineNo);
            seen++;
        }
        if (n < 0) throw new InvalidDataException($"{path}: no size line; expected 'rows cols entries' after the banner.");
        if (seen != expected) throw new InvalidDataException($"{path}: {seen} entries; the size line announces {expected}.");
        return b.Build(n);
    }

    /// <summary>Reads an edge list ("i j [w]", 0-based); n = largest id + 1 unless <paramref name="nodes"/> is given.</summary>
    /// <exception cref="InvalidDataException">A malformed line, negative or out-of-range id, bad weight, or no edges; the message names the file and line.</exception>
    public static CsrMatrix ReadEdgeList(string path, int? nodes = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var b = new EdgeBuilder(path);
        int lineNo = 0, maxId = -1;
        int limit = nodes ?? int.MaxValue;
        foreach (var raw in File.ReadLines(path))
        {
            lineNo++;
            var t = raw.Trim();
            if (t.Length == 0 || t.StartsWith('#') || t.StartsWith('%')) continue;
            var parts = t.Split(new[] { ' ', '\t', ',' }, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length is < 2 or > 3)
                throw new InvalidDataException($"{path}:{lineNo}: '{t}'; expected 'i j' or 'i j weight' (0-based node ids).");
            int i = ParseIndex(parts[0], path, lineNo, 0, limit - 1), j = ParseIndex(parts[1], path, lineNo, 0, limit - 1);
            double w = parts.Length == 3 ? ParseWeight(parts[2], path, lineNo) : 1;
            b.Add(i, j, w, lineNo);
            maxId = Math.Max(maxId, Math.Max(i, j));
        }
        if (maxId < 0) throw new InvalidDataException($"{path}: no edges; expected lines 'i j [weight]'.");
        return b.Build(nodes ?? maxId + 1);
    }

    private static int ParseIndex(string s, string path, int line, int lo, int hi)
    {
        if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) || v < lo || v > hi)
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"{path}:{line}: node '{s}'; expected an integer in [{lo}, {(hi == int.MaxValue - 1 ? "∞" : hi.ToString(CultureInfo.InvariantCulture))}]."));
        return v;
    }

    private static double ParseWeight(string s, string path, int line)
    {
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double w) || !double.IsFinite(w) || w < 0)
            throw new InvalidDataException($"{path}:{line}: weight '{s}'; expected a finite number ≥ 0.");
        return w;
    }

    private sealed class EdgeBuilder(string path)
    {
        private readonly Dictionary<(int, int), (double W, int Line)> _edges = new();

        public void Add(int i, int j, double w, int line)
        {
            if (i == j || w == 0) return;
            var key = (Math.Min(i, j), Math.Max(i, j));
            if (_edges.TryGetValue(key, out var old))
            {
                if (old.W != w)
                    throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                        $"{path}:{line}: edge ({i}, {j}) has weight {w:R}, but line {old.Line} gave {old.W:R}; expected one weight per undirected edge."));
                return;
            }
            _edges[key] = (w, line);
        }

        public CsrMatrix Build(int n)
        {
            var list = _edges.Keys.OrderBy(k => k.Item1).ThenBy(k => k.Item2).ToArray();
            return GraphPair.FromEdges(n, list, list.Select(k => _edges[k].W).ToArray());
        }
    }
}
