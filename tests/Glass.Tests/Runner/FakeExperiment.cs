using System.Globalization;
using Glass.Kernels.Device;
using Glass.Models.Experiments;
using Glass.Runner.Config;
using Glass.Runner.Experiments;

namespace Glass.Tests.Runner;

/// <summary>
/// A deterministic, fast experiment kind for the runner's tests: <c>model: fake: {rate, n}</c>, <c>train: {steps, seed}</c>.
/// Its state (step, x, an LCG) round-trips exactly through SaveState/LoadState, so a resumed run must
/// reproduce the uninterrupted run's metrics.csv byte for byte if the runner feeds it correctly.
/// <see cref="OnStep"/> lets a test kill (throw) or cancel at a given step.
/// </summary>
internal sealed class FakeKind : IExperimentKind
{
    public static readonly string[] Columns = { "step", "loss", "plan_entropy", "gamma", "runtime_sec", "nnz", "sinkhorn_iter", "band_radius", "perm_acc" };

    /// <summary>Called after each step with the step number (1-based).</summary>
    public Action<int>? OnStep { get; init; }

    public string Name => "fake";

    public string Description => "test double";

    public BoundExperiment Bind(ConfigSection root, ConfigSection model, string expName, ConfigOverrides overrides)
    {
        var m = model.Section("fake");
        double rate = m.Double("rate", 0.9, NumberRange.LeftOpen(0, 1));
        int n = m.Int("n", 64, min: 2);
        m.Finish();
        var t = root.Section("train");
        int steps = t.Int("steps", 20, min: 1, overrideValue: overrides.Steps);
        int seed = t.Int("seed", 0, min: 0, overrideValue: overrides.Seed);
        t.Finish();
        return new Bound(this, new FakeOptions(rate, n, steps, seed));
    }

    internal sealed record FakeOptions(double Rate, int N, int Steps, int Seed);

    private sealed class Bound(FakeKind kind, FakeOptions o) : BoundExperiment
    {
        public override string Kind => "fake";
        public override int Seed => o.Seed;
        public override int Steps => o.Steps;
        public override object Options => o;
        public override IExperiment Create(ComputeDevice device) => new FakeExperiment(o, kind.OnStep);
    }
}

internal sealed class FakeExperiment(FakeKind.FakeOptions o, Action<int>? onStep) : IExperiment
{
    private double _x = 1.0 + 0.1 * o.Seed;
    private ulong _lcg = 0x9E3779B97F4A7C15UL ^ (ulong)o.Seed;

    public string Kind => "fake";
    public int TotalSteps => o.Steps;
    public int CompletedSteps { get; private set; }
    public IReadOnlyList<string> MetricColumns => FakeKind.Columns;

    public StepMetrics Step()
    {
        _lcg = _lcg * 6364136223846793005UL + 1442695040888963407UL;
        double u = (_lcg >> 11) * (1.0 / (1UL << 53));
        _x = _x * o.Rate + 0.01 * u;
        CompletedSteps++;
        int t = CompletedSteps;
        onStep?.Invoke(t);
        double gamma = Math.Max(0.01, 0.1 * Math.Pow(0.98, t));
        return new StepMetrics(new double[]
        {
            t, _x, 1.0 / 3.0 + u, gamma, 1e-6 * o.N, 3 * o.N, 17, Math.Sqrt(-gamma * Math.Log(1e-6)), Math.Min(1.0, t / (double)o.Steps),
        });
    }

    public void SaveState(string directory) =>
        File.WriteAllText(Path.Combine(directory, "state.txt"),
            string.Join(" ", CompletedSteps.ToString(CultureInfo.InvariantCulture), _x.ToString("R", CultureInfo.InvariantCulture), _lcg.ToString(CultureInfo.InvariantCulture)));

    public void LoadState(string directory)
    {
        string path = Path.Combine(directory, "state.txt");
        if (!File.Exists(path)) throw new InvalidDataException($"checkpoint file {path} is missing.");
        var f = File.ReadAllText(path).Split(' ');
        CompletedSteps = int.Parse(f[0], CultureInfo.InvariantCulture);
        _x = double.Parse(f[1], CultureInfo.InvariantCulture);
        _lcg = ulong.Parse(f[2], CultureInfo.InvariantCulture);
    }

    public IReadOnlyDictionary<string, double> Evaluate() => new Dictionary<string, double> { ["loss"] = _x, ["perm_acc"] = 1.0 };

    public void Dispose()
    {
    }
}

/// <summary>Shared helpers: repo root, temp folders, the CLI with the fake kind registered.</summary>
internal static class RunnerTestSupport
{
    /// <summary>The repository root (the folder holding Glass.sln), found by walking up from the test binaries.</summary>
    public static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Glass.sln"))) return d.FullName;
        throw new DirectoryNotFoundException($"no Glass.sln above {AppContext.BaseDirectory}.");
    }

    public static string TempDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), "glass-runner-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    public static string FakeYaml(string expName, string outDir, int steps = 20, int saveEvery = 5, int n = 64, int? seed = 0) =>
        $"""
        exp_name: {expName}
        log:
          out_dir: {outDir}
          save_every: {saveEvery}
        model:
          fake:
            rate: 0.9
            n: {n}
        train:
          steps: {steps}
        {(seed is null ? "" : $"  seed: {seed}")}
        """;

    public static (int Code, string Out, string Err) GlassCli(FakeKind? kind, CancellationToken? cancel, params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var registry = ExperimentRegistry.Default.With(kind ?? new FakeKind());
        int code = Glass_Runner_Cli(args, o, e, registry, cancel);
        return (code, o.ToString(), e.ToString());
    }

    private static int Glass_Runner_Cli(string[] args, TextWriter o, TextWriter e, ExperimentRegistry r, CancellationToken? c) =>
        global::Glass.Runner.Commands.Cli.Run(args, o, e, r, c);

    /// <summary><c>glass align ARGS</c> in-process: exit code, stdout, stderr.</summary>
    public static (int Code, string Out, string Err) AlignCli(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = global::Glass.Runner.Commands.Cli.Run(new[] { "align" }.Concat(args).ToArray(), o, e);
        return (code, o.ToString(), e.ToString());
    }

    /// <summary>
    /// A refused <c>glass align</c>: exit code 2, an "error: " message holding every fragment, no <paramref name="outDir"/>
    /// and no temporary sibling (a dot-folder) left in <paramref name="parent"/>.
    /// </summary>
    public static void AssertRefused((int Code, string Out, string Err) r, string outDir, string parent, params string[] fragments)
    {
        NUnit.Framework.Assert.That(r.Code, NUnit.Framework.Is.EqualTo(2), r.Err);
        NUnit.Framework.Assert.That(r.Err, NUnit.Framework.Does.StartWith("error: "));
        foreach (var f in fragments) NUnit.Framework.Assert.That(r.Err, NUnit.Framework.Does.Contain(f));
        NUnit.Framework.Assert.That(Directory.Exists(outDir), NUnit.Framework.Is.False, "no --out folder after a failure");
        NUnit.Framework.Assert.That(Directory.GetDirectories(parent).Where(d => Path.GetFileName(d).StartsWith('.')), NUnit.Framework.Is.Empty, "no temporary sibling after a failure");
    }

    /// <summary>Run folders directly under <paramref name="outDir"/>.</summary>
    public static string[] RunDirs(string outDir) =>
        Directory.Exists(outDir) ? Directory.GetDirectories(outDir).Where(d => !Path.GetFileName(d).StartsWith('.')).OrderBy(d => d, StringComparer.Ordinal).ToArray() : Array.Empty<string>();
}
