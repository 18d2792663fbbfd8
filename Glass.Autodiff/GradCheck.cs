namespace Glass.Autodiff;

/// <summary>
/// Gradient check by central finite differences along random directions, in double: for each
/// direction v, compares (L(x + h·v) − L(x − h·v)) / 2h with Σ ∇L·v from the tape.
/// Used by the tests and available to library users for their own ops.
/// </summary>
public static class GradCheck
{
    /// <summary>An input of the checked function: values and shape.</summary>
    /// <param name="Value">Row-major values.</param>
    /// <param name="Rows">Rows.</param>
    /// <param name="Cols">Columns.</param>
    public sealed record Input(double[] Value, int Rows, int Cols);

    /// <summary>Worst relative error over the directions, |fd − ad| / max(|fd|, |ad|, floor).</summary>
    /// <param name="MaxRelativeError">Worst relative error.</param>
    /// <param name="Directional">(finite difference, tape) pairs, one per direction.</param>
    public sealed record Result(double MaxRelativeError, (double FiniteDifference, double Tape)[] Directional);

    /// <summary>Checks the gradient of the scalar <paramref name="loss"/> with respect to every input.</summary>
    /// <param name="loss">Builds the loss on a fresh tape from leaves made of the inputs (in order).</param>
    /// <param name="inputs">Point of evaluation.</param>
    /// <param name="directions">Number of random directions.</param>
    /// <param name="h">Step (default 1e-6, relative to the direction's unit norm).</param>
    /// <param name="seed">Seed of the directions.</param>
    /// <param name="floor">Absolute floor of the denominator (default 1e-10).</param>
    public static Result Check(Func<Tape, Var[], Var> loss, IReadOnlyList<Input> inputs, int directions = 4, double h = 1e-6,
        int seed = 0, double floor = 1e-10)
    {
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(inputs);
        if (directions < 1) throw new ArgumentException($"directions = {directions}; expected ≥ 1.", nameof(directions));
        var tape = new Tape();
        var leaves = inputs.Select(x => tape.Leaf((double[])x.Value.Clone(), x.Rows, x.Cols)).ToArray();
        tape.Backward(loss(tape, leaves));
        var grads = leaves.Select(l => l.Grad ?? new double[l.Length]).ToArray();

        var rng = new Random(seed);
        var pairs = new (double, double)[directions];
        double worst = 0;
        for (int d = 0; d < directions; d++)
        {
            var dirs = inputs.Select(x => Enumerable.Range(0, x.Value.Length).Select(_ => rng.NextDouble() * 2 - 1).ToArray()).ToArray();
            double norm = Math.Sqrt(dirs.Sum(v => v.Sum(z => z * z)));
            foreach (var v in dirs) for (int k = 0; k < v.Length; k++) v[k] /= norm;
            double ad = 0;
            for (int i = 0; i < dirs.Length; i++) for (int k = 0; k < dirs[i].Length; k++) ad += grads[i][k] * dirs[i][k];
            double Eval(double step)
            {
                using var t = new Tape();
                using var _ = t.NoGrad();
                var xs = inputs.Select((x, i) => t.Constant(x.Value.Select((z, k) => z + step * dirs[i][k]).ToArray(), x.Rows, x.Cols)).ToArray();
                return loss(t, xs).Scalar;
            }
            double fd = (Eval(h) - Eval(-h)) / (2 * h);
            pairs[d] = (fd, ad);
            worst = Math.Max(worst, Math.Abs(fd - ad) / Math.Max(floor, Math.Max(Math.Abs(fd), Math.Abs(ad))));
        }
        return new Result(worst, pairs);
    }
}
