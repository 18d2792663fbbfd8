using System.Globalization;
using Glass.Kernels.Validation;

namespace Glass.Kernels.PointClouds;

/// <summary>
/// Checks for point sets stored as rows of a row-major array: shape, finiteness, and (for S²)
/// unit norm and tangency. Each throws <see cref="ArgumentException"/> naming the argument and row.
/// </summary>
internal static class PointSets
{
    /// <summary>Slack on ‖x‖ = 1 for points on S² (float32 round trips stay well inside it).</summary>
    public const double UnitTolerance = 1e-6;

    /// <summary>Slack on ⟨p, v⟩ = 0 for tangent vectors, relative to max(1, ‖v‖).</summary>
    public const double TangentTolerance = 1e-5;

    private static string Fmt(double v) => v.ToString("G6", CultureInfo.InvariantCulture);

    /// <summary>
    /// Non-null, non-empty, length a multiple of <paramref name="dim"/>, all entries finite;
    /// returns the number of rows. Also checks that <c>rows · otherRows</c> (an output size) fits an array.
    /// </summary>
    public static int Rows(double[] x, int dim, string name)
    {
        ArgumentNullException.ThrowIfNull(x, name);
        Guard.Positive(dim, nameof(dim));
        Guard.NonEmpty<double>(x, name);
        if (x.Length % dim != 0)
            throw new ArgumentException(
                $"{name} has length {x.Length}, not a multiple of the dimension {dim}; expected rows of {dim} coordinates (row-major).", name);
        Guard.Finite(x, name);
        return x.Length / dim;
    }

    /// <summary>An n×m output must fit one array.</summary>
    public static void OutputSize(int n, int m, string what)
    {
        if ((long)n * m >= int.MaxValue)
            throw new ArgumentException($"{what} would be {n}×{m} = {(long)n * m} entries; expected fewer than {int.MaxValue}.");
    }

    /// <summary>Every row of the n×3 array <paramref name="x"/> has |‖x_i‖ − 1| ≤ 1e-6.</summary>
    public static void UnitRows(double[] x, string name)
    {
        for (int i = 0; i < x.Length / 3; i++)
        {
            double norm = Math.Sqrt(x[3 * i] * x[3 * i] + x[3 * i + 1] * x[3 * i + 1] + x[3 * i + 2] * x[3 * i + 2]);
            if (!(Math.Abs(norm - 1) <= UnitTolerance))
                throw new ArgumentException(
                    $"{name} row {i} = ({Fmt(x[3 * i])}, {Fmt(x[3 * i + 1])}, {Fmt(x[3 * i + 2])}) has norm {norm:R}; expected a point on S² (|‖x‖ − 1| ≤ {UnitTolerance:G}).", name);
        }
    }

    /// <summary>Every row v_i of <paramref name="v"/> is tangent at p_i: |⟨p_i, v_i⟩| ≤ 1e-5 · max(1, ‖v_i‖).</summary>
    public static void TangentRows(double[] p, double[] v, string name)
    {
        for (int i = 0; i < v.Length / 3; i++)
        {
            double dot = p[3 * i] * v[3 * i] + p[3 * i + 1] * v[3 * i + 1] + p[3 * i + 2] * v[3 * i + 2];
            double norm = Math.Sqrt(v[3 * i] * v[3 * i] + v[3 * i + 1] * v[3 * i + 1] + v[3 * i + 2] * v[3 * i + 2]);
            if (!(Math.Abs(dot) <= TangentTolerance * Math.Max(1, norm)))
                throw new ArgumentException(
                    $"{name} row {i} has ⟨p, v⟩ = {dot:R}; expected a tangent vector at p (|⟨p, v⟩| ≤ {TangentTolerance:G}·max(1, ‖v‖)).", name);
        }
    }
}
