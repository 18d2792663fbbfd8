using System.Globalization;

namespace Glass.Models.Glass;

/// <summary>
/// The stopping rule of a GLASS run (train.stop_rel_change, train.stop_window): with L̄_prev and L̄_last the mean
/// loss over the two latest consecutive windows of w steps, stop once |L̄_prev − L̄_last| ≤ ρ·|L̄_prev| — the loss has
/// stopped moving by more than a fraction ρ per window. Checked after every step from step 2w on; train.steps stays
/// the cap. ρ = 0 turns the rule off.
/// </summary>
/// <param name="RelChange">ρ ≥ 0.</param>
/// <param name="Window">w ≥ 1.</param>
public sealed record StoppingRule(double RelChange, int Window)
{
    /// <summary>The rule of a train section, or null when stop_rel_change is 0.</summary>
    public static StoppingRule? From(TrainOptions train)
    {
        ArgumentNullException.ThrowIfNull(train);
        return train.StopRelChange > 0 ? new StoppingRule(train.StopRelChange, train.StopWindow) : null;
    }

    /// <summary>
    /// Whether the run should stop after the last of <paramref name="losses"/> (the loss of every step so far, in order);
    /// <paramref name="gammas"/> (γ of every step, same length) must have settled too when given.
    /// </summary>
    public bool ShouldStop(IReadOnlyList<double> losses, IReadOnlyList<double>? gammas = null) =>
        Change(losses) is { } c && c <= RelChange && (gammas is null || Change(gammas) is { } g && g <= RelChange);

    /// <summary>|L̄_prev − L̄_last| / |L̄_prev| over the latest two windows, or null before 2w steps (or L̄_prev = 0).</summary>
    public double? Change(IReadOnlyList<double> losses)
    {
        ArgumentNullException.ThrowIfNull(losses);
        int w = Window, k = losses.Count;
        if (k < 2 * w) return null;
        double prev = 0, last = 0;
        for (int i = k - 2 * w; i < k - w; i++) prev += losses[i];
        for (int i = k - w; i < k; i++) last += losses[i];
        prev /= w; last /= w;
        if (prev == 0 || !double.IsFinite(prev) || !double.IsFinite(last)) return null;
        return Math.Abs(prev - last) / Math.Abs(prev);
    }

    /// <summary>What the summary says when the rule fired.</summary>
    public string Describe(IReadOnlyList<double> losses) => string.Create(CultureInfo.InvariantCulture,
        $"relative loss change {Change(losses):G3} ≤ stop_rel_change {RelChange:G3} over windows of {Window} steps");
}
