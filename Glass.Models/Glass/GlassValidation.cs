using System.Globalization;

namespace Glass.Models.Glass;

/// <summary>Range checks of the GLASS options; messages name the YAML key, the value and the expected range.</summary>
internal static class GlassValidation
{
    private static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    private static void Require(bool ok, string key, string value, string expected)
    {
        if (!ok) throw new ArgumentException($"{key} = {value}; expected {expected}.", key);
    }

    public static void Check(ManifoldProjectionOptions o)
    {
        Require(o.K >= 1, "model.manifold.K", o.K.ToString(CultureInfo.InvariantCulture), "an integer ≥ 1");
        Require(o.ChartRadiusDeg > 0 && o.ChartRadiusDeg < 180, "model.manifold.chart_radius_deg", F(o.ChartRadiusDeg), "a value in (0, 180)");
        Require(o.GateCPerSqrtkDeg > 0 && double.IsFinite(o.GateCPerSqrtkDeg), "model.manifold.gate_c_per_sqrtk_deg", F(o.GateCPerSqrtkDeg), "a finite value > 0");
        Require(o.InitUScale > 0 && double.IsFinite(o.InitUScale), "model.manifold.init_u_scale", F(o.InitUScale), "a finite value > 0");
        Require(Enum.IsDefined(o.GateMode), "model.manifold.gate_mode", o.GateMode.ToString(), "fixed | tie | learn");
        Require(o.RotationLr > 0 && double.IsFinite(o.RotationLr), "model.manifold.rotation_lr", F(o.RotationLr), "a finite value > 0");
        Require(Enum.IsDefined(o.RotationInit), "model.manifold.rotation_init", o.RotationInit.ToString(), "moments | identity");
        Require(Enum.IsDefined(o.Chart), "model.manifold.chart", o.Chart.ToString(), "clamp | mask");
    }

    public static void Check(GraphProjectionOptions o)
    {
        Require(o.Tau > 0 && double.IsFinite(o.Tau), "model.graph.tau", F(o.Tau), "a finite value > 0");
        Require(o.ChebyDegree >= 1, "model.graph.cheby_degree", o.ChebyDegree.ToString(CultureInfo.InvariantCulture), "an integer ≥ 1");
        Require(o.FeatDim >= 1, "model.graph.feat_dim", o.FeatDim.ToString(CultureInfo.InvariantCulture), "an integer ≥ 1");
        Require(Enum.IsDefined(o.Features), "model.graph.features", o.Features.ToString(), "structural | spectral | probes");
    }

    public static void Check(OtOptions o)
    {
        Require(o.BandEps > 0 && o.BandEps < 1, "ot.band_eps", F(o.BandEps), "a value in (0, 1)");
        Require(o.Gamma > 0 && double.IsFinite(o.Gamma), "ot.gamma", F(o.Gamma), "a finite value > 0");
        Require(o.MaxIter >= 1, "ot.max_iter", o.MaxIter.ToString(CultureInfo.InvariantCulture), "an integer ≥ 1");
        Require(o.Tol > 0 && double.IsFinite(o.Tol), "ot.tol", F(o.Tol), "a finite value > 0");
        Require(o.RankCap >= 0, "ot.rank_cap", o.RankCap.ToString(CultureInfo.InvariantCulture), "an integer ≥ 0 (0 = no cap)");
    }

    public static void Check(TrainOptions o)
    {
        Require(o.Lr > 0 && double.IsFinite(o.Lr), "train.lr", F(o.Lr), "a finite value > 0");
        Require(o.Steps >= 1, "train.steps", o.Steps.ToString(CultureInfo.InvariantCulture), "an integer ≥ 1");
        Slices(o.Slices);
        Require(o.GammaDecay > 0 && o.GammaDecay <= 1, "train.gamma_decay", F(o.GammaDecay), "a value in (0, 1]");
        Require(o.GammaMin > 0 && double.IsFinite(o.GammaMin), "train.gamma_min", F(o.GammaMin), "a finite value > 0");
        Require(o.StopRelChange >= 0 && double.IsFinite(o.StopRelChange), "train.stop_rel_change", F(o.StopRelChange), "a finite value ≥ 0 (0 = off)");
        Require(o.GammaBackoffMax >= 1 && o.GammaBackoffMax <= 1e6, "train.gamma_backoff_max", F(o.GammaBackoffMax), "a value in [1, 1e6] (a multiple of ot.gamma)");
        Require(o.StopWindow >= 1, "train.stop_window", o.StopWindow.ToString(CultureInfo.InvariantCulture), "an integer ≥ 1");
    }

    public static void Slices(int slices) =>
        Require(slices >= 1, "train.slices", slices.ToString(CultureInfo.InvariantCulture), "an integer ≥ 1");

    public static void Check(S2DataOptions o)
    {
        Require(o.N >= 2, "data.n", o.N.ToString(CultureInfo.InvariantCulture), "an integer ≥ 2");
        Require(o.NoiseDeg >= 0 && double.IsFinite(o.NoiseDeg), "data.noise_deg", F(o.NoiseDeg), "a finite value ≥ 0");
    }

    public static void Check(SbmDataOptions o)
    {
        Require(o.N >= 2, "data.n", o.N.ToString(CultureInfo.InvariantCulture), "an integer ≥ 2");
        Require(o.Blocks >= 1 && o.Blocks <= o.N, "data.blocks", o.Blocks.ToString(CultureInfo.InvariantCulture), $"an integer in [1, n = {o.N}]");
        Require(o.PIn >= 0 && o.PIn <= 1, "data.p_in", F(o.PIn), "a probability in [0, 1]");
        Require(o.POut >= 0 && o.POut <= 1, "data.p_out", F(o.POut), "a probability in [0, 1]");
        Require(o.RewireProb >= 0 && o.RewireProb <= 1, "data.rewire_prob", F(o.RewireProb), "a probability in [0, 1]");
    }
}
