using System.Globalization;

namespace Glass.Models.Gw;

/// <summary>Activation between the layers of the embedding MLPs.</summary>
public enum GwActivation
{
    /// <summary>max(x, 0).</summary>
    Relu,
    /// <summary>tanh(x).</summary>
    Tanh,
    /// <summary>GELU (tanh approximation).</summary>
    Gelu,
    /// <summary>x if x &gt; 0 else 0.01x.</summary>
    LeakyRelu,
}

/// <summary>Ground cost c between embeddings (learned-GW Eq. 4).</summary>
public enum GwCost
{
    /// <summary>c(z, z') = ‖z − z'‖².</summary>
    SqEuclidean,
    /// <summary>Cosine: embeddings are normalised to the unit sphere and c = ‖ẑ − ẑ'‖² = 2 − 2cos(z, z').</summary>
    Cosine,
}

/// <summary>Outer objective.</summary>
public enum GwLossKind
{
    /// <summary>Distance matching, Eq. 4 (GW loss of the plan).</summary>
    Distance,
    /// <summary>Rank matching, Eq. 6 (row-wise soft ranks).</summary>
    Rank,
}

/// <summary>How learned GW starts (<see cref="LearnedGwOptions.Init"/>).</summary>
public enum GwInit
{
    /// <summary>
    /// Solve GW first (<see cref="GwAligner"/>: exact conditional gradient from several starts, the lowest GW loss wins) and
    /// train f, g with the solution's matches as pseudo-pairs: robust, the default.
    /// </summary>
    Solver,
    /// <summary>The paper's training from randomly initialised MLPs only (no solver; restarts are the remedy for bad minima).</summary>
    None,
}

/// <summary>Per-domain preprocessing applied before the MLP (statistics are stored in the model).</summary>
public sealed record GwPreprocessing
{
    /// <summary>Divide each row by its L2 norm (SCOT's SNARE-seq preprocessing); a zero row is an error.</summary>
    public bool L2NormalizeRows { get; init; }
    /// <summary>Standardise each column to zero mean and unit variance with the training statistics; a constant column is an
    /// error. Off by default: it changes the distances differently per column, so an isometric pair stops being isometric.</summary>
    public bool Standardize { get; init; }
    /// <summary>
    /// Centre the columns and divide every value by one scale s = sqrt(mean_i ‖x_i − x̄‖²) (a similarity transform: distances
    /// keep their ratios, so an isometric pair stays isometric). The default; ignored when <see cref="Standardize"/> is set.
    /// </summary>
    public bool CenterScale { get; init; } = true;
}

/// <summary>
/// Options of learned GW training (<see cref="LearnedGw.Train"/>); names match the YAML keys of the gw configs.
/// ε is relative: each step solves Sinkhorn on C/c̄ with γ = ε, c̄ the mean of that step's cost matrix
/// (differentiated through), so neither the loss nor ε depends on the embeddings' scale.
/// </summary>
public sealed record LearnedGwOptions
{
    /// <summary>How training starts: <see cref="GwInit.Solver"/> (solve GW, then learn f, g from the solution; the default) or
    /// <see cref="GwInit.None"/> (the paper's training from random MLPs).</summary>
    public GwInit Init { get; init; } = GwInit.Solver;
    /// <summary>Settings of the GW solver stage (<see cref="GwInit.Solver"/>).</summary>
    public GwSolverOptions Solver { get; init; } = new();
    /// <summary>Linear layers per MLP (the paper: 3).</summary>
    public int Depth { get; init; } = 3;
    /// <summary>Hidden width.</summary>
    public int Hidden { get; init; } = 64;
    /// <summary>Embedding dimension d of the common space.</summary>
    public int EmbedDim { get; init; } = 16;
    /// <summary>Activation.</summary>
    public GwActivation Activation { get; init; } = GwActivation.Relu;
    /// <summary>
    /// A linear skip path in each MLP, f(x) = MLP(x) + W·x (the residual form of He et al. 2016). A linear relation —
    /// an isometry, a rotation of PCA coordinates — is then exact in the model's reach and generalises to new points; the
    /// MLP learns what is not linear. On by default; the paper's plain MLPs with false.
    /// </summary>
    public bool Skip { get; init; } = true;
    /// <summary>Ground cost between embeddings.</summary>
    public GwCost Cost { get; init; } = GwCost.Cosine;
    /// <summary>Outer loss (default: the GW distance loss, Eq. 4).</summary>
    public GwLossKind Loss { get; init; } = GwLossKind.Distance;
    /// <summary>Soft-rank δ of the rank loss (units of the max-normalised distances).</summary>
    public double RankDelta { get; init; } = 0.05;
    /// <summary>Distances D_X (default: Euclidean, divided by the maximum — no parameter, and exactly preserved by isometries).</summary>
    public DistanceOptions DistancesX { get; init; } = new() { Metric = DistanceMetric.Euclidean };
    /// <summary>Distances D_Y.</summary>
    public DistanceOptions DistancesY { get; init; } = new() { Metric = DistanceMetric.Euclidean };
    /// <summary>Preprocessing of X.</summary>
    public GwPreprocessing PreprocessX { get; init; } = new();
    /// <summary>Preprocessing of Y.</summary>
    public GwPreprocessing PreprocessY { get; init; } = new();
    /// <summary>Training steps.</summary>
    public int Steps { get; init; } = 300;
    /// <summary>Rows sampled from each domain per step (unpaired, without replacement); 0 = full batch. A domain with at most
    /// this many rows is used whole.</summary>
    public int BatchSize { get; init; } = 256;
    /// <summary>Adam learning rate.</summary>
    public double LearningRate { get; init; } = 3e-3;
    /// <summary>Global gradient-norm clip (null = none).</summary>
    public double? ClipNorm { get; init; } = 10;
    /// <summary>Initial relative ε of the annealing schedule ε_t = max(ε_min, ε_0·ρ^t) (§4, "simulated annealing of ε").</summary>
    public double EpsilonStart { get; init; } = 0.5;
    /// <summary>Floor ε_min (also the ε of inference). 0.05: with pseudo-pairs the embeddings become sharp, and below
    /// ε ≈ 0.05 each minibatch Sinkhorn needs thousands of iterations for no gain in the matches.</summary>
    public double EpsilonMin { get; init; } = 0.05;
    /// <summary>Decay ρ ∈ (0, 1]; 1 = no annealing (ε = max(ε_min, ε_0) throughout — set ε_0 = ε_min for a fixed ε_min).</summary>
    public double EpsilonDecay { get; init; } = 0.97;
    /// <summary>Weight λ_sm of the spectral regularisation E_sm (Eq. 5); 0 = off.</summary>
    public double SpectralWeight { get; init; }
    /// <summary>k of the kNN graphs whose Laplacians enter E_sm.</summary>
    public int SpectralK { get; init; } = 10;
    /// <summary>Weight of the semi-supervised known-pairs term (needs <see cref="KnownPairs"/>).</summary>
    public double SupervisedWeight { get; init; }
    /// <summary>Known correspondences (row of X, row of Y), or null.</summary>
    public IReadOnlyList<(int X, int Y)>? KnownPairs { get; init; }
    /// <summary>
    /// With known pairs and SupervisedWeight &gt; 0: each minibatch of Y holds the known partners of the minibatch of X
    /// (then random rows up to the batch size), so every known pair in the X batch reaches the supervised term. Off by
    /// default (X and Y batches are drawn independently, as the paper's unpaired minibatches).
    /// </summary>
    public bool PairedBatches { get; init; }
    /// <summary>Weight α of the fused term ⟨Π, M⟩ with M the squared distance between shared features (needs <see cref="FusedFeaturesX"/>, <see cref="FusedFeaturesY"/>).</summary>
    public double FusedWeight { get; init; }
    /// <summary>Shared attributes of X (n×p row-major), or null.</summary>
    public double[]? FusedFeaturesX { get; init; }
    /// <summary>Shared attributes of Y (m×p row-major), or null.</summary>
    public double[]? FusedFeaturesY { get; init; }
    /// <summary>Sinkhorn iteration cap per step (raised ×4 once if a solve does not converge).</summary>
    public int SinkhornMaxIter { get; init; } = 2000;
    /// <summary>Sinkhorn tolerance on the marginal error (L2; the marginals sum to 1).</summary>
    public double SinkhornTol { get; init; } = 1e-5;
    /// <summary>Seed of the initialisation and of the batches.</summary>
    public int Seed { get; init; }

    /// <summary>Relative ε at step t (0-based).</summary>
    public double EpsilonAt(int step) => Math.Max(EpsilonMin, EpsilonStart * Math.Pow(EpsilonDecay, step));

    internal void Validate()
    {
        Solver.Validate();
        static ArgumentException Bad(string key, object v, string expected) =>
            new(string.Create(CultureInfo.InvariantCulture, $"{key} = {v}; expected {expected}."), key);
        if (Depth < 1) throw Bad(nameof(Depth), Depth, "≥ 1");
        if (Hidden < 1) throw Bad(nameof(Hidden), Hidden, "≥ 1");
        if (EmbedDim < 1) throw Bad(nameof(EmbedDim), EmbedDim, "≥ 1");
        if (Steps < 0) throw Bad(nameof(Steps), Steps, "≥ 0");
        if (BatchSize < 0 || BatchSize == 1) throw Bad(nameof(BatchSize), BatchSize, "0 (full batch) or ≥ 2");
        if (!(LearningRate > 0)) throw Bad(nameof(LearningRate), LearningRate, "> 0");
        if (!(EpsilonStart > 0)) throw Bad(nameof(EpsilonStart), EpsilonStart, "> 0");
        if (!(EpsilonMin > 0)) throw Bad(nameof(EpsilonMin), EpsilonMin, "> 0");
        if (!(EpsilonDecay > 0 && EpsilonDecay <= 1)) throw Bad(nameof(EpsilonDecay), EpsilonDecay, "a value in (0, 1]");
        if (!(RankDelta > 0)) throw Bad(nameof(RankDelta), RankDelta, "> 0");
        if (!(SpectralWeight >= 0)) throw Bad(nameof(SpectralWeight), SpectralWeight, "≥ 0");
        if (SpectralWeight > 0 && SpectralK < 1) throw Bad(nameof(SpectralK), SpectralK, "≥ 1");
        if (!(SupervisedWeight >= 0)) throw Bad(nameof(SupervisedWeight), SupervisedWeight, "≥ 0");
        if (SupervisedWeight > 0 && (KnownPairs is null || KnownPairs.Count == 0)) throw Bad(nameof(KnownPairs), "none", "known pairs when SupervisedWeight > 0");
        if (!(FusedWeight >= 0)) throw Bad(nameof(FusedWeight), FusedWeight, "≥ 0");
        if (FusedWeight > 0 && (FusedFeaturesX is null || FusedFeaturesY is null)) throw Bad(nameof(FusedFeaturesX), "null", "shared features of both domains when FusedWeight > 0");
        if (SinkhornMaxIter < 1) throw Bad(nameof(SinkhornMaxIter), SinkhornMaxIter, "≥ 1");
        if (!(SinkhornTol > 0)) throw Bad(nameof(SinkhornTol), SinkhornTol, "> 0");
    }
}
