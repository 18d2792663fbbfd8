using Glass.Autodiff;
using Glass.Autodiff.Ops;
using Glass.Kernels.Linalg;

namespace Glass.Models.Gw;

/// <summary>
/// The outer losses of learned GW as compositions of tape ops (managed CPU path). Nothing larger
/// than n×m is formed (no n²m² tensor). Π is n×m, D_X n×n, D_Y m×m (constants, symmetric).
/// </summary>
public static class GwOps
{
    /// <summary>
    /// GW loss of a coupling, Σ_ijkl (D_X,ik − D_Y,jl)² Π_ij Π_kl = pᵀ(D_X⊙D_X)p + qᵀ(D_Y⊙D_Y)q − 2⟨D_X Π D_Y, Π⟩
    /// with p = Π1, q = Πᵀ1 taken from Π itself (so the identity holds for any Π, not only on U(a, b)).
    /// On U(a, b) with a permutation coupling Π = P/N this is ‖D_X − P D_Y Pᵀ‖²_F / N² — the learned-GW paper's Eq. 4.
    /// </summary>
    /// <param name="plan">Π, n×m.</param>
    /// <param name="dx">D_X, n×n row-major.</param>
    /// <param name="dy">D_Y, m×m row-major.</param>
    /// <returns>A 1×1 node.</returns>
    public static Var GwLoss(Var plan, double[] dx, double[] dy)
    {
        ArgumentNullException.ThrowIfNull(plan);
        int n = plan.Rows, m = plan.Cols;
        CheckSquare(dx, n, "dx");
        CheckSquare(dy, m, "dy");
        var t = plan.Tape;
        var DX = t.Constant(dx, n, n);
        var DY = t.Constant(dy, m, m);
        var DX2 = t.Constant(Square(dx), n, n);
        var DY2 = t.Constant(Square(dy), m, m);
        var p = Op.Sum(plan, 1);                 // n×1
        var q = Op.Sum(plan, 0);                 // 1×m
        var t1 = Op.Sum(Op.Mul(p, Op.MatMul(DX2, p)));
        var t2 = Op.Sum(Op.Mul(q, Op.MatMul(q, DY2)));
        var cross = Op.Sum(Op.Mul(Op.MatMul(Op.MatMul(DX, plan), DY), plan));
        return Op.Sub(Op.Add(t1, t2), Op.Scale(cross, 2));
    }

    /// <summary>
    /// Rank loss of the learned-GW paper's Eq. 6, ‖R_δ(D_X) − R_δ(s·Π D_Y Πᵀ)‖²_F / (n·n·n²): row-wise soft
    /// ranks (Blondel et al. 2020; <see cref="RankOp.SoftRankRows"/>) of D_X and of the transported D_Y,
    /// with s = n² so that s·ΠD_YΠᵀ is on the scale of D_Y for uniform marginals (a permutation gives a
    /// permuted D_Y exactly). Ranks lie in [1, n]; the result is normalised to mean squared rank error / n².
    /// Invariant to rescaling or any increasing transform of D_X (and, through the soft-rank scale δ, nearly of D_Y).
    /// </summary>
    /// <param name="plan">Π, n×m.</param>
    /// <param name="rankX">R_δ(D_X), n×n (constant; <see cref="SoftRanks"/>).</param>
    /// <param name="dy">D_Y, m×m.</param>
    /// <param name="delta">Soft-rank regularisation δ (in units of the distances).</param>
    public static Var RankLoss(Var plan, double[] rankX, double[] dy, double delta)
    {
        ArgumentNullException.ThrowIfNull(plan);
        int n = plan.Rows, m = plan.Cols;
        CheckSquare(rankX, n, "rankX");
        CheckSquare(dy, m, "dy");
        var t = plan.Tape;
        var DY = t.Constant(dy, m, m);
        var moved = Op.Scale(Op.MatMul(Op.MatMul(plan, DY), Op.Transpose(plan)), (double)n * n);
        var r = RankOp.SoftRankRows(moved, delta);
        var diff = Op.Sub(r, t.Constant(rankX, n, n));
        return Op.Scale(Op.Sum(Op.Mul(diff, diff)), 1.0 / ((double)n * n * n * n));
    }

    /// <summary>Row-wise soft ranks R_δ(D) of a constant n×n matrix (the fixed side of <see cref="RankLoss"/>).</summary>
    public static double[] SoftRanks(double[] d, int n, double delta)
    {
        var t = new Tape();
        using var _ = t.NoGrad();
        return RankOp.SoftRankRows(t.Constant(d, n, n), delta).Value;
    }

    /// <summary>
    /// Spectral-geometric regularisation of the learned-GW paper's Eq. 5, E_sm = tr(Cᵀ L_X C + C L_Y Cᵀ)
    /// — the Dirichlet energy of the cost C (n×m) on the product graph G_X □ G_Y — divided by n·m.
    /// L_X (n×n) and L_Y (m×m) are sparse combinatorial Laplacians (D − Ω) of kNN graphs; products by <see cref="StructOp.SpMM"/>.
    /// </summary>
    /// <param name="cost">C, n×m.</param>
    /// <param name="lx">L_X, n×n CSR, symmetric.</param>
    /// <param name="ly">L_Y, m×m CSR, symmetric.</param>
    public static Var SpectralEnergy(Var cost, CsrMatrix lx, CsrMatrix ly)
    {
        ArgumentNullException.ThrowIfNull(cost);
        ArgumentNullException.ThrowIfNull(lx);
        ArgumentNullException.ThrowIfNull(ly);
        int n = cost.Rows, m = cost.Cols;
        if (lx.Rows != n || lx.Cols != n) throw new ArgumentException($"SpectralEnergy: L_X is {lx.Rows}×{lx.Cols}; expected {n}×{n} for a {cost.Shape} cost.", nameof(lx));
        if (ly.Rows != m || ly.Cols != m) throw new ArgumentException($"SpectralEnergy: L_Y is {ly.Rows}×{ly.Cols}; expected {m}×{m} for a {cost.Shape} cost.", nameof(ly));
        var ex = Op.Sum(Op.Mul(cost, StructOp.SpMM(lx, cost)));
        var ct = Op.Transpose(cost);
        var ey = Op.Sum(Op.Mul(ct, StructOp.SpMM(ly, ct)));
        return Op.Scale(Op.Add(ex, ey), 1.0 / ((double)n * m));
    }

    /// <summary>
    /// Semi-supervised data term for known pairs K = {(i_k, j_k)}: −(1/|K|) Σ_k log(n·Π_{i_k j_k} + 10⁻³⁰⁰)
    /// (cross-entropy of the plan's conditional row distribution against the known match).
    /// </summary>
    /// <param name="plan">Π, n×m.</param>
    /// <param name="rows">i_k (rows of Π).</param>
    /// <param name="cols">j_k (columns of Π), same length.</param>
    public static Var KnownPairsLoss(Var plan, int[] rows, int[] cols)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(cols);
        if (rows.Length != cols.Length || rows.Length == 0) throw new ArgumentException($"KnownPairsLoss: {rows.Length} rows and {cols.Length} columns; expected equal, non-zero counts.");
        int m = plan.Cols, k = rows.Length;
        var mask = new double[k * m];
        for (int t = 0; t < k; t++)
        {
            if (cols[t] < 0 || cols[t] >= m) throw new ArgumentException($"KnownPairsLoss: column {cols[t]} outside [0, {m}).", nameof(cols));
            mask[t * m + cols[t]] = 1;
        }
        var picked = Op.Sum(Op.Mul(StructOp.GatherRows(plan, rows), plan.Tape.Constant(mask, k, m)), 1); // k×1
        var logp = Op.Log(Op.Add(Op.Scale(picked, plan.Rows), plan.Tape.Constant(Fill(k, 1e-300), k, 1)));
        return Op.Scale(Op.Sum(logp), -1.0 / k);
    }

    /// <summary>Fused (feature) term ⟨Π, M⟩ for a constant n×m feature cost M (Vayer et al. 2020's linear part).</summary>
    public static Var FusedTerm(Var plan, double[] featureCost)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(featureCost);
        if (featureCost.Length != plan.Length) throw new ArgumentException($"FusedTerm: feature cost has {featureCost.Length} entries; expected {plan.Shape}.", nameof(featureCost));
        return Op.Sum(Op.Mul(plan, plan.Tape.Constant(featureCost, plan.Rows, plan.Cols)));
    }

    private static double[] Fill(int n, double v) { var a = new double[n]; Array.Fill(a, v); return a; }

    private static double[] Square(double[] d)
    {
        var s = new double[d.Length];
        for (int k = 0; k < d.Length; k++) s[k] = d[k] * d[k];
        return s;
    }

    private static void CheckSquare(double[] d, int n, string name)
    {
        ArgumentNullException.ThrowIfNull(d, name);
        if (d.Length != (long)n * n) throw new ArgumentException($"{name} has {d.Length} entries; expected {n}×{n} to match the plan.", name);
    }
}
