using System.Text.Json;
using Glass.Models.Data;
using Glass.Runner.Commands;
using NUnit.Framework;

namespace Glass.Tests.Runner;

/// <summary>`glass bench sinkhorn`, `glass bench inductive` and `glass devices` end to end (stdout captured).</summary>
[NonParallelizable]
public class BenchCliTests
{
    private static (int Code, string Out, string Err) Glass(params string[] args)
    {
        var oldOut = Console.Out;
        var oldErr = Console.Error;
        var o = new StringWriter();
        var e = new StringWriter();
        Console.SetOut(o);
        Console.SetError(e);
        try { return (Cli.Run(args, o, e), o.ToString(), e.ToString()); }
        finally { Console.SetOut(oldOut); Console.SetError(oldErr); }
    }

    [Test]
    public void BenchSinkhorn_Json_OneLinePerMethod_WithRequiredKeys()
    {
        var (code, stdout, _) = Glass("bench", "sinkhorn", "--n", "300", "--gamma", "0.05", "--max-iter", "500", "--repeats", "1", "--device", "cpu",
            "--methods", "dense,banded", "--json");
        Assert.That(code, Is.EqualTo(0));
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(2));
        var docs = lines.Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.That(docs.Select(d => d.GetProperty("method").GetString()), Is.EqualTo(new[] { "dense", "banded" }));
        foreach (var d in docs)
        {
            foreach (var key in new[] { "device", "n", "gamma", "iterations", "nnz", "cost", "seconds" })
                Assert.That(d.TryGetProperty(key, out _), Is.True, $"key {key}");
            Assert.That(d.GetProperty("device").GetString(), Is.EqualTo("cpu"));
            Assert.That(d.GetProperty("n").GetInt32(), Is.EqualTo(300));
            Assert.That(d.GetProperty("converged").GetBoolean(), Is.True);
        }
        double dense = docs[0].GetProperty("cost").GetDouble(), banded = docs[1].GetProperty("cost").GetDouble();
        Assert.That(Math.Abs(banded - dense) / dense, Is.LessThan(1e-4));
        Assert.That(docs[1].GetProperty("nnz").GetInt64(), Is.LessThan(docs[0].GetProperty("nnz").GetInt64()));
    }

    [TestCase("0.005", "banded")]
    [TestCase("0.5", "stored")]
    public void BenchSinkhorn_DefaultIsAuto_ReportsTheChosenSolver(string gamma, string expected)
    {
        // N(0,1) scores: at γ = 0.005 the band keeps a small share of the pairs; at γ = 0.5 (radius 2.6) most of them.
        var (code, stdout, _) = Glass("bench", "sinkhorn", "--n", "200", "--gamma", gamma, "--max-iter", "20000", "--repeats", "1", "--device", "cpu", "--json");
        Assert.That(code, Is.EqualTo(0));
        var d = JsonDocument.Parse(stdout.Trim()).RootElement;
        Assert.That(d.GetProperty("method").GetString(), Is.EqualTo("auto"));
        Assert.That(d.GetProperty("solver").GetString(), Is.EqualTo(expected));
        Assert.That(d.GetProperty("converged").GetBoolean(), Is.True);
    }

    [Test]
    public void BenchInductive_Json_ClassAccuracyAndBaselineLines()
    {
        var (code, stdout, err) = Glass("bench", "inductive", "--n", "60", "--dim", "8", "--train-n", "30", "--train-steps", "5", "--baseline", "--device", "cpu", "--json");
        Assert.That(code, Is.EqualTo(0), err);
        var docs = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.That(docs.Select(d => d.GetProperty("method").GetString()), Is.EqualTo(new[] { "learned-gw-inductive", "entropic-gw" }));
        foreach (var d in docs)
        {
            foreach (var key in new[] { "n", "map", "seconds", "peak_bytes", "accuracy", "exact_accuracy" })
                Assert.That(d.TryGetProperty(key, out _), Is.True, $"key {key}");
            // accuracy is the class accuracy: never below the exact-partner accuracy.
            Assert.That(d.GetProperty("accuracy").GetDouble(), Is.GreaterThanOrEqualTo(d.GetProperty("exact_accuracy").GetDouble()));
            Assert.That(d.GetProperty("map").GetString(), Is.EqualTo("orthogonal"));
        }
        Assert.That(docs[0].GetProperty("train_n").GetInt32(), Is.EqualTo(30));
    }

    [Test]
    public void BenchInductive_BadMapNamesTheOption()
    {
        var (code, _, err) = Glass("bench", "inductive", "--map", "affine", "--n", "10", "--train-steps", "0");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("--map affine; expected orthogonal or nonlinear"));
    }

    [Test]
    public void BenchSinkhorn_ReadsUserScores()
    {
        string dir = Path.Combine(Path.GetTempPath(), "glass-cli-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var rng = new Random(3);
            Npy.Write(Path.Combine(dir, "s.npy"), Enumerable.Range(0, 101).Select(_ => rng.NextDouble()).ToArray());
            Npy.Write(Path.Combine(dir, "t.npy"), Enumerable.Range(0, 77).Select(_ => rng.NextDouble()).ToArray());
            var (code, stdout, _) = Glass("bench", "sinkhorn", "--s", Path.Combine(dir, "s.npy"), "--t", Path.Combine(dir, "t.npy"),
                "--gamma", "0.02", "--max-iter", "2000", "--repeats", "1", "--device", "cpu", "--methods", "banded", "--json");
            Assert.That(code, Is.EqualTo(0));
            var d = JsonDocument.Parse(stdout.Trim()).RootElement;
            Assert.That(d.GetProperty("n").GetInt32(), Is.EqualTo(101));
            Assert.That(d.GetProperty("m").GetInt32(), Is.EqualTo(77));
        }
        finally { Directory.Delete(dir, true); }
    }

    [TestCase(new[] { "--gamma", "-1" }, "--gamma = -1")]
    [TestCase(new[] { "--band-eps", "2" }, "--band-eps = 2")]
    [TestCase(new[] { "--n", "0" }, "--n = 0")]
    [TestCase(new[] { "--s", "only-s.npy" }, "--s and --t must be given together")]
    [TestCase(new[] { "--s", "missing-s.npy", "--t", "missing-t.npy" }, "missing-s.npy")]
    [TestCase(new[] { "--methods", "dense,fancy" }, "'fancy'")]
    [TestCase(new[] { "--device", "tpu" }, "Unknown device 'tpu'")]
    public void BenchSinkhorn_BadInput_ExitsNonZero_NamingTheProblem(string[] extra, string expected)
    {
        var args = new List<string> { "bench", "sinkhorn", "--repeats", "1" };
        if (!extra.Contains("--n")) args.AddRange(new[] { "--n", "64" });
        if (!extra.Contains("--device")) args.AddRange(new[] { "--device", "cpu" });
        var (code, stdout, stderr) = Glass(args.Concat(extra).ToArray());
        Assert.That(code, Is.Not.EqualTo(0));
        Assert.That(stderr, Does.Contain(expected));
        Assert.That(stdout, Does.Not.Contain("\"method\""));
    }

    [Test]
    public void Devices_ListsTheManagedBackend()
    {
        var (code, stdout, _) = Glass("devices");
        Assert.That(code, Is.EqualTo(0));
        Assert.That(stdout, Does.StartWith("cpu "));
    }
}
