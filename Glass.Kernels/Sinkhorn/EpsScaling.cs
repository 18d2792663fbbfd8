namespace Glass.Kernels.Sinkhorn;

/// <summary>Whether a solve anneals γ down to its target (<see cref="SinkhornOptions.EpsScaling"/>).</summary>
public enum EpsScaling
{
    /// <summary>One solve at the target γ (the default; POT's behaviour: iteration counts match <c>ot.sinkhorn</c>).</summary>
    Off,
    /// <summary>Anneal whenever the target γ is below the schedule's start (<see cref="EpsSchedule"/>).</summary>
    On,
}

/// <summary>
/// ε-scaling (Kosowsky–Yuille 1994; Schmitzer 2019, "Stabilized sparse scaling algorithms", §3.2): the problem is solved
/// for γ_k = γ·2^k, k = K, K−1, …, 1, each stage warm-started from the previous stage's potentials and stopped at a loose
/// marginal error, then once at the target γ with the target tolerance and the usual stopping rule. Potentials at γ_k
/// are close to those at γ_k/2 (they converge as γ → 0 to the unregularised dual), so each stage starts near its fixed
/// point; the final stage solves the same problem as a cold solve and stops by the same rule, so the plan agrees with
/// the cold solve's to the tolerance. The start γ_K is the largest γ·2^k ≤ <see cref="StartFraction"/> × spread, where
/// spread = max C − min C; K ≤ <see cref="MaxStages"/>.
/// </summary>
internal static class EpsSchedule
{
    /// <summary>The first stage's γ is at most this fraction of the cost spread.</summary>
    public const double StartFraction = 1.0 / 16;

    /// <summary>At most this many coarse stages (γ·2^K ≤ γ·2^MaxStages).</summary>
    public const int MaxStages = 20;

    /// <summary>Marginal error at which a coarse stage stops (never tighter than the target tolerance).</summary>
    public const double StageTol = 1e-4;

    /// <summary>Whether <paramref name="o"/> anneals for a cost spread <paramref name="spread"/>.</summary>
    public static bool Active(SinkhornOptions o, double spread) => o.EpsScaling == EpsScaling.On && Gammas(o.Gamma, spread).Count > 0;

    /// <summary>The coarse stages' γ, largest first (the target γ itself not included).</summary>
    public static List<double> Gammas(double gamma, double spread)
    {
        var list = new List<double>();
        if (!(spread > 0) || !double.IsFinite(spread)) return list;
        for (int k = 1; k <= MaxStages && gamma * Math.Pow(2, k) <= StartFraction * spread; k++) list.Add(gamma * Math.Pow(2, k));
        list.Reverse();
        return list;
    }

    /// <summary>
    /// Runs the coarse stages through <paramref name="stage"/> (a solve at the given options from the given potentials,
    /// returning its potentials, iteration count and loop seconds), each warm-started from the last; the coarse stages together use at
    /// most half of MaxIter, so the final stage keeps at least the other half. Returns the last potentials (the final
    /// stage's warm start), the iterations and the loop seconds spent.
    /// </summary>
    public static (double[]? F, double[]? G, int Iterations, double Seconds) RunCoarse(SinkhornOptions o, IReadOnlyList<double> gammas,
        double[]? f, double[]? g, Func<SinkhornOptions, double[]?, double[]?, (double[] F, double[] G, int Iterations, double Seconds)> stage)
    {
        int used = 0, budget = o.MaxIter / 2;
        double seconds = 0;
        foreach (double gk in gammas)
        {
            if (used >= budget) break;
            var so = o with { Gamma = gk, Tol = Math.Max(o.Tol, StageTol), MaxIter = budget - used, ReturnPlan = false, EpsScaling = EpsScaling.Off };
            var r = stage(so, f, g);
            (f, g) = (r.F, r.G);
            used += r.Iterations;
            seconds += r.Seconds;
        }
        return (f, g, used, seconds);
    }

    /// <summary>The final stage's options: the target γ and tolerance, the iterations the coarse stages left.</summary>
    public static SinkhornOptions Final(SinkhornOptions o, int used) =>
        o with { MaxIter = Math.Max(1, o.MaxIter - used), EpsScaling = EpsScaling.Off };

    /// <summary>max C − min C of a dense geometry (one pass over its rows).</summary>
    public static double Spread(DenseGeometry geom)
    {
        double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
        var scratch = new double[geom.M];
        for (int i = 0; i < geom.N; i++)
            foreach (double c in geom.Row(i, scratch)) { if (c < lo) lo = c; if (c > hi) hi = c; }
        return hi - lo;
    }

    /// <summary>max C − min C for C_ij = (s_i − t_j)² from sorted scores (min taken as 0 when the ranges overlap).</summary>
    public static double Spread(double[] sSorted, double[] tSorted)
    {
        double s0 = sSorted[0], s1 = sSorted[^1], t0 = tSorted[0], t1 = tSorted[^1];
        double far = Math.Max(Math.Abs(s1 - t0), Math.Abs(t1 - s0));
        double gap = Math.Max(0, Math.Max(t0 - s1, s0 - t1));
        return far * far - gap * gap;
    }
}
