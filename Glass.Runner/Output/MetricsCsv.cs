using System.Globalization;
using System.Text;
using Glass.Models.Experiments;

namespace Glass.Runner.Output;

/// <summary>
/// metrics.csv: a fixed header (the experiment's <see cref="IExperiment.MetricColumns"/>) and one row per
/// step, numbers in InvariantCulture round-trip form, flushed after every row so a killed run keeps them.
/// </summary>
internal sealed class MetricsWriter : IDisposable
{
    private readonly FileStream _stream;
    private readonly StreamWriter _writer;
    private readonly int _width;

    private MetricsWriter(FileStream stream, int width)
    {
        _stream = stream;
        _writer = new StreamWriter(stream, new UTF8Encoding(false)) { NewLine = "\n" };
        _width = width;
    }

    /// <summary>Rows written so far (not counting the header).</summary>
    public int Rows { get; private set; }

    /// <summary>Starts a new file (replacing any) with the header.</summary>
    public static MetricsWriter Create(string path, IReadOnlyList<string> columns)
    {
        CheckColumns(columns);
        var fs = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read);
        var w = new MetricsWriter(fs, columns.Count);
        w._writer.WriteLine(string.Join(",", columns));
        w._writer.Flush();
        return w;
    }

    /// <summary>
    /// Reopens <paramref name="path"/> for a resumed run: checks the header is <paramref name="columns"/>, keeps the
    /// first <paramref name="keepRows"/> rows (those up to the checkpoint) and drops the rest, partial lines included.
    /// </summary>
    public static MetricsWriter Resume(string path, IReadOnlyList<string> columns, int keepRows)
    {
        CheckColumns(columns);
        if (!File.Exists(path))
        {
            if (keepRows == 0) return Create(path, columns);
            throw new InvalidDataException($"{path} is missing; the checkpoint needs its first {keepRows} rows.");
        }
        var fs = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
        try
        {
            var bytes = new byte[fs.Length];
            fs.ReadExactly(bytes);
            int pos = 0, lines = 0;
            long cut = -1;
            while (pos < bytes.Length)
            {
                int nl = Array.IndexOf(bytes, (byte)'\n', pos);
                if (nl < 0) break; // a partial last line (killed mid-write) never counts
                if (lines == 0)
                {
                    string header = Encoding.UTF8.GetString(bytes, 0, nl).TrimEnd('\r');
                    string expected = string.Join(",", columns);
                    if (header != expected)
                        throw new InvalidDataException($"{path}: header '{header}' does not match the experiment's columns '{expected}'.");
                }
                lines++;
                pos = nl + 1;
                if (lines == keepRows + 1) { cut = pos; break; }
            }
            if (cut < 0)
                throw new InvalidDataException($"{path} has {Math.Max(0, lines - 1)} complete rows; the checkpoint needs {keepRows}.");
            fs.SetLength(cut);
            fs.Seek(cut, SeekOrigin.Begin);
            return new MetricsWriter(fs, columns.Count) { Rows = keepRows };
        }
        catch
        {
            fs.Dispose();
            throw;
        }
    }

    /// <summary>Appends one row and flushes it to the operating system.</summary>
    public void Append(StepMetrics metrics)
    {
        if (metrics.Values.Count != _width)
            throw new InvalidOperationException($"the experiment returned {metrics.Values.Count} metric values; its header has {_width} columns.");
        _writer.WriteLine(string.Join(",", metrics.Values.Select(Format)));
        _writer.Flush();
        Rows++;
    }

    /// <summary>InvariantCulture, round-trip; whole numbers without a decimal point.</summary>
    public static string Format(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    public void Dispose()
    {
        _writer.Dispose();
        _stream.Dispose();
    }

    private static void CheckColumns(IReadOnlyList<string> columns)
    {
        if (columns.Count == 0) throw new InvalidOperationException("the experiment declares no metric columns.");
        foreach (var c in columns)
            if (c.Length == 0 || c.Contains(',') || c.Contains('"') || c.Contains('\n'))
                throw new InvalidOperationException($"metric column name '{c}' cannot be written to a CSV header.");
    }
}

/// <summary>A metrics.csv read back: header and numeric rows (a partial last line is ignored).</summary>
internal sealed record MetricsTable(IReadOnlyList<string> Columns, IReadOnlyList<double[]> Rows)
{
    public static MetricsTable Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"metrics file not found: {path}", path);
        string text = File.ReadAllText(path);
        var lines = text.Split('\n');
        if (lines.Length == 0 || lines[0].Trim().Length == 0) throw new InvalidDataException($"{path} has no header.");
        var cols = lines[0].TrimEnd('\r').Split(',');
        var rows = new List<double[]>();
        // Only newline-terminated lines count: the last element after Split is the (possibly partial) unterminated tail.
        for (int i = 1; i < lines.Length - 1; i++)
        {
            var f = lines[i].TrimEnd('\r').Split(',');
            if (f.Length != cols.Length) continue;
            var r = new double[f.Length];
            bool ok = true;
            for (int j = 0; j < f.Length && ok; j++)
                ok = double.TryParse(f[j], NumberStyles.Float, CultureInfo.InvariantCulture, out r[j]);
            if (ok) rows.Add(r);
        }
        return new MetricsTable(cols, rows);
    }

    /// <summary>Index of column <paramref name="name"/>, or −1.</summary>
    public int IndexOf(string name) => Columns.ToList().IndexOf(name);

    /// <summary>The values of column <paramref name="name"/> (empty when absent).</summary>
    public double[] Column(string name)
    {
        int j = IndexOf(name);
        return j < 0 ? Array.Empty<double>() : Rows.Select(r => r[j]).ToArray();
    }
}
