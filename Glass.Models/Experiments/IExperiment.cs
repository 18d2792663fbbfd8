namespace Glass.Models.Experiments;

/// <summary>
/// One training run the runner drives step by step (GLASS on S² or SBM graphs, learned GW, …).
/// The runner owns the run folder, the metrics CSV, checkpoints and the progress bar; the experiment
/// owns data, parameters, optimiser state and the maths. Everything an experiment needs to resume
/// bit-identically on the CPU path (parameters, optimiser moments, step counter, RNG state) goes through
/// <see cref="SaveState"/> / <see cref="LoadState"/>.
/// </summary>
public interface IExperiment : IDisposable
{
    /// <summary>"manifold", "graph" or "gw".</summary>
    string Kind { get; }

    /// <summary>Total number of training steps (train.steps).</summary>
    int TotalSteps { get; }

    /// <summary>Steps already done (0 for a fresh run; the checkpoint's step after <see cref="LoadState"/>).</summary>
    int CompletedSteps { get; }

    /// <summary>Fixed CSV header of <see cref="StepMetrics.Values"/>, e.g. step, loss, plan_entropy, gamma, runtime_sec, nnz, sinkhorn_iter, band_radius, perm_acc.</summary>
    IReadOnlyList<string> MetricColumns { get; }

    /// <summary>Runs one training step (increments <see cref="CompletedSteps"/>) and returns its metrics row.</summary>
    StepMetrics Step();

    /// <summary>Writes a complete checkpoint into the (existing, empty) directory <paramref name="directory"/>.</summary>
    void SaveState(string directory);

    /// <summary>Restores a checkpoint written by <see cref="SaveState"/>; the next <see cref="Step"/> continues bit-identically.</summary>
    /// <exception cref="InvalidDataException">The checkpoint is missing, truncated or belongs to another configuration; the message names the file.</exception>
    void LoadState(string directory);

    /// <summary>Final evaluation metrics (e.g. final loss, perm_acc, foscttm), written to the run's summary.</summary>
    IReadOnlyDictionary<string, double> Evaluate();
}

/// <summary>One row of the metrics CSV; values align with <see cref="IExperiment.MetricColumns"/>.</summary>
/// <param name="Values">Column values in header order (integers stored as doubles).</param>
public sealed record StepMetrics(IReadOnlyList<double> Values);

/// <summary>
/// Optional for an <see cref="IExperiment"/> that runs a long phase inside one <see cref="IExperiment.Step"/> (learned GW:
/// the restart selection runs inside step 1) or knows facts beyond its metrics rows. The runner sets <see cref="Report"/>
/// before stepping (progress bar, status lines) and merges <see cref="Details"/> into the run's summary.json.
/// </summary>
public interface IExperimentReport
{
    /// <summary>Receives the progress of an inner phase; set by the runner, null when nobody listens.</summary>
    Action<ExperimentPhase>? Report { get; set; }

    /// <summary>Top-level entries for summary.json (e.g. the per-restart scores), or null when there are none.</summary>
    System.Text.Json.Nodes.JsonObject? Details { get; }
}

/// <summary>Progress of a phase inside one step.</summary>
/// <param name="Label">What runs, e.g. "restart 2/6 (seed 13)".</param>
/// <param name="Done">Steps of the phase done.</param>
/// <param name="Total">Steps of the phase.</param>
/// <param name="Note">A line to print once (e.g. a restart's score), or null for a plain progress tick.</param>
public sealed record ExperimentPhase(string Label, int Done, int Total, string? Note = null);
