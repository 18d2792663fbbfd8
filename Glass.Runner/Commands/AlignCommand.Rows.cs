using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Glass.Models.Data;
using Glass.Models.Gw;
using Glass.Runner.AnnData;
using Glass.Runner.Output;

namespace Glass.Runner.Commands;

/// <summary>
/// <c>glass align --model DIR --x BIG --rows A:B</c>: rows A … B − 1 of new data mapped onto the model's stored
/// reference (<see cref="GwReference"/>: the entropic map of its solve), read and written in blocks of <c>--chunk</c> rows,
/// so memory is O(chunk·(d + k) + threads·M + M·(embed + target)) whatever the row count; a .npy input is read by
/// seeking to the block. Blocks of one file mapped separately concatenate to the unsharded result exactly.
/// </summary>
internal static partial class AlignCommand
{
    /// <summary>Default rows per block of --rows mode.</summary>
    internal const int DefaultChunk = 4096;

    private static void RunRows(AlignRequest r, TextWriter stdout)
    {
        var total = Stopwatch.StartNew();
        AlignFolder.CheckTarget(r.Out);
        ValidateRows(r);
        string modelFile = ModelPath(r.Model!);
        string modelDir = Path.GetDirectoryName(modelFile)!;
        var model = GwModel.Load(modelFile);
        var reference = GwReference.TryLoad(modelDir)
            ?? throw new ArgumentException($"--model {r.Model}: no stored alignment reference ({Path.Combine(modelDir, GwReference.FileName)}); --rows maps onto the reference that glass align saves beside the model — run glass align again to write it.");
        if (reference.EmbedDim != model.EmbedDim)
            throw new ArgumentException($"--model {r.Model}: the reference has embeddings of {reference.EmbedDim} columns, the model {model.EmbedDim}.");
        using var src = RowSource.Open(r.X, r.XKey);
        if (src.Cols != model.DimX)
            throw new ArgumentException($"{r.X}: {src.Cols} features per row, but the model {modelFile} was trained on X with {model.DimX}.");
        var (a, b) = ParseRows(r.Rows!, src.Rows, r.X);
        if (r.TopKOption > reference.M) throw new ArgumentException($"--top-k = {r.TopKOption}; expected ≤ the {reference.M} rows of the reference.");
        int k = r.TopKOption ?? Math.Min(5, reference.M);
        int chunk = r.Chunk ?? DefaultChunk;
        CheckRowsMemory(chunk, src.Cols, model, reference, k);
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"glass align: mapping rows {a}:{b} of {r.X} onto the {reference.M}-row reference of {modelFile} (blocks of {chunk})"));
        var map = Stopwatch.StartNew();
        using (var folder = AlignFolder.Begin(r.Out))
        {
            WriteRowBlocks(folder, src, model, reference, a, b, k, chunk, stdout);
            double seconds = map.Elapsed.TotalSeconds;
            folder.WriteMetrics(new JsonObject
            {
                ["mode"] = "rows", ["x"] = Path.GetFullPath(r.X), ["model"] = modelFile, ["rows_from"] = a, ["rows_to"] = b, ["rows"] = b - a,
                ["m"] = reference.M, ["dim_x"] = src.Cols, ["aligned_dim"] = reference.TargetDim, ["space"] = "y_normalized",
                ["gamma"] = reference.Gamma, ["top_k"] = k, ["chunk"] = chunk, ["map_seconds"] = seconds,
                ["rows_per_second"] = JsonText.Number((b - a) / Math.Max(seconds, 1e-9)), ["seconds"] = total.Elapsed.TotalSeconds,
            });
            folder.Commit();
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"glass align: → {folder.Target} ({b - a} rows; {(b - a) / Math.Max(seconds, 1e-9):F0} rows/s; {total.Elapsed.TotalSeconds:F1} s)"));
        }
    }

    /// <summary>Maps the rows block by block: x_aligned.npy, matches.csv (x,y,p) and plan_topk.csv (x,y,p), p = π(j | x).</summary>
    private static void WriteRowBlocks(AlignFolder folder, RowSource src, GwModel model, GwReference reference, int a, int b, int k, int chunk,
        TextWriter progress)
    {
        var clock = Stopwatch.StartNew();
        double lastReport = 0;
        using var xw = new Npy.RowWriter(folder.PathOf("x_aligned.npy"), b - a, reference.TargetDim);
        using var mw = new StreamWriter(folder.PathOf("matches.csv"));
        using var tw = new StreamWriter(folder.PathOf("plan_topk.csv"));
        mw.Write("x,y,p\n");
        tw.Write("x,y,p\n");
        var buf = new double[(long)Math.Min(chunk, b - a) * src.Cols];
        var sb = new StringBuilder();
        for (int r0 = a; r0 < b; r0 += chunk)
        {
            int cnt = Math.Min(chunk, b - r0);
            var xin = cnt * src.Cols == buf.Length ? buf : new double[(long)cnt * src.Cols];
            src.Read(r0, cnt, xin);
            var rows = reference.Map(model.EmbedX(xin, cnt), cnt, k);
            xw.Append(rows.Projection, cnt);
            sb.Clear();
            for (int i = 0; i < cnt; i++)
                sb.Append((r0 + i).ToString(CultureInfo.InvariantCulture)).Append(',').Append(rows.Match(i).ToString(CultureInfo.InvariantCulture))
                  .Append(',').Append(rows.TopKValue[(long)i * k].ToString("R", CultureInfo.InvariantCulture)).Append('\n');
            mw.Write(sb);
            sb.Clear();
            for (int i = 0; i < cnt; i++)
                for (int t = 0; t < k; t++)
                    sb.Append((r0 + i).ToString(CultureInfo.InvariantCulture)).Append(',').Append(rows.TopKIndex[(long)i * k + t].ToString(CultureInfo.InvariantCulture))
                      .Append(',').Append(rows.TopKValue[(long)i * k + t].ToString("R", CultureInfo.InvariantCulture)).Append('\n');
            tw.Write(sb);
            double now = clock.Elapsed.TotalSeconds;
            if (now - lastReport >= 10 && r0 + cnt < b)
            {
                // A line every ≥ 10 s (not a bar: row-block jobs usually run with output in a log file).
                lastReport = now;
                long done = r0 + cnt - a;
                double rate = done / Math.Max(now, 1e-9);
                progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"glass align: {done:N0} / {b - a:N0} rows ({100.0 * done / (b - a):F1} %), {rate:F0} rows/s, ~{(b - a - done) / Math.Max(rate, 1e-9):F0} s left"));
            }
        }
        if (!xw.Complete) throw new InvalidOperationException("x_aligned.npy: fewer rows written than its header says.");
    }

    private static void ValidateRows(AlignRequest r)
    {
        if (r.Model is null)
            throw new ArgumentException("--rows maps new rows onto a stored reference; expected --model DIR (an align output folder) with it.");
        if (r.LabelsX is not null || r.LabelsY is not null || r.Paired || r.Config is not null || r.YKey is not null || !string.IsNullOrEmpty(r.Y))
            throw new ArgumentException("--y, --y-key, --labels-x, --labels-y, --paired and --config do not apply with --rows (the reference Y is the model's).");
        if (r.Seed is not null || r.Steps is not null || r.Init is not null || r.Restarts is not null || r.RestartSteps is not null || r.Selection is not null || r.AnyExtension)
            throw new ArgumentException("--seed, --steps, --init, --restarts, --restart-steps, --selection and the extension terms set up training; they do not apply with --rows.");
        if (r.TopKOption is < 1) throw new ArgumentException($"--top-k = {r.TopKOption}; expected an integer ≥ 1.");
        ValidateKeys(r);
        if (r.Chunk is < 1 or > MaxChunk)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"--chunk = {r.Chunk}; expected an integer in [1, {MaxChunk}]."));
    }

    /// <summary>Largest --chunk.</summary>
    internal const int MaxChunk = 1 << 20;

    /// <summary>A:B (0 ≤ A &lt; B ≤ rows), A: (to the end) or :B.</summary>
    internal static (int From, int To) ParseRows(string spec, int rows, string file)
    {
        int colon = spec.IndexOf(':');
        string fs = colon < 0 ? "" : spec[..colon].Trim(), ts = colon < 0 ? "" : spec[(colon + 1)..].Trim();
        bool ok = colon >= 0 && spec.IndexOf(':', colon + 1) < 0;
        int from = 0, to = rows;
        ok = ok && (fs.Length == 0 || int.TryParse(fs, NumberStyles.None, CultureInfo.InvariantCulture, out from))
                && (ts.Length == 0 || int.TryParse(ts, NumberStyles.None, CultureInfo.InvariantCulture, out to));
        if (!ok) throw new ArgumentException($"--rows {spec}: expected A:B with integers 0 ≤ A < B (A: to the end, :B from the start).");
        if (from >= to || to > rows)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"--rows {spec}: expected 0 ≤ A < B ≤ {rows} (the rows of {file})."));
        return (from, to);
    }

    /// <summary>Bytes of --rows mode: the block (input, embeddings, outputs), one M-vector per thread, the reference; refused above the memory available.</summary>
    private static void CheckRowsMemory(int chunk, int dx, GwModel model, GwReference reference, int k)
    {
        long block = (long)chunk * (dx * 2L + model.EmbedDim + Math.Max(model.Hidden, dx) * 2L + reference.TargetDim * 2L + k * 2L);
        long bytes = 8 * (block + (long)Environment.ProcessorCount * reference.M + (long)reference.M * (reference.EmbedDim + reference.TargetDim + 1));
        long avail = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (avail > 0 && bytes > avail)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"--chunk {chunk}: about {bytes / 1e9:F1} GB for one block and the reference, more than the {avail / 1e9:F1} GB available; use a smaller --chunk."));
    }

    /// <summary>Rows of --x: a .npy read by seeking to each block; CSV or .h5ad read whole.</summary>
    private sealed class RowSource : IDisposable
    {
        private readonly Npy.RowReader? _npy;
        private readonly PointSet? _all;

        private RowSource(Npy.RowReader? npy, PointSet? all)
        {
            (_npy, _all) = (npy, all);
            Rows = npy?.Rows ?? all!.Rows;
            Cols = npy?.Cols ?? all!.Cols;
        }

        public int Rows { get; }
        public int Cols { get; }

        public static RowSource Open(string path, string? key)
        {
            string full = Path.GetFullPath(path);
            if (H5adReader.IsH5ad(full)) return new RowSource(null, H5adReader.ReadMatrix(full, key ?? DefaultKey, "--x-key"));
            if (full.EndsWith(".npy", StringComparison.OrdinalIgnoreCase)) return new RowSource(new Npy.RowReader(full), null);
            return new RowSource(null, PointSetReader.Read(full));
        }

        public void Read(int row0, int count, double[] dst)
        {
            if (_npy is not null) _npy.ReadRows(row0, count, dst);
            else Array.Copy(_all!.Data, (long)row0 * Cols, dst, 0, (long)count * Cols);
        }

        public void Dispose() => _npy?.Dispose();
    }
}
