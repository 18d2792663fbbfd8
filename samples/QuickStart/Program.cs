// Glass QuickStart: entropic optimal transport between two small point clouds on the sphere, on the CPU.
// Y is X shuffled by a hidden permutation π; the plan's row argmax should recover π. Exits 1 if it does not.
using Glass.Kernels.Device;
using Glass.Kernels.Sinkhorn;
using Glass.Models.Data;
using Glass.Models.Glass;

const int n = 64;
var pair = S2Pair.Generate(new S2DataOptions { N = n, NoiseDeg = 0, Rotation = false }, seed: 7);

using var device = ComputeDevice.Open("cpu");
var options = new SinkhornOptions { Gamma = 0.01, Tol = 1e-7, MaxIter = 10_000, ReturnPlan = true };
DenseSinkhornResult r = DenseSinkhorn.Solve(device, DenseGeometry.FromPoints(pair.X, pair.Y, 3), a: null, b: null, options);

int correct = 0;
for (int i = 0; i < n; i++)
{
    int best = 0;
    for (int j = 1; j < n; j++) if (r.Plan![i * n + j] > r.Plan[i * n + best]) best = j;
    if (best == pair.GroundTruth[i]) correct++;
}
double accuracy = (double)correct / n;
Console.WriteLine($"Glass {typeof(DenseSinkhorn).Assembly.GetName().Version}: Sinkhorn on {n} points, {r.Iterations} iterations, " +
                  $"converged {r.Converged}, marginal error {r.MarginalError:E2}, cost {r.Cost:F6}, matches recovered {correct}/{n}");
return r.Converged && accuracy == 1.0 ? 0 : 1;
