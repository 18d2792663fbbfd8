using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Glass.Kernels.Device;
using Glass.Models.Data;

namespace Glass.Models.Gw;

/// <summary>What <see cref="GwReference.Map"/> returns for a block of rows.</summary>
/// <param name="Rows">Rows mapped.</param>
/// <param name="K">Entries kept per row.</param>
/// <param name="TopKIndex">Rows×k reference columns of the k largest conditional plan entries, descending (ties: lower column first).</param>
/// <param name="TopKValue">Rows×k conditional plan entries π(j | x) (each row of π sums to 1).</param>
/// <param name="Projection">Rows×TargetDim barycentric projection Σ_j π(j | x) t_j onto the reference's target coordinates.</param>
public sealed record RowMap(int Rows, int K, int[] TopKIndex, double[] TopKValue, double[] Projection)
{
    /// <summary>Hard match of row i: its largest entry's column.</summary>
    public int Match(int i) => TopKIndex[(long)i * K];
}

/// <summary>
/// A stored alignment reference: the embedded reference domain g(Y) (M×EmbedDim), its target coordinates t (Y's
/// normalised features, M×TargetDim), the column potential g of the Sinkhorn solve that aligned the training data
/// (P_ij = exp((f_i + g_j − C_ij)/γ), C the squared Euclidean cost on the embeddings) and γ. New rows are mapped by the
/// entropic map (the solve's f half-update applied to a new point): π(j | x) = exp((g_j − ‖f(x) − g(y_j)‖²)/γ) / Σ_l (…),
/// the barycentric projection x̂ = Σ_j π(j | x) t_j and the hard match argmax_j π(j | x) — O(M·(EmbedDim + TargetDim))
/// per row and independent of every other row, so row blocks mapped separately concatenate to the whole. On the training
/// rows this is the alignment's own plan row, normalised. Terms with π(j | x)/max_l π(l | x) &lt; e⁻⁵⁰ (2·10⁻²² relative,
/// below double rounding of a sum ≥ 1) are skipped in the projection.
/// </summary>
public sealed class GwReference
{
    /// <summary>The descriptor written beside the model.</summary>
    public const string FileName = "reference.json";
    private const string Format = "glass-gw-reference";
    private const double Cut = -50;
    private readonly double[] _g, _y, _t;

    /// <summary>A reference of γ, potential g (M), embeddings (M×embedDim) and target coordinates (M×targetDim).</summary>
    public GwReference(double gamma, double[] g, double[] yEmbedding, int embedDim, double[] yTarget, int targetDim)
    {
        if (!(gamma > 0) || !double.IsFinite(gamma)) throw new ArgumentException($"gamma = {gamma}; expected a finite value > 0.", nameof(gamma));
        int m = g.Length;
        if (m < 1 || yEmbedding.Length != (long)m * embedDim || yTarget.Length != (long)m * targetDim || embedDim < 1 || targetDim < 1)
            throw new ArgumentException($"reference of {m} columns: embeddings {yEmbedding.Length} values (×{embedDim}), target {yTarget.Length} (×{targetDim}) do not match.");
        if (g.Any(v => !double.IsFinite(v))) throw new ArgumentException("g contains non-finite values.", nameof(g));
        (Gamma, M, EmbedDim, TargetDim, _g, _y, _t) = (gamma, m, embedDim, targetDim, g, yEmbedding, yTarget);
    }

    /// <summary>γ of the solve.</summary>
    public double Gamma { get; }
    /// <summary>Reference rows M.</summary>
    public int M { get; }
    /// <summary>Embedding dimension.</summary>
    public int EmbedDim { get; }
    /// <summary>Columns of the target coordinates (of the projection).</summary>
    public int TargetDim { get; }

    /// <summary>The reference of an alignment's solve on the model's embeddings (potential <paramref name="g"/>, γ) for raw Y.</summary>
    public static GwReference FromSolve(GwModel model, double[] y, int m, double gamma, double[] g, string nameY = "y") =>
        new(gamma, g, model.EmbedY(y, m, nameY), model.EmbedDim, model.NormalizationY.Apply(y, m, model.DimY, nameY), model.DimY);

    /// <summary>Solves the model's inductive alignment of X and Y (<see cref="InductiveAligner"/>) for its potential.</summary>
    public static GwReference Solve(ComputeDevice device, GwModel model, double[] x, int n, double[] y, int m, string nameX = "x", string nameY = "y")
    {
        var al = InductiveAligner.Align(device, model, x, n, y, m, new InductiveOptions { RelativeTol = 1e-6, TopK = 1 }, nameX, nameY);
        return FromSolve(model, y, m, al.Gamma, al.G!, nameY);
    }

    /// <summary>Maps rows of embedded new data (rows×EmbedDim) onto the reference; see the type's summary.</summary>
    public RowMap Map(double[] zx, int rows, int k)
    {
        if (zx.Length != (long)rows * EmbedDim) throw new ArgumentException($"{zx.Length} values for {rows}×{EmbedDim}.", nameof(zx));
        if (k < 1 || k > M) throw new ArgumentException($"k = {k}; expected 1 ≤ k ≤ M = {M}.", nameof(k));
        var ti = new int[(long)rows * k];
        var tv = new double[(long)rows * k];
        var proj = new double[(long)rows * TargetDim];
        Parallel.For(0, rows, () => new double[M], (i, _, s) =>
        {
            MapRow(zx.AsSpan(i * EmbedDim, EmbedDim), s, k, ti.AsSpan(i * k, k), tv.AsSpan(i * k, k), proj.AsSpan(i * TargetDim, TargetDim));
            return s;
        }, _ => { });
        return new RowMap(rows, k, ti, tv, proj);
    }

    private void MapRow(ReadOnlySpan<double> x, double[] s, int k, Span<int> ti, Span<double> tv, Span<double> proj)
    {
        int e = EmbedDim, td = TargetDim;
        double inv = 1 / Gamma, max = double.NegativeInfinity;
        int w = Vector<double>.Count, ev = e - e % w;
        for (int j = 0; j < M; j++)
        {
            var y = _y.AsSpan(j * e, e);
            var acc = Vector<double>.Zero;
            for (int t = 0; t < ev; t += w) { var d = new Vector<double>(x[t..]) - new Vector<double>(y[t..]); acc += d * d; }
            double c = Vector.Sum(acc);
            for (int t = ev; t < e; t++) { double d = x[t] - y[t]; c += d * d; }
            double v = (_g[j] - c) * inv;
            s[j] = v;
            if (v > max) max = v;
        }
        // Top-k by insertion, j ascending and strict comparison: ties keep the lower column.
        int kept = 0;
        for (int j = 0; j < M; j++)
        {
            double v = s[j];
            if (kept == k && v <= tv[k - 1]) continue;
            int p = kept < k ? kept++ : k - 1;
            while (p > 0 && tv[p - 1] < v) { tv[p] = tv[p - 1]; ti[p] = ti[p - 1]; p--; }
            tv[p] = v; ti[p] = j;
        }
        proj.Clear();
        double sum = 0;
        for (int j = 0; j < M; j++)
        {
            double a = s[j] - max;
            if (a < Cut) continue;
            double p = Math.Exp(a);
            sum += p;
            var t = _t.AsSpan(j * td, td);
            int q = 0;
            var pv = new Vector<double>(p);
            for (; q <= td - w; q += w) (new Vector<double>(proj[q..]) + pv * new Vector<double>(t[q..])).CopyTo(proj[q..]);
            for (; q < td; q++) proj[q] += p * t[q];
        }
        for (int q = 0; q < td; q++) proj[q] /= sum;
        for (int r = 0; r < k; r++) tv[r] = Math.Exp(tv[r] - max) / sum;
    }

    /// <summary>Writes reference.json and reference_{g,y_embedding,y_target}.npy into <paramref name="directory"/>.</summary>
    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        Npy.Write(Path.Combine(directory, "reference_g.npy"), _g);
        Npy.Write(Path.Combine(directory, "reference_y_embedding.npy"), _y, EmbedDim);
        Npy.Write(Path.Combine(directory, "reference_y_target.npy"), _t, TargetDim);
        var root = new JsonObject { ["format"] = Format, ["version"] = 1, ["gamma"] = Gamma, ["m"] = M, ["embed_dim"] = EmbedDim, ["target_dim"] = TargetDim };
        File.WriteAllText(Path.Combine(directory, FileName), root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    /// <summary>Loads a reference saved by <see cref="Save"/>; null when <paramref name="directory"/> has none.</summary>
    /// <exception cref="InvalidDataException">A damaged or inconsistent reference; the message names the file.</exception>
    public static GwReference? TryLoad(string directory)
    {
        string path = Path.Combine(directory, FileName);
        if (!File.Exists(path)) return null;
        try
        {
            var root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new InvalidDataException("not a JSON object");
            if ((string?)root["format"] != Format) throw new InvalidDataException($"format is not {Format}");
            double gamma = (double)root["gamma"]!;
            int m = (int)root["m"]!, e = (int)root["embed_dim"]!, td = (int)root["target_dim"]!;
            var g = Npy.Read(Path.Combine(directory, "reference_g.npy"));
            var y = Npy.Read(Path.Combine(directory, "reference_y_embedding.npy"));
            var t = Npy.Read(Path.Combine(directory, "reference_y_target.npy"));
            if (g.Data.Length != m || y.Rows != m || y.Cols != e || t.Rows != m || t.Cols != td)
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"the arrays' shapes do not match m = {m}, embed_dim = {e}, target_dim = {td}"));
            return new GwReference(gamma, g.Data, y.Data, e, t.Data, td);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException or NullReferenceException or ArgumentException or InvalidDataException)
        {
            throw new InvalidDataException($"{path}: damaged alignment reference ({ex.Message}).", ex);
        }
    }
}
