using Glass.Kernels.Validation;

namespace Glass.Kernels.Linalg;

/// <summary>
/// A sparse matrix in compressed sparse row (CSR) form: row <c>i</c> holds the entries
/// <c>Values[RowPtr[i] .. RowPtr[i+1])</c> at columns <c>ColIdx[RowPtr[i] .. RowPtr[i+1])</c>,
/// columns ascending within a row. Memory O(nnz + rows). Treat it as immutable once built: device tapes cache its
/// upload by identity (a <c>TapeArena</c> keeps it across steps), so later edits of the arrays would not be seen there.
/// </summary>
public sealed class CsrMatrix
{
    /// <summary>Wraps CSR arrays after checking their structure.</summary>
    /// <exception cref="ArgumentException">Inconsistent lengths, unsorted or out-of-range columns, non-finite values.</exception>
    public CsrMatrix(int rows, int cols, int[] rowPtr, int[] colIdx, double[] values)
    {
        ArgumentNullException.ThrowIfNull(rowPtr);
        ArgumentNullException.ThrowIfNull(colIdx);
        ArgumentNullException.ThrowIfNull(values);
        if (rows < 0) throw new ArgumentException($"rows = {rows}; expected ≥ 0.", nameof(rows));
        if (cols < 0) throw new ArgumentException($"cols = {cols}; expected ≥ 0.", nameof(cols));
        Guard.Length<int>(rowPtr, rows + 1, nameof(rowPtr), "rows + 1");
        if (rowPtr[0] != 0) throw new ArgumentException($"rowPtr[0] = {rowPtr[0]}; expected 0.", nameof(rowPtr));
        int nnz = rowPtr[rows];
        Guard.Length<int>(colIdx, nnz, nameof(colIdx), "rowPtr[rows] = nnz");
        Guard.Length<double>(values, nnz, nameof(values), "rowPtr[rows] = nnz");
        for (int i = 0; i < rows; i++)
        {
            if (rowPtr[i + 1] < rowPtr[i])
                throw new ArgumentException($"rowPtr[{i + 1}] = {rowPtr[i + 1]} < rowPtr[{i}] = {rowPtr[i]}; expected non-decreasing.", nameof(rowPtr));
            for (int k = rowPtr[i]; k < rowPtr[i + 1]; k++)
            {
                int c = colIdx[k];
                if (c < 0 || c >= cols)
                    throw new ArgumentException($"colIdx[{k}] = {c} (row {i}); expected a column in [0, {cols}).", nameof(colIdx));
                if (k > rowPtr[i] && colIdx[k - 1] >= c)
                    throw new ArgumentException($"colIdx[{k}] = {c} (row {i}) is not above the previous column {colIdx[k - 1]}; expected strictly ascending columns in each row.", nameof(colIdx));
            }
        }
        Guard.Finite(values, nameof(values));
        Rows = rows; Cols = cols; RowPtr = rowPtr; ColIdx = colIdx; Values = values;
    }

    /// <summary>Trusted constructor for arrays built by Glass itself (structure already correct).</summary>
    internal CsrMatrix(int rows, int cols, int[] rowPtr, int[] colIdx, double[] values, bool trusted)
    {
        _ = trusted;
        Rows = rows; Cols = cols; RowPtr = rowPtr; ColIdx = colIdx; Values = values;
    }

    /// <summary>Number of rows.</summary>
    public int Rows { get; }
    /// <summary>Number of columns.</summary>
    public int Cols { get; }
    /// <summary>Row pointers, length <see cref="Rows"/> + 1.</summary>
    public int[] RowPtr { get; }
    /// <summary>Column of each stored entry, length <see cref="Nnz"/>.</summary>
    public int[] ColIdx { get; }
    /// <summary>Value of each stored entry, length <see cref="Nnz"/>.</summary>
    public double[] Values { get; }
    /// <summary>Number of stored entries.</summary>
    public int Nnz => RowPtr[Rows];

    /// <summary>Row sums Σ_j A_ij.</summary>
    public double[] RowSums()
    {
        var r = new double[Rows];
        for (int i = 0; i < Rows; i++)
        {
            double s = 0;
            for (int k = RowPtr[i]; k < RowPtr[i + 1]; k++) s += Values[k];
            r[i] = s;
        }
        return r;
    }

    /// <summary>Column sums Σ_i A_ij.</summary>
    public double[] ColSums()
    {
        var c = new double[Cols];
        for (int k = 0; k < Nnz; k++) c[ColIdx[k]] += Values[k];
        return c;
    }

    /// <summary>Dense copy, row-major <c>Rows × Cols</c> (for tests and small problems only).</summary>
    public double[] ToDense()
    {
        var d = new double[(long)Rows * Cols];
        for (int i = 0; i < Rows; i++)
            for (int k = RowPtr[i]; k < RowPtr[i + 1]; k++)
                d[(long)i * Cols + ColIdx[k]] = Values[k];
        return d;
    }
}
