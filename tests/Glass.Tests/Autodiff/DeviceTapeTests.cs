using Glass.Autodiff;
using Glass.Autodiff.Ops;
using Glass.Kernels.Device;
using Glass.Kernels.Linalg;
using Glass.Tests.Support;
using NUnit.Framework;

namespace Glass.Tests.Autodiff;

/// <summary>
/// Tape ops on an accelerator (float32 kernels) against the managed CPU tape (double): the same graph
/// on both, forward values and every input gradient compared with atol + rtol·|ref| (first mismatch
/// reported). Small odd shapes and fixed seeds: the ILGPU CPU accelerator emulates GPU threads.
/// </summary>
[TestFixtureSource(typeof(Devices), nameof(Devices.Accelerated))]
public sealed class DeviceTapeTests
{
    private const double Atol = 2e-5, Rtol = 2e-4;
    private readonly string _deviceName;
    private ComputeDevice _device = null!;

    public DeviceTapeTests(string deviceName) => _deviceName = deviceName;

    [OneTimeSetUp]
    public void Open() => _device = Devices.Get(_deviceName);

    private static GradCheck.Input In(int rows, int cols, int seed, double lo = -1, double hi = 1) =>
        new(Close.RandomUniform(rows * cols, seed, lo, hi), rows, cols);

    /// <summary>Runs f on a CPU tape and on a device tape; compares f's value and the gradients of a fixed random weighting of it.</summary>
    private void Agree(string what, Func<Var[], Var> f, params GradCheck.Input[] inputs)
    {
        (double[] Value, double[][] Grads) Run(Tape tape)
        {
            var leaves = inputs.Select(x => tape.Leaf((double[])x.Value.Clone(), x.Rows, x.Cols)).ToArray();
            var y = f(leaves);
            var w = tape.Constant(Close.RandomUniform(y.Length, 99, -1, 1), y.Rows, y.Cols);
            var value = (double[])y.Value.Clone();
            tape.Backward(Op.Sum(Op.Mul(y, w)));
            return (value, leaves.Select(l => l.Grad ?? new double[l.Length]).ToArray());
        }
        var (refValue, refGrads) = Run(new Tape());
        using var deviceTape = new Tape(_device);
        var (value, grads) = Run(deviceTape);
        Close.All(refValue, value, Atol, Rtol, $"{what} on {_deviceName}: forward");
        // The device path computes in float32: bit-identical results would mean the CPU path ran instead.
        Assert.That(value.SequenceEqual(refValue), Is.False, $"{what}: device result is bit-identical to the double CPU tape; the kernels did not run");
        for (int k = 0; k < inputs.Length; k++)
        {
            Assert.That(refGrads[k].Any(g => g != 0), Is.True, $"{what}: reference gradient {k} is zero (the test would prove nothing)");
            Close.All(refGrads[k], grads[k], Atol, Rtol, $"{what} on {_deviceName}: gradient of input {k}");
        }
    }

    private static readonly (string Name, Func<Var, Var> F, double Lo, double Hi)[] Unaries =
    {
        ("Exp", Op.Exp, -1, 1), ("Log", Op.Log, 0.5, 2), ("Sqrt", Op.Sqrt, 0.5, 2), ("Pow2.5", v => Op.Pow(v, 2.5), 0.5, 2),
        ("Abs", Op.Abs, -1, 1), ("Relu", Op.Relu, -1, 1), ("LeakyRelu", v => Op.LeakyRelu(v, 0.1), -1, 1),
        ("Tanh", Op.Tanh, -2, 2), ("Softplus", Op.Softplus, -3, 3), ("Gelu", Op.Gelu, -2, 2), ("AcosClamped", Op.AcosClamped, -0.9, 0.9),
        ("Scale", v => Op.Scale(v, -3.5), -1, 1), ("Transpose", Op.Transpose, -1, 1), ("Sum", Op.Sum, -1, 1),
        ("SumAxis0", v => Op.Sum(v, 0), -1, 1), ("SumAxis1", v => Op.Sum(v, 1), -1, 1), ("Mean", Op.Mean, -1, 1),
        ("LogSumExpRows", Op.LogSumExpRows, -3, 3), ("SoftmaxRows", Op.SoftmaxRows, -3, 3), ("RowNorms", StructOp.RowNorms, -1, 1),
        ("NormalizeRows", StructOp.NormalizeRows, -1, 1),
    };

    private static IEnumerable<TestCaseData> UnaryCases() => Unaries.Select((u, k) => new TestCaseData(k).SetName("DeviceUnary_" + u.Name));

    [TestCaseSource(nameof(UnaryCases))]
    public void Unary_AgreesWithCpuTape(int k)
    {
        var (name, f, lo, hi) = Unaries[k];
        Agree(name, x => f(x[0]), In(7, 5, 1, lo, hi));
    }

    [TestCase(7, 5, 7, 5)]
    [TestCase(7, 5, 1, 5)]
    [TestCase(7, 5, 7, 1)]
    [TestCase(7, 5, 1, 1)]
    [TestCase(1, 5, 7, 5)]
    [TestCase(7, 1, 1, 5)]
    public void Binary_WithBroadcasting_AgreesWithCpuTape(int ra, int ca, int rb, int cb)
    {
        var a = In(ra, ca, 2);
        var b = In(rb, cb, 3, 0.5, 2);
        Agree("Add", x => Op.Add(x[0], x[1]), a, b);
        Agree("Sub", x => Op.Sub(x[0], x[1]), a, b);
        Agree("Mul", x => Op.Mul(x[0], x[1]), a, b);
        Agree("Div", x => Op.Div(x[0], x[1]), a, b);
    }

    [Test]
    public void MatMulLinearAndPairwise_AgreeWithCpuTape()
    {
        Agree("MatMul", x => Op.MatMul(x[0], x[1]), In(19, 7, 4), In(7, 11, 5));
        Agree("Linear", x => Op.Linear(x[0], x[1], x[2]), In(19, 7, 4), In(7, 11, 5), In(1, 11, 6));
        Agree("PairwiseSqEuclidean", x => Op.PairwiseSqEuclidean(x[0], x[1]), In(13, 3, 6), In(9, 3, 7));
        // Fan-out on the device path: x feeds both operands, gradients accumulate through uploaded partial sums.
        Agree("FanOut", x => Op.Add(Op.MatMul(x[0], Op.Transpose(x[0])), Op.Relu(Op.Linear(x[0], x[1], null))), In(9, 5, 8), In(5, 9, 9));
    }

    [Test]
    public void GeodesicAndSpMM_AgreeWithCpuTape()
    {
        static GradCheck.Input Sphere(int n, int seed)
        {
            var v = Close.RandomNormal(3 * n, seed);
            for (int i = 0; i < n; i++)
            {
                double r = Math.Sqrt(v[3 * i] * v[3 * i] + v[3 * i + 1] * v[3 * i + 1] + v[3 * i + 2] * v[3 * i + 2]);
                for (int c = 0; c < 3; c++) v[3 * i + c] /= r;
            }
            return new GradCheck.Input(v, n, 3);
        }
        Agree("Geodesic", x => StructOp.Geodesic(x[0], x[1]), Sphere(11, 10), Sphere(7, 11));
        // 9×13 sparse with an empty row and a repeated column pattern.
        var rowPtr = new[] { 0, 2, 2, 5, 6, 8, 9, 11, 12, 14 };
        var colIdx = new[] { 0, 12, 1, 4, 7, 3, 0, 12, 6, 2, 9, 11, 5, 8 };
        var csr = new CsrMatrix(9, 13, rowPtr, colIdx, Close.RandomUniform(colIdx.Length, 12, -1, 1));
        Agree("SpMM", x => StructOp.SpMM(csr, x[0]), In(13, 5, 13));
    }

    [Test]
    public void Arena_PoolsDeviceBuffersAndSparseUploads_SameGradients()
    {
        // A GW-like step on the device: SpMM by a constant sparse matrix, MatMul, Tanh, pairwise distances (whose
        // backward rents scratch), a reduction. Recorded four times on tapes sharing one arena.
        var rowPtr = new[] { 0, 2, 2, 5, 6, 8, 9, 11, 12, 14 };
        var colIdx = new[] { 0, 12, 1, 4, 7, 3, 0, 12, 6, 2, 9, 11, 5, 8 };
        var csr = new CsrMatrix(9, 13, rowPtr, colIdx, Close.RandomUniform(colIdx.Length, 30, -1, 1));
        var x0 = Close.RandomUniform(13 * 5, 31, -1, 1);
        var w0 = Close.RandomUniform(5 * 3, 32, -1, 1);
        var y0 = Close.RandomUniform(7 * 3, 33, -1, 1);
        (double Loss, double[][] Grads) Step(Tape tape)
        {
            var x = tape.Leaf((double[])x0.Clone(), 13, 5);
            var w = tape.Leaf((double[])w0.Clone(), 5, 3);
            var h = Op.Tanh(Op.MatMul(StructOp.SpMM(csr, x), w));
            var dist = Op.PairwiseSqEuclidean(h, tape.Constant(y0, 7, 3));
            var loss = Op.Mean(Op.Mul(dist, dist));
            double l = loss.Scalar;
            tape.Backward(loss);
            return (l, new[] { (double[])x.Grad!.Clone(), (double[])w.Grad!.Clone() });
        }
        var cpu = Step(new Tape());
        (double Loss, double[][] Grads) unpooled;
        using (var tape = new Tape(_device)) unpooled = Step(tape); // fresh buffers, freed with the tape
        for (int k = 0; k < 2; k++)
        {
            Assert.That(cpu.Grads[k].Any(g => g != 0), Is.True, $"reference gradient {k} is zero (the test would prove nothing)");
            Close.All(cpu.Grads[k], unpooled.Grads[k], Atol, Rtol, $"gradient {k}: device tape vs CPU tape");
        }

        using var arena = new TapeArena();
        int allocations = 0;
        for (int step = 0; step < 4; step++)
        {
            (double Loss, double[][] Grads) r;
            using (var tape = new Tape(_device, arena)) r = Step(tape);
            // Pooled buffers come back dirty: every step must still give the unpooled tape's numbers.
            Close.Scalar(unpooled.Loss, r.Loss, 1e-7, 1e-6, $"step {step}: loss");
            for (int k = 0; k < 2; k++) Close.All(unpooled.Grads[k], r.Grads[k], 1e-7, 1e-6, $"step {step}: gradient {k}");
            Assert.That(arena.CsrUploads, Is.EqualTo(2), $"step {step}: S and its transposed pattern uploaded once, for all steps");
            if (step == 0)
            {
                allocations = arena.DeviceAllocations;
                Assert.That(allocations, Is.GreaterThan(5), "the first step allocates its buffers");
            }
            else Assert.That(arena.DeviceAllocations, Is.EqualTo(allocations), $"step {step}: served from the pool, no new device buffers");
        }
    }

    [Test]
    public void SmallMlp_TrainsTheSameOnBothDevices()
    {
        Agree("MLP", p =>
        {
            var t = p[0].Tape;
            var x = t.Constant(Close.RandomUniform(17 * 4, 20), 17, 4);
            var h = Op.Tanh(Op.Linear(x, p[0], p[1]));
            return Op.SoftmaxRows(Op.MatMul(Op.Gelu(h), p[2]));
        }, In(4, 8, 21), In(1, 8, 22), In(8, 3, 23));
    }

    [Test]
    public void HostAndDeviceOpsMixed_GradientsMoveBothWays()
    {
        // h lives on the device; GatherRows (host-only) reads its mirror and accumulates into its gradient
        // on the host, Mul (device) accumulates on the device: h's gradient crosses over in both directions.
        var idx = new[] { 0, 2, 2, 8, 4, 1, 0, 3, 5 };
        Agree("Mixed", p =>
        {
            var h = Op.Tanh(Op.Linear(p[0], p[1], p[2]));
            var g1 = StructOp.GatherRows(h, idx);
            return Op.Add(Op.Mul(g1, h), StructOp.ConcatCols(StructOp.SliceCols(h, 1, 2), StructOp.SliceCols(g1, 0, 3)));
        }, In(9, 4, 30), In(4, 5, 31), In(1, 5, 32));
    }

    [Test]
    public void Dispose_KeepsLeafGradients_AndRefusesDeviceOnlyValues()
    {
        Var w, hidden;
        double[] expected;
        var wv = Close.RandomUniform(4 * 3, 40, -1, 1);
        var xv = Close.RandomUniform(5 * 4, 41, -1, 1);
        using (var cpu = new Tape())
        {
            var wc = cpu.Leaf((double[])wv.Clone(), 4, 3);
            cpu.Backward(Op.Sum(Op.Exp(Op.MatMul(cpu.Constant(xv, 5, 4), wc))));
            expected = wc.Grad!;
        }
        using (var tape = new Tape(_device))
        {
            w = tape.Leaf((double[])wv.Clone(), 4, 3);
            hidden = Op.Exp(Op.MatMul(tape.Constant(xv, 5, 4), w));
            tape.Backward(Op.Sum(hidden));
        }
        Close.All(expected, w.Grad!, Atol, Rtol, "leaf gradient read after the device tape was disposed");
        var e = Assert.Throws<InvalidOperationException>(() => _ = hidden.Value)!;
        Assert.That(e.Message, Does.Contain("disposed"));
    }
}
