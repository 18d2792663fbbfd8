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
}
