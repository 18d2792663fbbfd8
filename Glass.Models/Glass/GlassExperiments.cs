using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Glass.Autodiff;
using Glass.Autodiff.Optim;
using Glass.Kernels.Device;
using Glass.Models.Data;
using Glass.Models.Experiments;

namespace Glass.Models.Glass;

/// <summary>
/// Factory of the GLASS experiments (paper 000 §7; the reference's run_manifold.py and run_graph.py):
/// "manifold" (S² pair, Eq. 2 + Eq. 4) when <see cref="GlassExperimentOptions.S2"/> and
/// <see cref="GlassExperimentOptions.Manifold"/> are set; "graph" (SBM pair, Eq. 3 + Eq. 5) when
/// <see cref="GlassExperimentOptions.Sbm"/> and <see cref="GlassExperimentOptions.Graph"/> are set.
/// Each step t (0-based): γ_t = max(γ_min, γ₀·decay^t) (γ₀ if not annealed), one full-batch forward of
/// <see cref="GlassLayer"/> on the fixed pair, backward, one Adam step (lr). A Sinkhorn solve that stops at
/// max_iter is redone at 2γ (train.gamma_backoff, default) and that γ becomes a floor for later steps (decaying with the
/// schedule), so annealing stops where convergence is lost (<c>gamma_backoffs</c>, <c>gamma_floor</c>); without the back-off, or once γ is back
/// at γ₀, the last iterate is used (<see cref="NonConvergencePolicy.UseLastIterate"/>, as the reference code does) and
/// the step is counted (<c>sinkhorn_unconverged_steps</c> in <see cref="IExperiment.Evaluate"/>). With train.warm_start,
/// each slice's solve starts from that slice's potentials of the previous solve (the slices' projections are trained
/// parameters, not redrawn per step, so slice s of step t and of step t + 1 are the same projection of the same points).
/// </summary>
public static class GlassExperiments
{
    /// <summary>The metrics columns of every GLASS experiment (the reference's metrics.csv).</summary>
    public static IReadOnlyList<string> Columns { get; } =
        new[] { "step", "loss", "plan_entropy", "gamma", "runtime_sec", "nnz", "sinkhorn_iter", "band_radius", "perm_acc" };

    /// <summary>
    /// Builds the experiment: generates the data (seed train.seed), initialises the layer (same seed) and Adam.
    /// Columns: step (1-based count of the step just done), loss (lifted loss before the update), plan_entropy
    /// H(P̄), gamma γ_t, runtime_sec (wall time of the step), nnz of P̄, sinkhorn_iter (summed over slices),
    /// band_radius r_t = sqrt(−γ_t log ε) (0 when dense), perm_acc (fraction of rows with argmax_j P̄_ij = π(i)).
    /// </summary>
    /// <param name="options">The resolved configuration.</param>
    /// <param name="device">Where the Sinkhorn forward and the Chebyshev features run (the tape is managed CPU).</param>
    /// <exception cref="ArgumentException">Neither or both experiment kinds configured, or a value out of range; the message names the key.</exception>
    public static IExperiment Create(GlassExperimentOptions options, ComputeDevice device)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(device);
        bool manifold = options.S2 is not null || options.Manifold is not null;
        bool graph = options.Sbm is not null || options.Graph is not null;
        if (manifold == graph)
            throw new ArgumentException(manifold
                ? "Both a manifold (data S², model.manifold) and a graph (data SBM, model.graph) experiment are configured; expected exactly one."
                : "No experiment configured; expected model.manifold with S² data, or model.graph with SBM data.", nameof(options));
        GlassValidation.Check(options.Ot);
        GlassValidation.Check(options.Train);
        if (manifold)
        {
            if (options.S2 is null) throw new ArgumentException("model.manifold is set but data is not an S² section (n, noise_deg, rotation).", nameof(options));
            if (options.Manifold is null) throw new ArgumentException("S² data is set but model.manifold is missing.", nameof(options));
            GlassValidation.Check(options.Manifold);
            return new ManifoldExperiment(options, device);
        }
        if (options.Sbm is null) throw new ArgumentException("model.graph is set but data is not an SBM section (n, blocks, p_in, p_out, rewire_prob, planted_perm).", nameof(options));
        if (options.Graph is null) throw new ArgumentException("SBM data is set but model.graph is missing.", nameof(options));
        return new GraphExperiment(options, device);
    }
}

/// <summary>The shared training loop of the GLASS experiments.</summary>
internal abstract class GlassExperimentBase : IExperiment
{
    private const string StateFile = "experiment.json";
    private const string OptimizerFile = "optimizer.bin";
    private readonly GammaSchedule _schedule;
    private int _unconvergedSteps, _backoffs;
    private long _sinkhornIterations;
    private double _lastLoss = double.NaN, _lastGamma = double.NaN, _gammaFloor, _worstMarginalError;
    // The latest solve's potentials per slice (train.warm_start): the next solve's start; in the checkpoint.
    private SlicePotentials?[]? _potentials;

    protected GlassExperimentBase(GlassExperimentOptions options, ComputeDevice device, GlassLayer layer, double[] x, double[] y, int dim, int[]? truth,
        IReadOnlyList<Parameter>? backboneParameters = null)
    {
        Options = options; Layer = layer; X = x; Y = y; Dim = dim; GroundTruth = truth;
        layer.Device = device;
        layer.NonConvergence = NonConvergencePolicy.UseLastIterate;
        _schedule = GammaSchedule.From(options.Ot, options.Train);
        var trained = backboneParameters is null ? layer.Parameters : layer.Parameters.Concat(backboneParameters).ToArray();
        Optimizer = Optimizer.Adam(trained, new OptimizerOptions { LearningRate = options.Train.Lr });
    }

    /// <summary>The second set as the layer sees it (a backbone's output on <paramref name="y"/>'s tape; identity here).</summary>
    protected virtual Var Backbone(Var y) => y;

    /// <summary>Extra entries of <c>experiment.json</c> (a backbone's state that is not a trained parameter).</summary>
    protected virtual void SaveExtra(Dictionary<string, object> state) { }

    /// <summary>
    /// Reads and checks what <see cref="SaveExtra"/> wrote (<paramref name="path"/> names the file in errors);
    /// returns the action that applies it, run only once the whole checkpoint has been read.
    /// </summary>
    protected virtual Action? ReadExtra(JsonElement root, string path) => null;

    /// <summary>Whether the second set the layer sees changes with training (a backbone), so yardsticks are recomputed.</summary>
    protected virtual bool HasBackbone => false;

    private Yardsticks? _yardsticks;

    /// <summary>
    /// The <see cref="Yardsticks"/> of the pair as the layer sees it now (X and the backbone's output on Y; on S² the
    /// geodesic cost), cached when there is no backbone; null when n is too large for the exact plan.
    /// </summary>
    internal Yardsticks? YardsticksOf()
    {
        if (_yardsticks is not null && !HasBackbone) return _yardsticks;
        double[] y = Y;
        if (HasBackbone)
        {
            using var tape = new Tape();
            using var _ = tape.NoGrad();
            y = (double[])Backbone(tape.Constant(Y, Y.Length / Dim, Dim)).Value.Clone();
        }
        _yardsticks = Yardsticks.Compute(X, y, Dim, Layer.Geometry == GlassGeometry.Sphere, GroundTruth);
        return _yardsticks;
    }

    /// <summary>Extra diagnostics of <see cref="Evaluate"/>.</summary>
    protected virtual void EvaluateExtra(Dictionary<string, double> metrics) { }

    private GlassOutput Run(Tape tape) =>
        Layer.Forward(tape.Constant(X, X.Length / Dim, Dim), Backbone(tape.Constant(Y, Y.Length / Dim, Dim)),
            Options.Train.WarmStart ? _potentials : null);

    protected GlassExperimentOptions Options { get; }
    internal GlassLayer Layer { get; }
    internal Optimizer Optimizer { get; }
    internal double[] X { get; }
    internal double[] Y { get; }
    internal int Dim { get; }
    internal int[]? GroundTruth { get; }

    public abstract string Kind { get; }
    public int TotalSteps => Options.Train.Steps;
    public int CompletedSteps { get; private set; }
    public IReadOnlyList<string> MetricColumns => GlassExperiments.Columns;
    /// <summary>Steps whose Sinkhorn solve (any slice) stopped at max_iter.</summary>
    internal int UnconvergedSteps => _unconvergedSteps;

    /// <summary>γ-floor raises made by the back-off (train.gamma_backoff).</summary>
    internal int Backoffs => _backoffs;

    /// <summary>The γ floor the back-off has set (0 when none).</summary>
    internal double GammaFloor => _gammaFloor;

    /// <summary>γ of step t: the schedule's γ_t, raised to the back-off floor.</summary>
    private double GammaAt(int t) => Math.Max(_schedule.At(t), _gammaFloor);

    public StepMetrics Step()
    {
        var sw = Stopwatch.StartNew();
        int t = CompletedSteps;
        var (tape, o) = ConvergedForward(GammaAt(t));
        using (tape)
        {
            tape.Backward(o.Loss);
            Optimizer.Update();
        }
        sw.Stop();
        CompletedSteps++;
        // The floor anneals with the schedule, so γ is tried lower again once the scores have moved on.
        if (Options.Train.AnnealGamma) _gammaFloor *= Options.Train.GammaDecay;
        if (!o.Coupling.Converged)
        {
            _unconvergedSteps++;
            _worstMarginalError = Math.Max(_worstMarginalError, o.Coupling.MaxMarginalError);
        }
        _lastLoss = o.Loss.Scalar;
        _lastGamma = o.Coupling.Gamma;
        var c = o.Coupling;
        return new StepMetrics(new double[]
        {
            CompletedSteps, o.Loss.Scalar, c.Entropy, c.Gamma, sw.Elapsed.TotalSeconds, c.Nnz, c.SinkhornIterations,
            c.BandRadius, GroundTruth is null ? double.NaN : c.PermutationAccuracy(GroundTruth),
        });
    }

    /// <summary>
    /// The step's forward at <paramref name="gamma"/>; with train.gamma_backoff, a solve that stops at max_iter is
    /// discarded and redone at 2γ (capped at γ₀·gamma_backoff_max), and the γ that converged becomes a floor for the next steps: annealing
    /// stops where convergence is lost, and the floor itself decays by gamma_decay per step, so a lower γ is tried again
    /// once the scores have moved on (an adaptive schedule γ_t = max(γ_min, γ₀·decay^t, floor_t)). Returns the tape to
    /// differentiate on (the caller disposes it).
    /// </summary>
    private (Tape Tape, GlassOutput Output) ConvergedForward(double gamma)
    {
        double cap = Math.Max(Options.Ot.Gamma * Options.Train.GammaBackoffMax, gamma);
        while (true)
        {
            Layer.Gamma = gamma;
            var tape = new Tape();
            var o = Run(tape);
            _sinkhornIterations += o.Coupling.SinkhornIterations;
            // Every attempt continues from the last one's potentials (a discarded one's are still the nearest start).
            if (Options.Train.WarmStart) _potentials = SlicePotentials.Usable(o.Potentials);
            if (o.Coupling.Converged || !Options.Train.GammaBackoff || gamma >= cap) return (tape, o);
            tape.Dispose();
            gamma = Math.Min(cap, 2 * gamma);
            _gammaFloor = gamma;
            _backoffs++;
        }
    }

    /// <summary>
    /// The layer's output at the current parameters and the γ of the last completed step, without recording gradients
    /// (warm-started when train.warm_start; the stored potentials are read, not replaced, so evaluating does not change training).
    /// </summary>
    internal GlassOutput Peek()
    {
        Layer.Gamma = CompletedSteps == 0 ? GammaAt(0) : _lastGamma;
        using var tape = new Tape();
        using var _ = tape.NoGrad();
        return Run(tape);
    }

    public IReadOnlyDictionary<string, double> Evaluate()
    {
        var o = Peek();
        var c = o.Coupling;
        var d = new Dictionary<string, double>
        {
            ["steps"] = CompletedSteps,
            ["final_loss"] = o.Loss.Scalar,
            ["last_step_loss"] = _lastLoss,
            ["plan_entropy"] = c.Entropy,
            ["gamma"] = c.Gamma,
            ["nnz"] = c.Nnz,
            ["band_radius"] = c.BandRadius,
            ["sinkhorn_iter"] = c.SinkhornIterations,
            ["sinkhorn_converged"] = c.Converged ? 1 : 0,
            ["sinkhorn_unconverged_steps"] = _unconvergedSteps,
            ["gamma_backoffs"] = _backoffs,
            ["gamma_floor"] = _gammaFloor,
            ["sinkhorn_iter_total"] = _sinkhornIterations,
            // How far from tol the steps that trained on an unconverged solve were (0 when there were none).
            ["sinkhorn_worst_marginal_error"] = _worstMarginalError,
        };
        if (GroundTruth is not null) d["perm_acc"] = c.PermutationAccuracy(GroundTruth);
        // Rows matched to their own index: with a planted permutation the truth is π, not the identity, so a rate far
        // above chance (1/n) flags features that leak the node/row order rather than the geometry.
        if (c.Plan.Rows == c.Plan.Cols) d["identity_match_rate"] = c.PermutationAccuracy(Enumerable.Range(0, c.Plan.Rows).ToArray());
        if (YardsticksOf() is { } ys)
        {
            d["independent_loss"] = ys.IndependentLoss;
            d["exact_ot_loss"] = ys.ExactLoss;
            if (!double.IsNaN(ys.ExactPermAcc)) d["exact_ot_perm_acc"] = ys.ExactPermAcc;
        }
        EvaluateExtra(d);
        return d;
    }

    /// <summary>
    /// Writes <c>optimizer.bin</c> (parameters + Adam moments + Adam step, <see cref="Optimizer.Save"/>) and
    /// <c>experiment.json</c> (format, kind, completed steps, unconverged-step count, last loss, and a SHA-256
    /// fingerprint of the configuration minus exp_name and train.steps, so a run may be extended).
    /// </summary>
    public void SaveState(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory.CreateDirectory(directory);
        Optimizer.Save(Path.Combine(directory, OptimizerFile));
        var state = new Dictionary<string, object>
        {
            ["format"] = "glass-experiment",
            ["version"] = 1,
            ["kind"] = Kind,
            ["completed_steps"] = CompletedSteps,
            ["unconverged_steps"] = _unconvergedSteps,
            ["last_loss_bits"] = BitConverter.DoubleToInt64Bits(_lastLoss),
            ["last_gamma_bits"] = BitConverter.DoubleToInt64Bits(_lastGamma),
            ["gamma_floor_bits"] = BitConverter.DoubleToInt64Bits(_gammaFloor),
            ["gamma_backoffs"] = _backoffs,
            ["sinkhorn_iter_total"] = _sinkhornIterations,
            ["worst_marginal_error_bits"] = BitConverter.DoubleToInt64Bits(_worstMarginalError),
            ["fingerprint"] = Fingerprint(),
        };
        SaveExtra(state);
        if (_potentials is not null) PotentialsFile.Save(Path.Combine(directory, PotentialsFile.Name), _potentials);
        string path = Path.Combine(directory, StateFile), tmp = path + ".tmp";
        File.WriteAllText(tmp, JsonSerializer.Serialize(state, new JsonSerializerOptions { WriteIndented = true }));
        File.Move(tmp, path, overwrite: true);
    }

    public void LoadState(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        string path = Path.Combine(directory, StateFile), opt = Path.Combine(directory, OptimizerFile);
        if (!File.Exists(path)) throw new InvalidDataException($"{path}: checkpoint state file missing.");
        if (!File.Exists(opt)) throw new InvalidDataException($"{opt}: checkpoint optimiser file missing.");
        int steps, unconverged, backoffs;
        long lastBits, gammaBits, floorBits, iterations, worstBits;
        Action? commit;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var r = doc.RootElement;
            if (r.GetProperty("format").GetString() != "glass-experiment" || r.GetProperty("version").GetInt32() != 1)
                throw new InvalidDataException($"{path}: not a version-1 GLASS experiment checkpoint.");
            string kind = r.GetProperty("kind").GetString() ?? "";
            if (kind != Kind) throw new InvalidDataException($"{path}: checkpoint of a '{kind}' experiment; this one is '{Kind}'.");
            string fp = r.GetProperty("fingerprint").GetString() ?? "";
            if (fp != Fingerprint())
                throw new InvalidDataException($"{path}: the checkpoint belongs to another configuration (data, model, ot or train settings differ); expected fingerprint {Fingerprint()}, found {fp}.");
            steps = r.GetProperty("completed_steps").GetInt32();
            unconverged = r.GetProperty("unconverged_steps").GetInt32();
            lastBits = r.GetProperty("last_loss_bits").GetInt64();
            // Absent in checkpoints written before the γ back-off existed: no floor, γ from the schedule.
            gammaBits = r.TryGetProperty("last_gamma_bits", out var gb) ? gb.GetInt64() : BitConverter.DoubleToInt64Bits(_schedule.At(Math.Max(0, steps - 1)));
            floorBits = r.TryGetProperty("gamma_floor_bits", out var fb) ? fb.GetInt64() : 0;
            backoffs = r.TryGetProperty("gamma_backoffs", out var bo) ? bo.GetInt32() : 0;
            iterations = r.TryGetProperty("sinkhorn_iter_total", out var it) ? it.GetInt64() : 0;
            worstBits = r.TryGetProperty("worst_marginal_error_bits", out var wb) ? wb.GetInt64() : 0;
            commit = ReadExtra(r, path);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{path}: malformed checkpoint state ({e.Message}).", e);
        }
        if (steps < 0) throw new InvalidDataException($"{path}: completed_steps = {steps}; expected ≥ 0.");
        // With warm start on, a checkpoint after a step holds the potentials the next step starts from.
        var potentials = Options.Train.WarmStart && steps > 0
            ? PotentialsFile.Load(Path.Combine(directory, PotentialsFile.Name), Layer.Slices, X.Length / Dim, Y.Length / Dim)
            : null;
        Optimizer.Load(opt);
        if (Optimizer.Step != steps)
            throw new InvalidDataException($"{opt}: optimiser step {Optimizer.Step.ToString(CultureInfo.InvariantCulture)} but {path} says {steps} completed steps; the checkpoint is inconsistent.");
        commit?.Invoke();
        CompletedSteps = steps;
        _unconvergedSteps = unconverged;
        _lastLoss = BitConverter.Int64BitsToDouble(lastBits);
        _lastGamma = BitConverter.Int64BitsToDouble(gammaBits);
        _gammaFloor = BitConverter.Int64BitsToDouble(floorBits);
        _backoffs = backoffs;
        _sinkhornIterations = iterations;
        _worstMarginalError = BitConverter.Int64BitsToDouble(worstBits);
        _potentials = potentials;
        if (!(_gammaFloor >= 0) || !double.IsFinite(_gammaFloor) || backoffs < 0 || iterations < 0)
            throw new InvalidDataException($"{path}: gamma_floor_bits / gamma_backoffs / sinkhorn_iter_total out of range; expected a finite floor ≥ 0 and counts ≥ 0.");
    }

    private string Fingerprint()
    {
        var o = Options with { ExpName = "", Train = Options.Train with { Steps = 0 } };
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(Kind + "|" + o)));
    }

    public void Dispose() { }
}
