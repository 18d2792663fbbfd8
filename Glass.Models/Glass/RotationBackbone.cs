using Glass.Autodiff;
using Glass.Autodiff.Ops;
using Glass.Autodiff.Optim;

namespace Glass.Models.Glass;

/// <summary>How the learnable rotation R_θ of a <see cref="RotationBackbone"/> is initialised.</summary>
public enum RotationInit
{
    /// <summary>
    /// moments: R₀ from the second-moment matrices M_X = XᵀX/n and M_Y = YᵀY/m (M_Y = R M_X Rᵀ when
    /// Y = R·X): R₀ = U S Vᵀ with M_X = U Λ Uᵀ, M_Y = V Λ Vᵀ and S one of the four proper sign flips
    /// (det R₀ = +1), the one with the smallest sharp sliced OT cost (γ → 0: sorted 1-D samples) between X
    /// and R₀·Y on 13 fixed directions of the U frame.
    /// </summary>
    Moments,
    /// <summary>identity: R₀ = I (plain gradient descent on SO(3) from the data's frame; has local minima).</summary>
    Identity,
}

/// <summary>
/// A learnable rotation "backbone" for the second point set of an S² pair (GLASS §5, Eq. 6: the head's loss
/// trains what feeds it): Y' = R_θ·Y row-wise (Y' = Y R_θᵀ), R_θ = exp([ω]×)·R₀ with ω ∈ ℝ³ the trainable
/// rotation vector, [ω]× its skew-symmetric matrix, exp by Rodrigues' formula, and R₀ a fixed initial rotation
/// (<see cref="RotationInit"/>). The trainable parameter "backbone.rotation" (1×3, initialised 0) is ω/c with
/// c = rotation_lr / lr, so that one Adam (whose steps are ≈ lr per coordinate whatever the gradient's scale)
/// moves ω by ≈ rotation_lr radians per step. Gradients of L_geo reach ω through
/// Y' (both the lifted cost d(x_i, R_θ y_j)² and the plan via the scores φ(R_θ y_j)).
/// </summary>
internal sealed class RotationBackbone
{
    /// <summary>The parameter's name in optimiser files.</summary>
    public const string ParameterName = "backbone.rotation";

    public RotationBackbone(double[] initial, double scale = 1)
    {
        if (!(scale > 0) || !double.IsFinite(scale)) throw new ArgumentException($"scale = {scale}; expected a finite value > 0.", nameof(scale));
        Scale = scale;
        if (initial.Length != 9) throw new ArgumentException($"initial rotation has {initial.Length} entries; expected 9 (3×3 row-major).", nameof(initial));
        Initial = (double[])initial.Clone();
        Omega = Parameter.Zeros(ParameterName, 1, 3);
    }

    /// <summary>R₀, 3×3 row-major.</summary>
    public double[] Initial { get; private set; }

    /// <summary>The trained parameter ω/c (1×3): R_θ = exp([c·Omega]×)·R₀.</summary>
    public Parameter Omega { get; }

    /// <summary>c = rotation_lr / lr.</summary>
    public double Scale { get; }

    /// <summary>Replaces R₀ (restoring a checkpoint).</summary>
    public void SetInitial(double[] r0)
    {
        if (r0.Length != 9) throw new ArgumentException($"initial rotation has {r0.Length} entries; expected 9.", nameof(r0));
        Initial = (double[])r0.Clone();
    }

    /// <summary>The current R_θ = exp([ω]×)·R₀ (3×3 row-major), without a tape.</summary>
    public double[] Matrix() => Rotations.Multiply(Rotations.Exp(Omega.Value.Select(z => Scale * z).ToArray()), Initial);

    /// <summary>Y' = Y R_θᵀ (m×3) on y's tape, ω put on that tape once per call.</summary>
    public Var Apply(Var y) => Apply(y, Omega.On(y.Tape));

    /// <summary>Y' = Y (exp([c·p]×)·R₀)ᵀ for a given parameter node p (1×3) on y's tape.</summary>
    public Var Apply(Var y, Var omega)
    {
        var r = Op.MatMul(Rotations.ExpOp(Scale == 1 ? omega : Op.Scale(omega, Scale)), y.Tape.Constant(Initial, 3, 3));
        return Op.MatMul(y, Op.Transpose(r));
    }

    /// <summary>R₀ for <paramref name="init"/> from the point sets (n×3 and m×3 row-major).</summary>
    public static double[] Initialise(RotationInit init, double[] x, double[] y) =>
        init == RotationInit.Identity ? Rotations.Identity() : Rotations.MomentMatch(x, y);
}

/// <summary>Small SO(3) helpers (row-major 3×3, double).</summary>
internal static class Rotations
{
    private const double SeriesTheta = 1e-2;

    public static double[] Identity() => new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 };

    public static double[] Multiply(double[] a, double[] b)
    {
        var c = new double[9];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                c[3 * i + j] = a[3 * i] * b[j] + a[3 * i + 1] * b[3 + j] + a[3 * i + 2] * b[6 + j];
        return c;
    }

    public static double[] Transpose(double[] a) => new[] { a[0], a[3], a[6], a[1], a[4], a[7], a[2], a[5], a[8] };

    /// <summary>Geodesic angle between two rotations, degrees: arccos((tr(AᵀB) − 1)/2).</summary>
    public static double AngleDeg(double[] a, double[] b)
    {
        double tr = 0;
        for (int k = 0; k < 9; k++) tr += a[k] * b[k];
        return Math.Acos(Math.Clamp((tr - 1) / 2, -1, 1)) * 180 / Math.PI;
    }

    /// <summary>The skew-symmetric [ω]× (row-major).</summary>
    private static double[] Hat(double x, double y, double z) => new[] { 0, -z, y, z, 0, -x, -y, x, 0 };

    /// <summary>
    /// Rodrigues: exp([ω]×) = I + A(θ) K + B(θ) K², K = [ω]×, θ = ‖ω‖, A = sin θ/θ, B = (1 − cos θ)/θ²
    /// (Taylor series below θ = 1e-2), and A'(θ)/θ, B'(θ)/θ for the derivative.
    /// </summary>
    private static (double A, double B, double DA, double DB) Coefficients(double th)
    {
        if (th < SeriesTheta)
        {
            double t2 = th * th, t4 = t2 * t2;
            return (1 - t2 / 6 + t4 / 120, 0.5 - t2 / 24 + t4 / 720, -1.0 / 3 + t2 / 30 - t4 / 840, -1.0 / 12 + t2 / 180 - t4 / 6720);
        }
        double s = Math.Sin(th), c = Math.Cos(th);
        return (s / th, (1 - c) / (th * th), (th * c - s) / (th * th * th), (th * s - 2 * (1 - c)) / (th * th * th * th));
    }

    /// <summary>exp([ω]×) for ω = (ω₁, ω₂, ω₃).</summary>
    public static double[] Exp(double[] w)
    {
        double th = Math.Sqrt(w[0] * w[0] + w[1] * w[1] + w[2] * w[2]);
        var (a, b, _, _) = Coefficients(th);
        var k = Hat(w[0], w[1], w[2]);
        var k2 = Multiply(k, k);
        var r = Identity();
        for (int q = 0; q < 9; q++) r[q] += a * k[q] + b * k2[q];
        return r;
    }

    /// <summary>
    /// Taped exp([ω]×): ω 1×3 → R 3×3. Backward: ∂R/∂ω_k = A E_k + B (E_k K + K E_k) + ω_k (A'/θ) K +
    /// ω_k (B'/θ) K², E_k = [e_k]×.
    /// </summary>
    public static Var ExpOp(Var omega)
    {
        if (omega.Length != 3) throw new ArgumentException($"omega is {omega.Shape}; expected 3 entries.", nameof(omega));
        var w = (double[])omega.Value.Clone();
        var r = Exp(w);
        return omega.Tape.Record(r, 3, 3, omega.RequiresGrad, o =>
        {
            double th = Math.Sqrt(w[0] * w[0] + w[1] * w[1] + w[2] * w[2]);
            var (a, b, da, db) = Coefficients(th);
            var k = Hat(w[0], w[1], w[2]);
            var k2 = Multiply(k, k);
            var g = o.Grad!;
            var gw = omega.GradBuffer();
            for (int q = 0; q < 3; q++)
            {
                var e = Hat(q == 0 ? 1 : 0, q == 1 ? 1 : 0, q == 2 ? 1 : 0);
                var ek = Multiply(e, k);
                var ke = Multiply(k, e);
                double s = 0;
                for (int z = 0; z < 9; z++)
                    s += g[z] * (a * e[z] + b * (ek[z] + ke[z]) + w[q] * (da * k[z] + db * k2[z]));
                gw[q] += s;
            }
        });
    }

    /// <summary>
    /// Moment-matching initialisation (see <see cref="RotationInit.Moments"/>): the rotation R₀ that maps Y's
    /// principal frame onto X's, the sign ambiguity resolved by the sharp sliced OT cost. Returns 3×3 row-major.
    /// </summary>
    public static double[] MomentMatch(double[] x, double[] y)
    {
        var (_, u) = SymmetricEigen(SecondMoment(x));
        var (_, v) = SymmetricEigen(SecondMoment(y));
        double[]? best = null;
        double bestCost = double.PositiveInfinity;
        var dirs = Directions(u);
        foreach (var (s0, s1) in new[] { (1, 1), (1, -1), (-1, 1), (-1, -1) })
        {
            // R₀ = U S Vᵀ with S = diag(s0, s1, s2), s2 chosen so det R₀ = +1.
            var sv = new double[9];
            for (int i = 0; i < 3; i++) { sv[3 * i] = s0 * v[3 * i]; sv[3 * i + 1] = s1 * v[3 * i + 1]; sv[3 * i + 2] = v[3 * i + 2]; }
            var r0 = Multiply(u, Transpose(sv));
            if (Det(r0) < 0)
            {
                for (int i = 0; i < 3; i++) sv[3 * i + 2] = -sv[3 * i + 2];
                r0 = Multiply(u, Transpose(sv));
            }
            double cost = SlicedCost(x, RotateRows(y, r0), dirs);
            if (cost < bestCost) { bestCost = cost; best = r0; }
        }
        return best!;
    }

    /// <summary>Rows of <paramref name="y"/> (m×3) mapped by R: y'_j = R y_j.</summary>
    public static double[] RotateRows(double[] y, double[] r)
    {
        var o = new double[y.Length];
        for (int j = 0; j < y.Length / 3; j++)
            for (int i = 0; i < 3; i++)
                o[3 * j + i] = r[3 * i] * y[3 * j] + r[3 * i + 1] * y[3 * j + 1] + r[3 * i + 2] * y[3 * j + 2];
        return o;
    }

    private static double Det(double[] a) =>
        a[0] * (a[4] * a[8] - a[5] * a[7]) - a[1] * (a[3] * a[8] - a[5] * a[6]) + a[2] * (a[3] * a[7] - a[4] * a[6]);

    private static double[] SecondMoment(double[] p)
    {
        int n = p.Length / 3;
        var m = new double[9];
        for (int k = 0; k < n; k++)
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++) m[3 * i + j] += p[3 * k + i] * p[3 * k + j];
        for (int q = 0; q < 9; q++) m[q] /= n;
        return m;
    }

    /// <summary>The 13 directions (3 axes, 6 face and 4 body diagonals) of the frame whose columns are <paramref name="u"/>.</summary>
    private static double[][] Directions(double[] u)
    {
        var local = new List<double[]>();
        for (int a = -1; a <= 1; a++)
            for (int b = -1; b <= 1; b++)
                for (int c = -1; c <= 1; c++)
                {
                    // One of each ± pair: the first non-zero coordinate positive.
                    int first = a != 0 ? a : b != 0 ? b : c;
                    if (first <= 0) continue;
                    double nrm = Math.Sqrt(a * a + b * b + c * c);
                    local.Add(new[] { a / nrm, b / nrm, c / nrm });
                }
        return local.Select(l => new[]
        {
            u[0] * l[0] + u[1] * l[1] + u[2] * l[2],
            u[3] * l[0] + u[4] * l[1] + u[5] * l[2],
            u[6] * l[0] + u[7] * l[1] + u[8] * l[2],
        }).ToArray();
    }

    /// <summary>
    /// Σ over directions of the exact 1-D W₂² between the projected sets (equal weights; the quantile
    /// functions compared at max(n, m) midpoints).
    /// </summary>
    private static double SlicedCost(double[] x, double[] y, double[][] dirs)
    {
        int n = x.Length / 3, m = y.Length / 3, l = Math.Max(n, m);
        double total = 0;
        var px = new double[n];
        var py = new double[m];
        foreach (var d in dirs)
        {
            for (int i = 0; i < n; i++) px[i] = d[0] * x[3 * i] + d[1] * x[3 * i + 1] + d[2] * x[3 * i + 2];
            for (int j = 0; j < m; j++) py[j] = d[0] * y[3 * j] + d[1] * y[3 * j + 1] + d[2] * y[3 * j + 2];
            Array.Sort(px); Array.Sort(py);
            double s = 0;
            for (int k = 0; k < l; k++)
            {
                double q = (k + 0.5) / l;
                double e = px[(int)(q * n)] - py[(int)(q * m)];
                s += e * e;
            }
            total += s / l;
        }
        return total;
    }

    /// <summary>
    /// Eigen-decomposition of a symmetric 3×3 matrix by cyclic Jacobi rotations: eigenvalues descending and
    /// the eigenvectors as the columns of a row-major 3×3 matrix.
    /// </summary>
    internal static (double[] Values, double[] Vectors) SymmetricEigen(double[] m)
    {
        var a = (double[])m.Clone();
        var v = Identity();
        for (int sweep = 0; sweep < 50; sweep++)
        {
            double off = a[1] * a[1] + a[2] * a[2] + a[5] * a[5];
            if (off < 1e-30) break;
            for (int p = 0; p < 2; p++)
                for (int q = p + 1; q < 3; q++)
                {
                    double apq = a[3 * p + q];
                    if (Math.Abs(apq) < 1e-300) continue;
                    double theta = (a[3 * q + q] - a[3 * p + p]) / (2 * apq);
                    double t = Math.Sign(theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    if (theta == 0) t = 1;
                    double c = 1 / Math.Sqrt(t * t + 1), s = t * c;
                    // A ← Jᵀ A J, V ← V J with J the rotation in the (p, q) plane.
                    for (int k = 0; k < 3; k++)
                    {
                        double akp = a[3 * k + p], akq = a[3 * k + q];
                        a[3 * k + p] = c * akp - s * akq; a[3 * k + q] = s * akp + c * akq;
                    }
                    for (int k = 0; k < 3; k++)
                    {
                        double apk = a[3 * p + k], aqk = a[3 * q + k];
                        a[3 * p + k] = c * apk - s * aqk; a[3 * q + k] = s * apk + c * aqk;
                    }
                    for (int k = 0; k < 3; k++)
                    {
                        double vkp = v[3 * k + p], vkq = v[3 * k + q];
                        v[3 * k + p] = c * vkp - s * vkq; v[3 * k + q] = s * vkp + c * vkq;
                    }
                }
        }
        var order = new[] { 0, 1, 2 }.OrderByDescending(i => a[4 * i]).ToArray();
        var vals = order.Select(i => a[4 * i]).ToArray();
        var vecs = new double[9];
        for (int c = 0; c < 3; c++)
            for (int r = 0; r < 3; r++) vecs[3 * r + c] = v[3 * r + order[c]];
        return (vals, vecs);
    }
}
