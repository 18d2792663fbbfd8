using Glass.Models.Glass;

namespace Glass.Models.Data;

/// <summary>
/// A pair of point sets on S² with a known correspondence (GLASS §7.1; the reference's sphere_data.py):
/// x_i uniform on S²; y_{π(i)} = Exp_{R x_i}(v_i), v_i an isotropic Gaussian tangent vector at R x_i with
/// standard deviation noise_deg (radians) per tangent axis; R a uniformly random rotation (or I); π a random
/// permutation of Y's rows, kept as <see cref="GroundTruth"/> so perm_acc can be measured.
/// </summary>
/// <param name="X">Source points, n×3 row-major, unit rows.</param>
/// <param name="Y">Target points, n×3 row-major, unit rows.</param>
/// <param name="GroundTruth">π: X row i corresponds to Y row π(i).</param>
/// <param name="Rotation">R, 3×3 row-major (identity when rotation is off).</param>
public sealed record S2Pair(double[] X, double[] Y, int[] GroundTruth, double[] Rotation)
{
    /// <summary>Points per set.</summary>
    public int N => GroundTruth.Length;

    /// <summary>Generates a pair, deterministic in (options, seed).</summary>
    /// <param name="options">n ≥ 2, noise_deg ≥ 0, rotation.</param>
    /// <param name="seed">Seed of every random draw.</param>
    /// <param name="shuffle">Permute Y's rows (default); false keeps π = identity.</param>
    /// <exception cref="ArgumentException">n &lt; 2 or noise_deg negative; the message names the key.</exception>
    public static S2Pair Generate(S2DataOptions options, int seed, bool shuffle = true)
    {
        ArgumentNullException.ThrowIfNull(options);
        GlassValidation.Check(options);
        int n = options.N;
        var rng = new Random(seed);
        var x = new double[n * 3];
        for (int i = 0; i < n; i++)
        {
            var (a, b, c) = UnitVector(rng);
            x[3 * i] = a; x[3 * i + 1] = b; x[3 * i + 2] = c;
        }
        var r = options.Rotation ? RandomRotation(rng) : new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 };
        double sigma = options.NoiseDeg * Math.PI / 180;
        var perm = Enumerable.Range(0, n).ToArray();
        if (shuffle) rng.Shuffle(perm);
        var y = new double[n * 3];
        for (int i = 0; i < n; i++)
        {
            double px = r[0] * x[3 * i] + r[1] * x[3 * i + 1] + r[2] * x[3 * i + 2];
            double py = r[3] * x[3 * i] + r[4] * x[3 * i + 1] + r[5] * x[3 * i + 2];
            double pz = r[6] * x[3 * i] + r[7] * x[3 * i + 1] + r[8] * x[3 * i + 2];
            double nrm = Math.Sqrt(px * px + py * py + pz * pz);
            px /= nrm; py /= nrm; pz /= nrm;
            if (sigma > 0)
            {
                // Tangent noise: Gaussian in ℝ³ projected onto the tangent plane at p, then Exp_p.
                double gx = sigma * Gauss(rng), gy = sigma * Gauss(rng), gz = sigma * Gauss(rng);
                double d = gx * px + gy * py + gz * pz;
                gx -= d * px; gy -= d * py; gz -= d * pz;
                double t = Math.Sqrt(gx * gx + gy * gy + gz * gz);
                if (t > 0)
                {
                    double cs = Math.Cos(t), sn = Math.Sin(t) / t;
                    px = cs * px + sn * gx; py = cs * py + sn * gy; pz = cs * pz + sn * gz;
                    nrm = Math.Sqrt(px * px + py * py + pz * pz);
                    px /= nrm; py /= nrm; pz /= nrm;
                }
            }
            int j = perm[i];
            y[3 * j] = px; y[3 * j + 1] = py; y[3 * j + 2] = pz;
        }
        return new S2Pair(x, y, perm, r);
    }

    internal static double Gauss(Random r) => Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());

    internal static (double, double, double) UnitVector(Random rng)
    {
        while (true)
        {
            double a = Gauss(rng), b = Gauss(rng), c = Gauss(rng);
            double r = Math.Sqrt(a * a + b * b + c * c);
            if (r > 1e-8) return (a / r, b / r, c / r);
        }
    }

    /// <summary>A uniformly random rotation (Shoemake's unit quaternion), 3×3 row-major.</summary>
    internal static double[] RandomRotation(Random rng)
    {
        double u1 = rng.NextDouble(), u2 = rng.NextDouble(), u3 = rng.NextDouble();
        double a = Math.Sqrt(1 - u1), b = Math.Sqrt(u1);
        double w = a * Math.Sin(2 * Math.PI * u2), xq = a * Math.Cos(2 * Math.PI * u2);
        double yq = b * Math.Sin(2 * Math.PI * u3), zq = b * Math.Cos(2 * Math.PI * u3);
        return new[]
        {
            1 - 2 * (yq * yq + zq * zq), 2 * (xq * yq - zq * w), 2 * (xq * zq + yq * w),
            2 * (xq * yq + zq * w), 1 - 2 * (xq * xq + zq * zq), 2 * (yq * zq - xq * w),
            2 * (xq * zq - yq * w), 2 * (yq * zq + xq * w), 1 - 2 * (xq * xq + yq * yq),
        };
    }
}
