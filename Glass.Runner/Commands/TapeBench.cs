using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Glass.Autodiff;
using Glass.Autodiff.Ops;
using Glass.Autodiff.Optim;
using Glass.Kernels.Device;
using Glass.Kernels.Linalg;

namespace Glass.Runner.Commands;

/// <summary><c>glass bench mlp</c>: the tape's overhead over the bare matrix products of a small MLP step.</summary>
internal static class TapeBench
{
    private const int Batch = 1000, Din = 50, Width = 256, Dout = 16;

    public static Command MlpCommand(CliContext ctx)
    {
        var repeats = new Option<int>("--repeats") { Description = "Repeats (median reported).", DefaultValueFactory = _ => 11 };
        var json = new Option<bool>("--json") { Description = "One JSON object on stdout." };
        var noArena = new Option<bool>("--no-arena") { Description = "Record each step on a plain Tape() (fresh buffers) instead of one TapeArena shared across steps." };
        var cmd = new Command("mlp", "Tape overhead: 3-layer ReLU MLP (width 256) forward+backward on a 1000×50 batch vs the bare matrix products (interleaved, medians).") { repeats, json, noArena };
        cmd.SetAction(p =>
        {
            int reps = p.GetValue(repeats);
            if (reps < 1) throw new ArgumentException($"--repeats = {reps}; expected an integer ≥ 1.");
            var step = new MlpStep(p.GetValue(noArena) ? null : new TapeArena());
            step.Taped(true); step.Taped(false); step.Bare(); step.BareGemm();
            List<double> tf = [], tu = [], tb = [], tg = [];
            for (int k = 0; k < reps; k++) { tf.Add(step.Taped(true)); tu.Add(step.Taped(false)); tb.Add(step.Bare()); tg.Add(step.BareGemm()); }
            Report(ctx.Out, p.GetValue(json), reps, step.Arena is not null,
                BenchStats.Median(tf), BenchStats.Median(tu), BenchStats.Median(tb), BenchStats.Median(tg));
            return 0;
        });
        return cmd;
    }

    private static void Report(TextWriter w, bool asJson, int reps, bool arena, double mf, double mu, double mb, double mg)
    {
        if (asJson)
            w.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["taped_seconds"] = mf, ["taped_unfused_seconds"] = mu, ["bare_matmul_seconds"] = mb, ["ratio"] = mf / mb, ["ratio_unfused"] = mu / mb,
                ["bare_gemm_seconds"] = mg, ["arena"] = arena, ["ratio_vs_gemm"] = mf / mg, ["ratio_unfused_vs_gemm"] = mu / mg,
            }));
        else
            w.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"tape forward+backward {mf * 1e3:F2} ms (Op.Linear; MatMul+Add {mu * 1e3:F2} ms), bare matrix products {mb * 1e3:F2} ms (MatMul.Multiply) / {mg * 1e3:F2} ms (GEMM into preallocated buffers); ratio {mf / mb:F2} / {mf / mg:F2} (MatMul+Add {mu / mb:F2} / {mu / mg:F2}) (median of {reps}, {(arena ? "one TapeArena across steps" : "no arena")})"));
    }

    /// <summary>One training step of the 3-layer MLP, timed three ways (taped, bare products, GEMM into preallocated buffers).</summary>
    private sealed class MlpStep(TapeArena? arena)
    {
        private readonly double[] _x = BenchCommands.Normal(new Random(1), Batch * Din);
        private readonly Parameter[] _ps =
        [
            Parameter.Glorot("w1", Din, Width, 1), Parameter.Zeros("b1", 1, Width),
            Parameter.Glorot("w2", Width, Width, 2), Parameter.Zeros("b2", 1, Width),
            Parameter.Glorot("w3", Width, Dout, 3),
        ];
        private readonly double[] _h1 = new double[Batch * Width], _h2 = new double[Batch * Width], _y = new double[Batch * Dout],
            _w3 = new double[Width * Dout], _d2 = new double[Batch * Width], _w2 = new double[Width * Width],
            _d1 = new double[Batch * Width], _w1 = new double[Din * Width];

        public TapeArena? Arena => arena;

        /// <summary>Forward and backward on the tape (fused Op.Linear, or MatMul + Add); seconds.</summary>
        public double Taped(bool fused)
        {
            var sw = Stopwatch.StartNew();
            using var tape = new Tape(arena);
            var ps = _ps;
            Var y;
            if (fused)
            {
                var h = Op.Relu(Op.Linear(tape.Constant(_x, Batch, Din), ps[0].On(tape), ps[1].On(tape)));
                h = Op.Relu(Op.Linear(h, ps[2].On(tape), ps[3].On(tape)));
                y = Op.MatMul(h, ps[4].On(tape));
            }
            else
            {
                var h = Op.Relu(Op.Add(Op.MatMul(tape.Constant(_x, Batch, Din), ps[0].On(tape)), ps[1].On(tape)));
                h = Op.Relu(Op.Add(Op.MatMul(h, ps[2].On(tape)), ps[3].On(tape)));
                y = Op.MatMul(h, ps[4].On(tape));
            }
            tape.Backward(Op.Mean(Op.Mul(y, y)));
            return sw.Elapsed.TotalSeconds;
        }

        /// <summary>The same 3 forward and 5 backward products (∂W and ∂input per layer, no ∂input for layer 1), nothing else; seconds.</summary>
        public double Bare()
        {
            var sw = Stopwatch.StartNew();
            var cpu = ComputeDevice.Cpu;
            var h1 = MatMul.Multiply(cpu, _x, _ps[0].Value, Batch, Din, Width);
            var h2 = MatMul.Multiply(cpu, h1, _ps[2].Value, Batch, Width, Width);
            var y = MatMul.Multiply(cpu, h2, _ps[4].Value, Batch, Width, Dout);
            MatMul.MultiplyTransposedA(cpu, h2, y, Width, Batch, Dout);
            var d2 = MatMul.MultiplyTransposedB(cpu, y, _ps[4].Value, Batch, Dout, Width);
            MatMul.MultiplyTransposedA(cpu, h1, d2, Width, Batch, Width);
            var d1 = MatMul.MultiplyTransposedB(cpu, d2, _ps[2].Value, Batch, Width, Width);
            MatMul.MultiplyTransposedA(cpu, _x, d1, Din, Batch, Width);
            return sw.Elapsed.TotalSeconds;
        }

        /// <summary>The same 8 products straight into preallocated buffers (no allocation, no validation): the GEMM floor; seconds.</summary>
        public double BareGemm()
        {
            var sw = Stopwatch.StartNew();
            MatMulCpu.Gemm(_x, _ps[0].Value, _h1, Batch, Din, Width);
            MatMulCpu.Gemm(_h1, _ps[2].Value, _h2, Batch, Width, Width);
            MatMulCpu.Gemm(_h2, _ps[4].Value, _y, Batch, Width, Dout);
            MatMulCpu.Gemm(_h2, _y, _w3, Width, Batch, Dout, transA: true);
            MatMulCpu.Gemm(_y, _ps[4].Value, _d2, Batch, Dout, Width, transB: true);
            MatMulCpu.Gemm(_h1, _d2, _w2, Width, Batch, Width, transA: true);
            MatMulCpu.Gemm(_d2, _ps[2].Value, _d1, Batch, Width, Width, transB: true);
            MatMulCpu.Gemm(_x, _d1, _w1, Din, Batch, Width, transA: true);
            return sw.Elapsed.TotalSeconds;
        }
    }
}
