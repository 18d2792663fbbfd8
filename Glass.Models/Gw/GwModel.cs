using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Glass.Autodiff;
using Glass.Autodiff.Ops;
using Glass.Autodiff.Optim;

namespace Glass.Models.Gw;

/// <summary>Per-domain input normalisation fitted on the training data (applied to new data unchanged).</summary>
/// <param name="Dim">Input feature dimension.</param>
/// <param name="L2NormalizeRows">Rows divided by their L2 norm first.</param>
/// <param name="Mean">Column means subtracted next (null = no standardisation).</param>
/// <param name="Std">Column standard deviations divided by last (null = no standardisation).</param>
public sealed record GwNormalization(int Dim, bool L2NormalizeRows, double[]? Mean, double[]? Std)
{
    /// <summary>Fits the statistics on x (n×d).</summary>
    /// <exception cref="ArgumentException">NaN/Inf, a zero row (L2), or a constant column (standardisation); the message names <paramref name="name"/>.</exception>
    public static GwNormalization Fit(double[] x, int n, int d, GwPreprocessing pre, string name)
    {
        ArgumentNullException.ThrowIfNull(pre);
        Distances.CheckPoints(x, n, d, name);
        if (n < 2 && (pre.Standardize || pre.CenterScale))
            throw new ArgumentException($"{name}: {n} row; fitting the normalisation needs at least 2 rows (one point has no spread to standardise).");
        var z = pre.L2NormalizeRows ? L2(x, n, d, name) : x;
        if (!pre.Standardize && pre.CenterScale)
        {
            var mu = new double[d];
            for (int i = 0; i < n; i++) for (int k = 0; k < d; k++) mu[k] += z[i * d + k];
            for (int k = 0; k < d; k++) mu[k] /= n;
            double ss = 0;
            for (int i = 0; i < n; i++) for (int k = 0; k < d; k++) { double e = z[i * d + k] - mu[k]; ss += e * e; }
            double scale = Math.Sqrt(ss / n);
            if (!(scale > 1e-300))
                throw new ArgumentException($"{name}: every row is the same point; it cannot be scaled (expected at least two distinct rows).");
            var sd = new double[d];
            Array.Fill(sd, scale);
            return new GwNormalization(d, pre.L2NormalizeRows, mu, sd);
        }
        if (!pre.Standardize) return new GwNormalization(d, pre.L2NormalizeRows, null, null);
        var mean = new double[d];
        var std = new double[d];
        for (int i = 0; i < n; i++) for (int k = 0; k < d; k++) mean[k] += z[i * d + k];
        for (int k = 0; k < d; k++) mean[k] /= n;
        for (int i = 0; i < n; i++) for (int k = 0; k < d; k++) { double e = z[i * d + k] - mean[k]; std[k] += e * e; }
        for (int k = 0; k < d; k++)
        {
            std[k] = Math.Sqrt(std[k] / n);
            if (!(std[k] > 1e-12 * Math.Max(1, Math.Abs(mean[k]))))
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{name}: column {k} is constant (value {mean[k]}); it cannot be standardised — drop it or disable Standardize."));
        }
        return new GwNormalization(d, pre.L2NormalizeRows, mean, std);
    }

    /// <summary>Applies the normalisation to x (n×Dim), returning a new array.</summary>
    /// <exception cref="ArgumentException">Wrong column count (names <paramref name="name"/> and the trained dimension), NaN/Inf or a zero row.</exception>
    public double[] Apply(double[] x, int n, int d, string name)
    {
        if (d != Dim) throw new ArgumentException($"{name}: {d} features per row, but the model was trained on {Dim}.");
        Distances.CheckPoints(x, n, d, name);
        var z = L2NormalizeRows ? L2(x, n, d, name) : (double[])x.Clone();
        if (Mean is not null && Std is not null)
            for (int i = 0; i < n; i++) for (int k = 0; k < d; k++) z[i * d + k] = (z[i * d + k] - Mean[k]) / Std[k];
        return z;
    }

    private static double[] L2(double[] x, int n, int d, string name)
    {
        var z = new double[x.Length];
        for (int i = 0; i < n; i++)
        {
            double s = 0;
            for (int k = 0; k < d; k++) s += x[i * d + k] * x[i * d + k];
            if (!(s > 0)) throw new ArgumentException($"{name}: row {i} is all zeros; it cannot be L2-normalised.");
            double inv = 1 / Math.Sqrt(s);
            for (int k = 0; k < d; k++) z[i * d + k] = x[i * d + k] * inv;
        }
        return z;
    }
}

/// <summary>
/// A trained learned-GW model: embeddings f_θ: R^{dX} → R^d and g_φ: R^{dY} → R^d (MLPs), the ground
/// cost, the input normalisations and the final relative ε. Aligning new data is one Sinkhorn solve
/// (<see cref="InductiveAligner"/>). Saved as one JSON file (docs/formats.md, "learned-GW model").
/// </summary>
public sealed class GwModel
{
    internal const string FileName = "gw_model.json";
    internal const string Format = "glass-gw-model";
    internal const int Version = 1;

    internal GwModel(int depth, int hidden, int embedDim, GwActivation activation, GwCost cost, double epsilon,
        GwNormalization normX, GwNormalization normY, Parameter[] f, Parameter[] g, bool skip = false)
    {
        Depth = depth; Hidden = hidden; EmbedDim = embedDim; Activation = activation; Cost = cost; Epsilon = epsilon;
        NormalizationX = normX; NormalizationY = normY; F = f; G = g; Skip = skip;
    }

    /// <summary>Each MLP has a linear skip path: f(x) = MLP(x) + W·x (<see cref="LearnedGwOptions.Skip"/>).</summary>
    public bool Skip { get; }

    /// <summary>Linear layers per MLP.</summary>
    public int Depth { get; }
    /// <summary>Hidden width.</summary>
    public int Hidden { get; }
    /// <summary>Embedding dimension d.</summary>
    public int EmbedDim { get; }
    /// <summary>Activation.</summary>
    public GwActivation Activation { get; }
    /// <summary>Ground cost on embeddings.</summary>
    public GwCost Cost { get; }
    /// <summary>Relative ε used at inference (the last training ε): γ = ε·c̄ with c̄ the mean cost.</summary>
    public double Epsilon { get; internal set; }
    /// <summary>Input normalisation of X.</summary>
    public GwNormalization NormalizationX { get; }
    /// <summary>Input normalisation of Y.</summary>
    public GwNormalization NormalizationY { get; }
    /// <summary>Feature dimension of X.</summary>
    public int DimX => NormalizationX.Dim;
    /// <summary>Feature dimension of Y.</summary>
    public int DimY => NormalizationY.Dim;

    internal Parameter[] F { get; }
    internal Parameter[] G { get; }
    internal IEnumerable<Parameter> Parameters => F.Concat(G);

    internal static GwModel Create(LearnedGwOptions o, GwNormalization normX, GwNormalization normY)
    {
        return new GwModel(o.Depth, o.Hidden, o.EmbedDim, o.Activation, o.Cost, o.EpsilonMin, normX, normY,
            Mlp("f", normX.Dim, o, o.Seed * 2 + 1), Mlp("g", normY.Dim, o, o.Seed * 2 + 2), o.Skip);
    }

    private static Parameter[] Mlp(string name, int dIn, LearnedGwOptions o, int seed)
    {
        var ps = new List<Parameter>();
        int prev = dIn;
        for (int l = 0; l < o.Depth; l++)
        {
            int next = l == o.Depth - 1 ? o.EmbedDim : o.Hidden;
            string tag = string.Create(CultureInfo.InvariantCulture, $"{name}.{l}");
            ps.Add(o.Activation == GwActivation.Tanh ? Parameter.Glorot(tag + ".w", prev, next, seed * 1000 + l) : Parameter.He(tag + ".w", prev, next, seed * 1000 + l));
            ps.Add(Parameter.Zeros(tag + ".b", 1, next));
            prev = next;
        }
        // The linear skip path W (dIn × d), Glorot-initialised with its own seed stream.
        if (o.Skip) ps.Add(Parameter.Glorot(name + ".skip.w", dIn, o.EmbedDim, seed * 1000 + 999));
        return ps.ToArray();
    }

    /// <summary>Embedding of already-normalised rows on a tape (training) — cosine cost normalises the rows.</summary>
    internal Var Embed(Tape tape, Parameter[] mlp, double[] z, int n, int d, bool trainable)
    {
        Var input = tape.Constant(z, n, d);
        Var h = input;
        for (int l = 0; l < Depth; l++)
        {
            Var w = trainable ? mlp[2 * l].On(tape) : tape.Constant(mlp[2 * l].Value, mlp[2 * l].Rows, mlp[2 * l].Cols);
            Var b = trainable ? mlp[2 * l + 1].On(tape) : tape.Constant(mlp[2 * l + 1].Value, 1, mlp[2 * l + 1].Cols);
            h = Op.Add(Op.MatMul(h, w), b);
            if (l < Depth - 1)
                h = Activation switch
                {
                    GwActivation.Relu => Op.Relu(h),
                    GwActivation.Tanh => Op.Tanh(h),
                    GwActivation.Gelu => Op.Gelu(h),
                    _ => Op.LeakyRelu(h),
                };
        }
        if (Skip)
        {
            var sk = mlp[2 * Depth];
            Var w = trainable ? sk.On(tape) : tape.Constant(sk.Value, sk.Rows, sk.Cols);
            h = Op.Add(h, Op.MatMul(input, w));
        }
        return Cost == GwCost.Cosine ? StructOp.NormalizeRows(h) : h;
    }

    /// <summary>f_θ(X) for raw rows of X (n×DimX): normalisation, MLP and (cosine cost) row normalisation; n×EmbedDim.</summary>
    /// <exception cref="ArgumentException">Wrong feature count (a dimension mismatch with the trained model), NaN/Inf.</exception>
    public double[] EmbedX(double[] x, int n, string name = "x") => EmbedRaw(F, NormalizationX, x, n, name);

    /// <summary>g_φ(Y) for raw rows of Y (m×DimY); m×EmbedDim.</summary>
    /// <exception cref="ArgumentException">Wrong feature count, NaN/Inf.</exception>
    public double[] EmbedY(double[] y, int m, string name = "y") => EmbedRaw(G, NormalizationY, y, m, name);

    private double[] EmbedRaw(Parameter[] mlp, GwNormalization norm, double[] x, int n, string name)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (n < 1 || x.Length % n != 0) throw new ArgumentException($"{name}: {x.Length} values for {n} rows.");
        int d = x.Length / n;
        var z = norm.Apply(x, n, d, name);
        const int chunk = 4096; // bounded tape memory for large N
        var output = new double[(long)n * EmbedDim];
        for (int r0 = 0; r0 < n; r0 += chunk)
        {
            int rows = Math.Min(chunk, n - r0);
            var part = z.AsSpan(r0 * d, rows * d).ToArray();
            using var tape = new Tape();
            using var _ = tape.NoGrad();
            var e = Embed(tape, mlp, part, rows, d, trainable: false);
            Array.Copy(e.Value, 0, output, (long)r0 * EmbedDim, e.Value.Length);
        }
        return output;
    }

    /// <summary>Writes <c>gw_model.json</c> into <paramref name="directory"/> (created if needed) via a temporary file and rename.</summary>
    public void Save(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory.CreateDirectory(directory);
        var root = new JsonObject
        {
            ["format"] = Format,
            ["version"] = Version,
            ["depth"] = Depth,
            ["hidden"] = Hidden,
            ["embed_dim"] = EmbedDim,
            ["activation"] = Activation.ToString().ToLowerInvariant(),
            ["cost"] = Cost.ToString().ToLowerInvariant(),
            ["epsilon"] = Epsilon,
            ["skip"] = Skip,
            ["normalization_x"] = NormJson(NormalizationX),
            ["normalization_y"] = NormJson(NormalizationY),
            ["f"] = ParamsJson(F),
            ["g"] = ParamsJson(G),
        };
        string path = Path.Combine(directory, FileName);
        string tmp = path + ".tmp";
        File.WriteAllText(tmp, root.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>Loads a model saved by <see cref="Save"/> from <paramref name="directory"/> (or the path of the JSON file itself).</summary>
    /// <exception cref="InvalidDataException">Missing file, another format or version, missing keys, shapes inconsistent with the architecture; the message names the file and the key.</exception>
    public static GwModel Load(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        string path = Directory.Exists(directory) ? Path.Combine(directory, FileName) : directory;
        if (!File.Exists(path)) throw new InvalidDataException($"{path}: no learned-GW model here (expected {FileName} written by GwModel.Save).");
        JsonNode? root;
        try { root = JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not valid JSON ({e.Message}).", e); }
        if (root is not JsonObject o) throw new InvalidDataException($"{path}: expected a JSON object.");
        try
        {
            if ((string?)o["format"] != Format) throw new InvalidDataException($"{path}: format '{(string?)o["format"]}'; expected '{Format}'.");
            if ((int?)o["version"] != Version) throw new InvalidDataException($"{path}: version {(int?)o["version"]}; expected {Version}.");
            int depth = Req<int>(o, "depth", path), hidden = Req<int>(o, "hidden", path), embed = Req<int>(o, "embed_dim", path);
            var act = Enum.Parse<GwActivation>(Req<string>(o, "activation", path), ignoreCase: true);
            var cost = Enum.Parse<GwCost>(Req<string>(o, "cost", path), ignoreCase: true);
            double eps = Req<double>(o, "epsilon", path);
            var nx = ReadNorm(o["normalization_x"], path, "normalization_x");
            var ny = ReadNorm(o["normalization_y"], path, "normalization_y");
            bool skip = o["skip"] is { } sn && sn.GetValue<bool>();
            var f = ReadParams(o["f"], path, "f", depth, hidden, embed, nx.Dim, skip);
            var g = ReadParams(o["g"], path, "g", depth, hidden, embed, ny.Dim, skip);
            return new GwModel(depth, hidden, embed, act, cost, eps, nx, ny, f, g, skip);
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException or ArgumentException)
        {
            throw new InvalidDataException($"{path}: malformed model ({e.Message}).", e);
        }
    }

    private static T Req<T>(JsonObject o, string key, string path)
    {
        var node = o[key] ?? throw new InvalidDataException($"{path}: missing key '{key}'.");
        return node.GetValue<T>();
    }

    private static JsonObject NormJson(GwNormalization n) => new()
    {
        ["dim"] = n.Dim,
        ["l2_normalize_rows"] = n.L2NormalizeRows,
        ["mean"] = n.Mean is null ? null : new JsonArray(n.Mean.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray()),
        ["std"] = n.Std is null ? null : new JsonArray(n.Std.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray()),
    };

    private static GwNormalization ReadNorm(JsonNode? node, string path, string key)
    {
        if (node is not JsonObject o) throw new InvalidDataException($"{path}: missing key '{key}'.");
        int dim = Req<int>(o, "dim", path);
        var mean = o["mean"] is JsonArray ma ? ma.Select(v => v!.GetValue<double>()).ToArray() : null;
        var std = o["std"] is JsonArray sa ? sa.Select(v => v!.GetValue<double>()).ToArray() : null;
        if ((mean is null) != (std is null) || mean is not null && (mean.Length != dim || std!.Length != dim))
            throw new InvalidDataException($"{path}: '{key}' mean/std must both be absent or both have {dim} entries.");
        return new GwNormalization(dim, Req<bool>(o, "l2_normalize_rows", path), mean, std);
    }

    private static JsonArray ParamsJson(Parameter[] ps) => new(ps.Select(p => (JsonNode?)new JsonObject
    {
        ["name"] = p.Name,
        ["rows"] = p.Rows,
        ["cols"] = p.Cols,
        ["values"] = new JsonArray(p.Value.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray()),
    }).ToArray());

    private static Parameter[] ReadParams(JsonNode? node, string path, string key, int depth, int hidden, int embed, int dIn, bool skip)
    {
        if (node is not JsonArray a) throw new InvalidDataException($"{path}: missing key '{key}'.");
        int expected = 2 * depth + (skip ? 1 : 0);
        if (a.Count != expected) throw new InvalidDataException($"{path}: '{key}' has {a.Count} parameters; expected {expected} for depth {depth}{(skip ? " with the skip path" : "")}.");
        var ps = new Parameter[a.Count];
        int prev = dIn;
        for (int l = 0; l < depth; l++)
        {
            int next = l == depth - 1 ? embed : hidden;
            for (int t = 0; t < 2; t++)
            {
                var o = a[2 * l + t] as JsonObject ?? throw new InvalidDataException($"{path}: '{key}'[{2 * l + t}] is not an object.");
                int rows = Req<int>(o, "rows", path), cols = Req<int>(o, "cols", path);
                int er = t == 0 ? prev : 1;
                if (rows != er || cols != next)
                    throw new InvalidDataException($"{path}: '{key}' layer {l} {(t == 0 ? "weight" : "bias")} is {rows}×{cols}; expected {er}×{next}.");
                var vals = (o["values"] as JsonArray ?? throw new InvalidDataException($"{path}: '{key}'[{2 * l + t}] has no values.")).Select(v => v!.GetValue<double>()).ToArray();
                if (vals.Length != rows * cols) throw new InvalidDataException($"{path}: '{key}' layer {l} has {vals.Length} values; expected {rows * cols}.");
                ps[2 * l + t] = new Parameter(Req<string>(o, "name", path), vals, rows, cols);
            }
            prev = next;
        }
        if (skip)
        {
            var o = a[2 * depth] as JsonObject ?? throw new InvalidDataException($"{path}: '{key}'[{2 * depth}] (the skip path) is not an object.");
            int rows = Req<int>(o, "rows", path), cols = Req<int>(o, "cols", path);
            if (rows != dIn || cols != embed)
                throw new InvalidDataException($"{path}: '{key}' skip weight is {rows}×{cols}; expected {dIn}×{embed}.");
            var vals = (o["values"] as JsonArray ?? throw new InvalidDataException($"{path}: '{key}' skip weight has no values.")).Select(v => v!.GetValue<double>()).ToArray();
            if (vals.Length != rows * cols) throw new InvalidDataException($"{path}: '{key}' skip weight has {vals.Length} values; expected {rows * cols}.");
            ps[2 * depth] = new Parameter(Req<string>(o, "name", path), vals, rows, cols);
        }
        return ps;
    }
}
