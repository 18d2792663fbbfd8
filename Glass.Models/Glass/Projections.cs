using Glass.Autodiff;
using Glass.Autodiff.Ops;
using Glass.Autodiff.Optim;

namespace Glass.Models.Glass;

/// <summary>One learned 1-D projection φ(·; θ) of GLASS (one slice): Eq. 2 on S² or Eq. 3 on features.</summary>
internal interface IProjection
{
    /// <summary>The slice's trainable parameters.</summary>
    IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>Scores φ(x_i), n×1, for the rows of <paramref name="x"/> (parameters put on x's tape).</summary>
    Var Scores(Var x, IReadOnlyDictionary<Parameter, Var> onTape);
}

/// <summary>
/// The gated manifold projection of GLASS Eq. 2 on S²:
/// φ(x) = Σ_k α_k w_k(x) ⟨u_k, Log_{a_k}(x)⟩_R, α = softmax(ℓ) ∈ Δ_K,
/// w(x) = softmax_k(−d(a_k, x)²/(2σ²)) (w_k ≥ 0, Σ_k w_k = 1),
/// ⟨u_k, Log_{a_k}(x)⟩_R = min(θ, R)/sin θ · ⟨ũ_k, x⟩, θ = d(a_k, x), ũ_k = u_k − ⟨u_k, a_k⟩a_k,
/// a_k = â_k/‖â_k‖. The log map is clamped to the chart radius R (its norm is min(θ, R)): points outside an
/// anchor's chart keep the direction of their log map but not its growth, and the antipodal singularity of
/// Log is never reached (chart: clamp, the default). With chart: mask, the term of anchor k is 0 at points farther
/// than R from a_k (a point outside every chart scores 0). Gate width σ: fixed → c; tie → c/√K; learn → exp(log σ) learned, initialised c/√K.
/// Parameters: anchors â (K×3), directions u (K×3), weights ℓ (1×K), and log σ (1×1) in learn mode.
/// </summary>
internal sealed class ManifoldProjection : IProjection
{
    private readonly Parameter _anchors, _u, _alpha;
    private readonly Parameter? _logSigma;
    private readonly double _sigma, _radius;
    private readonly bool _mask;

    public ManifoldProjection(ManifoldProjectionOptions o, string prefix, int seed)
    {
        int k = o.K;
        var rng = new Random(seed);
        var a = new double[k * 3];
        var u = new double[k * 3];
        for (int i = 0; i < k; i++)
        {
            double nx, ny, nz, r;
            do { nx = Gauss(rng); ny = Gauss(rng); nz = Gauss(rng); r = Math.Sqrt(nx * nx + ny * ny + nz * nz); } while (r < 1e-8);
            a[3 * i] = nx / r; a[3 * i + 1] = ny / r; a[3 * i + 2] = nz / r;
            for (int q = 0; q < 3; q++) u[3 * i + q] = o.InitUScale * Gauss(rng);
        }
        _anchors = new Parameter(prefix + "anchors", a, k, 3);
        _u = new Parameter(prefix + "u", u, k, 3);
        _alpha = Parameter.Zeros(prefix + "alpha_logits", 1, k);
        double cRad = o.GateCPerSqrtkDeg * Math.PI / 180;
        _sigma = o.GateMode == GateMode.Fixed ? cRad : cRad / Math.Sqrt(k);
        _radius = o.ChartRadiusDeg * Math.PI / 180;
        _mask = o.Chart == ChartMode.Mask;
        if (o.GateMode == GateMode.Learn) _logSigma = new Parameter(prefix + "log_sigma", new[] { Math.Log(_sigma) }, 1, 1);
        Parameters = _logSigma is null ? new[] { _anchors, _u, _alpha } : new[] { _anchors, _u, _alpha, _logSigma };
    }

    public IReadOnlyList<Parameter> Parameters { get; }

    public Var Scores(Var x, IReadOnlyDictionary<Parameter, Var> p)
    {
        var a = StructOp.NormalizeRows(p[_anchors]);                       // K×3 on S²
        var u = p[_u];
        var ut = Op.Sub(u, Op.Mul(Op.Sum(Op.Mul(u, a), 1), a));            // ũ_k = u_k − ⟨u_k, a_k⟩a_k (K×3)
        var c = Op.MatMul(x, Op.Transpose(a));                             // cos θ_ik, n×K
        var proj = Op.Mul(GlassOps.LogMapScale(c, _radius, _mask), Op.MatMul(x, Op.Transpose(ut))); // ⟨u_k, Log_{a_k}(x_i)⟩_R
        Var logits = _logSigma is null
            ? Op.Scale(GlassOps.ArccosSquared(c), -0.5 / (_sigma * _sigma))
            : Op.Mul(GlassOps.ArccosSquared(c), Op.Scale(Op.Exp(Op.Scale(p[_logSigma], -2)), -0.5));
        var w = Op.SoftmaxRows(logits);                                    // gates, n×K, rows on the simplex
        var alpha = Op.SoftmaxRows(p[_alpha]);                             // 1×K on Δ_K
        return Op.Sum(Op.Mul(Op.Mul(proj, w), alpha), 1);                  // n×1
    }

    private static double Gauss(Random r) => Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());
}

/// <summary>
/// The linear projection of GLASS Eq. 3 on features: φ(v) = ⟨w, ψ(v)⟩, w ∈ ℝ^p (p×1, Glorot-initialised).
/// </summary>
internal sealed class LinearProjection : IProjection
{
    private readonly Parameter _w;

    public LinearProjection(int featDim, string prefix, int seed)
    {
        _w = Parameter.Glorot(prefix + "w", featDim, 1, seed);
        Parameters = new[] { _w };
    }

    public IReadOnlyList<Parameter> Parameters { get; }

    public Var Scores(Var x, IReadOnlyDictionary<Parameter, Var> p)
    {
        if (x.Cols != _w.Rows) throw new ArgumentException($"Features are {x.Shape}; this GLASS layer was built for feat_dim = {_w.Rows} columns.", nameof(x));
        return Op.MatMul(x, p[_w]);
    }
}
