using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Glass.Models.Data;

/// <summary>
/// NumPy <c>.npy</c> files (format 1.0–3.0), little-endian float32/float64, C order, 1-D or 2-D —
/// what <c>numpy.save</c> writes and <c>numpy.load</c> reads.
/// </summary>
public static partial class Npy
{
    /// <summary>An array read from a .npy file: data as double, row-major, and its shape.</summary>
    /// <param name="Data">Values, row-major.</param>
    /// <param name="Shape">Shape (one or two dimensions).</param>
    public sealed record Array(double[] Data, int[] Shape)
    {
        /// <summary>Rows (the length of a 1-D array).</summary>
        public int Rows => Shape[0];
        /// <summary>Columns (1 for a 1-D array).</summary>
        public int Cols => Shape.Length > 1 ? Shape[1] : 1;
    }

    [GeneratedRegex(@"'descr'\s*:\s*'([^']*)'")] private static partial Regex DescrRx();
    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")] private static partial Regex OrderRx();
    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")] private static partial Regex ShapeRx();

    /// <summary>Reads a .npy file.</summary>
    /// <exception cref="InvalidDataException">Not a .npy file, unsupported dtype/order/rank, a header longer than 1 MiB or than
    /// the file, a shape entry that is negative or not an integer, an element count whose bytes overflow or exceed one
    /// array, data bytes that differ from the shape's, or non-finite values; the message names the file and the problem.</exception>
    public static Array Read(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FileNotFoundException($"{path}: cannot read the file ({e.Message}).", path, e);
        }
        if (bytes.Length < 10 || bytes[0] != 0x93 || Encoding.ASCII.GetString(bytes, 1, 5) != "NUMPY")
            throw new InvalidDataException($"{path}: not a .npy file (missing the \\x93NUMPY magic).");
        int major = bytes[6];
        long headerLen;
        int offset;
        if (major == 1) { headerLen = BitConverter.ToUInt16(bytes, 8); offset = 10; }
        else if (major is 2 or 3)
        {
            if (bytes.Length < 12) throw new InvalidDataException($"{path}: truncated header (file is {bytes.Length} bytes; a version {major} header needs at least 12).");
            headerLen = BitConverter.ToUInt32(bytes, 8);
            offset = 12;
        }
        else throw new InvalidDataException($"{path}: unsupported .npy format version {major}.");
        if (headerLen > MaxHeaderBytes)
            throw new InvalidDataException($"{path}: header length {headerLen} bytes; expected at most {MaxHeaderBytes} (1 MiB).");
        if (offset + headerLen > bytes.Length)
            throw new InvalidDataException($"{path}: truncated header: header length {headerLen} bytes but only {bytes.Length - offset} bytes follow the preamble.");
        string header = Encoding.Latin1.GetString(bytes, offset, (int)headerLen);
        var descr = DescrRx().Match(header);
        var order = OrderRx().Match(header);
        var shapeM = ShapeRx().Match(header);
        if (!descr.Success || !order.Success || !shapeM.Success)
            throw new InvalidDataException($"{path}: malformed .npy header '{header.Trim()}'.");
        bool fortran = order.Groups[1].Value == "True";
        string shapeText = shapeM.Groups[1].Value;
        var dims = ParseShape(path, shapeText);
        if (dims.Length is < 1 or > 2)
            throw new InvalidDataException($"{path}: array has {dims.Length} dimensions (shape ({shapeText})); expected 1 or 2.");
        string dt = descr.Groups[1].Value;
        int size = dt switch
        {
            "<f8" or "=f8" or "f8" => 8,
            "<f4" or "=f4" or "f4" => 4,
            _ => throw new InvalidDataException($"{path}: dtype '{dt}' is not supported; expected float32 ('<f4') or float64 ('<f8')."),
        };
        long count, dataBytes;
        try
        {
            count = checked(dims.Aggregate(1L, (x, y) => x * y));
            dataBytes = checked(count * size);
        }
        catch (OverflowException)
        {
            throw new InvalidDataException($"{path}: shape ({shapeText}) has more elements than a 64-bit count holds.");
        }
        if (count > System.Array.MaxLength)
            throw new InvalidDataException($"{path}: shape ({shapeText}) has {count} elements; at most {System.Array.MaxLength} fit in one array.");
        int start = offset + (int)headerLen;
        long present = bytes.Length - start;
        if (dataBytes > present)
            throw new InvalidDataException($"{path}: truncated data: shape ({shapeText}) needs {count} values of {size} bytes ({dataBytes} bytes) but the file holds {present}.");
        if (dataBytes < present)
            throw new InvalidDataException($"{path}: {present - dataBytes} bytes after the data: shape ({shapeText}) needs {dataBytes} bytes of {size}-byte values but the file holds {present}.");
        return new Array(Decode(bytes, start, count, size, dims, fortran, path), dims);
    }

    /// <summary>The values after the header as double, row-major, checked finite.</summary>
    private static double[] Decode(byte[] bytes, int start, long count, int size, int[] dims, bool fortran, string path)
    {
        var data = new double[count];
        for (long i = 0; i < count; i++)
        {
            double v = size == 8 ? BitConverter.ToDouble(bytes, (int)(start + i * 8)) : BitConverter.ToSingle(bytes, (int)(start + i * 4));
            if (!double.IsFinite(v))
            {
                string where = dims.Length == 2 ? $"row {i / dims[1]}, column {i % dims[1]}" : $"index {i}";
                throw new InvalidDataException($"{path}: value at {where} is {v.ToString(CultureInfo.InvariantCulture)}; expected finite numbers.");
            }
            data[i] = v;
        }
        if (fortran && dims.Length == 2)
        {
            // Column-major on disk: element (i, j) is at j·rows + i.
            var c = new double[count];
            int rows = dims[0], cols = dims[1];
            for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) c[(long)i * cols + j] = data[(long)j * rows + i];
            data = c;
        }
        return data;
    }

    /// <summary>Largest header accepted, in bytes (numpy writes a few hundred; this bounds what a corrupt length can ask for).</summary>
    internal const int MaxHeaderBytes = 1 << 20;

    /// <summary>The shape tuple's entries: each an integer in [0, int.MaxValue].</summary>
    private static int[] ParseShape(string path, string shapeText)
    {
        var parts = shapeText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var dims = new int[parts.Length];
        for (int k = 0; k < parts.Length; k++)
        {
            string d = parts[k].TrimEnd('L');
            if (!long.TryParse(d, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v))
                throw new InvalidDataException($"{path}: shape ({shapeText}) entry {k} is '{parts[k]}'; expected a non-negative integer.");
            if (v < 0)
                throw new InvalidDataException($"{path}: shape ({shapeText}) entry {k} is {v}; expected a non-negative integer.");
            if (v > int.MaxValue)
                throw new InvalidDataException($"{path}: shape ({shapeText}) entry {k} is {v}; expected at most {int.MaxValue}.");
            dims[k] = (int)v;
        }
        return dims;
    }

    /// <summary>Reads a 1-D array (an n×1 or 1×n 2-D array is accepted too).</summary>
    public static double[] Read1D(string path)
    {
        var a = Read(path);
        if (a.Shape.Length == 2 && a.Shape[0] != 1 && a.Shape[1] != 1)
            throw new InvalidDataException($"{path}: shape ({a.Shape[0]}, {a.Shape[1]}); expected a 1-D array of scores.");
        if (a.Data.Length == 0) throw new InvalidDataException($"{path}: the array is empty.");
        return a.Data;
    }

    /// <summary>Writes a float64 array (1-D when <paramref name="cols"/> is null, else rows × cols) atomically.</summary>
    public static void Write(string path, double[] data, int? cols = null)
    {
        string shape = cols is { } c ? $"({data.Length / c}, {c})" : $"({data.Length},)";
        string tmp = path + ".tmp";
        using (var fs = File.Create(tmp))
        using (var w = new BinaryWriter(fs))
        {
            WriteHeader(w, shape);
            foreach (var v in data) w.Write(v);
        }
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>The preamble and header of a version 1.0 float64 C-order file of the given shape text, padded to 64 bytes.</summary>
    private static void WriteHeader(BinaryWriter w, string shape)
    {
        string header = $"{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}";
        int total = 10 + header.Length + 1;
        int pad = (64 - total % 64) % 64;
        header = header + new string(' ', pad) + "\n";
        w.Write((byte)0x93); w.Write(Encoding.ASCII.GetBytes("NUMPY")); w.Write((byte)1); w.Write((byte)0);
        w.Write((ushort)header.Length); w.Write(Encoding.Latin1.GetBytes(header));
    }
}
