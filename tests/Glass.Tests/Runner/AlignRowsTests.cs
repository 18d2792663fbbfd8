using Glass.Models.Data;
using Glass.Runner.Commands;
using NUnit.Framework;
using static Glass.Tests.Runner.RunnerTestSupport;

namespace Glass.Tests.Runner;

/// <summary>`glass align --model DIR --x X --rows A:B`: the entropic map of the stored reference, in row blocks.</summary>
[NonParallelizable]
public class AlignRowsTests
{
    private const int N = 40;
    private string _dir = "", _x = "", _y = "", _trained = "";

    [OneTimeSetUp]
    public void SetUp()
    {
        _dir = TempDir();
        (_x, _y, _, _, _) = AlignCliTests.WritePair(_dir, n: N);
        string config = Path.Combine(_dir, "tiny.yaml");
        File.WriteAllText(config, AlignCliTests.TinyConfig);
        _trained = Path.Combine(_dir, "trained");
        var (code, _, err) = AlignCli("--x", _x, "--y", _y, "--config", config, "--device", "cpu", "--no-plots", "--out", _trained);
        Assert.That(code, Is.EqualTo(0), err);
    }

    [OneTimeTearDown]
    public void TearDown()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private string Rows(string name, string rows, params string[] extra)
    {
        string o = Path.Combine(_dir, name);
        var (code, _, err) = AlignCli(new[] { "--model", _trained, "--x", _x, "--rows", rows, "--out", o }.Concat(extra).ToArray());
        Assert.That(code, Is.EqualTo(0), err);
        return o;
    }

    private static string[] Lines(string dir, string file) => File.ReadAllLines(Path.Combine(dir, file)).Skip(1).ToArray();

    [Test]
    public void Rows_OnTheTrainingX_ReproduceTheAlignment()
    {
        // The entropic map of the solve's g on the training rows is the solve's own plan rows, normalised.
        string o = Rows("all", "0:" + N, "--chunk", "7");
        var a = Npy.Read(Path.Combine(_trained, "x_aligned.npy"));
        var b = Npy.Read(Path.Combine(o, "x_aligned.npy"));
        Assert.That(b.Shape, Is.EqualTo(a.Shape));
        for (int i = 0; i < a.Data.Length; i++) Assert.That(b.Data[i], Is.EqualTo(a.Data[i]).Within(1e-9));
        Assert.That(Lines(o, "matches.csv").Select(l => l.Split(',')[1]), Is.EqualTo(Lines(_trained, "matches.csv").Select(l => l.Split(',')[1])));
        // p = π(j | x) = n·Π_ij of the solve (rows of the solve's plan sum to 1/n).
        var p0 = double.Parse(Lines(o, "matches.csv")[0].Split(',')[2], System.Globalization.CultureInfo.InvariantCulture);
        var q0 = double.Parse(Lines(_trained, "matches.csv")[0].Split(',')[2], System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(p0, Is.EqualTo(q0 * N).Within(1e-6));
    }

    [Test]
    public void ShardedBlocks_ConcatenateToTheUnshardedResult_Exactly()
    {
        string whole = Rows("whole", ":", "--chunk", "9");
        var parts = new[] { Rows("s0", "0:13", "--chunk", "4"), Rows("s1", "13:14"), Rows("s2", "14:", "--chunk", "6") };
        var w = Npy.Read(Path.Combine(whole, "x_aligned.npy"));
        var cat = parts.SelectMany(p => Npy.Read(Path.Combine(p, "x_aligned.npy")).Data).ToArray();
        Assert.That(cat, Is.EqualTo(w.Data), "bit-identical");
        Assert.That(parts.SelectMany(p => Lines(p, "matches.csv")), Is.EqualTo(Lines(whole, "matches.csv")));
        Assert.That(parts.SelectMany(p => Lines(p, "plan_topk.csv")), Is.EqualTo(Lines(whole, "plan_topk.csv")));
    }

    [Test]
    public void RowReader_SeeksTheSameValuesAsRead_Float32AndFloat64()
    {
        var data = Enumerable.Range(0, 21).Select(i => i * 0.25 - 2).ToArray();
        string f8 = Path.Combine(_dir, "r8.npy");
        Npy.Write(f8, data, 3);
        using (var r = new Npy.RowReader(f8))
        {
            var dst = new double[6];
            r.ReadRows(4, 2, dst);
            Assert.That((r.Rows, r.Cols), Is.EqualTo((7, 3)));
            Assert.That(dst, Is.EqualTo(data.Skip(12).Take(6)));
        }
        // float32, written by hand: header of shape (2, 2), then 4 floats.
        string f4 = Path.Combine(_dir, "r4.npy");
        string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }".PadRight(117) + "\n";
        using (var w = new BinaryWriter(File.Create(f4)))
        {
            w.Write((byte)0x93); w.Write("NUMPY"u8.ToArray()); w.Write((byte)1); w.Write((byte)0); w.Write((ushort)header.Length);
            w.Write(System.Text.Encoding.ASCII.GetBytes(header));
            foreach (var v in new[] { 1.5f, -2f, 3.25f, 4f }) w.Write(v);
        }
        using (var r = new Npy.RowReader(f4))
        {
            var dst = new double[2];
            r.ReadRows(1, 1, dst);
            Assert.That(dst, Is.EqualTo(new[] { 3.25, 4.0 }));
        }
        File.WriteAllText(f4, File.ReadAllText(f4, System.Text.Encoding.Latin1).Replace("False", "True "), System.Text.Encoding.Latin1);
        Assert.That(Assert.Throws<InvalidDataException>(() => new Npy.RowReader(f4))!.Message, Does.Contain("Fortran"));
    }

    [Test]
    public void BadRowsRequests_Exit2_NamingTheOption()
    {
        string o = Path.Combine(_dir, "bad");
        AssertRefused(AlignCli("--x", _x, "--rows", "0:5", "--out", o), o, _dir, "--model");
        AssertRefused(AlignCli("--model", _trained, "--x", _x, "--rows", "5:3", "--out", o), o, _dir, "--rows 5:3", $"≤ {N}");
        AssertRefused(AlignCli("--model", _trained, "--x", _x, "--rows", "0:" + (N + 1), "--out", o), o, _dir, "--rows");
        AssertRefused(AlignCli("--model", _trained, "--x", _x, "--rows", "a:b", "--out", o), o, _dir, "--rows a:b", "A:B");
        AssertRefused(AlignCli("--model", _trained, "--x", _x, "--rows", "0:5", "--chunk", "0", "--out", o), o, _dir, "--chunk");
        AssertRefused(AlignCli("--model", _trained, "--x", _x, "--y", _y, "--rows", "0:5", "--out", o), o, _dir, "--y");
        AssertRefused(AlignCli("--x", _x, "--y", _y, "--chunk", "5", "--out", o), o, _dir, "--chunk", "--rows");
        AssertRefused(AlignCli("--x", _x, "--out", o), o, _dir, "--y is required");
        AssertRefused(AlignCli("--model", _trained, "--x", _x, "--rows", "0:5", "--steps", "3", "--out", o), o, _dir, "--steps", "--rows");
        AssertRefused(AlignCli("--model", _trained, "--x", _x, "--rows", "0:5", "--x-key", "obsm/X_pca", "--out", o), o, _dir, "--x-key", "not .h5ad");
        AssertRefused(AlignCli("--model", _trained, "--x", _x, "--rows", "0:5", "--top-k", "0", "--out", o), o, _dir, "--top-k = 0");
        // A model folder without the reference (e.g. copied without it): refused, naming the reference.
        string bare = Path.Combine(_dir, "bare");
        Directory.CreateDirectory(bare);
        File.Copy(Path.Combine(_trained, "model", "gw_model.json"), Path.Combine(bare, "gw_model.json"));
        AssertRefused(AlignCli("--model", bare, "--x", _x, "--rows", "0:5", "--out", o), o, _dir, "reference");
    }

    [Test]
    public void SolverPath_SavesAReference_Too()
    {
        string o = Path.Combine(_dir, "solver");
        var (code, _, err) = AlignCli("--x", _x, "--y", _y, "--steps", "5", "--device", "cpu", "--no-plots", "--out", o);
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(File.Exists(Path.Combine(o, "model", "reference.json")));
        string r = Path.Combine(_dir, "solver-rows");
        Assert.That(AlignCli("--model", o, "--x", _x, "--rows", "3:9", "--out", r).Code, Is.EqualTo(0));
        Assert.That(Npy.Read(Path.Combine(r, "x_aligned.npy")).Shape, Is.EqualTo(new[] { 6, 5 }));
    }

    [Test]
    public void ParseRows_Forms()
    {
        Assert.That(AlignCommand.ParseRows("2:7", 10, "f"), Is.EqualTo((2, 7)));
        Assert.That(AlignCommand.ParseRows("3:", 10, "f"), Is.EqualTo((3, 10)));
        Assert.That(AlignCommand.ParseRows(":4", 10, "f"), Is.EqualTo((0, 4)));
        foreach (var bad in new[] { "4", "-1:3", "1:2:3", "5:5", "0:11", "" })
            Assert.Throws<ArgumentException>(() => AlignCommand.ParseRows(bad, 10, "f"), bad);
    }
}
