using System.Globalization;
using System.Text;
using System.Text.Json;
using Glass.Autodiff;
using Glass.Kernels.Device;
using Glass.Models.Data;
using Glass.Models.Experiments;

namespace Glass.Models.Glass;

/// <summary>
/// GLASS on an S² pair (Eq. 2 + Eq. 4). With model.manifold.learn_rotation, the layer sees
/// (X, R_θ·Y) for the <see cref="RotationBackbone"/> R_θ = exp([ω]×)·R₀, trained with the layer by one Adam
/// (ω is the last parameter in optimizer.bin; R₀ is stored in experiment.json).
/// </summary>
internal sealed class ManifoldExperiment : GlassExperimentBase, IExperimentArtifacts
{
    /// <summary>The artifact with the final matches (one row per x_i), drawn by the runner as alignment.png.</summary>
    public const string AlignmentFile = "alignment.csv";

    private const string InitialRotationKey = "rotation_init_bits";

    public ManifoldExperiment(GlassExperimentOptions o, ComputeDevice device) : this(o, device, S2Pair.Generate(o.S2!, o.Train.Seed)) { }

    private ManifoldExperiment(GlassExperimentOptions o, ComputeDevice device, S2Pair pair)
        : this(o, device, pair, o.Manifold!.LearnRotation ? new RotationBackbone(RotationBackbone.Initialise(o.Manifold.RotationInit, pair.X, pair.Y), o.Manifold.RotationLr / o.Train.Lr) : null) { }

    private ManifoldExperiment(GlassExperimentOptions o, ComputeDevice device, S2Pair pair, RotationBackbone? rotation)
        : base(o, device, GlassLayer.ForSphere(o.Manifold!, o.Ot, o.Train.Slices, o.Train.Seed), pair.X, pair.Y, 3, pair.GroundTruth,
            rotation is null ? null : new[] { rotation.Omega })
    {
        Pair = pair;
        Rotation = rotation;
    }

    internal S2Pair Pair { get; }
    /// <summary>The rotation backbone (null unless learn_rotation).</summary>
    internal RotationBackbone? Rotation { get; }
    public override string Kind => "manifold";

    protected override Var Backbone(Var y) => Rotation is null ? y : Rotation.Apply(y);

    protected override bool HasBackbone => Rotation is not null;

    /// <summary>
    /// rotation_error_deg: the angle of R_θ·R (R the data's rotation, so R_θ = Rᵀ is the ground truth), and
    /// rotation_init_error_deg, the same for R₀.
    /// </summary>
    protected override void EvaluateExtra(Dictionary<string, double> metrics)
    {
        if (Rotation is null) return;
        var truth = Rotations.Transpose(Pair.Rotation);
        metrics["rotation_error_deg"] = Rotations.AngleDeg(Rotation.Matrix(), truth);
        metrics["rotation_init_error_deg"] = Rotations.AngleDeg(Rotation.Initial, truth);
    }

    /// <summary>
    /// alignment.csv: for each x_i its coordinates (x0..x2), the coordinates of its hard match y_{j*} as the layer sees
    /// it (y0..y2, after the backbone), j* = argmax_j P̄_ij (match), π(i) (truth), correct (1 when j* = π(i)).
    /// </summary>
    public IReadOnlyDictionary<string, string> Artifacts()
    {
        var match = Peek().Coupling.HardMatch();
        double[] y = Y;
        if (Rotation is not null)
        {
            using var tape = new Tape();
            using var _ = tape.NoGrad();
            y = (double[])Backbone(tape.Constant(Y, Y.Length / 3, 3)).Value.Clone();
        }
        var sb = new StringBuilder("x0,x1,x2,y0,y1,y2,match,truth,correct\n");
        static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        for (int i = 0; i < match.Length; i++)
        {
            int j = match[i];
            var yj = j < 0 ? new[] { double.NaN, double.NaN, double.NaN } : new[] { y[3 * j], y[3 * j + 1], y[3 * j + 2] };
            sb.Append(string.Join(",", F(X[3 * i]), F(X[3 * i + 1]), F(X[3 * i + 2]), F(yj[0]), F(yj[1]), F(yj[2]),
                j.ToString(CultureInfo.InvariantCulture), Pair.GroundTruth[i].ToString(CultureInfo.InvariantCulture), j == Pair.GroundTruth[i] ? "1" : "0")).Append('\n');
        }
        return new Dictionary<string, string> { [AlignmentFile] = sb.ToString() };
    }

    protected override void SaveExtra(Dictionary<string, object> state)
    {
        if (Rotation is null) return;
        state[InitialRotationKey] = Rotation.Initial.Select(BitConverter.DoubleToInt64Bits).ToArray();
        state["rotation"] = Rotation.Matrix(); // R_θ for readers; not read back (ω is in optimizer.bin)
    }

    protected override Action? ReadExtra(JsonElement root, string path)
    {
        if (Rotation is null) return null;
        if (!root.TryGetProperty(InitialRotationKey, out var e) || e.ValueKind != JsonValueKind.Array || e.GetArrayLength() != 9)
            throw new InvalidDataException($"{path}: '{InitialRotationKey}' missing or not 9 numbers; expected the initial rotation R₀ of model.manifold.learn_rotation.");
        var r0 = e.EnumerateArray().Select(z => BitConverter.Int64BitsToDouble(z.GetInt64())).ToArray();
        if (r0.Any(z => !double.IsFinite(z)))
            throw new InvalidDataException($"{path}: '{InitialRotationKey}' holds a non-finite value; expected a rotation matrix.");
        return () => Rotation.SetInitial(r0);
    }
}

/// <summary>GLASS on an SBM pair (Eq. 3 + Eq. 5) with the diffusion features of <see cref="GraphFeatures"/>.</summary>
internal sealed class GraphExperiment : GlassExperimentBase
{
    public GraphExperiment(GlassExperimentOptions o, ComputeDevice device) : this(o, device, GraphPair.Sbm(o.Sbm!, o.Train.Seed)) { }

    private GraphExperiment(GlassExperimentOptions o, ComputeDevice device, GraphPair pair)
        : base(o, device, GlassLayer.ForFeatures(o.Graph!.FeatDim, o.Ot, o.Train.Slices, o.Train.Seed),
            GraphFeatures.Diffusion(pair.AdjacencyX, o.Graph, o.Train.Seed, device),
            GraphFeatures.Diffusion(pair.AdjacencyY, o.Graph, o.Train.Seed, device), o.Graph.FeatDim, pair.GroundTruth)
    {
        Pair = pair;
    }

    internal GraphPair Pair { get; }
    public override string Kind => "graph";
}
