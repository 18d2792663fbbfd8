using Glass.Models.Data;
using Glass.Models.Metrics;
using NUnit.Framework;

namespace Glass.Tests.Models;

/// <summary>The known-pairs file (docs/formats.md, "Known-pairs file") and FOSCTTM on a subset of rows.</summary>
public class KnownPairsReaderTests
{
    private static IReadOnlyList<(int X, int Y)> Parse(string text, int n = 10, int m = 8) =>
        KnownPairsReader.Parse(text.Split('\n'), "p.txt", n, m, "x.npy", "y.npy");

    [Test]
    public void Parse_AcceptsCommasSpacesTabs_AHeader_CommentsAndBlankLines()
    {
        string text = "# anchors from the lab notebook\r\n\r\nx,y\r\n0,1\r\n2 , 3   # trailing comment\r\n4 5\r\n6\t7\r\n  9,  0\r\n";
        Assert.That(Parse(text), Is.EqualTo(new[] { (0, 1), (2, 3), (4, 5), (6, 7), (9, 0) }));
        Assert.That(Parse("atac_row rna_row\n3 3\n"), Is.EqualTo(new[] { (3, 3) }), "a whitespace header");
        Assert.That(Parse("1,2"), Is.EqualTo(new[] { (1, 2) }), "no header, no final newline");
        // A file on disk goes through the same parser.
        string f = Path.Combine(Path.GetTempPath(), "glass-pairs-" + Guid.NewGuid().ToString("N") + ".csv");
        File.WriteAllText(f, "x,y\n0,0\n7,7\n");
        try { Assert.That(KnownPairsReader.Read(f, 8, 8), Is.EqualTo(new[] { (0, 0), (7, 7) })); }
        finally { File.Delete(f); }
        var missing = Assert.Throws<FileNotFoundException>(() => KnownPairsReader.Read(f, 8, 8))!;
        Assert.That(missing.Message, Does.Contain(f).And.Contain("not found"));
    }

    [TestCase("0,1\n2,3,4\n", "p.txt:2:", "3 fields", "'i,j' or 'i j'")]
    [TestCase("0,1\n5\n", "p.txt:2:", "1 field;", "'i,j' or 'i j'")]
    [TestCase("0,1\n\n2,a\n", "p.txt:3:", "'a'", "not an integer")]
    [TestCase("0,1\n1.5,2\n", "p.txt:2:", "'1.5'", "not an integer")]
    [TestCase("x,y\n0,1\nx,y\n", "p.txt:3:", "'x'", "not an integer")]
    [TestCase("0,1\n10,2\n", "p.txt:2:", "row index 10 of x.npy out of range", "0 ≤ i ≤ 9 (x.npy has 10 rows")]
    [TestCase("0,1\n-1,2\n", "p.txt:2:", "row index -1 of x.npy", "0 ≤ i ≤ 9")]
    [TestCase("# c\n3,8\n", "p.txt:2:", "row index 8 of y.npy out of range", "0 ≤ j ≤ 7 (y.npy has 8 rows")]
    [TestCase("0,1\n2,3\n0,1\n", "p.txt:3:", "pair (0, 1) given twice (first on line 1)", "each pair once")]
    [TestCase("0,1\n2,3\n2,4\n", "p.txt:3:", "row 2 of x.npy is paired again, with row 4 of y.npy (line 2 pairs it with row 3)", "at most one pair")]
    [TestCase("0,1\n2,1\n", "p.txt:2:", "row 1 of y.npy is paired again, with row 2 of x.npy (line 1 pairs it with row 0)", "at most one pair")]
    [TestCase("", "p.txt: no pairs", "no pairs", "at least one line")]
    [TestCase("# only a comment\nx,y\n\n", "p.txt: no pairs", "no pairs", "at least one line")]
    public void Parse_BadInput_NamesTheLineAndTheProblem(string text, string where, string what, string expected)
    {
        var e = Assert.Throws<InvalidDataException>(() => Parse(text))!;
        Assert.That(e.Message, Does.StartWith(where));
        Assert.That(e.Message, Does.Contain(what));
        Assert.That(e.Message, Does.Contain(expected));
    }

    /// <summary>
    /// FOSCTTM on a subset, by hand (1-D): u = (0, 10, 20, 30), v = (0, 10, 31, 19), S = {1, 2, 3} (row 0 anchored).
    /// On S: p = (0, 2/3, 1/3) — u=20: |20−10| = 10 and |20−19| = 1 are &lt; |20−31| = 11; u=30: |30−31| = 1 &lt; 11 —
    /// q = (0, 1/3, 2/3) — v=31: |31−30| = 1 &lt; 11; v=19: |19−10| = 9 and |19−20| = 1 &lt; 11 — so FOSCTTM = 2/(2·3) = 1/3.
    /// Over all four rows the counts are the same (u_0 = v_0 = 0 is never closer) but N = 4: (2 + 1 + 1 + 2)/4 / (2·4) = 3/16.
    /// </summary>
    [Test]
    public void FoscttmOnASubset_MatchesTheHandCount()
    {
        double[] u = { 0, 10, 20, 30 }, v = { 0, 10, 31, 19 };
        var rows = AlignmentMetrics.UnanchoredRows(4, new[] { (0, 0) });
        Assert.That(rows, Is.EqualTo(new[] { 1, 2, 3 }));
        var sub = AlignmentMetrics.Foscttm(u, v, 4, 1, rows);
        Assert.That(sub.Mean, Is.EqualTo(1.0 / 3).Within(1e-15));
        Assert.That(sub.P, Is.EqualTo(new[] { 0, 2.0 / 3, 1.0 / 3 }).Within(1e-15));
        Assert.That(sub.Q, Is.EqualTo(new[] { 0, 1.0 / 3, 2.0 / 3 }).Within(1e-15));
        var all = AlignmentMetrics.Foscttm(u, v, 4, 1);
        Assert.That(all.Mean, Is.EqualTo(3.0 / 16).Within(1e-15), "the anchored row changes N, not the counts");
        Assert.That(AlignmentMetrics.Foscttm(u, v, 4, 1, new[] { 0, 1, 2, 3 }).Mean, Is.EqualTo(all.Mean), "the whole set as a subset is the full FOSCTTM");
        // A pair joining different indices takes both indices out; bad subsets are refused.
        Assert.That(AlignmentMetrics.UnanchoredRows(4, new[] { (0, 2) }), Is.EqualTo(new[] { 1, 3 }));
        Assert.Throws<ArgumentException>(() => AlignmentMetrics.Foscttm(u, v, 4, 1, new[] { 1, 1 }));
        Assert.Throws<ArgumentException>(() => AlignmentMetrics.Foscttm(u, v, 4, 1, new[] { 4 }));
        Assert.Throws<ArgumentException>(() => AlignmentMetrics.Foscttm(u, v, 4, 1, Array.Empty<int>()));
    }
}
