using System.Globalization;
using Glass.Kernels.Device;
using Glass.Models.Experiments;
using Glass.Models.Metrics;

namespace Glass.Models.Gw;

/// <summary>
/// Learned GW as an <see cref="IExperiment"/> (Kind "gw") for the runner: one <see cref="Step"/> = one
/// training step; FOSCTTM (when the rows are in true correspondence) is evaluated every
/// <c>evalEvery</c> steps and NaN otherwise. Checkpoints hold parameters, Adam moments and the step
/// (batches derive from (seed, step)), so a resumed run is bit-identical on the CPU path.
/// </summary>
public sealed class GwExperiment : IExperiment
{
    private static readonly string[] Columns = { "step", "loss", "main_loss", "spectral", "epsilon", "gamma", "runtime_sec", "sinkhorn_iter", "foscttm" };
    private readonly LearnedGwTrainer _trainer;
    private readonly ComputeDevice _device;
    private readonly double[] _x, _y;
    private readonly int _n, _m, _dX, _dY, _evalEvery;
    private readonly int[]? _labelsX, _labelsY;
    private readonly bool _paired;
    private double _lastLoss = double.NaN;

    private GwExperiment(double[] x, int n, int dX, double[] y, int m, int dY, LearnedGwOptions options, int[]? labelsX, int[]? labelsY,
        bool paired, int evalEvery, ComputeDevice? device)
    {
        if (labelsX is not null && labelsX.Length != n) throw new ArgumentException($"labels of X: {labelsX.Length} labels for {n} rows of X.", nameof(labelsX));
        if (labelsY is not null && labelsY.Length != m) throw new ArgumentException($"labels of Y: {labelsY.Length} labels for {m} rows of Y.", nameof(labelsY));
        if (paired && n != m) throw new ArgumentException($"paired = true needs equal row counts; X has {n}, Y has {m}.", nameof(paired));
        if (evalEvery < 0) throw new ArgumentException($"evalEvery = {evalEvery}; expected ≥ 0 (0 = only at the end).", nameof(evalEvery));
        _device = device ?? ComputeDevice.Cpu;
        _trainer = new LearnedGwTrainer(x, n, dX, y, m, dY, options, _device);
        _x = x; _y = y; _n = n; _m = m; _dX = dX; _dY = dY; _labelsX = labelsX; _labelsY = labelsY; _paired = paired; _evalEvery = evalEvery;
    }

    /// <summary>A gw experiment on arrays (row-major). <paramref name="paired"/>: row i of X corresponds to row i of Y (enables FOSCTTM).</summary>
    /// <exception cref="ArgumentException">Label counts that differ from row counts, bad shapes or options; the message names them.</exception>
    public static GwExperiment Create(double[] x, int n, int dX, double[] y, int m, int dY, LearnedGwOptions options,
        int[]? labelsX = null, int[]? labelsY = null, bool paired = false, int evalEvery = 50, ComputeDevice? device = null) =>
        new(x, n, dX, y, m, dY, options, labelsX, labelsY, paired, evalEvery, device);

    /// <summary>The SNARE-seq experiment (ATAC → RNA, rows paired, cell-type labels) from the data directory.</summary>
    public static GwExperiment SnareSeq(string dataDirectory, LearnedGwOptions options, int evalEvery = 50, ComputeDevice? device = null)
    {
        var d = SnareSeqData.Load(dataDirectory);
        return new GwExperiment(d.Atac, d.N, d.DimAtac, d.Rna, d.N, d.DimRna, options, d.Labels, d.Labels, true, evalEvery, device);
    }

    /// <inheritdoc />
    public string Kind => "gw";
    /// <inheritdoc />
    public int TotalSteps => _trainer.Options.Steps;
    /// <inheritdoc />
    public int CompletedSteps => _trainer.CompletedSteps;
    /// <inheritdoc />
    public IReadOnlyList<string> MetricColumns => Columns;
    /// <summary>The model being trained.</summary>
    public GwModel Model => _trainer.Model;

    /// <inheritdoc />
    public StepMetrics Step()
    {
        var p = _trainer.Step();
        _lastLoss = p.Loss;
        double fos = double.NaN;
        if (_paired && (_evalEvery > 0 && p.Step % _evalEvery == 0 || p.Step == TotalSteps)) fos = Score().Foscttm;
        return new StepMetrics(new double[] { p.Step, p.Loss, p.MainLoss, p.Spectral, p.Epsilon, p.Gamma, p.Seconds, p.SinkhornIterations, fos });
    }

    private (double Foscttm, double LabelTransfer, InductiveAlignment Alignment) Score()
    {
        var al = InductiveAligner.Align(_device, Model, _x, _n, _y, _m, new InductiveOptions { RelativeTol = 1e-6 });
        var yt = _trainer.NormalizedY;
        double fos = _paired ? AlignmentMetrics.Foscttm(al.ProjectionTarget!, yt, _n, _dY).Mean : double.NaN;
        double lt = _labelsX is not null && _labelsY is not null
            ? AlignmentMetrics.LabelTransferAccuracy(yt, _labelsY, al.ProjectionTarget!, _labelsX, _dY, 5) : double.NaN;
        return (fos, lt, al);
    }

    /// <inheritdoc />
    public void SaveState(string directory) => _trainer.Save(directory);

    /// <inheritdoc />
    public void LoadState(string directory) => _trainer.Load(directory);

    /// <inheritdoc />
    public IReadOnlyDictionary<string, double> Evaluate()
    {
        var (fos, lt, al) = Score();
        var result = new Dictionary<string, double>
        {
            ["loss"] = _lastLoss,
            ["foscttm"] = fos,
            ["label_transfer"] = lt,
            ["sinkhorn_iter"] = al.Iterations,
            ["epsilon"] = Model.Epsilon,
        };
        return result;
    }

    /// <inheritdoc />
    public void Dispose() { }

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"gw experiment {_n}×{_dX} ↔ {_m}×{_dY}, {CompletedSteps}/{TotalSteps} steps");
}
