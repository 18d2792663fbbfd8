using Glass.Kernels.Chebyshev;
using Glass.Kernels.Linalg;
using Glass.Tests.Support;
using NUnit.Framework;

namespace Glass.Tests.Kernels.Chebyshev;

public class LaplacianTests
{
    private static IEnumerable<TestCaseData> Graphs()
    {
        yield return new TestCaseData(TestGraphs.Ring(31)).SetArgDisplayNames("ring31");
        yield return new TestCaseData(TestGraphs.Ring(30)).SetArgDisplayNames("ring30");
        yield return new TestCaseData(TestGraphs.Path(45, 3)).SetArgDisplayNames("path45");
        yield return new TestCaseData(TestGraphs.ErdosRenyi(53, 0.12, 7)).SetArgDisplayNames("er53");
        yield return new TestCaseData(TestGraphs.ErdosRenyi(37, 0.05, 11, connected: false)).SetArgDisplayNames("er37-sparse");
    }

    [TestCaseSource(nameof(Graphs))]
    public void SpectrumLiesInZeroTwo(CsrMatrix w)
    {
        double[] lam = TestGraphs.Eigenvalues(Laplacian.Normalized(w));
        Assert.That(lam[0], Is.GreaterThanOrEqualTo(-1e-12), "smallest eigenvalue");
        Assert.That(lam[^1], Is.LessThanOrEqualTo(2 + 1e-12), "largest eigenvalue");
        Assert.That(Math.Abs(lam[0]), Is.LessThan(1e-12), "0 is an eigenvalue");
    }

    [Test]
    public void EvenRingIsBipartiteWithEigenvalueTwo()
    {
        // Ring C_n: λ_k = 1 − cos(2πk/n); n even reaches 2, n odd stays below it.
        double[] even = TestGraphs.Eigenvalues(Laplacian.Normalized(TestGraphs.Ring(30)));
        double[] odd = TestGraphs.Eigenvalues(Laplacian.Normalized(TestGraphs.Ring(31)));
        Close.Scalar(2, even[^1], 1e-12, 0, "λ_max of C_30");
        Close.Scalar(1 - Math.Cos(2 * Math.PI * 15 / 31), odd[^1], 1e-12, 0, "λ_max of C_31");
    }

    [TestCaseSource(nameof(Graphs))]
    public void MatchesDenseFormula(CsrMatrix w)
    {
        // Dense I − D^{-1/2} W D^{-1/2}, with L_ii = 0 where d_i = 0.
        int n = w.Rows;
        double[] wd = w.ToDense(), d = w.RowSums(), expected = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double s = d[i] > 0 && d[j] > 0 ? wd[i * n + j] / Math.Sqrt(d[i] * d[j]) : 0;
                expected[i * n + j] = (i == j && d[i] > 0 ? 1 : 0) - s;
            }
        Close.All(expected, Laplacian.Normalized(w).ToDense(), 1e-15, 1e-14, "L");
    }

    [Test]
    public void SqrtDegreeIsInTheKernel()
    {
        var w = TestGraphs.ErdosRenyi(47, 0.1, 5);
        var l = Laplacian.Normalized(w);
        double[] sq = w.RowSums().Select(Math.Sqrt).ToArray(), y = new double[sq.Length];
        for (int i = 0; i < l.Rows; i++)
            for (int k = l.RowPtr[i]; k < l.RowPtr[i + 1]; k++) y[i] += l.Values[k] * sq[l.ColIdx[k]];
        Close.All(new double[sq.Length], y, 1e-13, 0, "L·D^{1/2}·1");
    }

    [Test]
    public void IsolatedNodeHasZeroRow()
    {
        var wd = new double[5, 5];
        wd[0, 1] = wd[1, 0] = 2; wd[1, 3] = wd[3, 1] = 0.5; wd[3, 4] = wd[4, 3] = 1;
        var l = Laplacian.Normalized(TestGraphs.FromDense(wd)).ToDense();
        for (int j = 0; j < 5; j++) Assert.That(l[2 * 5 + j], Is.EqualTo(0), $"L[2, {j}]");
        Assert.That(l[0], Is.EqualTo(1), "L[0, 0]");
    }

    [Test]
    public void CsrStructureIsValid()
    {
        // The Laplacian goes through CsrMatrix's checking constructor (sorted columns, lengths).
        var l = Laplacian.Normalized(TestGraphs.ErdosRenyi(29, 0.2, 13));
        Assert.DoesNotThrow(() => _ = new CsrMatrix(l.Rows, l.Cols, l.RowPtr, l.ColIdx, l.Values));
        for (int i = 0; i < l.Rows; i++)
            Assert.That(l.ColIdx.AsSpan(l.RowPtr[i], l.RowPtr[i + 1] - l.RowPtr[i]).Contains(i), $"diagonal of row {i} stored");
    }

    [Test]
    public void RejectsNonSquare()
    {
        var w = new CsrMatrix(2, 3, [0, 1, 1], [1], [1.0]);
        var e = Assert.Throws<ArgumentException>(() => Laplacian.Normalized(w));
        Assert.That(e!.ParamName, Is.EqualTo("adjacency"));
        Assert.That(e.Message, Does.Contain("2 × 3"));
    }

    [Test]
    public void RejectsAsymmetric()
    {
        var wd = new double[3, 3];
        wd[0, 1] = 1; wd[1, 0] = 1; wd[1, 2] = 0.75; // (2, 1) missing
        var e = Assert.Throws<ArgumentException>(() => Laplacian.Normalized(TestGraphs.FromDense(wd)));
        Assert.That(e!.ParamName, Is.EqualTo("adjacency"));
        Assert.That(e.Message, Does.Contain("adjacency[1, 2] = 0.75").And.Contain("symmetric"));
    }

    [Test]
    public void RejectsNegativeWeight()
    {
        var wd = new double[3, 3];
        wd[0, 2] = wd[2, 0] = -0.5;
        var e = Assert.Throws<ArgumentException>(() => Laplacian.Normalized(TestGraphs.FromDense(wd)));
        Assert.That(e!.ParamName, Is.EqualTo("adjacency"));
        Assert.That(e.Message, Does.Contain("adjacency[0, 2] = -0.5"));
    }

    [Test]
    public void RejectsSelfLoop()
    {
        var wd = new double[3, 3];
        wd[0, 1] = wd[1, 0] = 1; wd[2, 2] = 3;
        var e = Assert.Throws<ArgumentException>(() => Laplacian.Normalized(TestGraphs.FromDense(wd)));
        Assert.That(e!.ParamName, Is.EqualTo("adjacency"));
        Assert.That(e.Message, Does.Contain("adjacency[2, 2] = 3"));
    }
}
