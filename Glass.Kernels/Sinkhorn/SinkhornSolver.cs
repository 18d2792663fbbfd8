namespace Glass.Kernels.Sinkhorn;

/// <summary>
/// One Sinkhorn iterate bound to a problem (geometry + a, b) on one backend: the geometry's two half-updates and the
/// marginal error, on state it owns (potentials f, g, possibly split as absorbed potentials and scalings u, v).
/// The loop (<see cref="SinkhornSolver"/>) never sees how the kernel is applied — log-sum-exp over a stored or
/// on-the-fly cost, sparse products over a band, mat-vecs with a stored K̃ = exp((f̃ ⊕ g̃ − C)/γ) — only these calls
/// (OTT-JAX's <c>geom.update_potential</c> / <c>geom.marginal_from_potentials</c> split).
/// </summary>
internal interface ISinkhornIterate
{
    /// <summary>
    /// sqrt(‖P1 − a‖² + ‖Pᵀ1 − b‖²) of the current plan (the column sums it needs are kept for the next
    /// <see cref="UpdateG"/>, so a check costs no extra pass where the backend can avoid it).
    /// </summary>
    double MarginalError();

    /// <summary>g_j ← g_j + ω·γ·(log b_j − log (Pᵀ1)_j). False: a sum left double range and the iterate restarted
    /// itself from exact log-domain steps (the loop then skips the rest of this iteration).</summary>
    bool UpdateG(double omega);

    /// <summary>f_i ← f_i + ω·γ·(log a_i − log (P1)_i); false as for <see cref="UpdateG"/>.</summary>
    bool UpdateF(double omega);
}

/// <summary>What the loop reports: iterations, the last checked marginal error, convergence and the loop's wall time.</summary>
internal readonly record struct SinkhornLoopResult(int Iterations, double MarginalError, bool Converged, double Seconds);

/// <summary>
/// The Sinkhorn loop — the only one in Glass. It owns the stopping rule (L2 marginal error ≤ tol), the check cadence
/// (after iterations 1, k+1, 2k+1, … and at MaxIter, as POT does, so plain runs reproduce POT's iteration counts), the
/// adaptive over-relaxation ω (<see cref="Overrelaxation"/>) and the diagnostics. Warm starts enter as the iterate's
/// initial potentials. Each backend supplies at most the launch bodies behind <see cref="ISinkhornIterate"/>.
/// </summary>
internal static class SinkhornSolver
{
    /// <summary>Iterates until the marginal error meets <see cref="SinkhornOptions.Tol"/> or MaxIter iterations ran.</summary>
    /// <param name="state">The geometry's iterate, holding the (warm-started) potentials.</param>
    /// <param name="o">Tolerance, cadence, cap, over-relaxation.</param>
    /// <param name="stallIterations">When &gt; 0, also stop (not converged) once the error has not halved for this many
    /// iterations — for inner solves whose problem may not admit the marginals (the candidate set's sparse phase).</param>
    public static SinkhornLoopResult Run(ISinkhornIterate state, SinkhornOptions o, int stallIterations = 0)
    {
        var relax = new Overrelaxation(o.Overrelax);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        bool converged = false;
        double err = double.PositiveInfinity, best = double.PositiveInfinity;
        int it = 0, bestAt = 0;
        for (; ; it++)
        {
            if (it > 0 && ((it - 1) % o.CheckEvery == 0 || it == o.MaxIter))
            {
                err = state.MarginalError();
                if (err <= o.Tol) { converged = true; break; }
                if (stallIterations > 0)
                {
                    if (err < 0.5 * best) { best = err; bestAt = it; }
                    else if (it - bestAt > stallIterations) break;
                }
                relax.Observe(err, it);
            }
            if (it == o.MaxIter) break;
            double w = relax.Omega;
            if (!state.UpdateG(w)) continue;
            state.UpdateF(w);
        }
        return new SinkhornLoopResult(it, err, converged, clock.Elapsed.TotalSeconds);
    }
}

/// <summary>Range in which a positive sum is taken in one pass; outside it the exact two-pass log-sum-exp is used.</summary>
internal static class SafeRange
{
    /// <summary>Lower end: sums below it are recomputed exactly (or trigger a restart of an exp-domain iterate).</summary>
    public const double Lo = 1e-280;
    /// <summary>Upper end.</summary>
    public const double Hi = 1e280;

    /// <summary>True when <paramref name="s"/> is a sum whose logarithm can be taken directly.</summary>
    public static bool Contains(double s) => s > Lo && s < Hi;
}
