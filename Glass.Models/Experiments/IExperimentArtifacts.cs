namespace Glass.Models.Experiments;

/// <summary>
/// Optional for an <see cref="IExperiment"/> that has result files beyond metrics and summary (e.g. the final matches of
/// an S² alignment, drawn by the runner's plots). The runner writes them into the run folder when the run completes.
/// </summary>
public interface IExperimentArtifacts
{
    /// <summary>File name (no directories) → text content, at the current parameters.</summary>
    IReadOnlyDictionary<string, string> Artifacts();
}
