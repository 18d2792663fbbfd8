using System.Diagnostics;
using System.Text.Json;
using Glass.Models.Data;
using Glass.Runner.AnnData;
using NUnit.Framework;
using static Glass.Tests.Runner.RunnerTestSupport;

namespace Glass.Tests.Runner;

/// <summary>
/// AnnData (.h5ad) in and out: fixtures written by the real <c>anndata</c> package (Fixtures/h5ad/make_fixtures.py, the
/// numbers in values.json), our writer read back by our reader and by python anndata, and <c>glass align</c> on .h5ad.
/// </summary>
[NonParallelizable]
public class H5adTests
{
    private static string Fixtures => Path.Combine(RepoRoot(), "tests", "Glass.Tests", "Fixtures", "h5ad");
    private static string Dense => Path.Combine(Fixtures, "dense.h5ad");
    private static string Csr => Path.Combine(Fixtures, "csr.h5ad");
    private string _dir = "";
    private JsonElement _values;

    [OneTimeSetUp]
    public void SetUp()
    {
        _dir = TempDir();
        _values = JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures, "values.json"))).RootElement;
    }

    [OneTimeTearDown]
    public void TearDown()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private double[] Values(string key) => _values.GetProperty(key).EnumerateArray().Select(e => e.GetDouble()).ToArray();

    [Test]
    public void DenseX_Float32_ReadsAnndataValues()
    {
        var x = H5adReader.ReadMatrix(Dense, "X", "--x-key");
        Assert.That((x.Rows, x.Cols), Is.EqualTo((12, 5)));
        Assert.That(x.Data, Is.EqualTo(Values("dense_x")));
    }

    [Test]
    public void CsrX_IsDensified()
    {
        var x = H5adReader.ReadMatrix(Csr, "X", "--x-key");
        Assert.That((x.Rows, x.Cols), Is.EqualTo((12, 6)));
        var expected = Values("csr_x");
        Assert.That(expected.Count(v => v == 0), Is.GreaterThan(10), "the fixture is sparse");
        Assert.That(x.Data, Is.EqualTo(expected));
    }

    [Test]
    public void ObsmKeys_Float64AndFloat32()
    {
        var pca = H5adReader.ReadMatrix(Dense, "obsm/X_pca", "--x-key");
        var lsi = H5adReader.ReadMatrix(Dense, "/obsm/X_lsi", "--x-key");
        Assert.That((pca.Rows, pca.Cols, lsi.Rows, lsi.Cols), Is.EqualTo((12, 3, 12, 4)));
        Assert.That(pca.Data, Is.EqualTo(Values("pca")));
        Assert.That(lsi.Data, Is.EqualTo(Values("lsi")));
    }

    [Test]
    public void CategoricalObs_GivesCodesAndCategories()
    {
        var (codes, names) = H5adReader.ReadLabels(Dense, "obs/cell_type", 12, "--labels-x");
        Assert.That(codes, Is.EqualTo(_values.GetProperty("cell_type_codes").EnumerateArray().Select(e => e.GetInt32()).ToArray()));
        Assert.That(names, Is.EqualTo(new[] { "a", "b", "c" }));
        // anndata stores the string column "batch" as a categorical too; the names come back as written.
        var (b, bn) = H5adReader.ReadLabels(Dense, "batch", 12, "--labels-x");
        Assert.That(b.Select(i => bn![i]), Is.EqualTo(_values.GetProperty("batch").EnumerateArray().Select(e => e.GetString())));
    }

    [Test]
    public void MissingKeys_NameTheFileAndTheKeysPresent()
    {
        var e = Assert.Throws<ArgumentException>(() => H5adReader.ReadMatrix(Dense, "obsm/X_umap", "--x-key"))!;
        Assert.That(e.Message, Does.Contain(Dense).And.Contain("obsm/X_umap").And.Contain("--x-key")
            .And.Contain("X, obsm/X_lsi, obsm/X_pca"));
        var l = Assert.Throws<ArgumentException>(() => H5adReader.ReadLabels(Dense, "obs/celltype", 12, "--labels-x"))!;
        Assert.That(l.Message, Does.Contain("obs/batch, obs/cell_type, obs/score").And.Contain("--labels-x"));
        Assert.Throws<InvalidDataException>(() => H5adReader.ReadLabels(Dense, "obs/cell_type", 11, "--labels-x"));
        string notH5 = Path.Combine(_dir, "bad.h5ad");
        File.WriteAllText(notH5, "not hdf5");
        Assert.That(Assert.Throws<InvalidDataException>(() => H5adReader.ReadMatrix(notH5, "X", "--x-key"))!.Message, Does.Contain(notH5));
    }

    [Test]
    public void Cli_MissingKey_Exit2_NamingKeys()
    {
        string o = Path.Combine(_dir, "missing");
        AssertRefused(AlignCli("--x", Dense, "--x-key", "obsm/X_umap", "--y", Csr, "--device", "cpu", "--out", o), o, _dir,
            "obsm/X_umap", "obsm/X_pca", Dense);
        AssertRefused(AlignCli("--x", Path.Combine(_dir, "x.npy"), "--x-key", "obsm/X_pca", "--y", Csr, "--out", o), o, _dir, "--x-key", "not .h5ad");
    }

    [Test]
    public void Writer_RoundTripsThroughOurReader()
    {
        string f = Path.Combine(_dir, "rt.h5ad");
        var emb = Enumerable.Range(0, 8).Select(i => i * 0.5 - 1).ToArray();
        new H5adWriter(4, new[] { "p", "q", "r", "s" })
            .Obs("match", new long[] { 3, 1, 0, 2 })
            .Obs("kind", new[] { "u", "v", "u", "w" })
            .Obsm("X_glass", emb, 2)
            .Uns("gamma", 0.25).Uns("name", "t").Uns("topk", (new long[] { 1, 2, 3, 4 }, 1))
            .Write(f);
        var m = H5adReader.ReadMatrix(f, "obsm/X_glass", "--x-key");
        Assert.That((m.Rows, m.Cols), Is.EqualTo((4, 2)));
        Assert.That(m.Data, Is.EqualTo(emb));
        Assert.That(H5adReader.ReadLabels(f, "obs/match", 4, "--labels-x").Codes, Is.EqualTo(new[] { 3, 1, 0, 2 }));
        var (k, kn) = H5adReader.ReadLabels(f, "kind", 4, "--labels-x");
        Assert.That(k.Select(i => kn![i]), Is.EqualTo(new[] { "u", "v", "u", "w" }));
        Assert.That(H5adReader.ReadObsNames(f), Is.EqualTo(new[] { "p", "q", "r", "s" }));
    }

    /// <summary>glass align on two .h5ad inputs; the written .h5ad holds what the .npy outputs hold.</summary>
    private string AlignH5ad(string name)
    {
        string o = Path.Combine(_dir, name);
        var (code, _, err) = AlignCli("--x", Dense, "--x-key", "obsm/X_lsi", "--y", Csr, "--labels-x", "obs/cell_type",
            "--labels-y", "obs/cell_type", "--steps", "5", "--device", "cpu", "--no-plots", "--out", o);
        Assert.That(code, Is.EqualTo(0), err);
        return o;
    }

    [Test]
    public void Align_H5adInputs_WritesH5adBesideNpy()
    {
        string o = AlignH5ad("align");
        var npy = Npy.Read(Path.Combine(o, "x_aligned.npy"));
        var h = H5adReader.ReadMatrix(Path.Combine(o, "x_aligned.h5ad"), "obsm/X_glass", "--x-key");
        Assert.That((h.Rows, h.Cols), Is.EqualTo((npy.Rows, npy.Cols)));
        Assert.That(h.Data, Is.EqualTo(npy.Data));
        var y = H5adReader.ReadMatrix(Path.Combine(o, "y_aligned.h5ad"), "obsm/X_glass", "--y-key");
        Assert.That(y.Data, Is.EqualTo(Npy.Read(Path.Combine(o, "y_aligned.npy")).Data));
        var matches = File.ReadAllLines(Path.Combine(o, "matches.csv")).Skip(1).Select(l => int.Parse(l.Split(',')[1])).ToArray();
        Assert.That(H5adReader.ReadLabels(Path.Combine(o, "x_aligned.h5ad"), "obs/glass_match", 12, "t").Codes, Is.EqualTo(matches));
        Assert.That(H5adReader.ReadObsNames(Path.Combine(o, "x_aligned.h5ad")), Is.EqualTo(Enumerable.Range(0, 12).Select(i => $"cell{i}")));
        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(o, "metrics.json")));
        Assert.That(metrics.RootElement.GetProperty("label_transfer").ValueKind, Is.EqualTo(JsonValueKind.Number), "obs labels were read");
    }

    [Test]
    public void Align_H5adOutput_ReadsBackInPythonAnndata()
    {
        const string py = "/usr/bin/python3";
        if (!File.Exists(py)) Assert.Ignore($"{py} not found: the python anndata cross-check needs Debian's python3-anndata.");
        if (Run(py, "-c \"import anndata\"").Code != 0) Assert.Ignore("python3 has no anndata module (Debian python3-anndata): cross-check skipped.");
        string o = AlignH5ad("align-py");
        string script = Path.Combine(_dir, "check.py");
        File.WriteAllText(script, """
            import sys, anndata, numpy as np
            a = anndata.read_h5ad(sys.argv[1] + "/x_aligned.h5ad")
            x = np.load(sys.argv[1] + "/x_aligned.npy")
            assert a.n_obs == x.shape[0], a
            assert np.array_equal(a.obsm["X_glass"], x)
            assert list(a.obs_names[:2]) == ["cell0", "cell1"], list(a.obs_names)
            assert a.uns["glass"]["x_key"] == "obsm/X_lsi"
            assert a.uns["glass"]["top_k_index"].shape == (12, 5)
            print("ok", a.n_obs, a.obsm["X_glass"].shape[1], int(a.obs["glass_match"].iloc[0]))
            """);
        var (code, output) = Run(py, $"\"{script}\" \"{o}\"");
        Assert.That(code, Is.EqualTo(0), output);
        Assert.That(output, Does.StartWith("ok 12 "));
    }

    private static (int Code, string Output) Run(string exe, string args)
    {
        using var p = Process.Start(new ProcessStartInfo(exe, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        string output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output);
    }
}
