using System.Diagnostics;
using System.Globalization;
using System.Text;
using Glass.Models.Experiments;

namespace Glass.Runner.Output;

/// <summary>
/// A one-line live progress bar on stderr: steps, loss, γ, speed and ETA, redrawn at most ten times a
/// second. Off when stderr is redirected (scripts, CI, tests) or with <c>--quiet</c>; then nothing is drawn.
/// </summary>
internal sealed class ProgressBar
{
    private readonly TextWriter _err;
    private readonly bool _enabled;
    private readonly int _total;
    private readonly int _start;
    private readonly int _loss;
    private readonly int _gamma;
    private readonly int _perm;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _lastDrawMs = -1000;
    private int _lastWidth;

    public ProgressBar(TextWriter err, bool enabled, IReadOnlyList<string> columns, int startStep, int totalSteps)
    {
        _err = err;
        _enabled = enabled;
        _total = Math.Max(1, totalSteps);
        _start = startStep;
        var cols = columns.ToList();
        _loss = cols.IndexOf("loss");
        _gamma = cols.IndexOf("gamma");
        _perm = cols.IndexOf("perm_acc");
    }

    /// <summary>True when the bar draws (stderr is a terminal and --quiet was not given).</summary>
    public bool Enabled => _enabled;

    /// <summary>Default: on when stderr is a terminal.</summary>
    public static bool Auto(bool quiet) => !quiet && !Console.IsErrorRedirected;

    /// <summary>Redraws after step <paramref name="step"/> (rate-limited; the last step always draws).</summary>
    public void Update(int step, StepMetrics m)
    {
        if (!_enabled) return;
        long now = _clock.ElapsedMilliseconds;
        if (step < _total && now - _lastDrawMs < 100) return;
        _lastDrawMs = now;
        Draw(Render(step, m, _clock.Elapsed.TotalSeconds));
    }

    /// <summary>Redraws during a phase inside one step (e.g. the restart selection of learned GW), rate-limited like <see cref="Update"/>.</summary>
    public void Phase(ExperimentPhase phase)
    {
        if (!_enabled) return;
        long now = _clock.ElapsedMilliseconds;
        if (phase.Done < phase.Total && now - _lastDrawMs < 100) return;
        _lastDrawMs = now;
        Draw(RenderPhase(phase));
    }

    /// <summary>The bar's text during a phase: "[####----] restart 2/6 (seed 13): step 40/60".</summary>
    public static string RenderPhase(ExperimentPhase phase)
    {
        const int width = 24;
        double frac = phase.Total > 0 ? Math.Clamp(phase.Done / (double)phase.Total, 0, 1) : 1;
        int full = (int)Math.Round(frac * width);
        return string.Create(CultureInfo.InvariantCulture,
            $"[{new string('#', full)}{new string('-', width - full)}] {phase.Label}: step {phase.Done}/{phase.Total}");
    }

    private void Draw(string line)
    {
        int pad = Math.Max(0, _lastWidth - line.Length);
        _lastWidth = line.Length;
        _err.Write("\r" + line + new string(' ', pad));
        _err.Flush();
    }

    /// <summary>Ends the bar's line.</summary>
    public void Finish()
    {
        if (_enabled && _lastWidth > 0) _err.WriteLine();
        _lastWidth = 0;
    }

    /// <summary>The bar's text after <paramref name="step"/> steps, <paramref name="elapsed"/> seconds into this session.</summary>
    public string Render(int step, StepMetrics m, double elapsed)
    {
        const int width = 24;
        double frac = Math.Clamp(step / (double)_total, 0, 1);
        int full = (int)Math.Round(frac * width);
        var sb = new StringBuilder();
        sb.Append('[').Append('#', full).Append('-', width - full).Append("] ");
        sb.Append(step.ToString(CultureInfo.InvariantCulture)).Append('/').Append(_total.ToString(CultureInfo.InvariantCulture));
        if (_loss >= 0 && _loss < m.Values.Count) sb.Append("  loss ").Append(m.Values[_loss].ToString("G5", CultureInfo.InvariantCulture));
        if (_gamma >= 0 && _gamma < m.Values.Count) sb.Append("  γ ").Append(m.Values[_gamma].ToString("G3", CultureInfo.InvariantCulture));
        if (_perm >= 0 && _perm < m.Values.Count) sb.Append("  acc ").Append(m.Values[_perm].ToString("F3", CultureInfo.InvariantCulture));
        int done = step - _start;
        if (done > 0 && elapsed > 0)
        {
            double rate = done / elapsed;
            sb.Append("  ").Append(rate.ToString(rate >= 10 ? "F0" : "F1", CultureInfo.InvariantCulture)).Append(" it/s");
            sb.Append("  ETA ").Append(Clock((_total - step) / rate));
        }
        return sb.ToString();
    }

    /// <summary>m:ss or h:mm:ss.</summary>
    public static string Clock(double seconds)
    {
        var t = TimeSpan.FromSeconds(Math.Max(0, Math.Round(seconds)));
        return t.TotalHours >= 1
            ? ((int)t.TotalHours).ToString(CultureInfo.InvariantCulture) + t.ToString(@"\:mm\:ss", CultureInfo.InvariantCulture)
            : ((int)t.TotalMinutes).ToString(CultureInfo.InvariantCulture) + t.ToString(@"\:ss", CultureInfo.InvariantCulture);
    }
}
