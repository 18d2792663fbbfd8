using System.Text.Json;

namespace Glass.Tests.Support;

/// <summary>POT 0.8.2 reference values (Golden/README.md says where they come from).</summary>
public static class Golden
{
    public sealed record Case(string Role, double Gamma, string Method, int MaxIter, double Tol, int Iterations,
        double TransportCost, double Entropy, double[] RowSums, double[] ColSums, (int I, int J, double P)[] Probe,
        int[] RowArgmax, double[]? DualF, double[]? DualG);

    public sealed record Sinkhorn1D(int N, double[] S, double[] T, double ExactCost, Case[] Cases);

    private static readonly Lazy<Sinkhorn1D> Lazy = new(Load);
    public static Sinkhorn1D Sinkhorn => Lazy.Value;

    private static Sinkhorn1D Load()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Golden", "sinkhorn_1d_n256.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var r = doc.RootElement;
        static double[] Arr(JsonElement e) => e.EnumerateArray().Select(x => x.GetDouble()).ToArray();
        var cases = r.GetProperty("cases").EnumerateArray().Select(c => new Case(
            c.GetProperty("role").GetString()!, c.GetProperty("gamma").GetDouble(), c.GetProperty("method").GetString()!,
            c.GetProperty("max_iter").GetInt32(), c.GetProperty("tol").GetDouble(), c.GetProperty("iterations").GetInt32(),
            c.GetProperty("transport_cost").GetDouble(), c.GetProperty("entropy").GetDouble(),
            Arr(c.GetProperty("row_sums")), Arr(c.GetProperty("col_sums")),
            c.GetProperty("plan_probe").EnumerateArray().Select(p => (p[0].GetInt32(), p[1].GetInt32(), p[2].GetDouble())).ToArray(),
            c.GetProperty("plan_row_argmax").EnumerateArray().Select(x => x.GetInt32()).ToArray(),
            c.TryGetProperty("dual_f", out var df) ? Arr(df) : null,
            c.TryGetProperty("dual_g", out var dg) ? Arr(dg) : null)).ToArray();
        return new Sinkhorn1D(r.GetProperty("n").GetInt32(), Arr(r.GetProperty("s")), Arr(r.GetProperty("t")),
            r.GetProperty("exact_cost").GetDouble(), cases);
    }
}
