namespace Glass.Kernels.Sinkhorn;

/// <summary>
/// Adaptive over-relaxation factor ω for Sinkhorn (Thibault, Chizat, Dossal, Papadakis 2021,
/// "Overrelaxed Sinkhorn–Knopp algorithm for regularized optimal transport"). Near the fixed point
/// plain Sinkhorn contracts the marginal error by ρ per iteration; with ω* = 2 / (1 + sqrt(1 − ρ))
/// the contraction becomes ω* − 1 ≈ 1 − 2·sqrt(1 − ρ): O(1/sqrt(1 − ρ)) iterations instead of
/// O(1/(1 − ρ)). ρ is measured on plain iterations once the rate has settled (two successive
/// check-to-check rates agree), then ω is set; if the settled over-relaxed rate is far slower than
/// SOR theory predicts, ρ is re-estimated from (λ + ω − 1)² = λ·ω²·ρ and ω raised (never lowered,
/// at most 1.9). Over-relaxed errors oscillate, so ω is only reset to 1 (and ρ measured again) if
/// the error climbs 10× above the best seen; ω is then capped at half its excess over 1 (1.9 → 1.45 → 1.225 …), so a
/// factor too large for the problem's non-linear transient is not tried again and again (without the cap, a run can
/// cycle — plain iterations settle, ω = 1.9, the error jumps, back to 1 — for its whole length). The fixed point — the
/// plan at the requested γ — does not depend on ω.
/// </summary>
internal sealed class Overrelaxation
{
    private const double OmegaMax = 1.9;
    private readonly bool _enabled;
    private double _prevErr = double.NaN, _prevRate = double.NaN, _best = double.PositiveInfinity, _cap = OmegaMax;
    private int _prevIt, _high;
    // Checks in a row with the error 10× above the best before ω is judged divergent: a new ω's first iterations
    // can lift the error for a moment before the over-relaxed contraction takes over.
    private const int Patience = 3;

    public Overrelaxation(bool enabled) => _enabled = enabled;

    /// <summary>Current factor (1 = plain Sinkhorn).</summary>
    public double Omega { get; private set; } = 1.0;

    /// <summary>Feeds the marginal error observed at iteration <paramref name="it"/>.</summary>
    public void Observe(double err, int it)
    {
        if (!_enabled || !(err > 0) || !double.IsFinite(err)) return;
        _best = Math.Min(_best, err);
        _high = Omega > 1 && err > 10 * _best ? _high + 1 : 0;
        if (_high >= Patience)
        {
            // Diverging: back to plain Sinkhorn, measure again, and never try a factor this large again.
            _cap = 1 + 0.5 * (Omega - 1);
            Omega = 1; _prevRate = double.NaN; _best = err;
        }
        else if (double.IsFinite(_prevErr) && it > _prevIt)
        {
            double rate = Math.Pow(err / _prevErr, 1.0 / (it - _prevIt));
            bool settled = rate < 1 && double.IsFinite(_prevRate) && Math.Abs(rate - _prevRate) < 0.1 * (1 - rate);
            if (settled && Omega == 1)
            {
                Omega = Math.Min(_cap, 2.0 / (1.0 + Math.Sqrt(1.0 - rate)));
            }
            else if (settled && rate > Omega - 1 + 0.5 * (2 - Omega))
            {
                // Much slower than SOR theory predicts for this ω: the slow modes were underestimated.
                // Invert (λ + ω − 1)² = λ ω² ρ for ρ and raise ω towards ω*(ρ).
                double w = Omega;
                double rho = Math.Min(0.9999999, (rate + w - 1) * (rate + w - 1) / (rate * w * w));
                Omega = Math.Max(Omega, Math.Min(_cap, 2.0 / (1.0 + Math.Sqrt(1.0 - rho))));
            }
            _prevRate = rate;
        }
        _prevErr = err;
        _prevIt = it;
    }
}
