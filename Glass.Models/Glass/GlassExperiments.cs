using Glass.Kernels.Device;
using Glass.Models.Experiments;

namespace Glass.Models.Glass;

/// <summary>
/// Factory of the GLASS experiments (S² manifold and SBM graph). TEMPORARY STUB: the real factory
/// lives on the glassmodels branch; this file only lets the runner compile and is replaced there.
/// </summary>
public static class GlassExperiments
{
    /// <summary>Builds the experiment described by <paramref name="options"/> on <paramref name="device"/>.</summary>
    /// <param name="options">Validated options; exactly one of (S2 + Manifold) or (Sbm + Graph) is set.</param>
    /// <param name="device">Where the experiment runs.</param>
    /// <exception cref="NotImplementedException">Always, in this stub.</exception>
    public static IExperiment Create(GlassExperimentOptions options, ComputeDevice device) => throw new NotImplementedException();
}
