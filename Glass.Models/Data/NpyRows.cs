using System.Globalization;
using System.Text;

namespace Glass.Models.Data;

public static partial class Npy
{
    /// <summary>
    /// Reads rows of a 2-D (or 1-D: n×1) C-order float32/float64 <c>.npy</c> file without loading it: the header is
    /// parsed and checked against the file length once, each <see cref="ReadRows"/> seeks to its rows.
    /// </summary>
    public sealed class RowReader : IDisposable
    {
        private readonly FileStream _fs;
        private readonly long _start;
        private readonly int _size;
        private byte[] _buffer = System.Array.Empty<byte>();

        /// <summary>The file.</summary>
        public string Path { get; }
        /// <summary>Rows n.</summary>
        public int Rows { get; }
        /// <summary>Columns d (1 for a 1-D array).</summary>
        public int Cols { get; }

        /// <summary>Opens <paramref name="path"/> and checks its header.</summary>
        /// <exception cref="InvalidDataException">Not a .npy file, a Fortran-order array, another dtype or rank, a length that differs from the shape's; the message names the file.</exception>
        public RowReader(string path)
        {
            Path = path;
            if (!File.Exists(path)) throw new FileNotFoundException($"{path}: point set file not found.", path);
            _fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            try
            {
                (_start, _size, Rows, Cols) = ParseHeader(_fs, path);
            }
            catch
            {
                _fs.Dispose();
                throw;
            }
        }

        /// <summary>Rows <paramref name="row0"/> … row0 + count − 1 into <paramref name="dst"/> (count·Cols, row-major), checked finite.</summary>
        public void ReadRows(int row0, int count, double[] dst)
        {
            if (row0 < 0 || count < 0 || row0 + (long)count > Rows) throw new ArgumentOutOfRangeException(nameof(row0), $"rows {row0}…{row0 + count} outside [0, {Rows}].");
            long values = (long)count * Cols;
            int bytes = checked((int)(values * _size));
            if (_buffer.Length < bytes) _buffer = new byte[bytes];
            _fs.Seek(_start + (long)row0 * Cols * _size, SeekOrigin.Begin);
            _fs.ReadExactly(_buffer, 0, bytes);
            for (int i = 0; i < values; i++)
            {
                double v = _size == 8 ? BitConverter.ToDouble(_buffer, i * 8) : BitConverter.ToSingle(_buffer, i * 4);
                if (!double.IsFinite(v))
                    throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                        $"{Path}: value at row {row0 + i / Cols}, column {i % Cols} is {v}; expected finite numbers."));
                dst[i] = v;
            }
        }

        /// <inheritdoc />
        public void Dispose() => _fs.Dispose();

        private static (long Start, int Size, int Rows, int Cols) ParseHeader(FileStream fs, string path)
        {
            var pre = new byte[12];
            int got = fs.Read(pre, 0, 12);
            if (got < 10 || pre[0] != 0x93 || Encoding.ASCII.GetString(pre, 1, 5) != "NUMPY")
                throw new InvalidDataException($"{path}: not a .npy file (missing the \\x93NUMPY magic).");
            int major = pre[6];
            long headerLen;
            int offset;
            if (major == 1) { headerLen = BitConverter.ToUInt16(pre, 8); offset = 10; }
            else if (major is 2 or 3 && got == 12) { headerLen = BitConverter.ToUInt32(pre, 8); offset = 12; }
            else throw new InvalidDataException($"{path}: unsupported or truncated .npy format version {major}.");
            if (headerLen > MaxHeaderBytes || offset + headerLen > fs.Length)
                throw new InvalidDataException($"{path}: header length {headerLen} bytes; expected at most {MaxHeaderBytes} and within the file's {fs.Length} bytes.");
            var hb = new byte[headerLen];
            fs.Seek(offset, SeekOrigin.Begin);
            fs.ReadExactly(hb);
            string header = Encoding.Latin1.GetString(hb);
            var descr = DescrRx().Match(header);
            var order = OrderRx().Match(header);
            var shapeM = ShapeRx().Match(header);
            if (!descr.Success || !order.Success || !shapeM.Success)
                throw new InvalidDataException($"{path}: malformed .npy header '{header.Trim()}'.");
            if (order.Groups[1].Value == "True")
                throw new InvalidDataException($"{path}: a Fortran-order (column-major) array cannot be read by rows; expected C order (numpy.ascontiguousarray before numpy.save).");
            string shapeText = shapeM.Groups[1].Value;
            var dims = ParseShape(path, shapeText);
            if (dims.Length is < 1 or > 2)
                throw new InvalidDataException($"{path}: array has {dims.Length} dimensions (shape ({shapeText})); expected 1 or 2.");
            int size = descr.Groups[1].Value switch
            {
                "<f8" or "=f8" or "f8" => 8,
                "<f4" or "=f4" or "f4" => 4,
                var dt => throw new InvalidDataException($"{path}: dtype '{dt}' is not supported; expected float32 ('<f4') or float64 ('<f8')."),
            };
            int rows = dims[0], cols = dims.Length == 2 ? dims[1] : 1;
            long start = offset + headerLen;
            long need = (long)rows * cols * size;
            if (fs.Length - start != need)
                throw new InvalidDataException($"{path}: shape ({shapeText}) needs {need} data bytes of {size}-byte values but the file holds {fs.Length - start}.");
            if (rows < 1 || cols < 1)
                throw new InvalidDataException($"{path}: shape ({shapeText}) is empty; expected at least one row and one column.");
            return (start, size, rows, cols);
        }
    }

    /// <summary>Writes a rows×cols float64 C-order <c>.npy</c> file row block by row block (the shape is known up front).</summary>
    public sealed class RowWriter : IDisposable
    {
        private readonly BinaryWriter _w;
        private long _written;

        /// <summary>Creates <paramref name="path"/> with the header of a rows×cols array.</summary>
        public RowWriter(string path, int rows, int cols)
        {
            Rows = rows;
            Cols = cols;
            _w = new BinaryWriter(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16));
            WriteHeader(_w, $"({rows}, {cols})");
        }

        /// <summary>Rows of the array.</summary>
        public int Rows { get; }
        /// <summary>Columns of the array.</summary>
        public int Cols { get; }

        /// <summary>Appends <paramref name="count"/> rows from <paramref name="data"/> (row-major).</summary>
        public void Append(double[] data, int count)
        {
            long values = (long)count * Cols;
            if (_written + values > (long)Rows * Cols) throw new InvalidOperationException($"more than the {Rows} rows of the header.");
            for (long i = 0; i < values; i++) _w.Write(data[i]);
            _written += values;
        }

        /// <summary>True when every row of the header has been written.</summary>
        public bool Complete => _written == (long)Rows * Cols;

        /// <inheritdoc />
        public void Dispose() => _w.Dispose();
    }
}
