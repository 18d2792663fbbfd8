using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Glass.Kernels.Device;
using Glass.Kernels.Linalg;
using Glass.Kernels.Sinkhorn;
using Glass.Models.Data;

namespace Glass.Runner.Commands;

/// <summary><c>glass bench …</c>: benchmarks that print medians (and JSON lines with --json).</summary>
internal static class BenchCommands
{
    public static Command Create(CliContext ctx)
    {
        var bench = new Command("bench", "Benchmarks (medians of repeats; --json for one object per line).");
        bench.Subcommands.Add(SinkhornCommand(ctx));
        bench.Subcommands.Add(ScalingCommand(ctx));
        bench.Subcommands.Add(SinkhornGradCommand(ctx));
        bench.Subcommands.Add(TapeBench.MlpCommand(ctx));
        foreach (var c in GwBenchCommands.Create(ctx)) bench.Subcommands.Add(c);
        bench.Subcommands.Add(AlignSuite.Create(ctx));
        bench.Subcommands.Add(AlignSuite.CreateScaling(ctx));
        return bench;
    }

    private static Command SinkhornCommand(CliContext ctx)
    {
        var n = new Option<int>("--n") { Description = "Number of scores per side (ignored with --s/--t).", DefaultValueFactory = _ => 2048 };
        var gamma = new Option<double>("--gamma") { Description = "Entropic regularisation γ > 0.", DefaultValueFactory = _ => 0.05 };
        var bandEps = new Option<double>("--band-eps") { Description = "Band truncation ε ∈ (0,1); radius r = sqrt(−γ log ε).", DefaultValueFactory = _ => 1e-6 };
        var rankCap = new Option<int?>("--rank-cap") { Description = "Optional cap w on columns per row (rank space)." };
        var maxIter = new Option<int>("--max-iter") { Description = "Iteration limit.", DefaultValueFactory = _ => 200 };
        var tol = new Option<double>("--tol") { Description = "Stop when the L2 marginal error ≤ tol (POT's rule).", DefaultValueFactory = _ => 1e-6 };
        var checkEvery = new Option<int>("--check-every") { Description = "Convergence check period (POT uses 10).", DefaultValueFactory = _ => 10 };
        var device = new Option<string>("--device") { Description = "auto | cpu | cuda | ilgpu-cpu.", DefaultValueFactory = _ => "auto" };
        var seed = new Option<int>("--seed") { Description = "Seed of the random N(0,1) scores.", DefaultValueFactory = _ => 0 };
        var sPath = new Option<string?>("--s") { Description = "Row scores: 1-D float32/float64 .npy (with --t)." };
        var tPath = new Option<string?>("--t") { Description = "Column scores: 1-D float32/float64 .npy (with --s)." };
        var repeats = new Option<int>("--repeats") { Description = "Timed repeats per method (median reported).", DefaultValueFactory = _ => 3 };
        var methods = new Option<string>("--methods") { Description = "Comma-separated: auto (picks banded, stored or dense from the band's density and n·m; reported), dense (log domain, online cost), stored (kernel in memory, exp-domain scaling), banded.", DefaultValueFactory = _ => "auto" };
        var noRelax = new Option<bool>("--no-overrelax") { Description = "Plain Sinkhorn updates (no adaptive over-relaxation)." };
        var epsScaling = new Option<string>("--eps-scaling") { Description = "off | on: anneal γ from the cost spread down to --gamma, each stage warm-started (ε-scaling).", DefaultValueFactory = _ => "off" };
        var json = new Option<bool>("--json") { Description = "One JSON object per line per method on stdout." };

        var cmd = new Command("sinkhorn", "Dense vs banded entropic OT on the same 1-D scores: time (median), iterations, nnz, cost, gap.")
        {
            n, gamma, bandEps, rankCap, maxIter, tol, checkEvery, device, seed, sPath, tPath, repeats, methods, noRelax, epsScaling, json,
        };
        cmd.SetAction(p =>
        {
            var (s, t, source) = Scores(p.GetValue(sPath), p.GetValue(tPath), p.GetValue(n), p.GetValue(seed));
            int reps = p.GetValue(repeats);
            if (reps < 1) throw new ArgumentException($"--repeats = {reps}; expected an integer ≥ 1.");
            var list = p.GetValue(methods)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            foreach (var mth in list)
                if (mth is not ("auto" or "dense" or "stored" or "banded"))
                    throw new ArgumentException($"--methods contains '{mth}'; expected auto, dense, stored and/or banded.");
            var opt = new SinkhornOptions
            {
                Gamma = p.GetValue(gamma), MaxIter = p.GetValue(maxIter), Tol = p.GetValue(tol),
                CheckEvery = p.GetValue(checkEvery), Overrelax = !p.GetValue(noRelax), EpsScaling = ParseEpsScaling(p.GetValue(epsScaling)!),
            };
            var band = new BandOptions { BandEps = p.GetValue(bandEps), RankCap = p.GetValue(rankCap) };
            using var dev = ComputeDevice.Open(p.GetValue(device)!);
            RunSinkhornBench(ctx, dev, s, t, source, list, reps, opt, band, p.GetValue(json));
            return 0;
        });
        return cmd;
    }

    /// <summary>Times each method in <paramref name="list"/> on the same scores and prints one line (or JSON object) per method.</summary>
    private static void RunSinkhornBench(CliContext ctx, ComputeDevice dev, double[] s, double[] t, string source, string[] list,
        int reps, SinkhornOptions opt, BandOptions band, bool asJson)
    {
        if (!asJson)
            ctx.Out.WriteLine($"glass bench sinkhorn: n = {s.Length}×{t.Length} ({source}), γ = {Fmt(opt.Gamma)}, ε = {Fmt(band.BandEps)}, tol = {Fmt(opt.Tol)}, max_iter = {opt.MaxIter}, device = {dev.Name}");
        var costs = new Dictionary<string, double>();
        foreach (var mth in list)
        {
            var times = new List<double>();
            Row? row = null;
            for (int r = 0; r < reps; r++)
            {
                var sw = Stopwatch.StartNew();
                row = RunMethod(mth, dev, s, t, opt, band);
                times.Add(sw.Elapsed.TotalSeconds);
                ctx.Err.WriteLine($"  [{mth}] repeat {r + 1}/{reps}: {times[^1]:F3} s");
            }
            double median = BenchStats.Median(times);
            costs[mth] = row!.Cost;
            if (asJson)
            {
                var o = new Dictionary<string, object?>
                {
                    ["method"] = mth, ["solver"] = row.Solver, ["device"] = dev.ShortName, ["device_name"] = dev.Name, ["n"] = s.Length, ["m"] = t.Length,
                    ["gamma"] = opt.Gamma, ["band_eps"] = band.BandEps, ["tol"] = opt.Tol, ["max_iter"] = opt.MaxIter,
                    ["iterations"] = row.Iterations, ["converged"] = row.Converged, ["marginal_err"] = row.MarginalError,
                    ["nnz"] = row.Nnz, ["band_radius"] = row.Radius, ["cost"] = row.Cost, ["entropy"] = row.Entropy,
                    ["seconds"] = median, ["all_seconds"] = times, ["overrelax"] = opt.Overrelax,
                    ["eps_scaling"] = opt.EpsScaling.ToString().ToLowerInvariant(), ["scores"] = source,
                };
                ctx.Out.WriteLine(JsonSerializer.Serialize(o));
            }
            else
            {
                ctx.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{mth + (mth == "auto" ? "→" + row.Solver : ""),-13} {median,9:F4} s (median of {reps})  iterations {row.Iterations,6}  converged {row.Converged,-5}  err {row.MarginalError:E2}  nnz {row.Nnz,11:N0}  cost {row.Cost:R}  entropy {row.Entropy:F6}"));
            }
        }
        if (!asJson && costs.TryGetValue("dense", out var cd) && costs.TryGetValue("banded", out var cb))
            ctx.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"relative cost gap |banded − dense| / dense = {Math.Abs(cb - cd) / Math.Abs(cd):E3}"));
    }

    private static Command ScalingCommand(CliContext ctx)
    {
        var sizes = new Option<string>("--sizes") { Description = "Comma-separated n values.", DefaultValueFactory = _ => "1000,3162,10000,31623,100000,316228,1000000" };
        var gamma0 = new Option<double>("--gamma0") { Description = "γ at n = 1000; γ_n = γ0·(1000/n)² follows the squared score spacing so nnz/n stays bounded.", DefaultValueFactory = _ => 0.01 };
        var fixedGamma = new Option<bool>("--fixed-gamma") { Description = "Keep γ = γ0 for every n (nnz grows ∝ n²)." };
        var rankCap = new Option<int?>("--rank-cap") { Description = "Optional cap w on columns per row." };
        var bandEps = new Option<double>("--band-eps") { Description = "Band truncation ε.", DefaultValueFactory = _ => 1e-6 };
        var iters = new Option<int>("--iters") { Description = "Iterations per size (tol = 0); time per iteration = loop time / iterations.", DefaultValueFactory = _ => 20 };
        var device = new Option<string>("--device") { Description = "auto | cpu | cuda | ilgpu-cpu.", DefaultValueFactory = _ => "auto" };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 0, Description = "Seed of the N(0,1) scores." };
        var json = new Option<bool>("--json") { Description = "One JSON object per size on stdout." };
        var cmd = new Command("scaling", "Banded Sinkhorn time per iteration vs nnz and n (fitted log–log exponents), memory.")
        {
            sizes, gamma0, fixedGamma, rankCap, bandEps, iters, device, seed, json,
        };
        cmd.SetAction(p =>
        {
            var ns = p.GetValue(sizes)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(x => int.TryParse(x, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v > 1 ? v
                    : throw new ArgumentException($"--sizes contains '{x}'; expected integers > 1.")).ToArray();
            int k = p.GetValue(iters);
            if (k < 1) throw new ArgumentException($"--iters = {k}; expected an integer ≥ 1.");
            bool asJson = p.GetValue(json);
            using var dev = ComputeDevice.Open(p.GetValue(device)!);
            var band = new BandOptions { BandEps = p.GetValue(bandEps), RankCap = p.GetValue(rankCap), Refinements = 0 };
            var logN = new List<double>(); var logNnz = new List<double>(); var logT = new List<double>();
            if (!asJson) ctx.Out.WriteLine($"n, gamma, nnz, nnz/n, s/iter, iter/s·nnz (entries/s), total s ({k} iters incl. sort/band/plan), peak MiB — device {dev.Name}");
            foreach (int n in ns)
            {
                var rng = new Random(p.GetValue(seed));
                var s = Normal(rng, n);
                var t = Normal(rng, n);
                double g = p.GetValue(fixedGamma) ? p.GetValue(gamma0) : p.GetValue(gamma0) * Math.Pow(1000.0 / n, 2);
                var o = new SinkhornOptions { Gamma = g, MaxIter = k, Tol = 0, CheckEvery = k, Overrelax = false, EpsScaling = EpsScaling.Off };
                BandedSinkhorn.Solve(dev, s[..Math.Min(n, 64)], t[..Math.Min(n, 64)], null, null, o with { MaxIter = 1 }, band); // warm-up (JIT, kernels)
                var sw = Stopwatch.StartNew();
                var res = BandedSinkhorn.Solve(dev, s, t, null, null, o, band);
                double total = sw.Elapsed.TotalSeconds;
                double perIter = res.IterationSeconds / res.Iterations;
                long peak = Process.GetCurrentProcess().PeakWorkingSet64;
                logN.Add(Math.Log(n)); logNnz.Add(Math.Log(res.Nnz)); logT.Add(Math.Log(perIter));
                if (asJson)
                    ctx.Out.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                    {
                        ["n"] = n, ["gamma"] = g, ["band_eps"] = band.BandEps, ["nnz"] = res.Nnz, ["nnz_per_n"] = (double)res.Nnz / n,
                        ["seconds_per_iteration"] = perIter, ["entries_per_second"] = res.Nnz / perIter, ["total_seconds"] = total,
                        ["iterations"] = res.Iterations, ["peak_bytes"] = peak, ["device"] = dev.ShortName,
                    }));
                else
                    ctx.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{n,9} {g,11:E3} {res.Nnz,12:N0} {(double)res.Nnz / n,8:F1} {perIter,11:E3} {res.Nnz / perIter,11:E3} {total,8:F3} {peak / 1048576.0,8:F0}"));
            }
            if (ns.Length >= 2)
            {
                string fit = string.Create(CultureInfo.InvariantCulture,
                    $"fitted exponents: time/iteration ∝ nnz^{Slope(logNnz, logT):F3}, ∝ n^{Slope(logN, logT):F3}; nnz ∝ n^{Slope(logN, logNnz):F3}");
                if (asJson) ctx.Err.WriteLine(fit); else ctx.Out.WriteLine(fit);
            }
            return 0;
        });
        return cmd;
    }

    private static Command SinkhornGradCommand(CliContext ctx)
    {
        var n = new Option<int>("--n") { Description = "Scores per side.", DefaultValueFactory = _ => 10_000 };
        var gamma = new Option<double>("--gamma") { Description = "γ > 0.", DefaultValueFactory = _ => 0.001 };
        var bandEps = new Option<double>("--band-eps") { Description = "Band truncation ε.", DefaultValueFactory = _ => 1e-6 };
        var rankCap = new Option<int?>("--rank-cap") { Description = "Optional cap on columns per row." };
        var tol = new Option<double>("--tol") { Description = "Forward marginal tolerance.", DefaultValueFactory = _ => 1e-6 };
        var maxIter = new Option<int>("--max-iter") { Description = "Forward iteration limit.", DefaultValueFactory = _ => 100_000 };
        var repeats = new Option<int>("--repeats") { Description = "Repeats (median reported).", DefaultValueFactory = _ => 3 };
        var device = new Option<string>("--device") { Description = "auto | cpu | cuda | ilgpu-cpu (forward).", DefaultValueFactory = _ => "cpu" };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 0, Description = "Seed of the N(0,1) scores." };
        var json = new Option<bool>("--json") { Description = "One JSON object on stdout." };
        var precond = new Option<string>("--preconditioner") { Description = "CG preconditioner: schur | jacobi | both (both: each backward after the same forward, side by side).", DefaultValueFactory = _ => "schur" };
        var schurBw = new Option<int>("--schur-bandwidth") { Description = "Half-bandwidth β of the banded Schur preconditioner (0 = automatic).", DefaultValueFactory = _ => 0 };
        var cmd = new Command("sinkhorn-grad", "Banded Sinkhorn forward vs its implicit backward (∂⟨P,C⟩/∂s, ∂/∂t by CG on the band).")
        {
            n, gamma, bandEps, rankCap, tol, maxIter, repeats, device, seed, json, precond, schurBw,
        };
        cmd.SetAction(p =>
        {
            int size = p.GetValue(n), reps = p.GetValue(repeats);
            if (size < 2) throw new ArgumentException($"--n = {size}; expected an integer ≥ 2.");
            if (reps < 1) throw new ArgumentException($"--repeats = {reps}; expected ≥ 1.");
            var rng = new Random(p.GetValue(seed));
            var s = Normal(rng, size);
            var t = Normal(rng, size);
            var opt = new SinkhornOptions { Gamma = p.GetValue(gamma), Tol = p.GetValue(tol), MaxIter = p.GetValue(maxIter) };
            var band = new BandOptions { BandEps = p.GetValue(bandEps), RankCap = p.GetValue(rankCap) };
            using var dev = ComputeDevice.Open(p.GetValue(device)!);
            string pc = p.GetValue(precond)!.Trim().ToLowerInvariant();
            var kinds = pc switch
            {
                "schur" => new[] { Glass.Autodiff.Implicit.CgPreconditioner.BandedSchur },
                "jacobi" => new[] { Glass.Autodiff.Implicit.CgPreconditioner.Jacobi },
                "both" => new[] { Glass.Autodiff.Implicit.CgPreconditioner.Jacobi, Glass.Autodiff.Implicit.CgPreconditioner.BandedSchur },
                _ => throw new ArgumentException($"--preconditioner = '{pc}'; expected schur, jacobi or both."),
            };
            int beta = p.GetValue(schurBw);
            if (beta < 0) throw new ArgumentException($"--schur-bandwidth = {beta}; expected 0 (automatic) or ≥ 1.");
            var fw = new List<double>();
            var bw = kinds.Select(_ => new List<double>()).ToArray();
            var gs = new Glass.Autodiff.Implicit.BandedImplicitGradient?[kinds.Length];
            BandedSinkhornResult? r = null;
            for (int k = 0; k < reps; k++)
            {
                var sw = Stopwatch.StartNew();
                r = BandedSinkhorn.Solve(dev, s, t, null, null, opt, band);
                fw.Add(sw.Elapsed.TotalSeconds);
                for (int q = 0; q < kinds.Length; q++)
                {
                    sw.Restart();
                    gs[q] = Glass.Autodiff.Implicit.SinkhornImplicit.BandedTransportCostBackward(r.Plan, s, t, opt.Gamma, null, null,
                        new Glass.Autodiff.Implicit.ImplicitOptions { Preconditioner = kinds[q], SchurBandwidth = beta });
                    bw[q].Add(sw.Elapsed.TotalSeconds);
                    ctx.Err.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  repeat {k + 1}/{reps}: forward {fw[^1]:F3} s, backward ({kinds[q]}) {bw[q][^1]:F3} s, CG {gs[q]!.CgIterations} steps, residual {gs[q]!.CgResidual:E1}"));
                }
            }
            double f = BenchStats.Median(fw);
            for (int q = 0; q < kinds.Length; q++)
            {
                double b = BenchStats.Median(bw[q]);
                var g = gs[q]!;
                if (p.GetValue(json))
                    ctx.Out.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                    {
                        ["n"] = size, ["device"] = dev.ShortName, ["gamma"] = opt.Gamma, ["nnz"] = r!.Nnz, ["forward_seconds"] = f,
                        ["backward_seconds"] = b, ["ratio"] = b / f, ["forward_iterations"] = r.Iterations, ["converged"] = r.Converged,
                        ["preconditioner"] = kinds[q].ToString(), ["schur_bandwidth"] = beta,
                        ["cg_iterations"] = g.CgIterations, ["cg_residual"] = g.CgResidual, ["cg_converged"] = g.Converged,
                    }));
                else
                    ctx.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"n {size}, γ {opt.Gamma:G4}, nnz {r!.Nnz:N0}: forward {f:F3} s ({r.Iterations} iterations, converged {r.Converged}), backward [{kinds[q]}] {b:F3} s (CG {g.CgIterations} iterations, residual {g.CgResidual:E1}, converged {g.Converged}), backward/forward = {b / f:F2}"));
            }
            return 0;
        });
        return cmd;
    }

    /// <summary>Least-squares slope of y on x.</summary>
    internal static double Slope(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        double mx = x.Average(), my = y.Average(), sxy = 0, sxx = 0;
        for (int i = 0; i < x.Count; i++) { sxy += (x[i] - mx) * (y[i] - my); sxx += (x[i] - mx) * (x[i] - mx); }
        return sxy / sxx;
    }

    private sealed record Row(int Iterations, bool Converged, double MarginalError, long Nnz, double? Radius, double Cost, double Entropy)
    {
        public string Solver { get; init; } = "";
    }

    private static EpsScaling ParseEpsScaling(string v) => v switch
    {
        "off" => EpsScaling.Off,
        "on" => EpsScaling.On,
        _ => throw new ArgumentException($"--eps-scaling = '{v}'; expected off or on."),
    };

    // One sinkhorn-bench solve; "auto" asks the library which solver fits these scores (SinkhornChoice.For1D).
    private static Row RunMethod(string mth, ComputeDevice dev, double[] s, double[] t, SinkhornOptions opt, BandOptions band)
    {
        string solver = mth == "auto"
            ? SinkhornChoice.For1D(dev, s, t, opt.Gamma, band.BandEps).Method.ToString().ToLowerInvariant()
            : mth;
        var row = solver switch
        {
            "banded" => FromBanded(BandedSinkhorn.Solve(dev, s, t, null, null, opt, band)),
            "stored" => FromDense(DenseSinkhorn.Solve(dev, DenseGeometry.FromPoints(s, t, 1), null, null, opt with { Kernel = DenseKernel.Stored }), s.Length, t.Length),
            _ => FromDense(DenseSinkhorn.Solve(dev, DenseGeometry.FromPoints(s, t, 1), null, null, opt), s.Length, t.Length),
        };
        return row with { Solver = solver };
    }

    private static Row FromDense(DenseSinkhornResult r, int n, int m) =>
        new(r.Iterations, r.Converged, r.MarginalError, (long)n * m, null, r.Cost, r.Entropy);

    private static Row FromBanded(BandedSinkhornResult r) =>
        new(r.Iterations, r.Converged, r.MarginalError, r.Nnz, r.BandRadius, r.Cost, r.Entropy);

    private static (double[] S, double[] T, string Source) Scores(string? sPath, string? tPath, int n, int seed)
    {
        if ((sPath is null) != (tPath is null))
            throw new ArgumentException("--s and --t must be given together (or neither, for random scores).");
        if (sPath is not null)
            return (Npy.Read1D(sPath), Npy.Read1D(tPath!), $"{sPath}, {tPath}");
        if (n < 1) throw new ArgumentException($"--n = {n}; expected an integer ≥ 1.");
        var rng = new Random(seed);
        return (Normal(rng, n), Normal(rng, n), $"N(0,1), seed {seed}");
    }

    /// <summary>i.i.d. N(0,1) by Box–Muller from <see cref="Random"/> (reproducible for a seed).</summary>
    internal static double[] Normal(Random rng, int n)
    {
        var x = new double[n];
        for (int i = 0; i < n; i++)
            x[i] = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        return x;
    }

    private static string Fmt(double v) => v.ToString("G6", CultureInfo.InvariantCulture);
}
