namespace Glass.Models.Glass;

// Options records of the GLASS experiments. Property names are the YAML keys of the reference
// implementation's schema (../shared/papers/001_…, "Minimal S² config" / "Minimal SBM graph config")
// in PascalCase; the runner's Config/ layer maps YAML onto them and validates ranges.

/// <summary>data: for S² point-set pairs (Y = R·X + noise, ground-truth correspondence kept).</summary>
public sealed record S2DataOptions
{
    /// <summary>n: points per set (≥ 2).</summary>
    public int N { get; init; } = 256;
    /// <summary>noise_deg: geodesic noise per point, degrees (≥ 0).</summary>
    public double NoiseDeg { get; init; } = 2.0;
    /// <summary>rotation: apply a random rotation R to the second set.</summary>
    public bool Rotation { get; init; } = true;
}

/// <summary>data: for stochastic-block-model graph pairs.</summary>
public sealed record SbmDataOptions
{
    /// <summary>n: nodes (≥ 2).</summary>
    public int N { get; init; } = 400;
    /// <summary>blocks: number of communities (1 ≤ blocks ≤ n).</summary>
    public int Blocks { get; init; } = 3;
    /// <summary>p_in: edge probability inside a block, in [0, 1].</summary>
    public double PIn { get; init; } = 0.15;
    /// <summary>p_out: edge probability across blocks, in [0, 1].</summary>
    public double POut { get; init; } = 0.02;
    /// <summary>rewire_prob: fraction of edges of the second graph rewired, in [0, 1].</summary>
    public double RewireProb { get; init; } = 0.03;
    /// <summary>planted_perm: relabel the second graph's nodes by a random permutation (kept as ground truth).</summary>
    public bool PlantedPerm { get; init; } = true;
}

/// <summary>Gate modes of Eq. 2.</summary>
public enum GateMode
{
    /// <summary>fixed: gate width from gate_c_per_sqrtk_deg, not tied to K (the baseline).</summary>
    Fixed,
    /// <summary>tie: gate width tied to capacity, c/√K degrees.</summary>
    Tie,
    /// <summary>learn: gate width is a learned parameter (initialised as tie).</summary>
    Learn,
}

/// <summary>model.manifold: the gated log-map projection of Eq. 2.</summary>
public sealed record ManifoldProjectionOptions
{
    /// <summary>K: anchors (≥ 1).</summary>
    public int K { get; init; } = 8;
    /// <summary>chart_radius_deg: chart radius in degrees, in (0, 180).</summary>
    public double ChartRadiusDeg { get; init; } = 20.0;
    /// <summary>gate_mode: fixed | tie | learn.</summary>
    public GateMode GateMode { get; init; } = GateMode.Tie;
    /// <summary>gate_c_per_sqrtk_deg: gate width constant c (degrees), width = c/√K when tied (&gt; 0).</summary>
    public double GateCPerSqrtkDeg { get; init; } = 45.0;
    /// <summary>init_u_scale: scale of the initial tangent directions u_k (&gt; 0).</summary>
    public double InitUScale { get; init; } = 0.2;
    /// <summary>
    /// learn_rotation: train a rotation backbone R_θ on the second set (Y' = R_θ·Y, <see cref="RotationInit"/>
    /// initialisation, refined by L_geo's gradient; GLASS §5, Eq. 6). Default false: the reference
    /// implementation (and so the paper's tables) has no backbone. Used by the S² experiment, not by
    /// <see cref="GlassLayer"/> itself.
    /// </summary>
    public bool LearnRotation { get; init; }
    /// <summary>rotation_init: moments | identity — initial R₀ of the rotation backbone (when learn_rotation).</summary>
    public RotationInit RotationInit { get; init; } = RotationInit.Moments;
    /// <summary>
    /// rotation_lr: step of the rotation backbone, radians per Adam step (&gt; 0; train.lr applies to the layer).
    /// Kept small: while γ is large the blurred plan's loss is not minimised at the true rotation, and a large
    /// step walks away from a good initialisation before the plan sharpens.
    /// </summary>
    public double RotationLr { get; init; } = 1e-3;
    /// <summary>chart: clamp | mask — what happens to a point outside an anchor's chart radius (see <see cref="ChartMode"/>).</summary>
    public ChartMode Chart { get; init; } = ChartMode.Clamp;
}

/// <summary>Readings of "anchors within injectivity radius" / the chart radius of GLASS Eq. 2 (model.manifold.chart).</summary>
public enum ChartMode
{
    /// <summary>clamp: the log map's norm is clamped to the chart radius R (direction kept; the default).</summary>
    Clamp,
    /// <summary>mask: an anchor contributes nothing (its term of Eq. 2 is zero) at points farther than R from it.</summary>
    Mask,
}

/// <summary>How the node features ψ_τ of GLASS Eq. 3 are built (model.graph.features).</summary>
public enum GraphFeatureMode
{
    /// <summary>structural: heat-kernel diffusion of 8 structural node signals, randomly projected to feat_dim (the default).</summary>
    Structural,
    /// <summary>spectral: the heat-kernel spectral embedding ψ_τ(v) = (e^{−τλ_ℓ} u_ℓ(v))_{ℓ=1..p} of the paper's Eq. 3.</summary>
    Spectral,
    /// <summary>probes: heat-kernel diffusion e^{−τL} of feat_dim random ±1 probe vectors (seeded; the same probes on both graphs).</summary>
    Probes,
}

/// <summary>model.graph: the projection of Eq. 3 on Chebyshev diffusion features ψ_τ.</summary>
public sealed record GraphProjectionOptions
{
    /// <summary>tau: diffusion time τ (&gt; 0).</summary>
    public double Tau { get; init; } = 0.5;
    /// <summary>cheby_degree: Chebyshev polynomial degree q (≥ 1).</summary>
    public int ChebyDegree { get; init; } = 12;
    /// <summary>feat_dim: feature dimension p (≥ 1).</summary>
    public int FeatDim { get; init; } = 32;
    /// <summary>features: structural | spectral | probes (see <see cref="GraphFeatureMode"/>).</summary>
    public GraphFeatureMode Features { get; init; } = GraphFeatureMode.Structural;
}

/// <summary>ot: the inner entropic 1-D OT.</summary>
public sealed record OtOptions
{
    /// <summary>use_banded: banded (CSR) Sinkhorn, else dense.</summary>
    public bool UseBanded { get; init; } = true;
    /// <summary>band_eps: kernel truncation ε of the band, r = sqrt(−γ log ε), in (0, 1).</summary>
    public double BandEps { get; init; } = 1e-6;
    /// <summary>gamma: initial entropic regularisation γ₀ (&gt; 0).</summary>
    public double Gamma { get; init; } = 0.05;
    /// <summary>max_iter: Sinkhorn iteration cap (≥ 1).</summary>
    public int MaxIter { get; init; } = 200;
    /// <summary>tol: marginal-error tolerance (&gt; 0).</summary>
    public double Tol { get; init; } = 1e-6;
    /// <summary>rank_cap: at most this many columns per row of the band, around the rank diagonal (0 = no cap; Glass's extension, not in the reference schema). Makes nnz ≤ n·rank_cap when the scores are too tight for the ε band to be narrow.</summary>
    public int RankCap { get; init; }
}

/// <summary>train: optimisation and γ annealing γ_t = max(γ_min, γ₀·decay^t).</summary>
public sealed record TrainOptions
{
    /// <summary>lr: Adam learning rate (&gt; 0).</summary>
    public double Lr { get; init; } = 1e-3;
    /// <summary>steps: training steps (≥ 1).</summary>
    public int Steps { get; init; } = 400;
    /// <summary>slices: independent projections averaged (≥ 1).</summary>
    public int Slices { get; init; } = 2;
    /// <summary>anneal_gamma: apply the γ schedule.</summary>
    public bool AnnealGamma { get; init; } = true;
    /// <summary>gamma_decay: per-step decay, in (0, 1].</summary>
    public double GammaDecay { get; init; } = 0.98;
    /// <summary>gamma_min: floor γ_min (&gt; 0).</summary>
    public double GammaMin { get; init; } = 0.01;
    /// <summary>seed: seeds data generation and initialisation.</summary>
    public int Seed { get; init; }
    /// <summary>
    /// gamma_backoff: when a step's Sinkhorn solve (any slice) stops at max_iter, redo the step's forward at
    /// 2γ (up to γ₀) and keep that γ as a floor for the next steps (the floor decays by gamma_decay per step), so
    /// training never rests on an unconverged plan while γ can still be raised (Glass's extension; default true). False: the reference
    /// behaviour (last iterate used, the step counted as unconverged).
    /// </summary>
    public bool GammaBackoff { get; init; } = true;
    /// <summary>
    /// gamma_backoff_max: the back-off raises γ up to gamma_backoff_max·γ₀ (≥ 1; default 1: never above γ₀, the
    /// configured regularisation). Above 1, a step whose solve does not converge even at γ₀ is redone at a γ beyond the
    /// configured one — a blurrier plan the gradient is then exact for, instead of an unconverged plan at γ₀.
    /// </summary>
    public double GammaBackoffMax { get; init; } = 1;
    /// <summary>
    /// warm_start: start each slice's Sinkhorn solve from that slice's potentials (f, g) of the previous solve (the
    /// previous step, or the discarded attempt of a back-off) instead of zeros (Glass's extension; default true). The
    /// plan converged to is the same; the solve starts nearer to it, so fewer steps stop at max_iter. The potentials are
    /// kept in the checkpoint, so a resumed run continues bit for bit.
    /// </summary>
    public bool WarmStart { get; init; } = true;
    /// <summary>
    /// stop_rel_change: stop before train.steps once |L̄_prev − L̄_last| ≤ stop_rel_change·|L̄_prev|, L̄ the mean loss
    /// over two consecutive windows of stop_window steps (≥ 0; 0 = run all steps).
    /// </summary>
    public double StopRelChange { get; init; }
    /// <summary>stop_window: window of the stopping rule, in steps (≥ 1).</summary>
    public int StopWindow { get; init; } = 50;
}

/// <summary>A whole GLASS experiment: exactly one of (S2 + Manifold) or (Sbm + Graph) is set.</summary>
public sealed record GlassExperimentOptions
{
    /// <summary>exp_name.</summary>
    public string ExpName { get; init; } = "glass";
    /// <summary>data: for the manifold experiment.</summary>
    public S2DataOptions? S2 { get; init; }
    /// <summary>data: for the graph experiment.</summary>
    public SbmDataOptions? Sbm { get; init; }
    /// <summary>model.manifold.</summary>
    public ManifoldProjectionOptions? Manifold { get; init; }
    /// <summary>model.graph.</summary>
    public GraphProjectionOptions? Graph { get; init; }
    /// <summary>ot.</summary>
    public OtOptions Ot { get; init; } = new();
    /// <summary>train.</summary>
    public TrainOptions Train { get; init; } = new();
}
