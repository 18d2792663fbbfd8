using System.Globalization;
using Glass.Kernels.Linalg;

namespace Glass.Kernels.Chebyshev;

/// <summary>Graph Laplacians built from a weighted adjacency matrix in CSR form.</summary>
public static class Laplacian
{
    /// <summary>Relative tolerance of the symmetry check: <c>|W_ij − W_ji| ≤ 1e-12·max(|W_ij|, |W_ji|)</c>.</summary>
    internal const double SymmetryRtol = 1e-12;

    /// <summary>
    /// The symmetric normalised Laplacian <c>L = I − D^{-1/2} W D^{-1/2}</c> of an undirected weighted
    /// graph, <c>D = diag(d)</c>, <c>d_i = Σ_j W_ij</c> (Chung, <i>Spectral Graph Theory</i>, 1997),
    /// as an <c>n × n</c> CSR matrix. Its spectrum lies in <c>[0, 2]</c>, as the Chebyshev heat kernel
    /// (<see cref="HeatKernel"/>) requires; the GLASS paper (Eq. 3, 5) builds its diffusion features
    /// ψ_τ from this <c>L</c>.
    /// </summary>
    /// <remarks>
    /// Isolated nodes (<c>d_i = 0</c>) get <c>L_ii = 0</c> (Chung's convention, also networkx's
    /// <c>normalized_laplacian_matrix</c>): such a node is an eigenvector with eigenvalue 0, so heat
    /// stays where it is and the spectrum stays in <c>[0, 2]</c>. Every row stores its diagonal
    /// (1, or 0 for an isolated node); explicit zero weights are dropped. <c>L·D^{1/2}·1 = 0</c>.
    /// Cost O(nnz·log(max row length)) for the symmetry check, O(nnz + n) otherwise.
    /// </remarks>
    /// <param name="adjacency">Square <c>n × n</c> adjacency <c>W</c>: symmetric (within 1e-12
    /// relative), non-negative, finite, zero diagonal (no self-loops).</param>
    /// <exception cref="ArgumentException">Non-square, negative or non-finite weight, non-zero
    /// diagonal, or asymmetric adjacency; the message names the offending entry.</exception>
    public static CsrMatrix Normalized(CsrMatrix adjacency)
    {
        ArgumentNullException.ThrowIfNull(adjacency);
        ValidateAdjacency(adjacency);

        int n = adjacency.Rows;
        int[] rp = adjacency.RowPtr, ci = adjacency.ColIdx;
        double[] w = adjacency.Values;
        double[] d = adjacency.RowSums();
        var invSqrt = new double[n];
        for (int i = 0; i < n; i++) invSqrt[i] = d[i] > 0 ? 1 / Math.Sqrt(d[i]) : 0;

        // Row i keeps its non-zero off-diagonal weights and gains one diagonal entry.
        var rowPtr = new int[n + 1];
        for (int i = 0; i < n; i++)
        {
            int count = 1;
            for (int k = rp[i]; k < rp[i + 1]; k++)
                if (w[k] != 0 && ci[k] != i) count++;
            rowPtr[i + 1] = rowPtr[i] + count;
        }
        var colIdx = new int[rowPtr[n]];
        var values = new double[rowPtr[n]];
        for (int i = 0; i < n; i++)
        {
            int o = rowPtr[i];
            bool diagDone = false;
            for (int k = rp[i]; k < rp[i + 1]; k++)
            {
                int j = ci[k];
                if (!diagDone && j >= i)
                {
                    colIdx[o] = i; values[o] = d[i] > 0 ? 1 : 0; o++;
                    diagDone = true;
                }
                if (w[k] == 0 || j == i) continue;
                colIdx[o] = j; values[o] = -w[k] * invSqrt[i] * invSqrt[j]; o++;
            }
            if (!diagDone) { colIdx[o] = i; values[o] = d[i] > 0 ? 1 : 0; }
        }
        return new CsrMatrix(n, n, rowPtr, colIdx, values, trusted: true);
    }

    /// <summary>Square, finite, non-negative, zero diagonal, symmetric; throws naming the first bad entry.</summary>
    internal static void ValidateAdjacency(CsrMatrix adjacency)
    {
        const string name = "adjacency";
        if (adjacency.Rows != adjacency.Cols)
            throw new ArgumentException(
                $"{name} is {adjacency.Rows} × {adjacency.Cols}; expected a square n × n adjacency matrix.", name);
        int n = adjacency.Rows;
        int[] rp = adjacency.RowPtr, ci = adjacency.ColIdx;
        double[] w = adjacency.Values;
        for (int i = 0; i < n; i++)
        {
            for (int k = rp[i]; k < rp[i + 1]; k++)
            {
                int j = ci[k];
                double wij = w[k];
                if (!double.IsFinite(wij) || wij < 0)
                    throw new ArgumentException(
                        $"{name}[{i}, {j}] = {Fmt(wij)}; expected a finite edge weight ≥ 0.", name);
                if (j == i)
                {
                    if (wij != 0)
                        throw new ArgumentException(
                            $"{name}[{i}, {i}] = {Fmt(wij)}; expected 0 on the diagonal (no self-loops).", name);
                    continue;
                }
                double wji = Lookup(rp, ci, w, j, i);
                if (Math.Abs(wij - wji) > SymmetryRtol * Math.Max(wij, Math.Abs(wji)))
                    throw new ArgumentException(
                        $"{name}[{i}, {j}] = {Fmt(wij)} but {name}[{j}, {i}] = {Fmt(wji)}; expected a symmetric matrix (undirected graph).", name);
            }
        }
    }

    /// <summary>A[row, col], or 0 when not stored (binary search; columns ascend within a row).</summary>
    private static double Lookup(int[] rowPtr, int[] colIdx, double[] values, int row, int col)
    {
        int k = Array.BinarySearch(colIdx, rowPtr[row], rowPtr[row + 1] - rowPtr[row], col);
        return k >= 0 ? values[k] : 0;
    }

    private static string Fmt(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
