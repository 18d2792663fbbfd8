using System.Globalization;
using Glass.Autodiff;
using Glass.Autodiff.Implicit;
using Glass.Autodiff.Ops;
using Glass.Kernels.Device;
using Glass.Kernels.Linalg;
using Glass.Kernels.Sinkhorn;

namespace Glass.Models.Glass;

/// <summary>What a GLASS Sinkhorn op does when the forward solve stops at max_iter without meeting tol.</summary>
public enum NonConvergencePolicy
{
    /// <summary>
    /// Use the last iterate (as the reference implementation does with max_iter 200) and flag it
    /// (<see cref="GlassCoupling.Converged"/> false, counted by the experiments). The implicit backward is
    /// then applied at that iterate with H built from the iterate's own marginals: the gradient of a nearby
    /// problem, not the exact derivative of the truncated iteration.
    /// </summary>
    UseLastIterate,
    /// <summary>Throw <see cref="InvalidOperationException"/> (what <see cref="SinkhornOp"/> does).</summary>
    Throw,
}

/// <summary>Pairwise cost lifted onto the plan's support (GLASS Eq. 4 and 5).</summary>
internal enum PairMetric
{
    /// <summary>d(x_i, y_j)² = arccos(⟨x_i, y_j⟩)² for unit rows (S², Eq. 4).</summary>
    GeodesicSquared,
    /// <summary>‖x_i − y_j‖² (diffusion features, Eq. 5).</summary>
    SquaredEuclidean,
}

/// <summary>
/// Taped ops of the GLASS layer (managed CPU path, double): sphere log-map coefficients, θ², costs on
/// a sparse pattern and Sinkhorn plans with a non-convergence policy. Each records one backward closure.
/// </summary>
internal static class GlassOps
{
    private const double SmallTheta = 1e-3;
    private const double MinSin = 1e-9;

    /// <summary>
    /// Elementwise g(c) = min(θ, R)/sin θ with θ = arccos(clamp(c, −1, 1)), so that for a unit x, an anchor a
    /// and a tangent u ⊥ a, ⟨u, Log_a(x)⟩ clamped to the chart radius R equals g(⟨a, x⟩)·⟨u, x⟩
    /// (Log_a(x) = θ/sin θ·(x − cos θ·a)). Series near θ = 0; the derivative is 0 within 1e-9 of the antipode.
    /// With <paramref name="mask"/> (model.manifold.chart: mask), g = 0 beyond the radius instead: the anchor's term
    /// of Eq. 2 vanishes outside its chart (derivative 0 there; the jump at θ = R carries no gradient).
    /// </summary>
    public static Var LogMapScale(Var c, double radius, bool mask = false)
    {
        int len = c.Length;
        var y = new double[len];
        var dy = new double[len];
        for (int k = 0; k < len; k++)
        {
            double x = Math.Clamp(c.Value[k], -1, 1);
            double th = Math.Acos(x);
            double s = Math.Sqrt(Math.Max(0, 1 - x * x));
            if (th <= radius)
            {
                if (th < SmallTheta) { y[k] = 1 + th * th / 6; dy[k] = -(1.0 / 3 + 2 * th * th / 15); }
                else { y[k] = th / s; dy[k] = -(s - th * x) / (s * s * s); }
            }
            else if (mask) { y[k] = 0; dy[k] = 0; }
            else if (s > MinSin) { y[k] = radius / s; dy[k] = radius * x / (s * s * s); }
            else { y[k] = radius / MinSin; dy[k] = 0; }
            if (c.Value[k] > 1 || c.Value[k] < -1) dy[k] = 0;
        }
        return c.Tape.Record(y, c.Rows, c.Cols, c.RequiresGrad, o =>
        {
            var g = o.Grad!; var gc = c.GradBuffer();
            for (int k = 0; k < len; k++) gc[k] += g[k] * dy[k];
        });
    }

    /// <summary>Elementwise θ² = arccos(clamp(c, −1, 1))², derivative −2θ/sin θ (→ −2 at c = 1).</summary>
    public static Var ArccosSquared(Var c)
    {
        int len = c.Length;
        var y = new double[len];
        var dy = new double[len];
        for (int k = 0; k < len; k++)
        {
            double x = Math.Clamp(c.Value[k], -1, 1);
            double th = Math.Acos(x);
            y[k] = th * th;
            dy[k] = DTheta2(x, th);
        }
        return c.Tape.Record(y, c.Rows, c.Cols, c.RequiresGrad, o =>
        {
            var g = o.Grad!; var gc = c.GradBuffer();
            for (int k = 0; k < len; k++) gc[k] += g[k] * dy[k];
        });
    }

    /// <summary>d(θ²)/dc at c = cos θ: −2θ/sin θ, with its series near 0 and 0 within 1e-9 of the antipode.</summary>
    private static double DTheta2(double x, double th)
    {
        if (th < SmallTheta) return -2 * (1 + th * th / 6);
        double s = Math.Sqrt(Math.Max(0, 1 - x * x));
        return s > MinSin ? -2 * th / s : 0;
    }

    /// <summary>
    /// Costs D_k = cost(x_{rows[k]}, y_{cols[k]}) for the pairs of a sparse pattern (shape outRows×outCols,
    /// outRows·outCols = pairs), with gradients to x (n×d) and y (m×d). O(pairs·d).
    /// </summary>
    public static Var PairCosts(Var x, Var y, int[] rows, int[] cols, PairMetric metric, int outRows, int outCols)
    {
        if (!ReferenceEquals(x.Tape, y.Tape)) throw new InvalidOperationException("Operands were recorded on different tapes.");
        if (x.Cols != y.Cols) throw new ArgumentException($"PairCosts: shapes {x.Shape} and {y.Shape} have different dimensions.");
        int d = x.Cols, nnz = rows.Length;
        var xv = x.Value; var yv = y.Value;
        var cost = new double[nnz];
        var dcdDot = metric == PairMetric.GeodesicSquared ? new double[nnz] : null;
        int chunks = Math.Max(1, Math.Min(Environment.ProcessorCount * 4, nnz / 4096));
        Parallel.For(0, chunks, ch =>
        {
            int k0 = (int)((long)nnz * ch / chunks), k1 = (int)((long)nnz * (ch + 1) / chunks);
            for (int k = k0; k < k1; k++)
            {
                int io = rows[k] * d, jo = cols[k] * d;
                if (metric == PairMetric.GeodesicSquared)
                {
                    double dot = 0;
                    for (int q = 0; q < d; q++) dot += xv[io + q] * yv[jo + q];
                    double c = Math.Clamp(dot, -1, 1), th = Math.Acos(c);
                    cost[k] = th * th;
                    dcdDot![k] = dot > 1 || dot < -1 ? 0 : DTheta2(c, th);
                }
                else
                {
                    double s = 0;
                    for (int q = 0; q < d; q++) { double e = xv[io + q] - yv[jo + q]; s += e * e; }
                    cost[k] = s;
                }
            }
        });
        return x.Tape.Record(cost, outRows, outCols, x.RequiresGrad || y.RequiresGrad, o =>
        {
            var g = o.Grad!;
            double[]? gx = x.RequiresGrad ? x.GradBuffer() : null, gy = y.RequiresGrad ? y.GradBuffer() : null;
            for (int k = 0; k < nnz; k++)
            {
                if (g[k] == 0) continue;
                int io = rows[k] * d, jo = cols[k] * d;
                if (metric == PairMetric.GeodesicSquared)
                {
                    double w = g[k] * dcdDot![k];
                    if (gx is not null) for (int q = 0; q < d; q++) gx[io + q] += w * yv[jo + q];
                    if (gy is not null) for (int q = 0; q < d; q++) gy[jo + q] += w * xv[io + q];
                }
                else
                {
                    double w = 2 * g[k];
                    for (int q = 0; q < d; q++)
                    {
                        double e = w * (xv[io + q] - yv[jo + q]);
                        if (gx is not null) gx[io + q] += e;
                        if (gy is not null) gy[jo + q] -= e;
                    }
                }
            }
        });
    }

    /// <summary>Row index of every stored entry of a CSR pattern.</summary>
    public static int[] RowIndex(CsrMatrix pattern)
    {
        var r = new int[pattern.Nnz];
        for (int i = 0; i < pattern.Rows; i++)
            for (int k = pattern.RowPtr[i]; k < pattern.RowPtr[i + 1]; k++) r[k] = i;
        return r;
    }

    /// <summary>
    /// Banded 1-D plan (as <see cref="SinkhornOp.BandedPlan"/>) with a policy for a forward solve that did
    /// not converge within max_iter, warm-started from <paramref name="warm"/> (null = cold); gradients to the scores by
    /// the implicit backward.
    /// </summary>
    public static BandedPlan BandedPlan(Var s, Var t, SinkhornOptions options, BandOptions band, ComputeDevice device,
        NonConvergencePolicy policy, SlicePotentials? warm = null) =>
        SinkhornOp.Banded(s, t, null, null, options, band, OpOptions(device, policy, warm));

    /// <summary>
    /// Dense 1-D plan between scores s, t (n×1, m×1) with C_ij = (s_i − t_j)², the same policy, gradients
    /// to the scores through the dense implicit backward. Returns the plan as an n×m node and the solve.
    /// </summary>
    public static (Var Plan, DenseSinkhornResult Result) DensePlan(Var s, Var t, SinkhornOptions options, ComputeDevice device,
        NonConvergencePolicy policy, SlicePotentials? warm = null)
    {
        var cost = Op.PairwiseSqEuclidean(s, t);
        var solve = SinkhornOp.Dense(cost, null, null, options, OpOptions(device, policy, warm));
        return (solve.Plan, solve.Result);
    }

    // The one Sinkhorn op's options for a GLASS policy and warm start.
    private static SinkhornOpOptions OpOptions(ComputeDevice device, NonConvergencePolicy policy, SlicePotentials? warm) => new()
    {
        Device = device,
        OnNonConvergence = policy == NonConvergencePolicy.Throw ? SinkhornNonConvergence.Throw : SinkhornNonConvergence.UseLastIterate,
        InitialF = warm?.F,
        InitialG = warm?.G,
    };
}
