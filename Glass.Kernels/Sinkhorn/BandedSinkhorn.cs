using Glass.Kernels.Device;
using Glass.Kernels.Sorting;
using Glass.Kernels.Validation;

namespace Glass.Kernels.Sinkhorn;

/// <summary>
/// Banded entropic OT between 1-D scores (GLASS §4, "Complexity via banded kernels"): sort s and t,
/// keep for each row the columns with |s_i − t_j| ≤ r = sqrt(−γ log ε) (plus the monotone coupling's
/// support, so the problem stays feasible; optionally capped at w columns per row in rank space),
/// and run log-domain Sinkhorn on the band only; then, from the potentials, widen rows whose plan
/// still carries entries within ε of their peak at the band edge and re-solve warm-started
/// (<see cref="BandOptions.Refinements"/>). C_ij = (s_i − t_j)². Memory O(nnz), never O(n·m);
/// when the band covers every pair the result equals <see cref="DenseSinkhorn"/>'s, and the gap to
/// the dense plan vanishes as ε → 0 (GLASS appendix A.5).
/// </summary>
public static class BandedSinkhorn
{
    /// <summary>Solves banded entropic OT between scores <paramref name="s"/> (rows) and <paramref name="t"/> (columns).</summary>
    /// <param name="device">Managed CPU backend or an ILGPU accelerator (sort by ILGPU radix sort, iterations on the device).</param>
    /// <param name="s">Row scores, length n ≥ 1, finite.</param>
    /// <param name="t">Column scores, length m ≥ 1, finite.</param>
    /// <param name="a">Row marginal (null = uniform).</param>
    /// <param name="b">Column marginal (null = uniform).</param>
    /// <param name="options">γ and stopping rule.</param>
    /// <param name="band">Band truncation ε and optional rank cap (null = defaults).</param>
    /// <param name="initialF">
    /// Warm start: row potentials f⁰ in the callers' order (length n), e.g. <see cref="BandedSinkhornResult.F"/> of the
    /// previous training step on the same slice; null = cold start (zeros). Potentials are indexed by points, not by band
    /// positions, so they stay a valid start when the scores — and with them the sort order and the band — have moved.
    /// The fixed point (the plan) does not depend on it; only the iteration count does. A warm start replaces the
    /// ε-scaling schedule's coarse stages (<see cref="SinkhornOptions.EpsScaling"/>): the solve starts at the target γ.
    /// Finite where a &gt; 0 (entries of zero-mass rows are ignored). Needs <paramref name="initialG"/>.
    /// </param>
    /// <param name="initialG">Warm start: column potentials g⁰ (length m, finite where b &gt; 0); null = cold start.</param>
    /// <returns>The plan in the callers' original index order (CSR), cost, entropy, nnz, radius, diagnostics.</returns>
    /// <exception cref="ArgumentException">
    /// Empty or non-finite scores, bad marginals, γ ≤ 0, ε ∉ (0,1), only one of f⁰/g⁰, a warm start of the wrong length or
    /// not finite; the message names the argument.
    /// </exception>
    public static BandedSinkhornResult Solve(ComputeDevice device, double[] s, double[] t, double[]? a, double[]? b,
        SinkhornOptions options, BandOptions? band = null, double[]? initialF = null, double[]? initialG = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(s);
        ArgumentNullException.ThrowIfNull(t);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        band ??= new BandOptions();
        band.Validate();
        Guard.NonEmpty<double>(s, nameof(s));
        Guard.NonEmpty<double>(t, nameof(t));
        Guard.Finite(s, nameof(s));
        Guard.Finite(t, nameof(t));
        var aa = Marginals.Resolve(a, s.Length, nameof(a));
        var bb = Marginals.Resolve(b, t.Length, nameof(b));
        CheckWarmStart(initialF, initialG, aa, bb);
        var ((ss, ps), (ts, pt)) = SortBoth(device, s, t);
        var (f0, g0, used, coarseSeconds) = initialF is null
            ? Anneal(device, ss, ps, ts, pt, aa, bb, options, band)
            : (Permute(initialF, ps), Permute(initialG!, pt), 0, 0.0);
        if (used > 0 || f0 is not null) options = EpsSchedule.Final(options, used);
        var bnd = Band.Build(ss, ps, ts, pt, aa, bb, options.Gamma, band);
        var (sol, iterations, refinements) = SolveWidening(device, ref bnd, options, band, f0, g0);
        iterations += used;
        double loopSeconds = coarseSeconds + sol.IterationSeconds;
        // Refine only a converged solve (its potentials define the plan) and only when no rank cap fixes the band's shape.
        while (sol.Converged && band.RankCap is null && refinements < band.Refinements)
        {
            var wider = bnd.Refine(sol.F, sol.G, options.Gamma, band.BandEps);
            if (wider is null) break;
            bnd = wider;
            sol = SolveOn(device, bnd, options, sol.F, sol.G);
            iterations += sol.Iterations;
            loopSeconds += sol.IterationSeconds;
            refinements++;
        }
        var (plan, cost, entropy) = sol.Values is { } values
            ? (bnd.ToOriginalOrder(values), sol.Cost, sol.Entropy)
            : BandedSinkhornCpu.Plan(bnd, sol.F, sol.G, options.Gamma, sol.Scratch);
        return new BandedSinkhornResult(plan, Band.Unpermute(sol.F, bnd.PermS), Band.Unpermute(sol.G, bnd.PermT),
            cost, entropy, bnd.Radius, iterations, sol.MarginalError, sol.Converged, refinements, loopSeconds);
    }

    /// <summary>Iterations after which a still unconverged solve first widens its band from its current potentials.</summary>
    internal const int EarlyRefineAfter = 1000;

    // The first solve on the paper's band. A band too tight for the plan (mass that must travel further than r: shifted
    // or differently spread scores) makes the truncated problem converge sublinearly — tens of thousands of iterations
    // in which over-relaxation cannot settle. So a solve still unconverged after EarlyRefineAfter iterations widens the
    // band from its current potentials (Band.Refine is conservative: it only adds columns) and continues warm-started,
    // widening again after each doubling of the budget while the band still grows, within MaxIter in all. Without a
    // widening, and with over-relaxation off, the continuation checks at the same iterations as one run would.
    private static (BandSolution Sol, int Iterations, int Refinements) SolveWidening(ComputeDevice device, ref Band bnd,
        SinkhornOptions options, BandOptions band, double[]? f0, double[]? g0)
    {
        bool early = band.RankCap is null && band.Refinements > 0;
        int budget = early ? Math.Min(EarlyRefineAfter, options.MaxIter) : options.MaxIter;
        var sol = SolveOn(device, bnd, options with { MaxIter = budget }, f0, g0);
        int done = sol.Iterations, refinements = 0;
        double seconds = sol.IterationSeconds;
        while (!sol.Converged && done < options.MaxIter)
        {
            if (bnd.Refine(sol.F, sol.G, options.Gamma, band.BandEps) is { } wider) { bnd = wider; refinements++; }
            budget = Math.Min(2 * budget, options.MaxIter - done);
            sol = SolveOn(device, bnd, options with { MaxIter = budget }, sol.F, sol.G);
            done += sol.Iterations;
            seconds += sol.IterationSeconds;
        }
        return (sol with { IterationSeconds = seconds }, done, refinements);
    }

    /// <summary>A warm start is both potentials or neither, of lengths n and m, finite wherever the marginal is positive.</summary>
    private static void CheckWarmStart(double[]? f, double[]? g, double[] a, double[] b)
    {
        if ((f is null) != (g is null))
            throw new ArgumentException("Banded Sinkhorn warm start: give both initialF and initialG or neither.", f is null ? "initialF" : "initialG");
        if (f is null) return;
        CheckPotential(f, a, "initialF", "one per row score s");
        CheckPotential(g!, b, "initialG", "one per column score t");
    }

    private static void CheckPotential(double[] p, double[] w, string name, string what)
    {
        Guard.Length<double>(p, w.Length, name, what);
        for (int i = 0; i < p.Length; i++)
            if (w[i] > 0 && !double.IsFinite(p[i]))
                throw new ArgumentException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"{name}[{i}] = {p[i]:R}; expected a finite potential (its marginal weight is {w[i]:R} > 0)."), name);
    }

    // Potentials from the callers' order into sorted order (entry i of the result belongs to sorted point i = perm[i]).
    // Non-finite entries (zero-mass points) become 0: the solvers set them to −∞ from the marginal.
    private static double[] Permute(double[] original, int[] perm)
    {
        var o = new double[perm.Length];
        for (int i = 0; i < perm.Length; i++) { double v = original[perm[i]]; o[i] = double.IsFinite(v) ? v : 0; }
        return o;
    }

    // ε-scaling's coarse stages (EpsSchedule), each on the band at its own γ (wider than the target's), in sorted order.
    // Stages whose band would exceed StoredKernelMaxEntries entries are skipped (the schedule starts lower).
    private static (double[]? F, double[]? G, int Iterations, double Seconds) Anneal(ComputeDevice device, double[] ss, int[] ps,
        double[] ts, int[] pt, double[] a, double[] b, SinkhornOptions o, BandOptions band)
    {
        double spread = o.EpsScaling == EpsScaling.Off ? 0 : EpsSchedule.Spread(ss, ts);
        if (!EpsSchedule.Active(o, spread)) return (null, null, 0, 0);
        double cells = (double)ss.Length * ts.Length;
        var gammas = EpsSchedule.Gammas(o.Gamma, spread)
            .Where(gk => SinkhornChoice.BandDensity(ss, ts, Math.Sqrt(-gk * Math.Log(band.BandEps))) * cells <= SinkhornOptions.StoredKernelMaxEntries)
            .ToList();
        return EpsSchedule.RunCoarse(o, gammas, null, null, (so, f, g) =>
        {
            var sol = SolveOn(device, Band.Build(ss, ps, ts, pt, a, b, so.Gamma, band), so, f, g);
            return (sol.F, sol.G, sol.Iterations, sol.IterationSeconds);
        });
    }

    // On the managed backend the two argsorts are independent sequential sorts: run them side by side.
    private static ((double[], int[]), (double[], int[])) SortBoth(ComputeDevice device, double[] s, double[] t)
    {
        if (device.IsAccelerated) return (Sort.Argsort(device, s), Sort.Argsort(device, t));
        (double[], int[]) rs = default, rt = default;
        Parallel.Invoke(() => rs = Sort.Argsort(device, s), () => rt = Sort.Argsort(device, t));
        return (rs, rt);
    }

    private static BandSolution SolveOn(ComputeDevice device, Band band, SinkhornOptions o, double[]? f, double[]? g) =>
        device.IsAccelerated
            ? device.GetKernels(acc => new BandedSinkhornKernels(acc)).Solve(band, o, f, g)
            : BandedSinkhornCpu.Solve(band, o, f, g);
}
