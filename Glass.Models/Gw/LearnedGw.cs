using System.Diagnostics;
using System.Globalization;
using Glass.Autodiff;
using Glass.Autodiff.Ops;
using Glass.Autodiff.Optim;
using Glass.Kernels.Device;
using Glass.Kernels.Linalg;
using Glass.Kernels.Sinkhorn;

namespace Glass.Models.Gw;

/// <summary>Metrics of one training step.</summary>
/// <param name="Step">1-based step number.</param>
/// <param name="Loss">Total loss of the step.</param>
/// <param name="MainLoss">GW (Eq. 4) or rank (Eq. 6) term.</param>
/// <param name="Spectral">E_sm term before weighting (0 if off).</param>
/// <param name="Epsilon">Relative ε of the step.</param>
/// <param name="Gamma">Absolute Sinkhorn γ = ε·c̄ on the unnormalised cost (the solve itself uses C/c̄ and γ = ε).</param>
/// <param name="SinkhornIterations">Forward Sinkhorn iterations (sum over retries; an unconverged attempt counts its cap).</param>
/// <param name="Seconds">Wall time since training started.</param>
public sealed record LearnedGwProgress(int Step, double Loss, double MainLoss, double Spectral, double Epsilon, double Gamma, int SinkhornIterations, double Seconds);

/// <summary>Result of <see cref="LearnedGw.Train"/>.</summary>
/// <param name="Model">The trained model (save with <see cref="GwModel.Save"/>).</param>
/// <param name="History">One entry per step.</param>
/// <param name="Seconds">Total training time (including D_X, D_Y).</param>
public sealed record LearnedGwResult(GwModel Model, IReadOnlyList<LearnedGwProgress> History, double Seconds);

/// <summary>
/// Learned Gromov–Wasserstein (Vedula et al., "Scalable unsupervised alignment of general metric and
/// non-metric structures"; shared/papers/003): train MLP embeddings f_θ, g_φ so that the entropic OT plan
/// Π(θ, φ) of the cost c(f(X), g(Y)) minimises the GW loss (Eq. 4) or the rank loss (Eq. 6), with ε annealing,
/// optional spectral regularisation (Eq. 5), known pairs and a fused feature term. The inner OT is
/// <see cref="SinkhornOp.DensePlan"/> with implicit differentiation. With <see cref="LearnedGwOptions.Init"/> =
/// <see cref="GwInit.Solver"/> (the default) GW is solved first and its matches become pseudo-pairs of the training
/// (<see cref="GwAligner"/>, which also returns the solved plan); <see cref="GwInit.None"/> trains from random MLPs only.
/// </summary>
public static class LearnedGw
{
    /// <summary>Trains on X (n×dX) and Y (m×dY), unpaired.</summary>
    /// <param name="x">X, row-major.</param>
    /// <param name="n">Rows of X.</param>
    /// <param name="dX">Features of X.</param>
    /// <param name="y">Y, row-major.</param>
    /// <param name="m">Rows of Y.</param>
    /// <param name="dY">Features of Y.</param>
    /// <param name="options">Architecture, losses, schedule.</param>
    /// <param name="device">Where Sinkhorn forward solves run (null = managed CPU).</param>
    /// <param name="progress">Called after every step (may be null).</param>
    /// <exception cref="ArgumentException">Bad shapes, NaN/Inf, constant columns, k ≥ n, bad options; the message names the input or key.</exception>
    public static LearnedGwResult Train(double[] x, int n, int dX, double[] y, int m, int dY, LearnedGwOptions options,
        ComputeDevice? device = null, Action<LearnedGwProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var sw = Stopwatch.StartNew();
        var trainer = new LearnedGwTrainer(x, n, dX, y, m, dY, GwAligner.Prepare(x, n, dX, y, m, dY, options, out _), device);
        var history = new List<LearnedGwProgress>();
        while (trainer.CompletedSteps < trainer.Options.Steps)
        {
            var p = trainer.Step() with { Seconds = sw.Elapsed.TotalSeconds };
            history.Add(p);
            progress?.Invoke(p);
        }
        return new LearnedGwResult(trainer.Model, history, sw.Elapsed.TotalSeconds);
    }
}

/// <summary>
/// The learned-GW training loop, one step at a time (used by <see cref="LearnedGw.Train"/> and the gw experiment).
/// Batches are drawn from an RNG seeded by (seed, step), so a run resumed from <see cref="Save"/> continues bit-identically.
/// </summary>
public sealed class LearnedGwTrainer
{
    private readonly LearnedGwOptions _o;
    private readonly ComputeDevice _device;
    private readonly double[] _zx, _zy, _dx, _dy;
    private readonly double[]? _fused;
    private readonly List<int>[]? _partnerOf;
    private readonly int _n, _m, _dX, _dY;
    private readonly Optimizer _opt;
    private readonly Stopwatch _clock = new();

    /// <summary>Prepares normalisation, D_X, D_Y and the model (the options' <see cref="LearnedGwOptions.Init"/> is not
    /// applied here: the trainer runs the training loop; <see cref="GwAligner.Trainer"/> builds one on a GW solution).</summary>
    public LearnedGwTrainer(double[] x, int n, int dX, double[] y, int m, int dY, LearnedGwOptions options, ComputeDevice? device = null)
        : this(x, n, dX, y, m, dY, options, device, null, null)
    {
    }

    /// <summary>As the public constructor, with D_X, D_Y already computed by the caller from the same normalisation and distance options.</summary>
    internal LearnedGwTrainer(double[] x, int n, int dX, double[] y, int m, int dY, LearnedGwOptions options, ComputeDevice? device,
        double[]? distanceX, double[]? distanceY)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _o = options; _device = device ?? ComputeDevice.Cpu;
        _n = n; _m = m; _dX = dX; _dY = dY;
        Distances.CheckPoints(x, n, dX, "x");
        Distances.CheckPoints(y, m, dY, "y");
        var normX = GwNormalization.Fit(x, n, dX, options.PreprocessX, "x");
        var normY = GwNormalization.Fit(y, m, dY, options.PreprocessY, "y");
        _zx = normX.Apply(x, n, dX, "x");
        _zy = normY.Apply(y, m, dY, "y");
        _dx = distanceX ?? Distances.Compute(_zx, n, dX, options.DistancesX, "x").Values;
        _dy = distanceY ?? Distances.Compute(_zy, m, dY, options.DistancesY, "y").Values;
        if (options.FusedWeight > 0)
        {
            var fx = options.FusedFeaturesX!; var fy = options.FusedFeaturesY!;
            if (fx.Length % n != 0 || fy.Length % m != 0 || fx.Length / n != fy.Length / m)
                throw new ArgumentException($"FusedFeaturesX/Y: {fx.Length} and {fy.Length} values; expected n×p and m×p with the same p.", nameof(options));
            int p = fx.Length / n;
            var geom = DenseGeometry.FromPoints(fx, fy, p);
            _fused = new double[(long)n * m];
            var scratch = new double[m];
            double mx = 0;
            for (int i = 0; i < n; i++) { geom.Row(i, scratch).CopyTo(_fused.AsSpan(i * m, m)); }
            foreach (var v in _fused) mx = Math.Max(mx, v);
            if (mx > 0) for (int k = 0; k < _fused.Length; k++) _fused[k] /= mx;
        }
        if (options.KnownPairs is { } kp)
        {
            foreach (var (i, j) in kp)
                if (i < 0 || i >= n || j < 0 || j >= m) throw new ArgumentException($"KnownPairs: ({i}, {j}) outside [0, {n}) × [0, {m}).", nameof(options));
            if (options.PairedBatches && options.SupervisedWeight > 0)
            {
                _partnerOf = new List<int>[n];
                for (int i = 0; i < n; i++) _partnerOf[i] = new List<int>(1);
                foreach (var (i, j) in kp) _partnerOf[i].Add(j);
            }
        }
        Model = GwModel.Create(options, normX, normY);
        _opt = Optimizer.Adam(Model.Parameters.ToList(), new OptimizerOptions { LearningRate = options.LearningRate, ClipNorm = options.ClipNorm });
    }

    /// <summary>The model being trained (parameters update in place).</summary>
    public GwModel Model { get; }
    /// <summary>Steps done.</summary>
    public int CompletedSteps { get; private set; }
    /// <summary>Options.</summary>
    public LearnedGwOptions Options => _o;
    /// <summary>Normalised training X (n×dX), as the model sees it.</summary>
    public double[] NormalizedX => _zx;
    /// <summary>Normalised training Y (m×dY).</summary>
    public double[] NormalizedY => _zy;
    /// <summary>D_X (n×n).</summary>
    public double[] DistanceX => _dx;
    /// <summary>D_Y (m×m).</summary>
    public double[] DistanceY => _dy;

    /// <summary>
    /// Shapes and the options that change the computation, as one token (checked on <see cref="Load"/>). The extension
    /// terms add a suffix only when on (known-pair count and weight, fused weight), so checkpoints without them keep
    /// the token they were written with.
    /// </summary>
    internal string Fingerprint => string.Create(CultureInfo.InvariantCulture,
        $"n{_n}m{_m}dx{_dX}dy{_dY}L{(int)_o.Loss}C{(int)_o.Cost}D{_o.Depth}H{_o.Hidden}E{_o.EmbedDim}A{(int)_o.Activation}B{_o.BatchSize}S{_o.Seed}T{_o.Steps}")
        + (_o.SupervisedWeight > 0 ? string.Create(CultureInfo.InvariantCulture, $"K{_o.KnownPairs?.Count ?? 0}W{_o.SupervisedWeight:R}") : "")
        + (_o.FusedWeight > 0 ? string.Create(CultureInfo.InvariantCulture, $"F{_o.FusedWeight:R}") : "")
        + (_partnerOf is not null ? "P" : "")
        + (_o.Skip ? "R" : "");

    /// <summary>One optimisation step on a batch (or the full data).</summary>
    public LearnedGwProgress Step()
    {
        _clock.Start();
        int t = CompletedSteps;
        var rng = new Random(StepSeed(_o.Seed, t));
        int[] ix = Batch(rng, _n), iy = _partnerOf is null ? Batch(rng, _m) : PairedBatch(rng, ix);
        int bn = ix.Length, bm = iy.Length;
        var dx = Sub(_dx, _n, ix);
        var dy = Sub(_dy, _m, iy);
        double eps = _o.EpsilonAt(t);

        var tape = new Tape();
        var ex = Model.Embed(tape, Model.F, Rows(_zx, _dX, ix), bn, _dX, trainable: true);
        var ey = Model.Embed(tape, Model.G, Rows(_zy, _dY, iy), bm, _dY, trainable: true);
        // C / c̄ with the mean c̄ on the tape: the loss is invariant to the embeddings' scale and γ = ε exactly.
        var raw = Op.PairwiseSqEuclidean(ex, ey);
        double cbar = Math.Max(raw.Value.Average(), 1e-300);
        var cost = Op.Div(raw, Op.Mean(raw));
        double gamma = eps;
        // Warm start from the previous step's potentials when this step sees the same rows (full batch): the cost
        // changes little between steps, so Sinkhorn restarts near its fixed point; the fixed point (the plan) is the
        // cold start's (SinkhornOp.DensePlanWarm). Mini-batches change rows, so they start cold.
        bool sameRows = bn == _n && bm == _m && _warmF is not null && WarmStart;
        double[]? f0 = sameRows ? _warmF : null, g0 = sameRows ? _warmG : null;
        Var plan;
        int iters = 0;
        int maxIter = _o.SinkhornMaxIter;
        for (int attempt = 0; ; attempt++)
        {
            var so = new SinkhornOptions { Gamma = gamma, MaxIter = maxIter, Tol = _o.SinkhornTol };
            // The last attempt keeps the op's default policy (throw): a step never trains on an unconverged plan silently.
            var policy = attempt < 3 ? SinkhornNonConvergence.UseLastIterate : SinkhornNonConvergence.Throw;
            var solve = SinkhornOp.Dense(cost, null, null, so,
                new SinkhornOpOptions { InitialF = f0, InitialG = g0, Device = _device, OnNonConvergence = policy });
            iters += solve.Result.Iterations;
            if (solve.Converged)
            {
                plan = solve.Plan;
                if (bn == _n && bm == _m) { _warmF = solve.Result.F; _warmG = solve.Result.G; }
                break;
            }
            // Not converged: more iterations once, then a larger γ (reported in the metrics).
            if (attempt == 0) maxIter *= 4; else gamma *= 2;
        }

        Var main = _o.Loss == GwLossKind.Rank
            ? GwOps.RankLoss(plan, GwOps.SoftRanks(dx, bn, _o.RankDelta), dy, _o.RankDelta)
            : GwOps.GwLoss(plan, dx, dy);
        Var loss = main;
        double spectral = 0;
        if (_o.SpectralWeight > 0)
        {
            var e = GwOps.SpectralEnergy(cost, Distances.KnnLaplacian(dx, bn, Math.Min(_o.SpectralK, bn - 1)), Distances.KnnLaplacian(dy, bm, Math.Min(_o.SpectralK, bm - 1)));
            spectral = e.Scalar;
            loss = Op.Add(loss, Op.Scale(e, _o.SpectralWeight));
        }
        if (_o.SupervisedWeight > 0 && _o.KnownPairs is { } kp)
        {
            var posX = new Dictionary<int, int>(); for (int k = 0; k < bn; k++) posX[ix[k]] = k;
            var posY = new Dictionary<int, int>(); for (int k = 0; k < bm; k++) posY[iy[k]] = k;
            var rows = new List<int>(); var cols = new List<int>();
            foreach (var (i, j) in kp) if (posX.TryGetValue(i, out int a) && posY.TryGetValue(j, out int b)) { rows.Add(a); cols.Add(b); }
            if (rows.Count > 0) loss = Op.Add(loss, Op.Scale(GwOps.KnownPairsLoss(plan, rows.ToArray(), cols.ToArray()), _o.SupervisedWeight));
        }
        if (_o.FusedWeight > 0 && _fused is not null)
        {
            var fb = new double[bn * bm];
            for (int a = 0; a < bn; a++) for (int b = 0; b < bm; b++) fb[a * bm + b] = _fused[(long)ix[a] * _m + iy[b]];
            loss = Op.Add(loss, Op.Scale(GwOps.FusedTerm(plan, fb), _o.FusedWeight));
        }
        double lv = loss.Scalar, mv = main.Scalar;
        tape.Backward(loss);
        _opt.Update();
        CompletedSteps++;
        Model.Epsilon = eps;
        _clock.Stop();
        return new LearnedGwProgress(CompletedSteps, lv, mv, spectral, eps, gamma * cbar, iters, _clock.Elapsed.TotalSeconds);
    }

    private double[]? _warmF, _warmG;
    private const string WarmFile = "sinkhorn_potentials.bin";

    /// <summary>
    /// Warm-start each full-batch step's Sinkhorn from the previous step's potentials (default true). Same plan as a
    /// cold start up to the solver tolerance, fewer iterations (≈ 20 % fewer in <c>glass bench inductive</c>); saved with the
    /// trainer state so that a resumed full-batch run continues bit-identically.
    /// </summary>
    public bool WarmStart { get; set; } = true;

    /// <summary>Kept for callers of earlier versions: iteration counts are now always reported (they come with the solve).</summary>
    public bool ReportSinkhornIterations { get; set; }

    /// <summary>
    /// Seed of step <paramref name="step"/>'s minibatch draw: SplitMix64's finaliser over (seed, step). A pure function, so
    /// a run is the same in every process (System.HashCode, used before, is randomised per process: two processes with the
    /// same seed drew different batches).
    /// </summary>
    internal static int StepSeed(int seed, int step)
    {
        ulong z = unchecked((ulong)(uint)seed * 0x9E3779B97F4A7C15UL + (ulong)(uint)step + 0x6777UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        z ^= z >> 31;
        return (int)(z & 0x7FFFFFFF);
    }

    private int[] Batch(Random rng, int n)
    {
        if (_o.BatchSize == 0 || _o.BatchSize >= n) return Enumerable.Range(0, n).ToArray();
        var idx = Enumerable.Range(0, n).ToArray();
        for (int k = 0; k < _o.BatchSize; k++) { int r = k + rng.Next(n - k); (idx[k], idx[r]) = (idx[r], idx[k]); }
        var b = idx[.._o.BatchSize];
        Array.Sort(b);
        return b;
    }

    /// <summary>
    /// Y rows of a paired batch (<see cref="LearnedGwOptions.PairedBatches"/>): the known partners of the X batch first
    /// (each once), then rows drawn uniformly from the rest up to the batch size; sorted.
    /// </summary>
    private int[] PairedBatch(Random rng, int[] ix)
    {
        int size = _o.BatchSize == 0 ? _m : Math.Min(_o.BatchSize, _m);
        if (size >= _m) return Enumerable.Range(0, _m).ToArray();
        var chosen = new HashSet<int>();
        foreach (int i in ix)
            foreach (int j in _partnerOf![i])
                if (chosen.Count < size) chosen.Add(j);
        while (chosen.Count < size) chosen.Add(rng.Next(_m));
        var b = chosen.ToArray();
        Array.Sort(b);
        return b;
    }

    private static double[] Sub(double[] d, int n, int[] idx)
    {
        if (idx.Length == n) return d;
        int b = idx.Length;
        var s = new double[b * b];
        for (int i = 0; i < b; i++) for (int j = 0; j < b; j++) s[i * b + j] = d[(long)idx[i] * n + idx[j]];
        return s;
    }

    private static double[] Rows(double[] z, int d, int[] idx)
    {
        var r = new double[idx.Length * d];
        for (int k = 0; k < idx.Length; k++) Array.Copy(z, (long)idx[k] * d, r, (long)k * d, d);
        return r;
    }

    /// <summary>Writes the trainer state (parameters, Adam moments, step, warm-start potentials) to <paramref name="directory"/>: <c>optimizer.bin</c> + <c>gw_model.json</c> (+ <c>sinkhorn_potentials.bin</c> in full-batch training).</summary>
    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        _opt.Save(Path.Combine(directory, "optimizer.bin"));
        Model.Save(directory);
        string warm = Path.Combine(directory, WarmFile);
        if (_warmF is not null && _warmG is not null)
        {
            using var w = new BinaryWriter(File.Create(warm));
            w.Write(_warmF.Length); foreach (var v in _warmF) w.Write(v);
            w.Write(_warmG.Length); foreach (var v in _warmG) w.Write(v);
        }
        else if (File.Exists(warm)) File.Delete(warm);
        File.WriteAllText(Path.Combine(directory, "trainer.txt"), string.Create(CultureInfo.InvariantCulture, $"step {CompletedSteps}\nepsilon {Model.Epsilon:R}\nfingerprint {Fingerprint}\n"));
    }

    /// <summary>Restores a state written by <see cref="Save"/>.</summary>
    /// <exception cref="InvalidDataException">Missing or inconsistent files; the message names the file.</exception>
    public void Load(string directory)
    {
        string meta = Path.Combine(directory, "trainer.txt");
        if (!File.Exists(meta)) throw new InvalidDataException($"{meta}: missing trainer state.");
        var lines = File.ReadAllLines(meta).Select(l => l.Split(' ')).ToDictionary(p => p[0], p => p[1]);
        if (!lines.TryGetValue("step", out var s) || !int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int step) || step < 0)
            throw new InvalidDataException($"{meta}: no valid 'step' line.");
        if (!lines.TryGetValue("fingerprint", out var fp) || fp != Fingerprint)
            throw new InvalidDataException($"{meta}: checkpoint of another configuration (fingerprint {fp ?? "missing"}; this run is {Fingerprint}).");
        string optPath = Path.Combine(directory, "optimizer.bin");
        if (!File.Exists(optPath)) throw new InvalidDataException($"{optPath}: missing optimiser state.");
        _opt.Load(optPath);
        _warmF = _warmG = null;
        string warm = Path.Combine(directory, WarmFile);
        if (File.Exists(warm))
        {
            using var r = new BinaryReader(File.OpenRead(warm));
            double[] Read(int expected)
            {
                int len = r.ReadInt32();
                if (len != expected) throw new InvalidDataException($"{warm}: potential of length {len}; expected {expected}.");
                var v = new double[len];
                for (int k = 0; k < len; k++) v[k] = r.ReadDouble();
                return v;
            }
            _warmF = Read(_n); _warmG = Read(_m);
        }
        CompletedSteps = step;
        Model.Epsilon = step > 0 ? _o.EpsilonAt(step - 1) : _o.EpsilonMin;
    }
}
