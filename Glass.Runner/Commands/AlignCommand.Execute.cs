using System.Diagnostics;
using System.Globalization;
using Glass.Kernels.Device;
using Glass.Models.Gw;

namespace Glass.Runner.Commands;

/// <summary><c>glass align</c>: training (solver or restarts) or the loaded model, then the alignment.</summary>
internal static partial class AlignCommand
{
    /// <summary>What training and alignment produced.</summary>
    private sealed record AlignOutcome(GwModel Trained, InductiveAlignment Al, LearnedGwTrainer? Trainer,
        IReadOnlyList<LearnedGwProgress> History, LearnedGwRestartResult? RunResult, GwAlignment? Solved, double TrainSeconds)
    {
        public LearnedGwProgress? Last => History.Count > 0 ? History[^1] : null;
    }

    private static AlignOutcome Execute(AlignInputs a, ComputeDevice dev, TextWriter stdout, TextWriter stderr)
    {
        var (r, options, xs, ys) = (a.R, a.Options, a.Xs, a.Ys);
        if (a.Trained is null && a.Solver)
        {
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"glass align: solving Gromov–Wasserstein on {xs.Rows}×{xs.Cols} ↔ {ys.Rows}×{ys.Cols}, then training f, g ({options.Loss.ToString().ToLowerInvariant()} loss + pseudo-pairs, {options.Steps} steps), {dev.Name}"));
            var tw = Stopwatch.StartNew();
            var solved = GwAligner.Align(xs.Data, xs.Rows, xs.Cols, ys.Data, ys.Rows, ys.Cols, options, dev, line => stdout.WriteLine("glass align: " + line));
            double seconds = tw.Elapsed.TotalSeconds;
            var al0 = GwAligner.Summarize(solved, ys.Data, r.TopK, r.Y);
            return new AlignOutcome(solved.Trainer.Model, al0, solved.Trainer, solved.History, null, solved, seconds);
        }
        LearnedGwRestartResult? run = null;
        var trained = a.Trained;
        if (trained is null)
        {
            run = Train(a, dev, stdout);
            trained = run.Trainer.Model;
        }
        var al = InductiveAligner.Align(dev, trained, xs.Data, xs.Rows, ys.Data, ys.Rows,
            new InductiveOptions { RelativeTol = 1e-6, TopK = r.TopK }, r.X, r.Y);
        if (!al.Converged)
            stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"warning: the alignment Sinkhorn stopped after {al.Iterations} iterations with marginal error {al.MarginalError:E2} (not converged); metrics.json says so."));
        return new AlignOutcome(trained, al, run?.Trainer, run?.History ?? Array.Empty<LearnedGwProgress>(), run, null, run?.Seconds ?? 0);
    }

    /// <summary>Training from random MLPs with the shared restart protocol (<see cref="LearnedGwRestarts"/>; R = 1 is plain training).</summary>
    private static LearnedGwRestartResult Train(AlignInputs a, ComputeDevice dev, TextWriter stdout)
    {
        var (options, ro, xs, ys) = (a.Options, a.Restarts, a.Xs, a.Ys);
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"glass align: training learned GW ({options.Loss.ToString().ToLowerInvariant()} loss, {options.Steps} steps) on {xs.Rows}×{xs.Cols} ↔ {ys.Rows}×{ys.Cols}, {dev.Name}"));
        if (ro.Restarts > 1)
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"glass align: {ro.Restarts} restarts × {(ro.RestartSteps > 0 ? ro.RestartSteps : options.Steps)} steps, scored label-free on {ro.SelectionName} distances; the lowest continues to step {options.Steps}"));
        int scored = 0;
        var run = LearnedGwRestarts.Train(xs.Data, xs.Rows, xs.Cols, ys.Data, ys.Rows, ys.Cols, options, ro, dev,
            onRestart: (sd, score, t) => stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"glass align: restart {++scored}/{ro.Restarts} (seed {sd}): {t.CompletedSteps} steps, selection score {score:G6}")));
        if (ro.Restarts > 1)
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"glass align: selected restart {run.Selected + 1} (seed {run.SelectedSeed})"));
        return run;
    }
}
