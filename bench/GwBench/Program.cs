// Usage (from the repo root):
//   dotnet run -c Release --project bench/GwBench -- snare learned SEEDS [restarts=R] [rsteps=S] [select=euclidean|training|…] [info=0] [key=value ...]   (defaults: SnareSeqExperiment.Default*)
//     key=value includes pairs=F supw=W: a fraction F of the true pairs as known pairs with weight W (semi-supervised, NOT label-free)
//   dotnet run -c Release --project bench/GwBench -- snare pool SEEDS [key=value ...]   (single runs, embeddings dumped to $POOL_DIR; diagnostics)
//   dotnet run -c Release --project bench/GwBench -- snare baseline [EPS,..] [K,..] [tol=.. innertol=.. maxiter=.. innermax=.. warm=0/1]
//   dotnet run -c Release --project bench/GwBench -- snare baseline
//   dotnet run -c Release --project bench/GwBench -- egw C1.npy C2.npy EPS [device] [repeats] [max_iter] [warm]   (times EntropicGw.Solve; prints JSON)
//   dotnet run -c Release --project bench/GwBench -- gemm N                              (times MatMulCpu.Gemm, N×N·N×N)
//   dotnet run -c Release --project bench/GwBench -- inductive N [device]
//   dotnet run -c Release --project bench/GwBench -- emd M.npy [repeats]                (times ExactTransport.Solve, uniform marginals; prints JSON)
//   dotnet run -c Release --project bench/GwBench -- cg C1.npy C2.npy [repeats]         (times ExactGw.Solve from the product coupling; prints JSON)
using System.Diagnostics;
using System.Globalization;
using Glass.Kernels.Device;
using Glass.Models.Data;
using Glass.Models.Gw;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
string snareDir = Environment.GetEnvironmentVariable("SNARE_DIR") ?? "/work/shared/data/snareseq";
switch (args[0])
{
    case "snare" when args[1] == "learned":
    {
        var data = SnareSeqData.Load(snareDir);
        var seeds = args[2].Split(',').Select(int.Parse).ToArray();
        var scores = new List<double>();
        foreach (int s in seeds)
        {
            int restarts = args.Skip(3).Where(a => a.StartsWith("restarts=")).Select(a => int.Parse(a[9..])).DefaultIfEmpty(SnareSeqExperiment.DefaultRestarts).First();
            int restartSteps = args.Skip(3).Where(a => a.StartsWith("rsteps=")).Select(a => int.Parse(a[7..])).DefaultIfEmpty(SnareSeqExperiment.DefaultRestartSteps).First();
            bool info = !args.Contains("info=0");
            string select = args.Skip(3).Where(a => a.StartsWith("select=")).Select(a => a[7..]).DefaultIfEmpty("euclidean").First();
            var baseOptions = SnareSeqExperiment.DefaultOptions(s);
            var o = Apply(baseOptions, args.Skip(3).Where(a => !a.StartsWith("restarts=") && !a.StartsWith("rsteps=") && !a.StartsWith("select=") && a != "info=0"));
            var selection = select == "training" ? o.DistancesX : SnareSeqExperiment.DefaultSelection with { Metric = Enum.Parse<DistanceMetric>(select, true) };
            // Per-restart FOSCTTM is printed for information only: the selection uses the score alone (no labels, no pairing).
            var infoClock = new Stopwatch();
            var proc = Process.GetCurrentProcess();
            var cpu0 = proc.TotalProcessorTime;
            var r = SnareSeqExperiment.RunLearned(data, o, null, restarts, restartSteps, selection, !info ? null : (rs, score, t) =>
            {
                infoClock.Start();
                var al = InductiveAligner.Align(ComputeDevice.Cpu, t.Model, data.Atac, data.N, data.Rna, data.N, new InductiveOptions { RelativeTol = 1e-6, Epsilon = o.EpsilonMin });
                double f = Glass.Models.Metrics.AlignmentMetrics.Foscttm(al.ProjectionTarget!, t.NormalizedY, data.N, data.DimRna).Mean;
                infoClock.Stop();
                Console.WriteLine($"  restart seed {rs} step {t.CompletedSteps} score {score:G5} foscttm(info) {f:F4}");
            });
            scores.Add(r.Foscttm);
            proc.Refresh();
            double cpu = (proc.TotalProcessorTime - cpu0).TotalSeconds; // includes the final scoring and, with info, the info FOSCTTM
            Console.WriteLine($"seed {s} foscttm {r.Foscttm:F4} label_transfer {r.LabelTransfer:F3} gw_loss {r.GwLoss:G5} train_s {r.Seconds - infoClock.Elapsed.TotalSeconds:F1} (info scoring {infoClock.Elapsed.TotalSeconds:F1} s excluded) process_cpu_s {cpu:F1} {r.Detail}");
        }
        double mean = scores.Average(), sd = Math.Sqrt(scores.Select(v => (v - mean) * (v - mean)).Sum() / Math.Max(1, scores.Count - 1));
        Console.WriteLine($"mean foscttm {mean:F4} ± {sd:F4} over {scores.Count} seeds");
        break;
    }
    case "snare" when args[1] == "determinism":
    {
        // Diagnostics: hashes of the distances, the embeddings after 0, 1, 2, 5, 10, 40 steps (compare across processes).
        var data = SnareSeqData.Load(snareDir);
        var o = SnareSeqExperiment.DefaultOptions(0);
        var t = new LearnedGwTrainer(data.Atac, data.N, data.DimAtac, data.Rna, data.N, data.DimRna, o);
        static string H(double[] a) => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan())))[..12];
        Console.WriteLine($"dx {H(t.DistanceX)} dy {H(t.DistanceY)}");
        foreach (int target in new[] { 0, 1, 2, 5, 10, 40 })
        {
            LearnedGwProgress? pr = null;
            while (t.CompletedSteps < target) pr = t.Step();
            Console.WriteLine($"step {target} zx {H(t.Model.EmbedX(data.Atac, data.N))} zy {H(t.Model.EmbedY(data.Rna, data.N))} loss {pr?.Loss:R} sinkhorn {pr?.SinkhornIterations}");
        }
        break;
    }
    case "snare" when args[1] == "pool":
    {
        // Diagnostics: single runs (no selection); embeddings f(X), g(Y) of the trained model dumped to $POOL_DIR/zx_SEED.npy, zy_SEED.npy.
        var data = SnareSeqData.Load(snareDir);
        string dir = Environment.GetEnvironmentVariable("POOL_DIR") ?? "/tmp/snare/pool";
        Directory.CreateDirectory(dir);
        foreach (int s in args[2].Split(',').Select(int.Parse))
        {
            var o = Apply(SnareSeqExperiment.DefaultOptions(s), args.Skip(3));
            var sw = Stopwatch.StartNew();
            var t = new LearnedGwTrainer(data.Atac, data.N, data.DimAtac, data.Rna, data.N, data.DimRna, o);
            while (t.CompletedSteps < o.Steps) t.Step();
            double secs = sw.Elapsed.TotalSeconds;
            var al = InductiveAligner.Align(ComputeDevice.Cpu, t.Model, data.Atac, data.N, data.Rna, data.N, new InductiveOptions { RelativeTol = 1e-6 });
            var fos = Glass.Models.Metrics.AlignmentMetrics.Foscttm(al.ProjectionTarget!, t.NormalizedY, data.N, data.DimRna).Mean;
            var zx = t.Model.EmbedX(data.Atac, data.N); var zy = t.Model.EmbedY(data.Rna, data.N);
            Npy.Write(Path.Combine(dir, $"zx_{s}.npy"), zx, t.Model.EmbedDim);
            Npy.Write(Path.Combine(dir, $"zy_{s}.npy"), zy, t.Model.EmbedDim);
            Console.WriteLine($"pool seed {s} foscttm {fos:F4} train_s {secs:F1} gamma {al.Gamma:G4}");
        }
        break;
    }
    case "snare" when args[1] == "baseline":
    {
        var data = SnareSeqData.Load(snareDir);
        var tune = new GwTuningOptions();
        if (args.Length > 2) tune = tune with { Epsilons = args[2].Split(',').Select(double.Parse).ToArray() };
        if (args.Length > 3) tune = tune with { Ks = args[3].Split(',').Select(int.Parse).ToArray() };
        foreach (var kv in args.Skip(4))
        {
            var p = kv.Split('=');
            tune = p[0] switch
            {
                "tol" => tune with { Solver = tune.Solver with { Tol = double.Parse(p[1]) } },
                "maxiter" => tune with { Solver = tune.Solver with { MaxIter = int.Parse(p[1]) } },
                "innertol" => tune with { Solver = tune.Solver with { InnerTol = double.Parse(p[1]) } },
                "innermax" => tune with { Solver = tune.Solver with { InnerMaxIter = int.Parse(p[1]) } },
                "warm" => tune with { Solver = tune.Solver with { WarmStart = p[1] == "1" } },
                _ => throw new ArgumentException($"unknown key {p[0]}"),
            };
        }
        var r = SnareSeqExperiment.RunBaseline(data, tune, null, (t, f) =>
            Console.WriteLine($"  eps {t.Epsilon:G3} k {t.K} gw_loss {t.GwLoss:G6} converged {t.Converged} outer {t.Iterations} inner {t.InnerIterations} fallbacks {t.LogDomainFallbacks} s {t.Seconds:F1} foscttm(info) {f:F4}"));
        Console.WriteLine($"entropic-gw foscttm {r.Foscttm:F4} label_transfer {r.LabelTransfer:F3} gw_loss {r.GwLoss:G6} tune_s {r.Seconds:F1} {r.Detail}");
        break;
    }
    case "egw":
    {
        var c1 = Npy.Read(args[1]); var c2 = Npy.Read(args[2]);
        double eps = double.Parse(args[3]);
        using var dev = ComputeDevice.Open(args.Length > 4 ? args[4] : "cpu");
        int repeats = args.Length > 5 ? int.Parse(args[5]) : 3;
        int maxIter = args.Length > 6 ? int.Parse(args[6]) : 1000;
        bool warm = args.Length > 7 && args[7] == "warm";
        var times = new List<double>();
        EntropicGwResult? r = null;
        for (int k = 0; k < repeats; k++)
        {
            var sw = Stopwatch.StartNew();
            r = EntropicGw.Solve(dev, c1.Data, c2.Data, c1.Rows, c2.Rows, null, null, new EntropicGwOptions { Epsilon = eps, MaxIter = maxIter, WarmStart = warm });
            times.Add(sw.Elapsed.TotalSeconds);
        }
        times.Sort();
        Console.WriteLine($"{{\"impl\": \"glass\", \"device\": \"{dev.ShortName}\", \"n\": {c1.Rows}, \"warm_start\": {(warm ? "true" : "false")}, \"seconds\": {times[times.Count / 2]:G6}, \"all_seconds\": [{string.Join(", ", times.Select(t => t.ToString("G6")))}], \"gw_loss\": {r!.GwLoss:R}, \"iterations\": {r.Iterations}, \"converged\": {(r.Converged ? "true" : "false")}, \"last_change\": {r.LastChange:R}, \"inner_iterations\": {r.InnerIterations}, \"fallbacks\": {r.LogDomainFallbacks}}}");
        break;
    }
    case "gemm":
    {
        // Probe: times MatMulCpu.Gemm (double, n×n·n×n) — the two products of every entropic-GW outer step.
        int n = int.Parse(args[1]);
        var rng = new Random(0);
        var a = new double[n * n]; var b = new double[n * n]; var c = new double[n * n];
        for (int k = 0; k < a.Length; k++) { a[k] = rng.NextDouble(); b[k] = rng.NextDouble(); }
        for (int rep = 0; rep < 3; rep++)
        {
            var sw = Stopwatch.StartNew();
            Glass.Kernels.Linalg.MatMulCpu.Gemm(a, b, c, n, n, n);
            Console.WriteLine($"gemm {n}: {sw.Elapsed.TotalSeconds:F3} s ({2.0 * n * n * n / sw.Elapsed.TotalSeconds / 1e9:F1} GFLOP/s)");
        }
        break;
    }
    case "emd":
    {
        var c = Npy.Read(args[1]);
        int repeats = args.Length > 2 ? int.Parse(args[2]) : 3;
        var times = new List<double>();
        Glass.Kernels.Exact.ExactTransportResult? r = null;
        for (int k = 0; k < repeats; k++)
        {
            var sw = Stopwatch.StartNew();
            r = Glass.Kernels.Exact.ExactTransport.Solve(c.Data, c.Rows, c.Cols);
            times.Add(sw.Elapsed.TotalSeconds);
        }
        times.Sort();
        Console.WriteLine($"{{\"impl\": \"glass\", \"n\": {c.Rows}, \"m\": {c.Cols}, \"seconds\": {times[times.Count / 2]:G6}, \"all_seconds\": [{string.Join(", ", times.Select(t => t.ToString("G6")))}], \"cost\": {r!.Cost:R}}}");
        break;
    }
    case "cg":
    {
        var c1 = Npy.Read(args[1]); var c2 = Npy.Read(args[2]);
        int repeats = args.Length > 3 ? int.Parse(args[3]) : 3;
        var times = new List<double>();
        ExactGwResult? r = null;
        for (int k = 0; k < repeats; k++)
        {
            var sw = Stopwatch.StartNew();
            r = ExactGw.Solve(c1.Data, c2.Data, c1.Rows, c2.Rows, null);
            times.Add(sw.Elapsed.TotalSeconds);
        }
        times.Sort();
        Console.WriteLine($"{{\"impl\": \"glass\", \"n\": {c1.Rows}, \"m\": {c2.Rows}, \"seconds\": {times[times.Count / 2]:G6}, \"all_seconds\": [{string.Join(", ", times.Select(t => t.ToString("G6")))}], \"gw_loss\": {r!.GwLoss:R}, \"iterations\": {r.Iterations}}}");
        break;
    }
    case "iso":
        IsoProbe.Run(int.Parse(args[1]), int.Parse(args[2]), double.Parse(args[3]));
        break;
    case "inductive":
    {
        int n = int.Parse(args[1]);
        using var dev = ComputeDevice.Open(args.Length > 2 ? args[2] : "cpu");
        var r = InductiveBench.Run(n, dev);
        Console.WriteLine(r);
        break;
    }
}

static IReadOnlyList<(int X, int Y)> KnownPairFraction(double fraction, int n)
{
    var rng = new Random(12345);
    var idx = Enumerable.Range(0, n).OrderBy(_ => rng.Next()).Take((int)Math.Round(fraction * n)).Order().ToArray();
    return idx.Select(i => (i, i)).ToArray();
}

static LearnedGwOptions Apply(LearnedGwOptions o, IEnumerable<string> kvs)
{
    foreach (var kv in kvs)
    {
        var p = kv.Split('=');
        double v = p[0] is "loss" or "cost" or "metric" or "weights" or "knnmetric" ? 0 : double.Parse(p[1]);
        o = p[0] switch
        {
            "steps" => o with { Steps = (int)v },
            "batch" => o with { BatchSize = (int)v },
            "lr" => o with { LearningRate = v },
            "eps0" => o with { EpsilonStart = v },
            "epsmin" => o with { EpsilonMin = v },
            "decay" => o with { EpsilonDecay = v },
            "delta" => o with { RankDelta = v },
            "hidden" => o with { Hidden = (int)v },
            "embed" => o with { EmbedDim = (int)v },
            "depth" => o with { Depth = (int)v },
            "spectral" => o with { SpectralWeight = v },
            "speck" => o with { SpectralK = (int)v },
            // Semi-supervised term (not label-free): a fraction v of the true SNARE-seq pairs (i, i), drawn with a fixed
            // seed, as known pairs; its weight is "supw". For the diagnostic "what do anchors buy" only.
            "pairs" => o with { KnownPairs = KnownPairFraction(v, 1047) },
            "supw" => o with { SupervisedWeight = v },
            "k" => o with { DistancesX = o.DistancesX with { K = (int)v }, DistancesY = o.DistancesY with { K = (int)v } },
            "metric" => o with { DistancesX = o.DistancesX with { Metric = Enum.Parse<DistanceMetric>(p[1], true) }, DistancesY = o.DistancesY with { Metric = Enum.Parse<DistanceMetric>(p[1], true) } },
            "knnmetric" => o with { DistancesX = o.DistancesX with { KnnMetric = Enum.Parse<DistanceMetric>(p[1], true) }, DistancesY = o.DistancesY with { KnnMetric = Enum.Parse<DistanceMetric>(p[1], true) } },
            "weights" => o with { DistancesX = o.DistancesX with { Weights = Enum.Parse<KnnWeights>(p[1], true) }, DistancesY = o.DistancesY with { Weights = Enum.Parse<KnnWeights>(p[1], true) } },
            "loss" => o with { Loss = Enum.Parse<GwLossKind>(p[1], true) },
            "cost" => o with { Cost = Enum.Parse<GwCost>(p[1], true) },
            _ => throw new ArgumentException($"unknown key {p[0]}"),
        };
    }
    return o;
}
