using Glass.Autodiff;
using Glass.Kernels.Linalg;
using Glass.Models.Data;
using Glass.Models.Glass;
using NUnit.Framework;

namespace Glass.Tests.Models;

/// <summary>
/// GLASS §6 (symmetry preservation), checked numerically. S²: with anchors and directions carried along
/// (a_k ↦ g a_k, u_k ↦ g u_k), the loss and the plan of (gX, gY) equal those of (X, Y). Graphs: relabelling the nodes of
/// one graph by a permutation Π permutes its diffusion features' rows and the plan's rows, and leaves the loss unchanged.
/// Tolerance 1e-9 (relative on the loss, absolute on plan entries of size 1/n): both sides run the same arithmetic on
/// rotated or permuted inputs, so only rounding differs.
/// </summary>
public class GlassInvarianceTests
{
    private static readonly OtOptions Ot = new() { Gamma = 0.02, MaxIter = 20000, Tol = 1e-12 };

    [TestCase(ChartMode.Clamp)]
    [TestCase(ChartMode.Mask)]
    public void S2Layer_LossAndPlan_InvariantUnderACommonRotation(ChartMode chart)
    {
        var p = S2Pair.Generate(new S2DataOptions { N = 20, NoiseDeg = 3, Rotation = false }, seed: 2);
        var proj = new ManifoldProjectionOptions { K = 4, ChartRadiusDeg = 60, Chart = chart, InitUScale = 1.0 };
        var layer = GlassLayer.ForSphere(proj, Ot, slices: 2, seed: 7);
        var moved = GlassLayer.ForSphere(proj, Ot, slices: 2, seed: 7);
        var g = S2Pair.RandomRotation(new Random(11));
        foreach (var (a, b) in layer.Parameters.Zip(moved.Parameters))
            if (a.Name.EndsWith("anchors", StringComparison.Ordinal) || a.Name.EndsWith(".u", StringComparison.Ordinal))
                Array.Copy(Rotate(a.Value, g), b.Value, a.Value.Length);
        var o1 = Forward(layer, p.X, p.Y, 3);
        var o2 = Forward(moved, Rotate(p.X, g), Rotate(p.Y, g), 3);
        Assert.That(o2.Loss, Is.EqualTo(o1.Loss).Within(1e-9 * o1.Loss));
        AssertPlansEqual(o1.Plan, o2.Plan, rowOf: i => i);
        // The test can fail: without carrying the anchors along, the rotated inputs give another loss.
        var o3 = Forward(layer, Rotate(p.X, g), Rotate(p.Y, g), 3);
        Assert.That(Math.Abs(o3.Loss - o1.Loss), Is.GreaterThan(1e-6));
    }

    [TestCase(GraphFeatureMode.Structural)]
    [TestCase(GraphFeatureMode.Spectral)]
    public void GraphLayer_LossInvariant_PlanPermuted_UnderANodeRelabelling(GraphFeatureMode mode)
    {
        var pair = GraphPair.Sbm(new SbmDataOptions { N = 40, Blocks = 2, PIn = 0.3, POut = 0.05, RewireProb = 0.05 }, seed: 3);
        var opts = new GraphProjectionOptions { Tau = 0.5, ChebyDegree = 12, FeatDim = 6, Features = mode };
        var perm = Enumerable.Range(0, 40).ToArray();
        new Random(9).Shuffle(perm);                                   // node i of X becomes node perm[i]
        var relabelled = Relabel(pair.AdjacencyX, perm);
        var fx = GraphFeatures.Diffusion(pair.AdjacencyX, opts, 1);
        var fxp = GraphFeatures.Diffusion(relabelled, opts, 1);
        var fy = GraphFeatures.Diffusion(pair.AdjacencyY, opts, 1);
        for (int i = 0; i < 40; i++)
            for (int q = 0; q < 6; q++)
                Assert.That(fxp[perm[i] * 6 + q], Is.EqualTo(fx[i * 6 + q]).Within(1e-8), $"ψ row {i} column {q} is carried to row perm[i]");
        // γ on the scale of these features' scores (the S² value would leave the solve unconverged).
        var layer = GlassLayer.ForFeatures(6, Ot with { Gamma = 0.5 }, slices: 2, seed: 4);
        var o1 = Forward(layer, fx, fy, 6);
        var o2 = Forward(layer, fxp, fy, 6);
        Assert.That(o2.Loss, Is.EqualTo(o1.Loss).Within(1e-9 * o1.Loss));
        AssertPlansEqual(o1.Plan, o2.Plan, rowOf: i => perm[i]);
    }

    private static (double Loss, CsrMatrix Plan) Forward(GlassLayer layer, double[] x, double[] y, int d)
    {
        using var tape = new Tape();
        var o = layer.Forward(tape.Constant(x, x.Length / d, d), tape.Constant(y, y.Length / d, d));
        Assert.That(o.Coupling.Converged, Is.True);
        return (o.Loss.Scalar, o.Coupling.Plan);
    }

    /// <summary>P2[rowOf(i), j] = P1[i, j] for every (i, j), absolute 1e-9 (entries are ≤ 1/n).</summary>
    private static void AssertPlansEqual(CsrMatrix p1, CsrMatrix p2, Func<int, int> rowOf)
    {
        double[] Dense(CsrMatrix p)
        {
            var d = new double[p.Rows * p.Cols];
            for (int i = 0; i < p.Rows; i++) for (int k = p.RowPtr[i]; k < p.RowPtr[i + 1]; k++) d[i * p.Cols + p.ColIdx[k]] = p.Values[k];
            return d;
        }
        var a = Dense(p1); var b = Dense(p2);
        int m = p1.Cols;
        for (int i = 0; i < p1.Rows; i++)
            for (int j = 0; j < m; j++)
                Assert.That(b[rowOf(i) * m + j], Is.EqualTo(a[i * m + j]).Within(1e-9), $"plan entry ({i}, {j})");
    }

    private static double[] Rotate(double[] rows, double[] g)
    {
        var o = new double[rows.Length];
        for (int i = 0; i < rows.Length / 3; i++)
            for (int r = 0; r < 3; r++)
                o[3 * i + r] = g[3 * r] * rows[3 * i] + g[3 * r + 1] * rows[3 * i + 1] + g[3 * r + 2] * rows[3 * i + 2];
        return o;
    }

    /// <summary>W' with W'[perm[i], perm[j]] = W[i, j].</summary>
    private static CsrMatrix Relabel(CsrMatrix w, int[] perm)
    {
        int n = w.Rows;
        var inv = new int[n];
        for (int i = 0; i < n; i++) inv[perm[i]] = i;
        var rp = new int[n + 1];
        var ci = new List<int>(); var v = new List<double>();
        for (int r = 0; r < n; r++)
        {
            int i = inv[r];
            var row = new List<(int, double)>();
            for (int k = w.RowPtr[i]; k < w.RowPtr[i + 1]; k++) row.Add((perm[w.ColIdx[k]], w.Values[k]));
            foreach (var (c, val) in row.OrderBy(e => e.Item1)) { ci.Add(c); v.Add(val); }
            rp[r + 1] = ci.Count;
        }
        return new CsrMatrix(n, n, rp, ci.ToArray(), v.ToArray());
    }
}
