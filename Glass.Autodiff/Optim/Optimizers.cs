using System.Text;

namespace Glass.Autodiff.Optim;

/// <summary>Options shared by the optimisers.</summary>
public sealed record OptimizerOptions
{
    /// <summary>Learning rate η &gt; 0.</summary>
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>Decoupled weight decay λ ≥ 0 (AdamW-style for Adam; L2 added to the gradient for SGD).</summary>
    public double WeightDecay { get; init; }
    /// <summary>Clip the global gradient norm to this value (null = no clipping).</summary>
    public double? ClipNorm { get; init; }
    /// <summary>Adam β₁.</summary>
    public double Beta1 { get; init; } = 0.9;
    /// <summary>Adam β₂.</summary>
    public double Beta2 { get; init; } = 0.999;
    /// <summary>Adam ε.</summary>
    public double Epsilon { get; init; } = 1e-8;
    /// <summary>SGD momentum μ ∈ [0, 1).</summary>
    public double Momentum { get; init; }

    internal void Validate()
    {
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate)) throw new ArgumentException($"LearningRate = {LearningRate}; expected a finite value > 0.", nameof(LearningRate));
        if (!(WeightDecay >= 0)) throw new ArgumentException($"WeightDecay = {WeightDecay}; expected ≥ 0.", nameof(WeightDecay));
        if (ClipNorm is { } c && !(c > 0)) throw new ArgumentException($"ClipNorm = {c}; expected > 0.", nameof(ClipNorm));
        if (!(Beta1 >= 0 && Beta1 < 1)) throw new ArgumentException($"Beta1 = {Beta1}; expected a value in [0, 1).", nameof(Beta1));
        if (!(Beta2 >= 0 && Beta2 < 1)) throw new ArgumentException($"Beta2 = {Beta2}; expected a value in [0, 1).", nameof(Beta2));
        if (!(Momentum >= 0 && Momentum < 1)) throw new ArgumentException($"Momentum = {Momentum}; expected a value in [0, 1).", nameof(Momentum));
    }
}

/// <summary>
/// First-order optimisers over a fixed list of <see cref="Parameter"/>s (Adam, Kingma &amp; Ba 2015,
/// with decoupled weight decay, Loshchilov &amp; Hutter 2019; SGD with momentum). State saves and
/// loads with the parameters (<see cref="Save"/>, <see cref="Load"/>) so runs resume bit-identically.
/// </summary>
public sealed class Optimizer
{
    private const string Magic = "GLASSOPT";
    private const int Version = 1;
    private readonly IReadOnlyList<Parameter> _params;
    private readonly double[][] _m, _v;

    private Optimizer(string kind, IReadOnlyList<Parameter> parameters, OptimizerOptions options)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var names = new HashSet<string>();
        foreach (var p in parameters)
            if (!names.Add(p.Name)) throw new ArgumentException($"Two parameters are named '{p.Name}'; names must be unique.", nameof(parameters));
        Kind = kind; _params = parameters; Options = options;
        _m = parameters.Select(p => new double[p.Value.Length]).ToArray();
        _v = parameters.Select(p => new double[p.Value.Length]).ToArray();
    }

    /// <summary>Adam (with decoupled weight decay when <see cref="OptimizerOptions.WeightDecay"/> &gt; 0).</summary>
    public static Optimizer Adam(IReadOnlyList<Parameter> parameters, OptimizerOptions options) => new("adam", parameters, options);

    /// <summary>SGD with optional momentum and L2 weight decay.</summary>
    public static Optimizer Sgd(IReadOnlyList<Parameter> parameters, OptimizerOptions options) => new("sgd", parameters, options);

    /// <summary>"adam" or "sgd".</summary>
    public string Kind { get; }
    /// <summary>Hyper-parameters.</summary>
    public OptimizerOptions Options { get; }
    /// <summary>Steps taken.</summary>
    public long Step { get; private set; }

    /// <summary>Global gradient norm of the last <see cref="Update"/> (before clipping).</summary>
    public double LastGradNorm { get; private set; }

    /// <summary>One update from the parameters' current gradients (a parameter not reached by the loss has zero gradient).</summary>
    /// <exception cref="InvalidOperationException">A gradient is NaN or infinite (the update is not applied).</exception>
    public void Update()
    {
        var grads = _params.Select(p => p.Grad ?? new double[p.Value.Length]).ToArray();
        double sq = 0;
        for (int i = 0; i < grads.Length; i++)
            foreach (var g in grads[i])
            {
                if (!double.IsFinite(g)) throw new InvalidOperationException($"Gradient of parameter '{_params[i].Name}' is not finite; update skipped.");
                sq += g * g;
            }
        LastGradNorm = Math.Sqrt(sq);
        double scale = Options.ClipNorm is { } c && LastGradNorm > c ? c / LastGradNorm : 1.0;
        Step++;
        double lr = Options.LearningRate;
        for (int i = 0; i < _params.Count; i++)
        {
            var w = _params[i].Value;
            var g = grads[i];
            var m = _m[i];
            var v = _v[i];
            if (Kind == "adam")
            {
                double b1 = Options.Beta1, b2 = Options.Beta2;
                double c1 = 1 - Math.Pow(b1, Step), c2 = 1 - Math.Pow(b2, Step);
                for (int k = 0; k < w.Length; k++)
                {
                    double gk = g[k] * scale;
                    m[k] = b1 * m[k] + (1 - b1) * gk;
                    v[k] = b2 * v[k] + (1 - b2) * gk * gk;
                    w[k] -= lr * ((m[k] / c1) / (Math.Sqrt(v[k] / c2) + Options.Epsilon) + Options.WeightDecay * w[k]);
                }
            }
            else
            {
                for (int k = 0; k < w.Length; k++)
                {
                    double gk = g[k] * scale + Options.WeightDecay * w[k];
                    m[k] = Options.Momentum * m[k] + gk;
                    w[k] -= lr * m[k];
                }
            }
        }
    }

    /// <summary>
    /// Saves parameters and optimiser state. Format (little-endian, documented in docs/formats.md):
    /// "GLASSOPT", int32 version, string kind, int64 step, int32 count, then per parameter:
    /// string name, int32 rows, int32 cols, rows·cols float64 values, then the same number of
    /// float64 first moments and second moments. Written to a temporary file and renamed (atomic).
    /// </summary>
    public void Save(string path)
    {
        string tmp = path + ".tmp";
        using (var w = new BinaryWriter(File.Create(tmp), Encoding.UTF8))
        {
            w.Write(Encoding.ASCII.GetBytes(Magic));
            w.Write(Version);
            w.Write(Kind);
            w.Write(Step);
            w.Write(_params.Count);
            for (int i = 0; i < _params.Count; i++)
            {
                var p = _params[i];
                w.Write(p.Name); w.Write(p.Rows); w.Write(p.Cols);
                foreach (var x in p.Value) w.Write(x);
                foreach (var x in _m[i]) w.Write(x);
                foreach (var x in _v[i]) w.Write(x);
            }
        }
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>Restores parameters (by name) and optimiser state saved by <see cref="Save"/>.</summary>
    /// <exception cref="InvalidDataException">Not such a file, another optimiser kind, or parameters that differ in name or shape; the message names the file and the parameter.</exception>
    public void Load(string path)
    {
        using var r = new BinaryReader(File.OpenRead(path), Encoding.UTF8);
        try
        {
            if (Encoding.ASCII.GetString(r.ReadBytes(Magic.Length)) != Magic) throw new InvalidDataException($"{path}: not a Glass optimiser file.");
            int version = r.ReadInt32();
            if (version != Version) throw new InvalidDataException($"{path}: format version {version}; expected {Version}.");
            string kind = r.ReadString();
            if (kind != Kind) throw new InvalidDataException($"{path}: saved by a '{kind}' optimiser; this one is '{Kind}'.");
            long step = r.ReadInt64();
            int count = r.ReadInt32();
            if (count != _params.Count) throw new InvalidDataException($"{path}: holds {count} parameters; expected {_params.Count}.");
            var values = new double[count][];
            var ms = new double[count][];
            var vs = new double[count][];
            for (int i = 0; i < count; i++)
            {
                string name = r.ReadString();
                int rows = r.ReadInt32(), cols = r.ReadInt32();
                var p = _params[i];
                if (name != p.Name || rows != p.Rows || cols != p.Cols)
                    throw new InvalidDataException($"{path}: parameter {i} is '{name}' {rows}×{cols}; expected '{p.Name}' {p.Rows}×{p.Cols}.");
                values[i] = ReadDoubles(r, rows * cols);
                ms[i] = ReadDoubles(r, rows * cols);
                vs[i] = ReadDoubles(r, rows * cols);
            }
            // Nothing is changed unless the whole file was read.
            for (int i = 0; i < count; i++)
            {
                Array.Copy(values[i], _params[i].Value, values[i].Length);
                Array.Copy(ms[i], _m[i], ms[i].Length);
                Array.Copy(vs[i], _v[i], vs[i].Length);
            }
            Step = step;
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException($"{path}: truncated optimiser file.");
        }
    }

    private static double[] ReadDoubles(BinaryReader r, int n)
    {
        var x = new double[n];
        for (int k = 0; k < n; k++) x[k] = r.ReadDouble();
        return x;
    }
}
