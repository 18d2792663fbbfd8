using System.Globalization;
using System.Text;
using Glass.Models.Data;
using NUnit.Framework;

namespace Glass.Tests.Models;

/// <summary>
/// Deterministic corruptions of small valid <c>.npy</c> and CSV files (truncation, byte flips in header and data, hostile
/// numbers in the shape or the cells): each read either succeeds or throws the readers' documented
/// <see cref="InvalidDataException"/> with the file's path in the message — never any other exception.
/// </summary>
public class ReaderFuzzTests
{
    private const int NpyCases = 120, CsvCases = 80;
    private string _dir = "";

    [SetUp] public void SetUp() { _dir = Path.Combine(Path.GetTempPath(), "glass-fuzz-" + Guid.NewGuid().ToString("N")); Directory.CreateDirectory(_dir); }
    [TearDown] public void TearDown() => Directory.Delete(_dir, true);

    private static readonly string[] HostileShapes =
    {
        "(1000000000000, 10)", "(100, -10)", "(-1,)", "(2147483648,)", "(2147483647, 2147483647)", "(9223372036854775807, 2)",
        "(99999999999999999999999,)", "(3, 4, 5)", "()", "(,)", "(1e3,)", "(0x10,)", "(3, 2)", "(0,)", "(5,)", "(-0,)",
    };

    /// <summary>The outcomes seen: reads that succeeded and reads refused, so a run that never exercises one side is noticed.</summary>
    private sealed class Tally { public int Ok, Refused; }

    private static void Check(string path, Action read, int caseNo, string what, Tally tally)
    {
        try
        {
            read();
            tally.Ok++;
        }
        catch (InvalidDataException e)
        {
            Assert.That(e.Message, Does.Contain(path), $"case {caseNo} ({what}): the message names no file");
            tally.Refused++;
        }
        catch (Exception e)
        {
            Assert.Fail($"case {caseNo} ({what}): {e.GetType().Name} escaped the reader: {e.Message}\n{e.StackTrace}");
        }
    }

    [Test]
    public void Npy_CorruptedFiles_SucceedOrThrowInvalidDataNamingTheFile()
    {
        var rng = new Random(20240611);
        var tally = new Tally();
        for (int c = 0; c < NpyCases; c++)
        {
            // A valid small file: float32 or float64, 1-D or 2-D, format 1.0 or 2.0.
            int rows = rng.Next(1, 6), cols = rng.Next(1, 4);
            bool twoD = rng.Next(2) == 0, f4 = rng.Next(2) == 0;
            int major = rng.Next(1, 3);
            string shape = twoD ? $"({rows}, {cols})" : $"({rows * cols},)";
            int size = f4 ? 4 : 8;
            int kind = c % 5;
            if (kind == 4) shape = HostileShapes[rng.Next(HostileShapes.Length)];
            string dict = "{'descr': '" + (f4 ? "<f4" : "<f8") + "', 'fortran_order': " + (rng.Next(2) == 0 ? "False" : "True") + ", 'shape': " + shape + ", }";
            var bytes = NpyTests.NpyBytes(dict, 0, major).ToList();
            int headerEnd = bytes.Count;
            for (int i = 0; i < rows * cols; i++)
                bytes.AddRange(f4 ? BitConverter.GetBytes((float)(rng.NextDouble() * 4 - 2)) : BitConverter.GetBytes(rng.NextDouble() * 4 - 2));
            var b = bytes.ToArray();
            string what;
            switch (kind)
            {
                case 0: // truncation at a random point
                    int cut = rng.Next(b.Length);
                    b = b[..cut];
                    what = $"truncated at {cut} of {bytes.Count}";
                    break;
                case 1: // byte flips in the header (preamble included)
                    int flips = rng.Next(1, 4);
                    for (int k = 0; k < flips; k++) b[rng.Next(headerEnd)] = (byte)rng.Next(256);
                    what = $"{flips} header byte(s) replaced";
                    break;
                case 2: // byte flips in the data (may make NaN/Inf, which must be refused)
                    for (int k = 0; k < 3; k++) b[headerEnd + rng.Next(b.Length - headerEnd)] ^= (byte)(1 << rng.Next(8));
                    what = "data bits flipped";
                    break;
                case 3: // a hostile header length field
                    uint len = rng.Next(3) switch { 0 => uint.MaxValue, 1 => (uint)rng.Next(1 << 21), _ => (uint)rng.Next(headerEnd) };
                    if (major == 1) BitConverter.GetBytes((ushort)len).CopyTo(b, 8);
                    else BitConverter.GetBytes(len).CopyTo(b, 8);
                    what = $"header length {len}";
                    break;
                default:
                    what = $"shape {shape} over {rows * cols} values of {size} bytes";
                    break;
            }
            string path = Path.Combine(_dir, $"fuzz{c}.npy");
            File.WriteAllBytes(path, b);
            Check(path, () => Npy.Read(path), c, what, tally);
        }
        Assert.That(tally.Refused, Is.GreaterThan(NpyCases / 3), "most corruptions must be refused");
        Assert.That(tally.Ok, Is.GreaterThan(0), "some corruptions (data bit flips, a matching shape) leave a readable file");
    }

    private static readonly string[] HostileCells = { "1e400", "-1e400", "NaN", "∞", "1,5", "99999999999999999999999999", "-0", "0x1F", "", " ", "1.2.3", "\0" };

    [Test]
    public void Csv_CorruptedFiles_SucceedOrThrowInvalidDataNamingTheFile()
    {
        var rng = new Random(7031);
        var tally = new Tally();
        for (int c = 0; c < CsvCases; c++)
        {
            int rows = rng.Next(1, 6), cols = rng.Next(1, 4);
            var sb = new StringBuilder();
            if (rng.Next(2) == 0) sb.Append(string.Join(",", Enumerable.Range(0, cols).Select(j => "c" + j))).Append('\n');
            for (int i = 0; i < rows; i++)
                sb.Append(string.Join(",", Enumerable.Range(0, cols).Select(_ => (rng.NextDouble() * 200 - 100).ToString("R", CultureInfo.InvariantCulture)))).Append('\n');
            var b = Encoding.UTF8.GetBytes(sb.ToString());
            string what;
            switch (c % 4)
            {
                case 0:
                    int cut = rng.Next(b.Length);
                    b = b[..cut];
                    what = $"truncated at {cut}";
                    break;
                case 1:
                    int flips = rng.Next(1, 4);
                    for (int k = 0; k < flips; k++) b[rng.Next(b.Length)] = (byte)rng.Next(256);
                    what = $"{flips} byte(s) replaced";
                    break;
                case 2:
                    var lines = sb.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
                    int li = rng.Next(lines.Length);
                    var cells = lines[li].Split(',');
                    cells[rng.Next(cells.Length)] = HostileCells[rng.Next(HostileCells.Length)];
                    lines[li] = string.Join(",", cells);
                    b = Encoding.UTF8.GetBytes(string.Join("\n", lines) + "\n");
                    what = $"line {li + 1} is '{lines[li]}'";
                    break;
                default:
                    int at = rng.Next(b.Length);
                    var ins = rng.Next(3) switch { 0 => ",", 1 => "\n", _ => "-" };
                    b = b[..at].Concat(Encoding.UTF8.GetBytes(ins)).Concat(b[at..]).ToArray();
                    what = $"'{ins.Replace("\n", "\\n")}' inserted at {at}";
                    break;
            }
            string path = Path.Combine(_dir, $"fuzz{c}.csv");
            File.WriteAllBytes(path, b);
            Check(path, () => PointSetReader.ReadCsv(path), c, what, tally);
        }
        Assert.That(tally.Refused, Is.GreaterThan(CsvCases / 5), "hostile cells and broken rows must be refused");
        Assert.That(tally.Ok, Is.GreaterThan(0), "some corruptions (a cut after a full row) leave a readable file");
    }
}
