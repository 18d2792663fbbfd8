using Glass.Runner.Config;

namespace Glass.Runner.Experiments;

/// <summary>
/// The experiment kinds the runner knows, keyed by their <c>model:</c> key. <see cref="Default"/> has the
/// GLASS kinds (<c>manifold</c>, <c>graph</c>) and the learned-GW aligner (<c>gw</c>); tests add kinds with
/// <see cref="With"/>.
/// </summary>
internal sealed class ExperimentRegistry
{
    private readonly Dictionary<string, IExperimentKind> _kinds;

    public ExperimentRegistry(IEnumerable<IExperimentKind> kinds)
    {
        _kinds = new Dictionary<string, IExperimentKind>(StringComparer.Ordinal);
        foreach (var k in kinds)
            if (!_kinds.TryAdd(k.Name, k))
                throw new ArgumentException($"experiment kind '{k.Name}' registered twice.", nameof(kinds));
    }

    /// <summary>The built-in kinds.</summary>
    public static ExperimentRegistry Default { get; } = new(new IExperimentKind[]
    {
        GlassKind.Manifold,
        GlassKind.Graph,
        GwKind.Instance,
    });

    /// <summary>Kind names, in registration order.</summary>
    public IReadOnlyList<string> Names => _kinds.Keys.ToList();

    /// <summary>A registry with <paramref name="extra"/> added.</summary>
    public ExperimentRegistry With(params IExperimentKind[] extra) => new(_kinds.Values.Concat(extra));

    /// <summary>The kind named <paramref name="name"/>, or null.</summary>
    public IExperimentKind? Find(string name) => _kinds.GetValueOrDefault(name);
}
