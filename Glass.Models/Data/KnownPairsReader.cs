using System.Globalization;

namespace Glass.Models.Data;

/// <summary>
/// Reader of a known-pairs file for learned GW's semi-supervised term (<see cref="Gw.LearnedGwOptions.KnownPairs"/>;
/// docs/formats.md, "Known-pairs file"): UTF-8 text, one pair <c>i,j</c> or <c>i j</c> (comma, or spaces/tabs) per
/// line, i a 0-based row of X and j a 0-based row of Y; '#' starts a comment (whole line or the rest of a line); blank
/// lines are skipped; the first non-comment line may be a header when none of its fields is an integer (e.g. <c>x,y</c>).
/// The pairs are one-to-one: each pair once, each row of X in at most one pair and each row of Y in at most one pair
/// (the term −(1/|K|) Σ log(n·Π_ij) reaches its optimum 0 only when Π_ij holds the whole row mass 1/n, so two partners
/// of one row would pull against each other; a repeated row is almost always a mistake in the file).
/// </summary>
public static class KnownPairsReader
{
    /// <summary>Reads and checks the pairs in <paramref name="path"/> against n = <paramref name="rowsX"/>, m = <paramref name="rowsY"/>.</summary>
    /// <param name="path">The pairs file.</param>
    /// <param name="rowsX">Rows n of X: every i must satisfy 0 ≤ i &lt; n.</param>
    /// <param name="rowsY">Rows m of Y: every j must satisfy 0 ≤ j &lt; m.</param>
    /// <param name="nameX">How X is named in messages (e.g. its file).</param>
    /// <param name="nameY">How Y is named in messages.</param>
    /// <returns>The pairs (row of X, row of Y) in file order.</returns>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">A malformed line, an index out of range, a repeated pair or row, or no pairs;
    /// the message names the file and line (<c>FILE:LINE: …</c>), the value and what was expected.</exception>
    public static IReadOnlyList<(int X, int Y)> Read(string path, int rowsX, int rowsY, string nameX = "X", string nameY = "Y")
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: known-pairs file not found.", path);
        if (new FileInfo(path).Length == 0) // also a device, pipe or /proc file, whose lines could be endless
            throw new InvalidDataException($"{path}: no pairs (the file has length 0: empty, or a device, pipe or /proc file, which are not read); expected at least one line 'i,j' or 'i j' (0-based row of {nameX}, row of {nameY}).");
        return Parse(File.ReadLines(path), path, rowsX, rowsY, nameX, nameY);
    }

    /// <summary>Parses the lines of a pairs file (see <see cref="Read"/>); <paramref name="source"/> names it in messages.</summary>
    /// <exception cref="InvalidDataException">As <see cref="Read"/>.</exception>
    public static IReadOnlyList<(int X, int Y)> Parse(IEnumerable<string> lines, string source, int rowsX, int rowsY, string nameX = "X", string nameY = "Y")
    {
        ArgumentNullException.ThrowIfNull(lines);
        if (rowsX < 1 || rowsY < 1) throw new ArgumentException($"{source}: {rowsX} rows of {nameX} and {rowsY} of {nameY}; expected both ≥ 1.");
        var pairs = new List<(int X, int Y)>();
        var lineOfX = new Dictionary<int, (int Y, int Line)>();
        var lineOfY = new Dictionary<int, (int X, int Line)>();
        int lineNo = 0;
        bool first = true;
        foreach (var raw in lines)
        {
            lineNo++;
            int hash = raw.IndexOf('#');
            string line = (hash >= 0 ? raw[..hash] : raw).Trim();
            if (line.Length == 0) continue;
            string[] fields = line.Contains(',')
                ? line.Split(',').Select(f => f.Trim()).ToArray()
                : line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            bool isHeader = first && fields.All(f => !long.TryParse(f, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _));
            first = false;
            if (isHeader) continue;
            string Where() => string.Create(CultureInfo.InvariantCulture, $"{source}:{lineNo}");
            if (fields.Length != 2)
                throw new InvalidDataException($"{Where()}: '{Shown(line)}' has {fields.Length} field{(fields.Length == 1 ? "" : "s")}; expected one pair 'i,j' or 'i j' (0-based row of {nameX}, row of {nameY}).");
            var idx = new long[2];
            for (int f = 0; f < 2; f++)
                if (!long.TryParse(fields[f], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out idx[f]))
                    throw new InvalidDataException($"{Where()}: '{Shown(fields[f])}' in '{Shown(line)}' is not an integer; expected one pair 'i,j' or 'i j' of 0-based row indices.");
            if (idx[0] < 0 || idx[0] >= rowsX)
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"{Where()}: row index {idx[0]} of {nameX} out of range; expected 0 ≤ i ≤ {rowsX - 1} ({nameX} has {rowsX} rows, indices are 0-based)."));
            if (idx[1] < 0 || idx[1] >= rowsY)
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"{Where()}: row index {idx[1]} of {nameY} out of range; expected 0 ≤ j ≤ {rowsY - 1} ({nameY} has {rowsY} rows, indices are 0-based)."));
            int i = (int)idx[0], j = (int)idx[1];
            if (lineOfX.TryGetValue(i, out var px) && px.Y == j)
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"{Where()}: pair ({i}, {j}) given twice (first on line {px.Line}); expected each pair once."));
            if (lineOfX.TryGetValue(i, out px))
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"{Where()}: row {i} of {nameX} is paired again, with row {j} of {nameY} (line {px.Line} pairs it with row {px.Y}); expected each row of {nameX} in at most one pair (one-to-one known pairs)."));
            if (lineOfY.TryGetValue(j, out var py))
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"{Where()}: row {j} of {nameY} is paired again, with row {i} of {nameX} (line {py.Line} pairs it with row {py.X}); expected each row of {nameY} in at most one pair (one-to-one known pairs)."));
            lineOfX[i] = (j, lineNo);
            lineOfY[j] = (i, lineNo);
            pairs.Add((i, j));
        }
        if (pairs.Count == 0)
            throw new InvalidDataException($"{source}: no pairs; expected at least one line 'i,j' or 'i j' (0-based row of {nameX}, row of {nameY}).");
        return pairs;
    }

    private static string Shown(string s) => s.Length > 60 ? s[..60] + "…" : s;
}
