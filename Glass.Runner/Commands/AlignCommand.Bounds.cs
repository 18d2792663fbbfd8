using System.Globalization;
using Glass.Models.Data;

namespace Glass.Runner.Commands;

/// <summary><c>glass align</c>: bounds on sizes and scalars checked before any work, and library messages put in the user's terms.</summary>
internal static partial class AlignCommand
{
    /// <summary>Largest --steps: the training history keeps one record per step.</summary>
    internal const int MaxSteps = 10_000_000;

    /// <summary>Largest --restarts: each restart trains and is scored on the full data.</summary>
    internal const int MaxRestarts = 10_000;

    /// <summary>Scalars of the command line that need no file: --steps, --seed, --restarts.</summary>
    private static void ValidateScalars(AlignRequest r)
    {
        if (r.Steps is { } s && (s < 1 || s > MaxSteps))
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"--steps = {s}; expected an integer in [1, {MaxSteps}]."));
        if (r.Seed is < 0) throw new ArgumentException($"--seed = {r.Seed}; expected an integer ≥ 0.");
        if (r.Restarts is > MaxRestarts)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"--restarts = {r.Restarts}; expected an integer in [1, {MaxRestarts}]."));
    }

    /// <summary>
    /// Sizes of the read data: training needs ≥ 2 rows on each side (standardisation, distances and GW are undefined for
    /// one point) and its dense n×m plan and n², m² distances in memory; refused above the memory available with the estimate.
    /// </summary>
    internal static void CheckSizes(AlignRequest r, PointSet xs, PointSet ys, bool training)
    {
        if (!training) return;
        foreach (var (file, opt, ps) in new[] { (r.X, "--x", xs), (r.Y, "--y", ys) })
            if (ps.Rows < 2)
                throw new ArgumentException($"{opt} {file}: {ps.Rows} row; training needs at least 2 rows in --x and in --y (a single point has no distances to match). To map one new row, use --model with a trained model.");
        long n = xs.Rows, m = ys.Rows;
        // The dense plan, its cost and gradient (n×m each) and the two distance matrices, 8 bytes per entry: a lower bound.
        double bytes = 8.0 * (3.0 * n * m + (double)n * n + (double)m * m);
        long avail = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (avail > 0 && bytes > avail)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"--x {r.X} ({n} rows), --y {r.Y} ({m} rows): training needs at least {bytes / 1e9:F1} GB (3·n·m + n² + m² values of 8 bytes), more than the {avail / 1e9:F1} GB available; train on a subsample, then map all rows with --model DIR --rows A:B."));
    }

    /// <summary>
    /// A library <see cref="ArgumentException"/> that reached the command: its "(Parameter 'name')" suffix replaced by the
    /// option or config key that sets the value.
    /// </summary>
    internal static ArgumentException InUserTerms(ArgumentException e)
    {
        if (e.ParamName is null) return e;
        string plain = Plain(e);
        string source = e.ParamName switch
        {
            "topK" or "TopK" or "k" => "--top-k",
            "Steps" or "steps" => "--steps",
            "Restarts" or "restarts" => "--restarts",
            "Gamma" or "gamma" or "Epsilon" or "epsilon" or "EpsilonMin" or "EpsilonStart" =>
                "ε of train.epsilon_min / epsilon_start in --config (γ = ε · mean cost), or the model's ε with --model",
            _ => "the model.gw / train options of --config (or their defaults)",
        };
        return new ArgumentException($"{plain} (set by {source})", e);
    }

    /// <summary>The message without .NET's "(Parameter 'name')" suffix.</summary>
    internal static string Plain(ArgumentException e) =>
        e.ParamName is null ? e.Message : e.Message.Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal);
}
