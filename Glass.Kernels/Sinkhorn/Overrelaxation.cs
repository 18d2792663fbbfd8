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
/// the error climbs 10× above the best seen. The fixed point — the
/// plan at the requested γ — does not depend on ω.
/// </summary>
internal sealed class Overrelaxation
{
    private const double OmegaMax = 1.9;
    private readonly bool _enabled;
    private double _prevErr = double.NaN, _prevRate = double.NaN, _best = double.PositiveInfinity;
    private int _prevIt;

    public Overrelaxation(bool enabled) => _enabled = enabled;

    /// <summary>Current factor (1 = plain Sinkhorn).</summary>
    public double Omega { get; private set; } = 1.0;

    /// <summary>Feeds the marginal error observed at iteration <paramref name="it"/>.</summary>
    public void Observe(double err, int it)
    {
        if (!_enabled || !(err > 0) || !double.IsFinite(err)) return;
        _best = Math.Min(_best, err);
        if (Omega > 1 && err > 10 * _best)
        {
            // Diverging: back to plain Sinkhorn and measure again.
            Omega = 1; _prevRate = double.NaN; _best = err;
        }
        else if (double.IsFinite(_prevErr) && it > _prevIt)
        {
            double rate = Math.Pow(err / _prevErr, 1.0 / (it - _prevIt));
            bool settled = rate < 1 && double.IsFinite(_prevRate) && Math.Abs(rate - _prevRate) < 0.1 * (1 - rate);
            if (settled && Omega == 1)
            {
                Omega = Math.Min(OmegaMax, 2.0 / (1.0 + Math.Sqrt(1.0 - rate)));
            }
            else if (settled && rate > Omega - 1 + 0.5 * (2 - Omega))
            {
                // Much slower than SOR theory predicts for this ω: the slow modes were underestimated.
                // Invert (λ + ω − 1)² = λ ω² ρ for ρ and raise ω towards ω*(ρ).
                double w = Omega;
                double rho = Math.Min(0.9999999, (rate + w - 1) * (rate + w - 1) / (rate * w * w));
                Omega = Math.Max(Omega, Math.Min(OmegaMax, 2.0 / (1.0 + Math.Sqrt(1.0 - rho))));
            }
            _prevRate = rate;
        }
        _prevErr = err;
        _prevIt = it;
    }
}
