using Glass.Autodiff;
using Glass.Autodiff.Ops;
using Glass.Autodiff.Optim;
using Glass.Tests.Support;
using MathNet.Numerics.LinearAlgebra;
using NUnit.Framework;

namespace Glass.Tests.Autodiff;

public class OptimizerTests
{
    // Least squares min_x ‖A x − b‖²/n: convex, optimum from the normal equations (MathNet).
    private const int N = 40, D = 5;
    private static readonly double[] A = Close.RandomNormal(N * D, 1);
    private static readonly double[] B = Close.RandomNormal(N, 2);

    private static void Step(Parameter x, Optimizer opt)
    {
        var t = new Tape();
        var r = Op.Sub(Op.MatMul(t.Constant(A, N, D), x.On(t)), t.Constant(B, N, 1));
        t.Backward(Op.Mean(Op.Mul(r, r)));
        opt.Update();
    }

    private static double[] Exact()
    {
        var a = Matrix<double>.Build.Dense(N, D, (i, j) => A[i * D + j]);
        var b = Vector<double>.Build.DenseOfArray(B);
        return a.TransposeThisAndMultiply(a).Solve(a.TransposeThisAndMultiply(b)).ToArray();
    }

    [Test]
    public void Adam_ReachesTheLeastSquaresOptimum()
    {
        var x = Parameter.Zeros("x", D, 1);
        var opt = Optimizer.Adam(new[] { x }, new OptimizerOptions { LearningRate = 0.05 });
        for (int k = 0; k < 3000; k++) Step(x, opt);
        Close.All(Exact(), x.Value, 1e-6, 1e-6, "Adam solution vs normal equations");
    }

    [Test]
    public void SgdWithMomentum_ReachesTheLeastSquaresOptimum()
    {
        var x = Parameter.Zeros("x", D, 1);
        var opt = Optimizer.Sgd(new[] { x }, new OptimizerOptions { LearningRate = 0.05, Momentum = 0.9 });
        for (int k = 0; k < 2000; k++) Step(x, opt);
        Close.All(Exact(), x.Value, 1e-8, 1e-8, "SGD solution vs normal equations");
    }

    [Test]
    public void SaveLoadContinue_IsBitIdentical()
    {
        string path = Path.Combine(Path.GetTempPath(), "glass-opt-" + Guid.NewGuid().ToString("N") + ".bin");
        try
        {
            var x1 = Parameter.Glorot("x", D, 1, seed: 3);
            var o1 = Optimizer.Adam(new[] { x1 }, new OptimizerOptions { LearningRate = 0.01, WeightDecay = 1e-3, ClipNorm = 1.0 });
            for (int k = 0; k < 50; k++) Step(x1, o1);

            var x2 = Parameter.Glorot("x", D, 1, seed: 3);
            var o2 = Optimizer.Adam(new[] { x2 }, new OptimizerOptions { LearningRate = 0.01, WeightDecay = 1e-3, ClipNorm = 1.0 });
            for (int k = 0; k < 20; k++) Step(x2, o2);
            o2.Save(path);
            var x3 = Parameter.Zeros("x", D, 1);
            var o3 = Optimizer.Adam(new[] { x3 }, new OptimizerOptions { LearningRate = 0.01, WeightDecay = 1e-3, ClipNorm = 1.0 });
            o3.Load(path);
            Assert.That(o3.Step, Is.EqualTo(20));
            for (int k = 0; k < 30; k++) Step(x3, o3);
            Assert.That(x3.Value, Is.EqualTo(x1.Value), "bit-identical after save → load → continue");
        }
        finally { File.Delete(path); }
    }

    [Test]
    public void Load_RejectsMismatches_WithoutChangingAnything()
    {
        string path = Path.Combine(Path.GetTempPath(), "glass-opt-" + Guid.NewGuid().ToString("N") + ".bin");
        try
        {
            var x = Parameter.Glorot("x", D, 1, seed: 3);
            Optimizer.Adam(new[] { x }, new OptimizerOptions()).Save(path);
            var y = Parameter.Zeros("y", D, 1);
            var e = Assert.Throws<InvalidDataException>(() => Optimizer.Adam(new[] { y }, new OptimizerOptions()).Load(path))!;
            Assert.That(e.Message, Does.Contain(path).And.Contain("'x'").And.Contain("'y'"));
            Assert.That(y.Value.All(v => v == 0), Is.True);
            e = Assert.Throws<InvalidDataException>(() => Optimizer.Sgd(new[] { Parameter.Zeros("x", D, 1) }, new OptimizerOptions()).Load(path))!;
            Assert.That(e.Message, Does.Contain("'adam'"));
            File.WriteAllBytes(path, File.ReadAllBytes(path)[..30]);
            e = Assert.Throws<InvalidDataException>(() => Optimizer.Adam(new[] { Parameter.Zeros("x", D, 1) }, new OptimizerOptions()).Load(path))!;
            Assert.That(e.Message, Does.Contain("truncated"));
            Assert.Throws<ArgumentException>(() => Optimizer.Adam(new[] { x }, new OptimizerOptions { LearningRate = -1 }));
        }
        finally { File.Delete(path); }
    }

    [Test]
    public void Initialisers_AreSeeded_AndScaled()
    {
        var a = Parameter.Glorot("w", 200, 100, 5);
        Assert.That(a.Value, Is.EqualTo(Parameter.Glorot("w", 200, 100, 5).Value));
        Assert.That(a.Value.Max(Math.Abs), Is.LessThanOrEqualTo(Math.Sqrt(6.0 / 300)));
        var h = Parameter.He("w", 400, 50, 6);
        double var = h.Value.Select(v => v * v).Average();
        Assert.That(var, Is.EqualTo(2.0 / 400).Within(0.1 * 2.0 / 400));
    }
}
