using System.Globalization;
using Glass.Autodiff;
using Glass.Autodiff.Ops;
using Glass.Autodiff.Optim;
using Glass.Kernels.Device;
using Glass.Kernels.Linalg;
using Glass.Kernels.Sinkhorn;

namespace Glass.Models.Glass;

/// <summary>Which geometry a <see cref="GlassLayer"/> aligns.</summary>
public enum GlassGeometry
{
    /// <summary>Points on S² (n×3): gated log-map projection (Eq. 2), geodesic lifted loss L_geo (Eq. 4).</summary>
    Sphere,
    /// <summary>Feature vectors ψ(v) ∈ ℝ^p (n×p, e.g. diffusion features): linear projection (Eq. 3), lifted loss L_spec (Eq. 5).</summary>
    Features,
}

/// <summary>
/// γ annealing of GLASS §5: γ_t = max(γ_min, γ₀·decay^t) (γ_t = γ₀ when not annealed); the band radius
/// follows, r_t = sqrt(−γ_t log ε).
/// </summary>
/// <param name="Gamma0">γ₀ &gt; 0 (ot.gamma).</param>
/// <param name="Decay">decay ∈ (0, 1] (train.gamma_decay).</param>
/// <param name="GammaMin">γ_min &gt; 0 (train.gamma_min).</param>
/// <param name="Anneal">Apply the schedule (train.anneal_gamma).</param>
public sealed record GammaSchedule(double Gamma0, double Decay, double GammaMin, bool Anneal = true)
{
    /// <summary>γ_t for step t ≥ 0 (0-based).</summary>
    public double At(int step) => Anneal ? Math.Max(GammaMin, Gamma0 * Math.Pow(Decay, step)) : Gamma0;

    /// <summary>The band radius r_t = sqrt(−γ_t log ε) for truncation ε (band_eps).</summary>
    public double BandRadius(int step, double bandEps) => Math.Sqrt(-At(step) * Math.Log(bandEps));

    /// <summary>The schedule of a GLASS experiment's ot/train sections.</summary>
    public static GammaSchedule From(OtOptions ot, TrainOptions train)
    {
        ArgumentNullException.ThrowIfNull(ot);
        ArgumentNullException.ThrowIfNull(train);
        return new GammaSchedule(ot.Gamma, train.GammaDecay, train.GammaMin, train.AnnealGamma);
    }
}

/// <summary>
/// The coupling a <see cref="GlassLayer"/> returns: P̄ = (1/S) Σ_s P^{(s)}, the mean of the slices' plans
/// (a coupling of the uniform marginals, Σ P̄ = 1), in CSR form (n×m, O(nnz)), with diagnostics.
/// </summary>
/// <param name="Plan">P̄, n×m CSR; row i ↔ x_i, column j ↔ y_j; the union of the slices' bands.</param>
/// <param name="Entropy">H(P̄) = −Σ P̄_ij log P̄_ij.</param>
/// <param name="Gamma">γ the plans were solved with.</param>
/// <param name="BandRadius">Nominal band radius r = sqrt(−γ log ε) in score space; 0 for dense plans.</param>
/// <param name="SinkhornIterations">Sinkhorn iterations summed over the slices.</param>
/// <param name="Converged">Every slice's solve met tol within max_iter.</param>
/// <param name="UnconvergedSlices">Slices whose solve stopped at max_iter (their last iterate was used).</param>
/// <param name="MaxMarginalError">Largest final marginal error sqrt(‖P1 − a‖² + ‖Pᵀ1 − b‖²) over the slices.</param>
public sealed record GlassCoupling(CsrMatrix Plan, double Entropy, double Gamma, double BandRadius, int SinkhornIterations,
    bool Converged, int UnconvergedSlices, double MaxMarginalError)
{
    /// <summary>Stored entries of <see cref="Plan"/>.</summary>
    public int Nnz => Plan.Nnz;

    /// <summary>Hard match of each row: argmax_j P̄_ij (first on ties; −1 for an empty row).</summary>
    public int[] HardMatch()
    {
        var p = Plan;
        var r = new int[p.Rows];
        for (int i = 0; i < p.Rows; i++)
        {
            int best = -1; double bv = double.NegativeInfinity;
            for (int k = p.RowPtr[i]; k < p.RowPtr[i + 1]; k++)
                if (p.Values[k] > bv) { bv = p.Values[k]; best = p.ColIdx[k]; }
            r[i] = best;
        }
        return r;
    }

    /// <summary>perm_acc: the fraction of rows i with argmax_j P̄_ij = π(i) for the ground truth π (length n).</summary>
    /// <exception cref="ArgumentException">π has the wrong length.</exception>
    public double PermutationAccuracy(IReadOnlyList<int> groundTruth)
    {
        ArgumentNullException.ThrowIfNull(groundTruth);
        if (groundTruth.Count != Plan.Rows)
            throw new ArgumentException($"groundTruth has length {groundTruth.Count}; expected one target per row ({Plan.Rows}).", nameof(groundTruth));
        var m = HardMatch();
        int ok = 0;
        for (int i = 0; i < m.Length; i++) if (m[i] == groundTruth[i]) ok++;
        return (double)ok / m.Length;
    }
}

/// <summary>What <see cref="GlassLayer.Forward"/> returns: (L, P̄) of GLASS Eq. 6.</summary>
/// <param name="Loss">The lifted loss (1×1 on the inputs' tape): L = (1/S) Σ_s ⟨P^{(s)}, D⟩, D = d² (Eq. 4) or ‖ψ_i − ψ_j‖² (Eq. 5) on the plan's support.</param>
/// <param name="Coupling">The mean plan P̄ and diagnostics.</param>
/// <param name="SliceLosses">⟨P^{(s)}, D⟩ per slice.</param>
/// <param name="Potentials">Each slice's final Sinkhorn potentials (f, g), callers' order: the next call's warm start.</param>
public sealed record GlassOutput(Var Loss, GlassCoupling Coupling, IReadOnlyList<double> SliceLosses, IReadOnlyList<SlicePotentials> Potentials);

/// <summary>
/// The GLASS layer (Geometric Learned Alignment via Soft Slices, paper 000 §4–5) as a differentiable head:
/// <c>(L, P̄) = GLASS(X, Y; θ)</c>. Each of S slices learns a 1-D projection φ_s (Eq. 2 on S², Eq. 3 on
/// features), solves entropic 1-D OT between s = φ_s(X) and t = φ_s(Y) (banded, O(nnz), or dense;
/// implicit gradients), and lifts its plan to the ambient cost on the plan's support only:
/// L = (1/S) Σ_s Σ_{(i,j) ∈ supp P^{(s)}} P^{(s)}_ij D_ij with D_ij = d(x_i, y_j)² (Eq. 4) or
/// ‖ψ_i − ψ_j‖² (Eq. 5); P has marginals 1/n and 1/m, so L = E_P[D] (the reference code's ⟨P, D⟩;
/// Eq. 4's extra 1/n is a constant factor). Gradients flow to θ (<see cref="Parameters"/>) and to X and Y,
/// through both D and the plan (∂L/∂θ = Σ ∂P_ij/∂θ·D_ij + P_ij·∂D_ij/∂θ, §5).
/// </summary>
/// <remarks>
/// Sphere inputs are projected onto S² row-wise (x/‖x‖, so the gradient to X is tangent to the sphere).
/// Per call: O(nK) (sphere) or O(np) (features) for the projections, O(nnz) per Sinkhorn iteration, and
/// O(nnz·d) for the lifted cost; nothing n×m is formed when banded. Managed CPU tape (double); the
/// Sinkhorn forward runs on <see cref="Device"/>.
/// </remarks>
public sealed class GlassLayer
{
    private readonly IProjection[] _slices;
    private readonly Parameter[] _params;
    private Tape? _lastTape;
    private Dictionary<Parameter, Var>? _onTape;

    private GlassLayer(GlassGeometry geometry, IProjection[] slices, OtOptions ot, int inputDim)
    {
        Geometry = geometry; _slices = slices; Ot = ot; Gamma = ot.Gamma; InputDim = inputDim;
        _params = slices.SelectMany(s => s.Parameters).ToArray();
    }

    /// <summary>A layer for point sets on S² (Eq. 2, 4) with <paramref name="slices"/> independent gated projections.</summary>
    /// <param name="projection">K, chart radius, gate mode and width, init scale of u.</param>
    /// <param name="ot">use_banded, band_eps, gamma (initial <see cref="Gamma"/>), max_iter, tol (null = defaults).</param>
    /// <param name="slices">S ≥ 1.</param>
    /// <param name="seed">Seeds the initial anchors and directions (slice s uses seed·1000 + s).</param>
    /// <exception cref="ArgumentException">An option out of range; the message names it.</exception>
    public static GlassLayer ForSphere(ManifoldProjectionOptions projection, OtOptions? ot = null, int slices = 1, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(projection);
        ot ??= new OtOptions();
        GlassValidation.Check(projection);
        GlassValidation.Check(ot);
        GlassValidation.Slices(slices);
        var p = Enumerable.Range(0, slices).Select(s => (IProjection)new ManifoldProjection(projection, Prefix(s), unchecked(seed * 1000 + s))).ToArray();
        return new GlassLayer(GlassGeometry.Sphere, p, ot, 3);
    }

    /// <summary>A layer for feature sets ψ ∈ ℝ^{n×p} (Eq. 3, 5), e.g. the diffusion features of <see cref="Data.GraphFeatures"/>.</summary>
    /// <param name="featDim">p ≥ 1 (columns of X and Y).</param>
    /// <param name="ot">OT options (null = defaults).</param>
    /// <param name="slices">S ≥ 1.</param>
    /// <param name="seed">Seeds w (Glorot; slice s uses seed·1000 + s).</param>
    /// <exception cref="ArgumentException">An option out of range; the message names it.</exception>
    public static GlassLayer ForFeatures(int featDim, OtOptions? ot = null, int slices = 1, int seed = 0)
    {
        if (featDim < 1) throw new ArgumentException($"featDim = {featDim}; expected ≥ 1.", nameof(featDim));
        ot ??= new OtOptions();
        GlassValidation.Check(ot);
        GlassValidation.Slices(slices);
        var p = Enumerable.Range(0, slices).Select(s => (IProjection)new LinearProjection(featDim, Prefix(s), unchecked(seed * 1000 + s))).ToArray();
        return new GlassLayer(GlassGeometry.Features, p, ot, featDim);
    }

    private static string Prefix(int s) => "slice" + s.ToString(CultureInfo.InvariantCulture) + ".";

    /// <summary>Sphere or features.</summary>
    public GlassGeometry Geometry { get; }
    /// <summary>Columns expected of X and Y: 3 on S², p for features.</summary>
    public int InputDim { get; }
    /// <summary>Number of slices S.</summary>
    public int Slices => _slices.Length;
    /// <summary>The OT options (band_eps, max_iter, tol, use_banded; gamma is the initial <see cref="Gamma"/>).</summary>
    public OtOptions Ot { get; }
    /// <summary>Current γ of the 1-D OT; set it each step from a <see cref="GammaSchedule"/> to anneal.</summary>
    public double Gamma { get; set; }
    /// <summary>What to do when a Sinkhorn solve stops at max_iter (default: use the last iterate and flag it).</summary>
    public NonConvergencePolicy NonConvergence { get; set; } = NonConvergencePolicy.UseLastIterate;
    /// <summary>Where the Sinkhorn forward runs (default: managed CPU).</summary>
    public ComputeDevice Device { get; set; } = ComputeDevice.Cpu;
    /// <summary>Trainable parameters θ_head of every slice (names "slice{s}.anchors", "slice{s}.u", "slice{s}.alpha_logits", "slice{s}.log_sigma" or "slice{s}.w").</summary>
    public IReadOnlyList<Parameter> Parameters => _params;

    /// <summary>
    /// (L, P̄) = GLASS(X, Y; θ): X n×d and Y m×d on one tape (d = 3 on S², p for features). Gradients of L
    /// reach θ and X, Y (when they require gradients). See the class summary for the maths.
    /// </summary>
    /// <param name="x">X, n×d.</param>
    /// <param name="y">Y, m×d.</param>
    /// <param name="warmStart">
    /// Per slice, the potentials to start its Sinkhorn solve from (e.g. <see cref="GlassOutput.Potentials"/> of the previous
    /// training step; a null entry = cold start for that slice); null = every slice cold. The plans do not depend on it
    /// (to the solver's tolerance), only the iteration counts.
    /// </param>
    /// <exception cref="ArgumentException">Wrong column count or fewer than one row, or a warm start of the wrong slice count or lengths; the message names the input.</exception>
    /// <exception cref="InvalidOperationException">A solve did not converge and <see cref="NonConvergence"/> is Throw.</exception>
    public GlassOutput Forward(Var x, Var y, IReadOnlyList<SlicePotentials?>? warmStart = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (!ReferenceEquals(x.Tape, y.Tape)) throw new InvalidOperationException("GlassLayer.Forward: X and Y were recorded on different tapes.");
        if (x.Cols != InputDim) throw new ArgumentException($"X is {x.Shape}; expected {InputDim} columns ({Geometry}).", nameof(x));
        if (y.Cols != InputDim) throw new ArgumentException($"Y is {y.Shape}; expected {InputDim} columns ({Geometry}).", nameof(y));
        if (!(Gamma > 0) || !double.IsFinite(Gamma)) throw new InvalidOperationException($"Gamma = {Gamma.ToString(CultureInfo.InvariantCulture)}; expected a finite value > 0.");
        CheckWarmStart(warmStart, x.Rows, y.Rows);
        var p = OnTape(x.Tape);
        if (Geometry == GlassGeometry.Sphere) { x = StructOp.NormalizeRows(x); y = StructOp.NormalizeRows(y); }
        int n = x.Rows, m = y.Rows, S = _slices.Length;
        Var? total = null;
        var sliceLoss = new double[S];
        var plans = new CsrMatrix[S];
        var potentials = new SlicePotentials[S];
        int iters = 0, unconverged = 0;
        double maxErr = 0, radius = 0;
        for (int sl = 0; sl < S; sl++)
        {
            var r = SolveSlice(sl, x, y, p, warmStart?[sl]);
            plans[sl] = r.Plan;
            potentials[sl] = r.Potentials;
            iters += r.Iterations;
            if (!r.Converged) unconverged++;
            maxErr = Math.Max(maxErr, r.MarginalError);
            radius = r.Radius;
            sliceLoss[sl] = r.Loss.Scalar;
            total = total is null ? r.Loss : Op.Add(total, r.Loss);
        }
        var mean = S == 1 ? total! : Op.Scale(total!, 1.0 / S);
        var avg = S == 1 ? plans[0] : Average(plans, n, m);
        double h = 0;
        foreach (var v in avg.Values) if (v > 0) h -= v * Math.Log(v);
        var coupling = new GlassCoupling(avg, h, Gamma, radius, iters, unconverged == 0, unconverged, maxErr);
        return new GlassOutput(mean, coupling, sliceLoss, potentials);
    }

    private void CheckWarmStart(IReadOnlyList<SlicePotentials?>? warm, int n, int m)
    {
        if (warm is null) return;
        if (warm.Count != _slices.Length)
            throw new ArgumentException($"warmStart has {warm.Count} entries; expected one per slice ({_slices.Length}).", "warmStart");
        for (int sl = 0; sl < warm.Count; sl++)
            if (warm[sl] is { } w && (w.F.Length != n || w.G.Length != m))
                throw new ArgumentException($"warmStart[{sl}] has potentials of lengths {w.F.Length} and {w.G.Length}; expected n = {n} and m = {m}.", "warmStart");
    }

    private readonly record struct SliceSolve(Var Loss, CsrMatrix Plan, SlicePotentials Potentials, int Iterations, bool Converged,
        double MarginalError, double Radius);

    // One slice: scores, the 1-D plan (banded or dense, warm-started when given) and the lifted loss on its support.
    private SliceSolve SolveSlice(int sl, Var x, Var y, Dictionary<Parameter, Var> p, SlicePotentials? warm)
    {
        var metric = Geometry == GlassGeometry.Sphere ? PairMetric.GeodesicSquared : PairMetric.SquaredEuclidean;
        var so = new SinkhornOptions { Gamma = Gamma, MaxIter = Ot.MaxIter, Tol = Ot.Tol };
        var s = _slices[sl].Scores(x, p);
        var t = _slices[sl].Scores(y, p);
        int n = x.Rows, m = y.Rows;
        if (Ot.UseBanded)
        {
            var band = new BandOptions { BandEps = Ot.BandEps, RankCap = Ot.RankCap > 0 ? Ot.RankCap : null };
            var bp = GlassOps.BandedPlan(s, t, so, band, Device, NonConvergence, warm);
            var cost = GlassOps.PairCosts(x, y, GlassOps.RowIndex(bp.Structure), bp.Structure.ColIdx, metric, 1, bp.Structure.Nnz);
            var r = bp.Result;
            return new SliceSolve(Op.Sum(Op.Mul(bp.Values, cost)), bp.Structure, new SlicePotentials(r.F, r.G), r.Iterations, r.Converged,
                r.MarginalError, r.BandRadius);
        }
        var (plan, d) = GlassOps.DensePlan(s, t, so, Device, NonConvergence, warm);
        var (ri, ci) = AllPairs(n, m);
        var dc = GlassOps.PairCosts(x, y, ri, ci, metric, n, m);
        return new SliceSolve(Op.Sum(Op.Mul(plan, dc)), DenseToCsr(d.Plan!, n, m), new SlicePotentials(d.F, d.G), d.Iterations, d.Converged,
            d.MarginalError, 0);
    }

    /// <summary>
    /// The multi-view loss of GLASS §5: L_MV = Σ_{v&lt;w} λ_vw L(X^{(v)}, X^{(w)}) over V ≥ 2 views on one tape
    /// (λ_vw = 1 when <paramref name="weight"/> is null). Returns L_MV and the pairs' outputs in the order
    /// (0,1), (0,2), …, (1,2), ….
    /// </summary>
    /// <exception cref="ArgumentException">Fewer than two views.</exception>
    public (Var Loss, IReadOnlyList<GlassOutput> Pairs) MultiView(IReadOnlyList<Var> views, Func<int, int, double>? weight = null)
    {
        ArgumentNullException.ThrowIfNull(views);
        if (views.Count < 2) throw new ArgumentException($"views has {views.Count} entries; expected at least two views.", nameof(views));
        Var? total = null;
        var outs = new List<GlassOutput>();
        for (int v = 0; v < views.Count; v++)
            for (int w = v + 1; w < views.Count; w++)
            {
                var o = Forward(views[v], views[w]);
                outs.Add(o);
                double lam = weight?.Invoke(v, w) ?? 1.0;
                var term = lam == 1.0 ? o.Loss : Op.Scale(o.Loss, lam);
                total = total is null ? term : Op.Add(total, term);
            }
        return (total!, outs);
    }

    /// <summary>Each parameter once per tape (so gradients from X's and Y's scores accumulate on one leaf).</summary>
    private Dictionary<Parameter, Var> OnTape(Tape tape)
    {
        if (_onTape is not null && ReferenceEquals(_lastTape, tape)) return _onTape;
        _lastTape = tape;
        _onTape = _params.ToDictionary(q => q, q => q.On(tape));
        return _onTape;
    }

    private static (int[] Rows, int[] Cols) AllPairs(int n, int m)
    {
        var r = new int[n * m]; var c = new int[n * m];
        for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) { r[i * m + j] = i; c[i * m + j] = j; }
        return (r, c);
    }

    private static CsrMatrix DenseToCsr(double[] p, int n, int m)
    {
        var rp = new int[n + 1];
        var ci = new List<int>(); var v = new List<double>();
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < m; j++) if (p[i * m + j] > 0) { ci.Add(j); v.Add(p[i * m + j]); }
            rp[i + 1] = ci.Count;
        }
        return new CsrMatrix(n, m, rp, ci.ToArray(), v.ToArray());
    }

    /// <summary>(1/S) Σ_s P^{(s)} on the union of the patterns, O(Σ nnz).</summary>
    private static CsrMatrix Average(CsrMatrix[] plans, int n, int m)
    {
        var acc = new double[m];
        var mark = new bool[m];
        var cols = new List<int>();
        var rp = new int[n + 1];
        var ci = new List<int>(); var vals = new List<double>();
        double inv = 1.0 / plans.Length;
        for (int i = 0; i < n; i++)
        {
            cols.Clear();
            foreach (var p in plans)
                for (int k = p.RowPtr[i]; k < p.RowPtr[i + 1]; k++)
                {
                    int j = p.ColIdx[k];
                    if (!mark[j]) { mark[j] = true; cols.Add(j); }
                    acc[j] += p.Values[k];
                }
            cols.Sort();
            foreach (int j in cols) { ci.Add(j); vals.Add(acc[j] * inv); acc[j] = 0; mark[j] = false; }
            rp[i + 1] = ci.Count;
        }
        return new CsrMatrix(n, m, rp, ci.ToArray(), vals.ToArray());
    }
}
