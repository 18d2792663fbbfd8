using Glass.Kernels.Linalg;
using ILGPU;
using ILGPU.Runtime;

namespace Glass.Kernels.Chebyshev;

/// <summary>
/// A <see cref="CsrMatrix"/> on an accelerator, values in float32. Owns its three buffers
/// (<c>rowPtr</c> rows+1, <c>colIdx</c> and <c>values</c> nnz); dispose it to free them.
/// </summary>
internal sealed class DeviceCsr : IDisposable
{
    private readonly MemoryBuffer1D<int, Stride1D.Dense> _rowPtr;
    private readonly MemoryBuffer1D<int, Stride1D.Dense> _colIdx;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _values;

    /// <summary>Uploads <paramref name="matrix"/> (values rounded to float32).</summary>
    public DeviceCsr(Accelerator accelerator, CsrMatrix matrix)
    {
        Rows = matrix.Rows;
        Cols = matrix.Cols;
        int nnz = matrix.Nnz;
        var vals = new float[nnz];
        for (int k = 0; k < nnz; k++) vals[k] = (float)matrix.Values[k];
        _rowPtr = accelerator.Allocate1D(matrix.RowPtr);
        // Zero-length buffers are not allowed on every backend; keep one slot for an empty matrix.
        _colIdx = accelerator.Allocate1D<int>(Math.Max(nnz, 1));
        _values = accelerator.Allocate1D<float>(Math.Max(nnz, 1));
        if (nnz > 0)
        {
            _colIdx.View.SubView(0, nnz).CopyFromCPU(matrix.ColIdx);
            _values.View.SubView(0, nnz).CopyFromCPU(vals);
        }
    }

    /// <summary>Number of rows.</summary>
    public int Rows { get; }
    /// <summary>Number of columns.</summary>
    public int Cols { get; }
    /// <summary>Row pointers, length rows + 1.</summary>
    public ArrayView<int> RowPtr => _rowPtr.View;
    /// <summary>Column indices, length nnz (at least 1).</summary>
    public ArrayView<int> ColIdx => _colIdx.View;
    /// <summary>Values (float32), length nnz (at least 1).</summary>
    public ArrayView<float> Values => _values.View;

    /// <inheritdoc />
    public void Dispose()
    {
        _rowPtr.Dispose();
        _colIdx.Dispose();
        _values.Dispose();
    }
}
