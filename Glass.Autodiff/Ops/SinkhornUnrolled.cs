namespace Glass.Autodiff.Ops;

/// <summary>
/// Sinkhorn differentiated by unrolling: K log-domain iterations recorded as ordinary tape ops
/// (g ← γ log b − γ LSE_i((f_i − C_ij)/γ), f ← γ log a − γ LSE_j((g_j − C_ij)/γ)), so reverse mode
/// flows through every iteration. Memory O(K·n·m): for checks and small problems; the implicit
/// strategy is the one to train with.
/// </summary>
public static class SinkhornUnrolled
{
    /// <summary>The plan P = exp((f ⊕ g − C)/γ) after <paramref name="iterations"/> iterations from f = g = 0.</summary>
    /// <param name="cost">C, n×m.</param>
    /// <param name="a">Row marginal, n×1 (positive).</param>
    /// <param name="b">Column marginal, m×1 (positive).</param>
    /// <param name="gamma">γ &gt; 0.</param>
    /// <param name="iterations">K ≥ 1.</param>
    public static Var Plan(Var cost, Var a, Var b, double gamma, int iterations)
    {
        if (!(gamma > 0)) throw new ArgumentException($"gamma = {gamma}; expected > 0.", nameof(gamma));
        if (iterations < 1) throw new ArgumentException($"iterations = {iterations}; expected ≥ 1.", nameof(iterations));
        if (a.Rows != cost.Rows || a.Cols != 1) throw new ArgumentException($"Plan: a is {a.Shape}; expected {cost.Rows}×1 for a {cost.Shape} cost.", nameof(a));
        if (b.Rows != cost.Cols || b.Cols != 1) throw new ArgumentException($"Plan: b is {b.Shape}; expected {cost.Cols}×1 for a {cost.Shape} cost.", nameof(b));
        var tape = cost.Tape;
        var costT = Op.Transpose(cost);
        var logA = Op.Scale(Op.Log(a), gamma);
        var logB = Op.Scale(Op.Log(b), gamma);
        Var f = tape.Constant(new double[cost.Rows], cost.Rows, 1);
        Var g = tape.Constant(new double[cost.Cols], cost.Cols, 1);
        for (int k = 0; k < iterations; k++)
        {
            g = Op.Sub(logB, Op.Scale(Op.LogSumExpRows(Op.Scale(Op.Sub(Op.Transpose(f), costT), 1 / gamma)), gamma));
            f = Op.Sub(logA, Op.Scale(Op.LogSumExpRows(Op.Scale(Op.Sub(Op.Transpose(g), cost), 1 / gamma)), gamma));
        }
        return Op.Exp(Op.Scale(Op.Sub(Op.Add(f, Op.Transpose(g)), cost), 1 / gamma));
    }
}
