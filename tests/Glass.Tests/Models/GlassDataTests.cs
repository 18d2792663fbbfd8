using Glass.Kernels.Linalg;
using Glass.Models.Data;
using Glass.Models.Glass;
using NUnit.Framework;

namespace Glass.Tests.Models;

public class GlassDataTests
{
    private string _dir = "";
    [SetUp] public void SetUp() { _dir = Path.Combine(Path.GetTempPath(), "glass-data-" + Guid.NewGuid().ToString("N")); Directory.CreateDirectory(_dir); }
    [TearDown] public void TearDown() => Directory.Delete(_dir, true);

    [Test]
    public void S2Pair_PointsOnTheSphere_RotationOrthogonal_NoiselessPartnersAreRx()
    {
        var p = S2Pair.Generate(new S2DataOptions { N = 101, NoiseDeg = 0, Rotation = true }, 5);
        var r = p.Rotation;
        for (int a = 0; a < 3; a++)
            for (int b = 0; b < 3; b++)
            {
                double dot = r[3 * a] * r[3 * b] + r[3 * a + 1] * r[3 * b + 1] + r[3 * a + 2] * r[3 * b + 2];
                Assert.That(dot, Is.EqualTo(a == b ? 1 : 0).Within(1e-12), "RRᵀ = I");
            }
        double det = r[0] * (r[4] * r[8] - r[5] * r[7]) - r[1] * (r[3] * r[8] - r[5] * r[6]) + r[2] * (r[3] * r[7] - r[4] * r[6]);
        Assert.That(det, Is.EqualTo(1).Within(1e-12));
        Assert.That(p.GroundTruth.OrderBy(i => i), Is.EqualTo(Enumerable.Range(0, 101)), "π is a permutation");
        Assert.That(p.GroundTruth.Select((j, i) => j == i).Count(b => b), Is.LessThan(10), "Y is shuffled");
        for (int i = 0; i < 101; i++)
        {
            int j = p.GroundTruth[i];
            for (int q = 0; q < 3; q++)
            {
                double rx = r[3 * q] * p.X[3 * i] + r[3 * q + 1] * p.X[3 * i + 1] + r[3 * q + 2] * p.X[3 * i + 2];
                Assert.That(p.Y[3 * j + q], Is.EqualTo(rx).Within(1e-12));
            }
        }
        Assert.That(S2Pair.Generate(new S2DataOptions { N = 101, NoiseDeg = 0 }, 5).Y, Is.EqualTo(p.Y), "deterministic in the seed");
    }

    [Test]
    public void S2Pair_NoiseHasTheRequestedGeodesicScale()
    {
        // Tangent noise with σ per axis: the geodesic offset is Rayleigh, mean σ·sqrt(π/2).
        var p = S2Pair.Generate(new S2DataOptions { N = 4000, NoiseDeg = 2.0, Rotation = false }, 1);
        double sum = 0;
        for (int i = 0; i < p.N; i++)
        {
            int j = p.GroundTruth[i];
            double dot = p.X[3 * i] * p.Y[3 * j] + p.X[3 * i + 1] * p.Y[3 * j + 1] + p.X[3 * i + 2] * p.Y[3 * j + 2];
            sum += Math.Acos(Math.Clamp(dot, -1, 1));
            Assert.That(Math.Sqrt(p.Y[3 * j] * p.Y[3 * j] + p.Y[3 * j + 1] * p.Y[3 * j + 1] + p.Y[3 * j + 2] * p.Y[3 * j + 2]), Is.EqualTo(1).Within(1e-12));
        }
        double want = 2.0 * Math.PI / 180 * Math.Sqrt(Math.PI / 2);
        Assert.That(sum / p.N, Is.EqualTo(want).Within(0.03 * want));
    }

    [Test]
    public void Sbm_EdgeDensitiesWithinTolerance_AndPlantedPermutationIsConsistent()
    {
        var o = new SbmDataOptions { N = 300, Blocks = 3, PIn = 0.2, POut = 0.02, RewireProb = 0, PlantedPerm = true };
        var g = GraphPair.Sbm(o, 7);
        var wx = g.AdjacencyX.ToDense(); var wy = g.AdjacencyY.ToDense();
        int n = o.N;
        long inE = 0, outE = 0, inPairs = 0, outPairs = 0;
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++)
            {
                bool same = g.BlocksX![i] == g.BlocksX[j];
                if (same) { inPairs++; inE += (long)wx[i * n + j]; } else { outPairs++; outE += (long)wx[i * n + j]; }
                Assert.That(wy[g.GroundTruth![i] * n + g.GroundTruth[j]], Is.EqualTo(wx[i * n + j]), $"W_Y[π({i}), π({j})] = W_X[{i}, {j}]");
            }
        // Binomial standard errors: ~4σ tolerances.
        Assert.That((double)inE / inPairs, Is.EqualTo(0.2).Within(4 * Math.Sqrt(0.2 * 0.8 / inPairs)));
        Assert.That((double)outE / outPairs, Is.EqualTo(0.02).Within(4 * Math.Sqrt(0.02 * 0.98 / outPairs)));
        Assert.That(g.GroundTruth!.OrderBy(i => i), Is.EqualTo(Enumerable.Range(0, n)));
        Assert.That(g.LaplacianX.Rows, Is.EqualTo(n));
    }

    [Test]
    public void Sbm_RewiringKeepsTheEdgeCount_AndMovesAboutTheRequestedFraction()
    {
        var g = GraphPair.Sbm(new SbmDataOptions { N = 200, PIn = 0.2, POut = 0.02, RewireProb = 0.1, PlantedPerm = false }, 3);
        Assert.That(g.AdjacencyY.Nnz, Is.EqualTo(g.AdjacencyX.Nnz));
        var wx = g.AdjacencyX.ToDense(); var wy = g.AdjacencyY.ToDense();
        int kept = 0, edges = 0;
        for (int k = 0; k < wx.Length; k++) if (wx[k] > 0) { edges++; if (wy[k] > 0) kept++; }
        double moved = 1 - (double)kept / edges;
        Assert.That(moved, Is.EqualTo(0.1).Within(0.03));
    }

    [Test]
    public void DiffusionFeatures_ArePermutationEquivariant()
    {
        var g = GraphPair.Sbm(new SbmDataOptions { N = 80, PIn = 0.3, POut = 0.05, RewireProb = 0, PlantedPerm = true }, 2);
        var o = new GraphProjectionOptions { Tau = 0.5, ChebyDegree = 12, FeatDim = 8 };
        var fx = GraphFeatures.Diffusion(g.AdjacencyX, o, 4);
        var fy = GraphFeatures.Diffusion(g.AdjacencyY, o, 4);
        double spread = 0;
        for (int i = 0; i < 80; i++)
            for (int q = 0; q < 8; q++)
            {
                Assert.That(fy[g.GroundTruth![i] * 8 + q], Is.EqualTo(fx[i * 8 + q]).Within(1e-9), $"ψ^Y(π({i}))[{q}] = ψ^X({i})[{q}]");
                spread += Math.Abs(fx[i * 8 + q] - fx[q]);
            }
        Assert.That(spread, Is.GreaterThan(1), "features are not constant");
    }

    [Test]
    public void CsvPoints_ReadWithHeaderAndComments_AndBadInputNamesFileAndLine()
    {
        string ok = Path.Combine(_dir, "p.csv");
        File.WriteAllText(ok, "x,y,z\n# comment\n1,0,0\n0, 1 ,0\n\n0,0,1e0\n");
        var p = PointSetReader.Read(ok);
        Assert.That((p.Rows, p.Cols), Is.EqualTo((3, 3)));
        Assert.That(p.Data, Is.EqualTo(new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }));
        Assert.DoesNotThrow(() => PointSetReader.RequireSphere(p, ok));

        string bad = Path.Combine(_dir, "bad.csv");
        File.WriteAllText(bad, "1,0,0\n0,1\n");
        var e = Assert.Throws<InvalidDataException>(() => PointSetReader.Read(bad));
        Assert.That(e!.Message, Does.Contain("bad.csv:2").And.Contain("expected 3"));
        File.WriteAllText(bad, "1,0,0\n0,abc,0\n");
        Assert.That(Assert.Throws<InvalidDataException>(() => PointSetReader.Read(bad))!.Message, Does.Contain("bad.csv:2").And.Contain("'abc'"));
        File.WriteAllText(bad, "2,0,0\n");
        Assert.That(Assert.Throws<InvalidDataException>(() => PointSetReader.RequireSphere(PointSetReader.Read(bad), bad))!.Message, Does.Contain("row 0"));
        Assert.Throws<FileNotFoundException>(() => PointSetReader.Read(Path.Combine(_dir, "missing.csv")));
    }

    [Test]
    public void CsvPoints_SemicolonSeparated_WithDecimalCommas()
    {
        string path = Path.Combine(_dir, "semi.csv");
        File.WriteAllText(path, "x;y;z\n# comment\n1,5;-0,25;2\n0.5; 1e-1 ;3,0\n");
        var p = PointSetReader.Read(path);
        Assert.That((p.Rows, p.Cols), Is.EqualTo((2, 3)));
        Assert.That(p.Data, Is.EqualTo(new double[] { 1.5, -0.25, 2, 0.5, 0.1, 3 }));

        File.WriteAllText(path, "1,5;2,5\n1,5;2,5;3\n");
        Assert.That(Assert.Throws<InvalidDataException>(() => PointSetReader.Read(path))!.Message,
            Does.Contain("semi.csv:2").And.Contain("3 values").And.Contain("expected 2 ';'-separated"));
        File.WriteAllText(path, "1,5;2,5\n1.000,5;2\n");
        Assert.That(Assert.Throws<InvalidDataException>(() => PointSetReader.Read(path))!.Message,
            Does.Contain("semi.csv:2").And.Contain("'1.000,5'"));
    }

    [Test]
    public void CsvPoints_CommaSeparated_SplitDecimalCommas_AreRefusedAsAmbiguous()
    {
        // 1,5;2,25 / -0,5;3,75 written with ',' between fields: every row reads as integer,digits pairs.
        string path = Path.Combine(_dir, "split.csv");
        File.WriteAllText(path, "x,y\n1,5,2,25\n-0,5,3,75\n");
        var e = Assert.Throws<InvalidDataException>(() => PointSetReader.Read(path))!;
        Assert.That(e.Message, Does.Contain("split.csv").And.Contain("ambiguous").And.Contain("';'"));

        // Decimal commas where only some numbers have a fraction: rows of different lengths, with the same hint.
        File.WriteAllText(path, "1,5,2\n3,4,25\n1,2\n");
        e = Assert.Throws<InvalidDataException>(() => PointSetReader.Read(path))!;
        Assert.That(e.Message, Does.Contain("split.csv:3").And.Contain("ambiguous").And.Contain("';'"));

        // Not the look: a '.' decimal, a negative even field or an odd field count are read as before.
        File.WriteAllText(path, "1,5,2,2.5\n");
        Assert.That(PointSetReader.Read(path).Cols, Is.EqualTo(4));
        File.WriteAllText(path, "1,-5\n");
        Assert.That(PointSetReader.Read(path).Cols, Is.EqualTo(2));
        File.WriteAllText(path, "1,5,2\n");
        Assert.That(PointSetReader.Read(path).Cols, Is.EqualTo(3));

        // A leading-zero fraction is the other mark of split decimals ("1,05" = 1.05).
        File.WriteAllText(path, "1,05,2,5\n3,5,4,25\n");
        Assert.That(Assert.Throws<InvalidDataException>(() => PointSetReader.Read(path))!.Message, Does.Contain("ambiguous"));

        // Plain integer data (counts, pixels) in an even number of columns has no such mark and is read as integers.
        File.WriteAllText(path, "10,20,0,16\n3,0,12,7\n");
        var ints = PointSetReader.Read(path);
        Assert.That((ints.Rows, ints.Cols), Is.EqualTo((2, 4)));
        Assert.That(ints.Data, Is.EqualTo(new double[] { 10, 20, 0, 16, 3, 0, 12, 7 }));
    }

    [Test]
    public void NpyPoints_ReadThroughTheSameEntryPoint()
    {
        string path = Path.Combine(_dir, "p.npy");
        Npy.Write(path, new double[] { 1, 0, 0, 0, 0, 1 }, cols: 3);
        var p = PointSetReader.Read(path);
        Assert.That((p.Rows, p.Cols), Is.EqualTo((2, 3)));
    }

    [Test]
    public void MatrixMarket_SymmetricAndGeneral_AndBadInput()
    {
        string sym = Path.Combine(_dir, "g.mtx");
        File.WriteAllText(sym, "%%MatrixMarket matrix coordinate real symmetric\n% c\n4 4 3\n2 1 1.5\n3 2 2\n4 4 7\n");
        var w = GraphReader.Read(sym);
        var d = w.ToDense();
        Assert.That((w.Rows, d[0 * 4 + 1], d[1 * 4 + 0], d[1 * 4 + 2], d[3 * 4 + 3]), Is.EqualTo((4, 1.5, 1.5, 2.0, 0.0)), "mirrored; self-loop ignored");

        string gen = Path.Combine(_dir, "p.mtx");
        File.WriteAllText(gen, "%%MatrixMarket matrix coordinate pattern general\n3 3 4\n1 2\n2 1\n2 3\n3 2\n");
        Assert.That(GraphReader.Read(gen).Nnz, Is.EqualTo(4));

        File.WriteAllText(gen, "%%MatrixMarket matrix coordinate real general\n3 3 2\n1 2 1\n2 1 5\n");
        Assert.That(Assert.Throws<InvalidDataException>(() => GraphReader.Read(gen))!.Message, Does.Contain("p.mtx:4").And.Contain("line 3"));
        File.WriteAllText(gen, "%%MatrixMarket matrix coordinate real general\n3 3 1\n1 9 1\n");
        Assert.That(Assert.Throws<InvalidDataException>(() => GraphReader.Read(gen))!.Message, Does.Contain("p.mtx:3").And.Contain("[1, 3]"));
        File.WriteAllText(gen, "%%MatrixMarket matrix array real general\n3 3\n");
        Assert.That(Assert.Throws<InvalidDataException>(() => GraphReader.Read(gen))!.Message, Does.Contain("p.mtx:1"));
        File.WriteAllText(gen, "%%MatrixMarket matrix coordinate real general\n3 3 2\n1 2 1\n");
        Assert.That(Assert.Throws<InvalidDataException>(() => GraphReader.Read(gen))!.Message, Does.Contain("announces 2"));
        File.WriteAllText(gen, "%%MatrixMarket matrix coordinate real general\n3 3 1\n1 2 -1\n");
        Assert.That(Assert.Throws<InvalidDataException>(() => GraphReader.Read(gen))!.Message, Does.Contain("weight '-1'"));
    }

    [Test]
    public void EdgeList_ReadsWeightsAndComments_AndBadInput()
    {
        string path = Path.Combine(_dir, "g.txt");
        File.WriteAllText(path, "# edges\n0 1\n1,2,0.5\n\n2\t3\n");
        CsrMatrix w = GraphReader.Read(path);
        Assert.That(w.Rows, Is.EqualTo(4));
        Assert.That(w.ToDense()[1 * 4 + 2], Is.EqualTo(0.5));
        Assert.DoesNotThrow(() => Glass.Kernels.Chebyshev.Laplacian.Normalized(w));
        File.WriteAllText(path, "0 1\n1 -2\n");
        Assert.That(Assert.Throws<InvalidDataException>(() => GraphReader.Read(path))!.Message, Does.Contain("g.txt:2").And.Contain("'-2'"));
        File.WriteAllText(path, "0 1 2 3\n");
        Assert.That(Assert.Throws<InvalidDataException>(() => GraphReader.Read(path))!.Message, Does.Contain("g.txt:1"));
        File.WriteAllText(path, "# nothing\n");
        Assert.That(Assert.Throws<InvalidDataException>(() => GraphReader.Read(path))!.Message, Does.Contain("no edges"));
    }
}
