namespace Glass.Kernels.Sinkhorn;

/// <summary>
/// Adaptive over-relaxation factor ω for Sinkhorn (Thibault, Chizat, Dossal, Papadakis 2021).
/// Near the fixed point plain Sinkhorn contracts the error by a factor ρ per iteration; the
/// over-relaxed iteration with ω* = 2 / (1 + sqrt(1 − ρ)) contracts by ω* − 1 ≈ 1 − 2·sqrt(1 − ρ),
/// i.e. O(1/sqrt(1 − ρ)) instead of O(1/(1 − ρ)) iterations. ρ is estimated at each convergence check
/// from the observed rate λ under the current ω via the SOR relation (λ + ω − 1)² = λ·ω²·ρ.
/// ω only grows while the error falls; if the error rises, ω is halved towards 1.
/// </summary>
internal sealed class Overrelaxation
{
    private const double OmegaMax = 1.95;
    private readonly bool _enabled;
    private double _prevErr = double.NaN;
    private int _prevIt;

    public Overrelaxation(bool enabled) => _enabled = enabled;

    /// <summary>Current factor (1 = plain Sinkhorn).</summary>
    public double Omega { get; private set; } = 1.0;

    /// <summary>Feeds the marginal error observed at iteration <paramref name="it"/>.</summary>
    public void Observe(double err, int it)
    {
        if (!_enabled || !(err > 0) || !double.IsFinite(err)) return;
        if (double.IsFinite(_prevErr) && it > _prevIt)
        {
            double lambda = Math.Pow(err / _prevErr, 1.0 / (it - _prevIt));
            if (lambda >= 1.0)
            {
                // The error grew: back off towards plain Sinkhorn.
                Omega = 1.0 + 0.5 * (Omega - 1.0);
            }
            else
            {
                double w = Omega;
                double rho = (lambda + w - 1) * (lambda + w - 1) / (lambda * w * w);
                rho = Math.Clamp(rho, 0.0, 0.9999999);
                double target = 2.0 / (1.0 + Math.Sqrt(1.0 - rho));
                if (target > Omega) Omega = Math.Min(OmegaMax, target);
            }
        }
        _prevErr = err;
        _prevIt = it;
    }
}
