using System.Globalization;

namespace Glass.Models.Glass;

/// <summary>
/// The Sinkhorn potentials (f, g) of one slice's 1-D OT solve, in the callers' order (f_i ↔ x_i, g_j ↔ y_j): what a
/// <see cref="GlassLayer.Forward"/> returns per slice and takes back as the next step's warm start (train.warm_start).
/// Potentials are indexed by points, not by band positions, so they stay a valid start after the scores — and with them
/// the sort order and the band — have moved; the plan the solver converges to does not depend on them.
/// </summary>
/// <param name="F">Row potentials f, length n.</param>
/// <param name="G">Column potentials g, length m.</param>
public sealed record SlicePotentials(double[] F, double[] G)
{
    /// <summary>Every entry finite (an unconverged or degenerate solve may leave ±∞ or NaN, which is no warm start).</summary>
    public bool IsFinite => F.All(double.IsFinite) && G.All(double.IsFinite);

    /// <summary>The slices' potentials that can warm-start the next solve (null entries for those that cannot).</summary>
    internal static SlicePotentials?[] Usable(IReadOnlyList<SlicePotentials> potentials) =>
        potentials.Select(p => p.IsFinite ? p : null).ToArray();
}

/// <summary>
/// The checkpoint file of the warm-start potentials (<c>sinkhorn_potentials.bin</c>): a resumed run starts its next
/// step from the same potentials as the uninterrupted run, so it continues bit for bit. Little-endian: the magic
/// "GLSP", version 1, the slice count S, then per slice a presence byte and, when present, n, m, f (n doubles), g (m doubles).
/// </summary>
internal static class PotentialsFile
{
    public const string Name = "sinkhorn_potentials.bin";
    private const int Magic = 0x50534C47; // "GLSP"
    private const int Version = 1;

    public static void Save(string path, IReadOnlyList<SlicePotentials?> slices)
    {
        string tmp = path + ".tmp";
        using (var w = new BinaryWriter(File.Create(tmp)))
        {
            w.Write(Magic); w.Write(Version); w.Write(slices.Count);
            foreach (var p in slices)
            {
                w.Write(p is not null);
                if (p is null) continue;
                w.Write(p.F.Length); w.Write(p.G.Length);
                foreach (double v in p.F) w.Write(v);
                foreach (double v in p.G) w.Write(v);
            }
        }
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>Reads and checks the file: <paramref name="slices"/> entries of lengths n and m, finite.</summary>
    /// <exception cref="InvalidDataException">Missing, truncated, of another shape or not finite; the message names the file.</exception>
    public static SlicePotentials?[] Load(string path, int slices, int n, int m)
    {
        if (!File.Exists(path)) throw new InvalidDataException($"{path}: checkpoint potentials file missing (train.warm_start is on).");
        try
        {
            using var r = new BinaryReader(File.OpenRead(path));
            if (r.ReadInt32() != Magic || r.ReadInt32() != Version) throw new InvalidDataException($"{path}: not a version-1 potentials file.");
            int s = r.ReadInt32();
            if (s != slices) throw Bad(path, $"{s} slices; expected train.slices = {slices}");
            var o = new SlicePotentials?[s];
            for (int k = 0; k < s; k++)
            {
                if (!r.ReadBoolean()) continue;
                int fn = r.ReadInt32(), gm = r.ReadInt32();
                if (fn != n || gm != m) throw Bad(path, $"slice {k} has {fn}×{gm} potentials; expected {n} and {m}");
                var f = new double[n]; var g = new double[m];
                for (int i = 0; i < n; i++) f[i] = r.ReadDouble();
                for (int j = 0; j < m; j++) g[j] = r.ReadDouble();
                o[k] = new SlicePotentials(f, g);
                if (!o[k]!.IsFinite) throw Bad(path, $"slice {k} holds a non-finite potential");
            }
            if (r.BaseStream.Position != r.BaseStream.Length) throw Bad(path, "trailing bytes");
            return o;
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"{path}: truncated potentials file.", e);
        }
    }

    private static InvalidDataException Bad(string path, string what) =>
        new(string.Create(CultureInfo.InvariantCulture, $"{path}: malformed potentials file ({what})."));
}
