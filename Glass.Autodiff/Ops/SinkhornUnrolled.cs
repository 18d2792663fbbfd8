using Glass.Kernels.Linalg;

namespace Glass.Autodiff.Ops;

/// <summary>
/// Sinkhorn differentiated by unrolling: K log-domain iterations recorded as ordinary tape ops
/// (g ← γ log b − γ LSE_i((f_i − C_ij)/γ), f ← γ log a − γ LSE_j((g_j − C_ij)/γ)), so reverse mode
/// flows through every iteration. Memory O(K·n·m): for checks and small problems; the implicit
/// strategy is the one to train with. <see cref="BandedPlan"/> does the same for the banded 1-D plan on
/// its band only (memory O(K·nnz)).
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

    /// <summary>
    /// The banded 1-D plan on a fixed CSR <paramref name="pattern"/> after <paramref name="iterations"/>
    /// log-domain iterations from f = g = 0, every iteration taped on the band only:
    /// C_k = (s_i − t_j)² for band entry k = (i, j); g_j ← γ log b_j − γ LSE_{k ∈ col j}((f_i − C_k)/γ);
    /// f_i ← γ log a_i − γ LSE_{k ∈ row i}((g_j − C_k)/γ); P_k = exp((f_i + g_j − C_k)/γ).
    /// Memory O(iterations·nnz) (one softmax weight per band entry per half-iteration); nothing n×m.
    /// </summary>
    /// <param name="s">Row scores, n×1 or 1×n.</param>
    /// <param name="t">Column scores, m×1 or 1×m.</param>
    /// <param name="pattern">Band pattern (CSR n×m, e.g. <c>BandedSinkhornResult.Plan</c>); its values are ignored.</param>
    /// <param name="a">Row marginal (length n, positive) or null for uniform.</param>
    /// <param name="b">Column marginal (length m, positive) or null for uniform.</param>
    /// <param name="gamma">γ &gt; 0.</param>
    /// <param name="iterations">K ≥ 1.</param>
    /// <returns>P on the band, 1×nnz, aligned with the pattern's entries.</returns>
    /// <exception cref="ArgumentException">Shapes disagree with the pattern, a non-positive marginal entry, γ ≤ 0 or K &lt; 1.</exception>
    public static Var BandedPlan(Var s, Var t, CsrMatrix pattern, double[]? a, double[]? b, double gamma, int iterations)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        if (!ReferenceEquals(s.Tape, t.Tape)) throw new InvalidOperationException("Operands were recorded on different tapes.");
        if (!(gamma > 0)) throw new ArgumentException($"gamma = {gamma}; expected > 0.", nameof(gamma));
        if (iterations < 1) throw new ArgumentException($"iterations = {iterations}; expected ≥ 1.", nameof(iterations));
        int n = pattern.Rows, m = pattern.Cols, nnz = pattern.Nnz;
        if (s.Length != n || t.Length != m)
            throw new ArgumentException($"BandedPlan: s is {s.Shape} and t is {t.Shape}; the pattern is {n}×{m} (expected {n} and {m} scores).");
        var logA = LogMarginal(a, n, nameof(a));
        var logB = LogMarginal(b, m, nameof(b));
        var tape = s.Tape;

        // Row segments are the CSR rows; column segments list each column's band entries (CSC order).
        var rp = pattern.RowPtr; var ci = pattern.ColIdx;
        var rowOf = new int[nnz];
        for (int i = 0; i < n; i++) for (int k = rp[i]; k < rp[i + 1]; k++) rowOf[k] = i;
        var colPtr = new int[m + 1];
        for (int k = 0; k < nnz; k++) colPtr[ci[k] + 1]++;
        for (int j = 0; j < m; j++) colPtr[j + 1] += colPtr[j];
        var colEntries = new int[nnz];
        var next = (int[])colPtr.Clone();
        for (int k = 0; k < nnz; k++) colEntries[next[ci[k]]++] = k;
        var rowEntries = new int[nnz];
        for (int k = 0; k < nnz; k++) rowEntries[k] = k;
        for (int i = 0; i < n; i++)
            if (rp[i + 1] == rp[i]) throw new ArgumentException($"BandedPlan: row {i} of the pattern is empty; every row needs a band entry.", nameof(pattern));
        for (int j = 0; j < m; j++)
            if (colPtr[j + 1] == colPtr[j]) throw new ArgumentException($"BandedPlan: column {j} of the pattern is empty; every column needs a band entry.", nameof(pattern));

        var cost = BandCost(s, t, rp, ci, rowOf);
        Var f = tape.Constant(new double[n], n, 1);
        Var g = tape.Constant(new double[m], m, 1);
        for (int it = 0; it < iterations; it++)
        {
            g = HalfStep(f, cost, logB, gamma, colPtr, colEntries, rowOf);
            f = HalfStep(g, cost, logA, gamma, rp, rowEntries, ci);
        }
        return BandPlanValues(f, g, cost, gamma, rowOf, ci);
    }

    private static double[] LogMarginal(double[]? w, int len, string name)
    {
        var o = new double[len];
        if (w is null) { Array.Fill(o, -Math.Log(len)); return o; }
        if (w.Length != len) throw new ArgumentException($"{name} has length {w.Length}; expected {len}.", name);
        for (int i = 0; i < len; i++)
        {
            if (!(w[i] > 0)) throw new ArgumentException($"{name}[{i}] = {w[i]}; expected > 0.", name);
            o[i] = Math.Log(w[i]);
        }
        return o;
    }

    /// <summary>C_k = (s_i − t_j)² on the band (1×nnz); backward ∂s_i += Σ_k 2(s_i − t_j)G_k, ∂t_j −= the same terms.</summary>
    private static Var BandCost(Var s, Var t, int[] rp, int[] ci, int[] rowOf)
    {
        int nnz = rowOf.Length;
        var c = new double[nnz];
        for (int k = 0; k < nnz; k++) { double d = s.Value[rowOf[k]] - t.Value[ci[k]]; c[k] = d * d; }
        return s.Tape.Record(c, 1, nnz, s.RequiresGrad || t.RequiresGrad, o =>
        {
            var gk = o.Grad!;
            double[]? gs = s.RequiresGrad ? s.GradBuffer() : null, gt = t.RequiresGrad ? t.GradBuffer() : null;
            for (int k = 0; k < nnz; k++)
            {
                double q = 2 * (s.Value[rowOf[k]] - t.Value[ci[k]]) * gk[k];
                if (gs is not null) gs[rowOf[k]] += q;
                if (gt is not null) gt[ci[k]] -= q;
            }
        });
    }

    /// <summary>
    /// out_q = γ log w_q − γ LSE_{k ∈ seg q}((p_{other(k)} − C_k)/γ) for each segment q (row or column);
    /// backward with the segment softmax weights ω_k: ∂p_{other(k)} −= G_q ω_k, ∂C_k += G_q ω_k.
    /// </summary>
    private static Var HalfStep(Var p, Var cost, double[] logW, double gamma, int[] segPtr, int[] entries, int[] other)
    {
        int segs = logW.Length;
        var y = new double[segs];
        var w = new double[entries.Length];
        double inv = 1 / gamma;
        var pv = p.Value; var cv = cost.Value;
        for (int q = 0; q < segs; q++)
        {
            double mx = double.NegativeInfinity;
            for (int e = segPtr[q]; e < segPtr[q + 1]; e++) { int k = entries[e]; mx = Math.Max(mx, (pv[other[k]] - cv[k]) * inv); }
            double sum = 0;
            for (int e = segPtr[q]; e < segPtr[q + 1]; e++) { int k = entries[e]; sum += w[e] = Math.Exp((pv[other[k]] - cv[k]) * inv - mx); }
            for (int e = segPtr[q]; e < segPtr[q + 1]; e++) w[e] /= sum;
            y[q] = gamma * logW[q] - gamma * (mx + Math.Log(sum));
        }
        return p.Tape.Record(y, segs, 1, p.RequiresGrad || cost.RequiresGrad, o =>
        {
            var gq = o.Grad!;
            double[]? gp = p.RequiresGrad ? p.GradBuffer() : null, gc = cost.RequiresGrad ? cost.GradBuffer() : null;
            for (int q = 0; q < segs; q++)
                for (int e = segPtr[q]; e < segPtr[q + 1]; e++)
                {
                    int k = entries[e];
                    double d = gq[q] * w[e];
                    if (gp is not null) gp[other[k]] -= d;
                    if (gc is not null) gc[k] += d;
                }
        });
    }

    /// <summary>P_k = exp((f_i + g_j − C_k)/γ); backward ∂f_i += Σ G_k P_k/γ, ∂g_j += Σ G_k P_k/γ, ∂C_k −= G_k P_k/γ.</summary>
    private static Var BandPlanValues(Var f, Var g, Var cost, double gamma, int[] rowOf, int[] ci)
    {
        int nnz = rowOf.Length;
        var pv = new double[nnz];
        for (int k = 0; k < nnz; k++) pv[k] = Math.Exp((f.Value[rowOf[k]] + g.Value[ci[k]] - cost.Value[k]) / gamma);
        return f.Tape.Record(pv, 1, nnz, f.RequiresGrad || g.RequiresGrad || cost.RequiresGrad, o =>
        {
            var gk = o.Grad!;
            double[]? gf = f.RequiresGrad ? f.GradBuffer() : null, gg = g.RequiresGrad ? g.GradBuffer() : null, gc = cost.RequiresGrad ? cost.GradBuffer() : null;
            for (int k = 0; k < nnz; k++)
            {
                double d = gk[k] * pv[k] / gamma;
                if (gf is not null) gf[rowOf[k]] += d;
                if (gg is not null) gg[ci[k]] += d;
                if (gc is not null) gc[k] -= d;
            }
        });
    }
}
