using Glass.Kernels.Linalg;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;

namespace Glass.Tests.Kernels.Chebyshev;

/// <summary>Small weighted graphs (CSR adjacency) and dense references for the Chebyshev tests.</summary>
internal static class TestGraphs
{
    /// <summary>Cycle 0–1–…–(n−1)–0 with unit weights.</summary>
    public static CsrMatrix Ring(int n)
    {
        var w = new double[n, n];
        for (int i = 0; i < n; i++) { w[i, (i + 1) % n] = 1; w[(i + 1) % n, i] = 1; }
        return FromDense(w);
    }

    /// <summary>Path 0–1–…–(n−1) with weights in [0.5, 2) (fixed seed).</summary>
    public static CsrMatrix Path(int n, int seed)
    {
        var rng = new Random(seed);
        var w = new double[n, n];
        for (int i = 0; i + 1 < n; i++) w[i, i + 1] = w[i + 1, i] = 0.5 + 1.5 * rng.NextDouble();
        return FromDense(w);
    }

    /// <summary>Erdős–Rényi G(n, prob) with weights in [0.1, 1.1), plus a ring backbone when <paramref name="connected"/>.</summary>
    public static CsrMatrix ErdosRenyi(int n, double prob, int seed, bool connected = true)
    {
        var rng = new Random(seed);
        var w = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++)
                if (rng.NextDouble() < prob || (connected && j == i + 1))
                    w[i, j] = w[j, i] = 0.1 + rng.NextDouble();
        return FromDense(w);
    }

    /// <summary>CSR from a dense matrix, storing the non-zero entries.</summary>
    public static CsrMatrix FromDense(double[,] a)
    {
        int rows = a.GetLength(0), cols = a.GetLength(1);
        var rowPtr = new int[rows + 1];
        var colIdx = new List<int>();
        var values = new List<double>();
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < cols; j++)
                if (a[i, j] != 0) { colIdx.Add(j); values.Add(a[i, j]); }
            rowPtr[i + 1] = colIdx.Count;
        }
        return new CsrMatrix(rows, cols, rowPtr, colIdx.ToArray(), values.ToArray());
    }

    public static Matrix<double> Dense(CsrMatrix m)
    {
        var d = new double[m.Rows, m.Cols];
        double[] flat = m.ToDense();
        for (int i = 0; i < m.Rows; i++)
            for (int j = 0; j < m.Cols; j++) d[i, j] = flat[i * m.Cols + j];
        return Matrix<double>.Build.DenseOfArray(d);
    }

    /// <summary>Eigenvalues of a symmetric CSR matrix (MathNet symmetric EVD), ascending.</summary>
    public static double[] Eigenvalues(CsrMatrix m)
    {
        var evd = Dense(m).Evd(Symmetricity.Symmetric);
        return evd.EigenValues.Select(z => z.Real).OrderBy(x => x).ToArray();
    }

    /// <summary>Exact <c>exp(−τL)·V = U·diag(e^{−τλ})·Uᵀ·V</c> from the symmetric eigendecomposition; V n × p row-major.</summary>
    public static double[] ExactHeat(CsrMatrix laplacian, double[] v, int p, double tau)
    {
        int n = laplacian.Rows;
        var evd = Dense(laplacian).Evd(Symmetricity.Symmetric);
        var u = evd.EigenVectors;
        var lam = evd.EigenValues.Select(z => Math.Exp(-tau * z.Real)).ToArray();
        var vm = Matrix<double>.Build.Dense(n, p, (i, c) => v[i * p + c]);
        var y = u * Matrix<double>.Build.DiagonalOfDiagonalArray(lam) * u.Transpose() * vm;
        var r = new double[n * p];
        for (int i = 0; i < n; i++)
            for (int c = 0; c < p; c++) r[i * p + c] = y[i, c];
        return r;
    }

    public static double MaxAbsDiff(double[] a, double[] b)
    {
        double m = 0;
        for (int i = 0; i < a.Length; i++) m = Math.Max(m, Math.Abs(a[i] - b[i]));
        return m;
    }

    public static double FrobeniusDiff(double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += (a[i] - b[i]) * (a[i] - b[i]);
        return Math.Sqrt(s);
    }
}
