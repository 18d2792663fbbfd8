using System.Text;
using Glass.Models.Data;
using NUnit.Framework;

namespace Glass.Tests.Models;

public class NpyTests
{
    private string _dir = "";

    [SetUp] public void SetUp() { _dir = Path.Combine(Path.GetTempPath(), "glass-npy-" + Guid.NewGuid().ToString("N")); Directory.CreateDirectory(_dir); }
    [TearDown] public void TearDown() => Directory.Delete(_dir, true);

    [Test]
    public void WriteThenRead_RoundTrips_1DAnd2D()
    {
        var x = new[] { 1.5, -2.25, 3e-300, 0.0, 7.0, 8.0 };
        string p1 = Path.Combine(_dir, "a.npy"), p2 = Path.Combine(_dir, "b.npy");
        Npy.Write(p1, x);
        Npy.Write(p2, x, cols: 3);
        Assert.That(Npy.Read1D(p1), Is.EqualTo(x));
        var b = Npy.Read(p2);
        Assert.That(b.Shape, Is.EqualTo(new[] { 2, 3 }));
        Assert.That(b.Data, Is.EqualTo(x));
        Assert.That(File.Exists(p1 + ".tmp"), Is.False);
    }

    [Test]
    public void ReadsFloat32_AsWrittenByNumpy()
    {
        // Bytes of numpy.save(f, numpy.array([1.0, -0.5, 2.0], dtype=numpy.float32)).
        string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }";
        header = header.PadRight(117) + "\n";
        var bytes = new List<byte> { 0x93 };
        bytes.AddRange(Encoding.ASCII.GetBytes("NUMPY"));
        bytes.AddRange(new byte[] { 1, 0 });
        bytes.AddRange(BitConverter.GetBytes((ushort)header.Length));
        bytes.AddRange(Encoding.ASCII.GetBytes(header));
        foreach (float v in new[] { 1.0f, -0.5f, 2.0f }) bytes.AddRange(BitConverter.GetBytes(v));
        string p = Path.Combine(_dir, "f.npy");
        File.WriteAllBytes(p, bytes.ToArray());
        Assert.That(Npy.Read1D(p), Is.EqualTo(new[] { 1.0, -0.5, 2.0 }));
    }

    [Test]
    public void BadFiles_NameTheFileAndTheProblem()
    {
        string notNpy = Path.Combine(_dir, "x.npy");
        File.WriteAllText(notNpy, "hello world, not numpy");
        var e = Assert.Throws<InvalidDataException>(() => Npy.Read(notNpy))!;
        Assert.That(e.Message, Does.Contain(notNpy).And.Contain("not a .npy file"));

        string nan = Path.Combine(_dir, "nan.npy");
        Npy.Write(nan, new[] { 1.0, double.NaN, 3.0 });
        e = Assert.Throws<InvalidDataException>(() => Npy.Read(nan))!;
        Assert.That(e.Message, Does.Contain(nan).And.Contain("index 1").And.Contain("NaN"));

        string mat = Path.Combine(_dir, "m.npy");
        Npy.Write(mat, new double[6], cols: 3);
        e = Assert.Throws<InvalidDataException>(() => Npy.Read1D(mat))!;
        Assert.That(e.Message, Does.Contain("shape (2, 3)"));

        var missing = Path.Combine(_dir, "nope.npy");
        var f = Assert.Throws<FileNotFoundException>(() => Npy.Read(missing))!;
        Assert.That(f.Message, Does.Contain(missing));
    }

    /// <summary>A .npy file with the given header dict text, format version and data bytes (header padded as numpy does).</summary>
    internal static byte[] NpyBytes(string dict, int dataBytes, int major = 1, long? headerLenOverride = null)
    {
        int pre = major == 1 ? 10 : 12;
        string header = dict;
        header = header.PadRight(header.Length + (64 - (pre + header.Length + 1) % 64) % 64) + "\n";
        var bytes = new List<byte> { 0x93 };
        bytes.AddRange(Encoding.ASCII.GetBytes("NUMPY"));
        bytes.AddRange(new byte[] { (byte)major, 0 });
        long len = headerLenOverride ?? header.Length;
        if (major == 1) bytes.AddRange(BitConverter.GetBytes((ushort)len));
        else bytes.AddRange(BitConverter.GetBytes((uint)len));
        bytes.AddRange(Encoding.ASCII.GetBytes(header));
        for (int i = 0; i < dataBytes; i++) bytes.Add((byte)(i * 37));
        return bytes.ToArray();
    }

    private string WriteNpy(string name, byte[] bytes)
    {
        string p = Path.Combine(_dir, name);
        File.WriteAllBytes(p, bytes);
        return p;
    }

    private static string Dict(string shape) => "{'descr': '<f8', 'fortran_order': False, 'shape': " + shape + ", }";

    [TestCase("(1000000000000, 10)", "entry 0 is 1000000000000", TestName = "HostileShape_HugeEntry")]
    [TestCase("(100, -10)", "entry 1 is -10", TestName = "HostileShape_NegativeEntry")]
    [TestCase("(2147483647, 2147483647)", "elements", TestName = "HostileShape_CountBeyondOneArray")]
    [TestCase("(abc, 3)", "entry 0 is 'abc'", TestName = "HostileShape_NotAnInteger")]
    [TestCase("(99999999999999999999999,)", "entry 0 is '99999999999999999999999'", TestName = "HostileShape_BeyondInt64")]
    [TestCase("(5, 3)", "truncated data", TestName = "HostileShape_MoreThanTheFileHolds")]
    [TestCase("(1, 3)", "bytes after the data", TestName = "HostileShape_FewerThanTheFileHolds")]
    public void HostileShape_IsAFormatErrorNamingTheFile(string shape, string problem)
    {
        string p = WriteNpy("h.npy", NpyBytes(Dict(shape), dataBytes: 2 * 3 * 8));
        var e = Assert.Throws<InvalidDataException>(() => Npy.Read(p))!;
        Assert.That(e.Message, Does.StartWith(p + ":").And.Contain(problem));
    }

    [Test]
    public void ShapeMatchingTheBytes_StillReads_IncludingEmpty()
    {
        Assert.That(Npy.Read(WriteNpy("ok.npy", NpyBytes(Dict("(2, 3)"), dataBytes: 0).Concat(new byte[48]).ToArray())).Shape,
            Is.EqualTo(new[] { 2, 3 }));
        Assert.That(Npy.Read(WriteNpy("empty.npy", NpyBytes(Dict("(0, 3)"), dataBytes: 0))).Data, Is.Empty);
        var v2 = Npy.Read(WriteNpy("v2.npy", NpyBytes(Dict("(3,)"), dataBytes: 0, major: 2).Concat(new byte[24]).ToArray()));
        Assert.That(v2.Data, Is.EqualTo(new double[3]));
    }

    [Test]
    public void HugeHeaderLength_IsAFormatErrorNamingTheFile()
    {
        string big = WriteNpy("big.npy", NpyBytes(Dict("(3,)"), 24, major: 2, headerLenOverride: 0xFFFF_FFF0L));
        var e = Assert.Throws<InvalidDataException>(() => Npy.Read(big))!;
        Assert.That(e.Message, Does.StartWith(big + ":").And.Contain("header length 4294967280").And.Contain("at most"));

        // Below the 1 MiB bound but longer than the file.
        string past = WriteNpy("past.npy", NpyBytes(Dict("(3,)"), 24, major: 3, headerLenOverride: 100_000));
        e = Assert.Throws<InvalidDataException>(() => Npy.Read(past))!;
        Assert.That(e.Message, Does.StartWith(past + ":").And.Contain("truncated header"));

        // A version-2 preamble cut before its 4-byte length.
        string cut = WriteNpy("cut.npy", NpyBytes(Dict("(3,)"), 24, major: 2)[..11]);
        e = Assert.Throws<InvalidDataException>(() => Npy.Read(cut))!;
        Assert.That(e.Message, Does.StartWith(cut + ":").And.Contain("truncated header"));
    }

    [Test]
    public void HostileShape_ThroughPointSetReader_NamesTheFile()
    {
        string p = WriteNpy("pts.npy", NpyBytes(Dict("(1000000000000, 10)"), 24));
        var e = Assert.Throws<InvalidDataException>(() => PointSetReader.Read(p))!;
        Assert.That(e.Message, Does.StartWith(p + ": shape"));
    }
}
