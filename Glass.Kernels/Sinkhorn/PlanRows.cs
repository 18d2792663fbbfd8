using Glass.Kernels.Device;
using Glass.Kernels.Validation;

namespace Glass.Kernels.Sinkhorn;

/// <summary>What <see cref="PlanRows.Summarize"/> returns; nothing of size n×m.</summary>
/// <param name="K">Entries kept per row.</param>
/// <param name="TopKIndex">n×k column indices of each row's k largest plan entries, descending (ties: lower column first).</param>
/// <param name="TopKValue">n×k plan entries P_ij at those columns.</param>
/// <param name="RowSum">Σ_j P_ij per row (the plan's row marginal).</param>
/// <param name="ProjectionDim">Columns q of <see cref="Projection"/> (0 when no Z was given).</param>
/// <param name="Projection">n×q barycentric projection Σ_j P_ij Z_j / Σ_j P_ij (empty when q = 0).</param>
public sealed record PlanRowSummary(int K, int[] TopKIndex, double[] TopKValue, double[] RowSum, int ProjectionDim, double[] Projection)
{
    /// <summary>Hard match of row i: its largest plan entry's column (the first of ties).</summary>
    public int Match(int i) => TopKIndex[(long)i * K];
}

/// <summary>
/// Row-wise read-out of an entropic plan P_ij = exp((f_i + g_j − C_ij)/γ) known only by its potentials and its
/// geometry: per row the k largest entries (hard matches, sparse top-k plan), the row sum, and the barycentric
/// projection of the rows of a matrix Z (m×q) — learned-GW appendix, x̂_i = Σ_j Π_ij z_j / Σ_j Π_ij. One streaming
/// pass over C; nothing of size n×m is stored. On an ILGPU accelerator a point geometry is read out on the device
/// (<see cref="PointPlanKernels"/>, one thread group per row); a cost-matrix geometry, or k &gt; 64, uses the managed
/// pass, which is also the reference.
/// </summary>
public static class PlanRows
{
    /// <summary>Reads out the plan's rows; see the type's summary.</summary>
    /// <param name="device">Managed CPU backend or an ILGPU accelerator.</param>
    /// <param name="geometry">The cost C (n×m).</param>
    /// <param name="f">Row potentials, length n (−∞ allowed: a row without mass).</param>
    /// <param name="g">Column potentials, length m (−∞ allowed).</param>
    /// <param name="gamma">Entropic regularisation γ &gt; 0 of the plan.</param>
    /// <param name="k">Entries kept per row, 1 ≤ k ≤ m.</param>
    /// <param name="z">Rows to project, m×q row-major (null = no projection).</param>
    /// <param name="q">Columns of <paramref name="z"/> (0 when z is null).</param>
    /// <exception cref="ArgumentException">Lengths that do not match the geometry, γ ≤ 0, k outside 1…m, NaN potentials; the message names the argument.</exception>
    public static PlanRowSummary Summarize(ComputeDevice device, DenseGeometry geometry, double[] f, double[] g, double gamma, int k,
        double[]? z = null, int q = 0)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(geometry);
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(g);
        int n = geometry.N, m = geometry.M;
        Guard.Length<double>(f, n, nameof(f), $"n = {n}");
        Guard.Length<double>(g, m, nameof(g), $"m = {m}");
        if (f.Any(double.IsNaN)) throw new ArgumentException("f contains NaN; expected finite values or −∞.", nameof(f));
        if (g.Any(double.IsNaN)) throw new ArgumentException("g contains NaN; expected finite values or −∞.", nameof(g));
        if (!(gamma > 0) || !double.IsFinite(gamma)) throw new ArgumentException($"gamma = {gamma}; expected a finite value > 0.", nameof(gamma));
        if (k < 1 || k > m) throw new ArgumentException($"k = {k}; expected 1 ≤ k ≤ m = {m}.", nameof(k));
        if (z is null) q = 0;
        else
        {
            Guard.Positive(q, nameof(q));
            Guard.Length<double>(z, checked(m * q), nameof(z), $"m·q = {m}·{q}");
        }

        if (device.IsAccelerated && geometry is PointGeometry pg && k <= PointPlanKernels.MaxK)
        {
            var (ti, tv, sum, proj) = device.GetKernels(acc => new PointPlanKernels(acc)).Rows(pg.X, pg.Y, pg.D, f, g, gamma, k, z, q);
            return new PlanRowSummary(k, ti, tv, sum, q, proj);
        }
        return Managed(geometry, f, g, gamma, k, z, q);
    }

    private static PlanRowSummary Managed(DenseGeometry geom, double[] f, double[] g, double gamma, int k, double[]? z, int q)
    {
        int n = geom.N, m = geom.M;
        var ti = new int[(long)n * k];
        var tv = new double[(long)n * k];
        var rowSum = new double[n];
        var proj = new double[(long)n * q];
        double invG = 1 / gamma;
        int chunks = Math.Max(1, Math.Min(n, Environment.ProcessorCount * 8));
        Parallel.For(0, chunks, ch =>
        {
            using var rowReader = new RowReader(geom);
            var p = new double[m];
            int i0 = (int)((long)n * ch / chunks), i1 = (int)((long)n * (ch + 1) / chunks);
            var topI = new int[k];
            var topV = new double[k];
            for (int i = i0; i < i1; i++)
            {
                var row = rowReader.Row(i);
                DenseSinkhornCpu.ExpRowSum(row, g, f[i], invG, p);
                double sum = 0, best = double.NegativeInfinity;
                int filled = 0;
                for (int j = 0; j < m; j++)
                {
                    double v = p[j];
                    sum += v;
                    if (v > best) best = v;
                    // Insertion into the descending top-k (ties keep the lower index first).
                    if (filled < k || v > topV[k - 1])
                    {
                        int pos = filled < k ? filled++ : k - 1;
                        while (pos > 0 && topV[pos - 1] < v) { topV[pos] = topV[pos - 1]; topI[pos] = topI[pos - 1]; pos--; }
                        topV[pos] = v; topI[pos] = j;
                    }
                }
                rowSum[i] = sum;
                Array.Copy(topI, 0, ti, (long)i * k, k);
                Array.Copy(topV, 0, tv, (long)i * k, k);
                if (q == 0) continue;
                double inv = sum > 0 ? 1 / sum : 0;
                // Entries below 1e-16 of the row's largest are skipped: together < m·1e-16 of the row's mass.
                double floor = best * 1e-16;
                var e = proj.AsSpan((int)((long)i * q), q);
                for (int j = 0; j < m; j++)
                {
                    if (p[j] <= floor) continue;
                    double w = p[j] * inv;
                    var zj = z!.AsSpan((int)((long)j * q), q);
                    DenseSinkhornCpu.AddScaled(zj, w, e);
                }
            }
        });
        return new PlanRowSummary(k, ti, tv, rowSum, q, proj);
    }
}
