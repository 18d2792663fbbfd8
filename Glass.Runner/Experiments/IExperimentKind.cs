using System.Text.Json.Nodes;
using Glass.Kernels.Device;
using Glass.Models.Experiments;
using Glass.Runner.Config;

namespace Glass.Runner.Experiments;

/// <summary>
/// One kind of experiment the runner can drive, picked by the key under the YAML's <c>model:</c> section
/// (<c>manifold</c>, <c>graph</c>, later <c>gw</c>). A kind binds the YAML onto its options record
/// (validating every key) and builds the <see cref="IExperiment"/> from it.
/// </summary>
internal interface IExperimentKind
{
    /// <summary>The key under <c>model:</c> that selects this kind.</summary>
    string Name { get; }

    /// <summary>One line for help texts.</summary>
    string Description { get; }

    /// <summary>
    /// Reads everything of the document that belongs to this kind — typically <c>data</c>, <c>model.&lt;Name&gt;</c>,
    /// <c>ot</c>, <c>train</c>, <c>seed</c> — from <paramref name="root"/>, declaring every key it accepts
    /// (the caller rejects the rest). <c>exp_name</c> and <c>log</c> are the runner's and already read.
    /// </summary>
    /// <param name="root">The document root.</param>
    /// <param name="model">The <c>model</c> section (its <see cref="Name"/> key is declared already).</param>
    /// <param name="expName">The resolved exp_name.</param>
    /// <param name="overrides">Command-line overrides (seed, steps) that win over the file.</param>
    BoundExperiment Bind(ConfigSection root, ConfigSection model, string expName, ConfigOverrides overrides);
}

/// <summary>Command-line values that replace the file's (<c>--seed</c>, <c>--steps</c>, <c>--out</c>).</summary>
internal sealed record ConfigOverrides
{
    public int? Seed { get; init; }
    public int? Steps { get; init; }
    public string? OutDir { get; init; }
    /// <summary>train.init of the gw kind (glass align --init).</summary>
    public string? Init { get; init; }

    public static ConfigOverrides None { get; } = new();
}

/// <summary>A validated experiment configuration of one kind, ready to build.</summary>
internal abstract class BoundExperiment
{
    /// <summary>The kind's name (<see cref="IExperimentKind.Name"/>).</summary>
    public abstract string Kind { get; }

    /// <summary>The resolved seed.</summary>
    public abstract int Seed { get; }

    /// <summary>The resolved number of training steps.</summary>
    public abstract int Steps { get; }

    /// <summary>The rule that may end the run before <see cref="Steps"/> (null: run every step).</summary>
    public virtual Glass.Models.Glass.StoppingRule? Stopping => null;

    /// <summary>The options record the experiment is built from (for tests and diagnostics).</summary>
    public abstract object Options { get; }

    /// <summary>Builds the experiment (validation has happened; no files are touched).</summary>
    public abstract IExperiment Create(ComputeDevice device);
}
