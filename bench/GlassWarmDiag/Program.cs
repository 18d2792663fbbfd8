using Glass.Autodiff;
using Glass.Autodiff.Optim;
using Glass.Kernels.Device;
using Glass.Kernels.Sinkhorn;
using Glass.Models.Data;
using Glass.Models.Glass;
using System.Globalization;

// Diagnosis: along a G2 training trajectory (warm-started layer, lr 1e-2, γ annealed, no back-off), how many
// iterations does each slice's banded solve need to reach tol cold and warm (uncapped), and where is the cap (200)?
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
double tau = double.Parse(args.Length > 0 ? args[0] : "0.10", CultureInfo.InvariantCulture);
int seed = args.Length > 1 ? int.Parse(args[1]) : 0;
int steps = args.Length > 2 ? int.Parse(args[2]) : 120;
double gamma0 = args.Length > 3 ? double.Parse(args[3], CultureInfo.InvariantCulture) : 0.1;
var data = new SbmDataOptions { N = 400, Blocks = 3, PIn = 0.15, POut = 0.02, RewireProb = 0.03, PlantedPerm = true };
var graph = new GraphProjectionOptions { Tau = tau, ChebyDegree = 12, FeatDim = 32 };
var ot = new OtOptions { Gamma = gamma0, MaxIter = 200, Tol = 1e-6, BandEps = 1e-6 };
var pair = GraphPair.Sbm(data, seed);
var X = GraphFeatures.Diffusion(pair.AdjacencyX, graph, seed, ComputeDevice.Cpu);
var Y = GraphFeatures.Diffusion(pair.AdjacencyY, graph, seed, ComputeDevice.Cpu);
int n = 400, p = 32;
var layer = GlassLayer.ForFeatures(p, ot, 2, seed);
var opt = Optimizer.Adam(layer.Parameters, new OptimizerOptions { LearningRate = 1e-2 });
IReadOnlyList<SlicePotentials?>? warm = null;
var prevPot = new BandedSinkhornResult?[2];
var uncapped = new SinkhornOptions { Gamma = 1, MaxIter = 200_000, Tol = 1e-6 };
Console.WriteLine("step gamma | slice: cold_iters warm_iters err@200cold err@200warm range(s,t) sqrt(gamma)/range | layer_iters converged");
for (int t = 0; t < steps; t++)
{
    double gamma = Math.Max(0.01, gamma0 * Math.Pow(0.98, t));
    layer.Gamma = gamma;
    var line = $"{t,4} {gamma:F4} |";
    for (int sl = 0; sl < 2; sl++)
    {
        var w = layer.Parameters[sl].Value;
        var s = Scores(X, w); var tt = Scores(Y, w);
        var o = uncapped with { Gamma = gamma };
        var cold = BandedSinkhorn.Solve(ComputeDevice.Cpu, s, tt, null, null, o);
        var cold200 = BandedSinkhorn.Solve(ComputeDevice.Cpu, s, tt, null, null, o with { MaxIter = 200 });
        string ws = "-", we = "-";
        if (prevPot[sl] is { } pp)
        {
            var wr = BandedSinkhorn.Solve(ComputeDevice.Cpu, s, tt, null, null, o, null, pp.F, pp.G);
            var w200 = BandedSinkhorn.Solve(ComputeDevice.Cpu, s, tt, null, null, o with { MaxIter = 200 }, null, pp.F, pp.G);
            ws = wr.Iterations.ToString(); we = w200.MarginalError.ToString("E1");
        }
        prevPot[sl] = cold;
        var all = s.Concat(tt).OrderBy(v => v).ToArray();
        double spread = all[^1] - all[0];
        line += $" {cold.Iterations,6} {ws,6} {cold200.MarginalError:E1} {we,7} {spread:F2} {Math.Sqrt(gamma) / spread:F4} |";
    }
    var tape = new Tape();
    var outp = layer.Forward(tape.Constant(X, n, p), tape.Constant(Y, n, p), warm);
    warm = outp.Potentials;
    tape.Backward(outp.Loss);
    opt.Update();
    line += $" {outp.Coupling.SinkhornIterations} {outp.Coupling.Converged} loss {outp.Loss.Scalar:F3}";
    Console.WriteLine(line);
}

static double[] Scores(double[] x, double[] w)
{
    int p = w.Length, n = x.Length / p;
    var s = new double[n];
    for (int i = 0; i < n; i++) { double a = 0; for (int k = 0; k < p; k++) a += x[i * p + k] * w[k]; s[i] = a; }
    return s;
}
