using System.Globalization;

namespace Glass.Autodiff.Optim;

/// <summary>
/// A trainable matrix that outlives tapes: its values persist across steps; each step puts it on a
/// fresh tape with <see cref="On"/>, and after <see cref="Tape.Backward"/> its gradient is read by an
/// optimiser. Initialisers are seeded so runs are reproducible.
/// </summary>
public sealed class Parameter
{
    private Var? _last;

    /// <summary>A parameter with explicit initial values (copied).</summary>
    public Parameter(string name, double[] value, int rows, int cols)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(value);
        if (rows < 1 || cols < 1 || (long)rows * cols != value.Length)
            throw new ArgumentException($"Parameter '{name}': value has length {value.Length}; expected rows·cols = {rows}·{cols}.", nameof(value));
        Name = name; Rows = rows; Cols = cols; Value = (double[])value.Clone();
    }

    /// <summary>Unique name (the key in saved files).</summary>
    public string Name { get; }
    /// <summary>Rows.</summary>
    public int Rows { get; }
    /// <summary>Columns.</summary>
    public int Cols { get; }
    /// <summary>Current values, row-major.</summary>
    public double[] Value { get; }

    /// <summary>The gradient from the last tape this parameter was put on (null if it was not reached).</summary>
    public double[]? Grad => _last?.Grad;

    /// <summary>Puts the parameter on <paramref name="tape"/> as a leaf that requires a gradient.</summary>
    public Var On(Tape tape)
    {
        ArgumentNullException.ThrowIfNull(tape);
        _last = tape.Leaf(Value, Rows, Cols);
        return _last;
    }

    /// <summary>Glorot/Xavier uniform: U(−a, a), a = sqrt(6 / (fan_in + fan_out)), fan_in = rows, fan_out = cols.</summary>
    public static Parameter Glorot(string name, int rows, int cols, int seed) =>
        Init(name, rows, cols, seed, r => (2 * r.NextDouble() - 1) * Math.Sqrt(6.0 / (rows + cols)));

    /// <summary>He (Kaiming) normal: N(0, 2 / fan_in), fan_in = rows.</summary>
    public static Parameter He(string name, int rows, int cols, int seed) =>
        Init(name, rows, cols, seed, r => Normal(r) * Math.Sqrt(2.0 / rows));

    /// <summary>N(mean, std²).</summary>
    public static Parameter NormalInit(string name, int rows, int cols, int seed, double mean = 0, double std = 1) =>
        Init(name, rows, cols, seed, r => mean + std * Normal(r));

    /// <summary>U(lo, hi).</summary>
    public static Parameter Uniform(string name, int rows, int cols, int seed, double lo, double hi) =>
        Init(name, rows, cols, seed, r => lo + (hi - lo) * r.NextDouble());

    /// <summary>All zeros (biases).</summary>
    public static Parameter Zeros(string name, int rows, int cols) => new(name, new double[rows * cols], rows, cols);

    private static Parameter Init(string name, int rows, int cols, int seed, Func<Random, double> draw)
    {
        if (rows < 1 || cols < 1) throw new ArgumentException($"Parameter '{name}': shape {rows}×{cols}; expected positive dimensions.");
        var r = new Random(seed);
        var v = new double[rows * cols];
        for (int k = 0; k < v.Length; k++) v[k] = draw(r);
        return new Parameter(name, v, rows, cols);
    }

    private static double Normal(Random r) => Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Name} {Rows}×{Cols}");
}
