// Side-by-side timing of the managed GEMM. Usage (repo root, after `dotnet build bench/GemmBench -c Release`):
//   dotnet bench/GemmBench/bin/Release/net10.0/GemmBench.dll lib [sizes=500,1000,2000,3000] [reps=7]
//       old (frozen copy of the previous kernel) vs MatMulCpu.Gemm, alternated within each repeat; n×n·n×n;
//       medians, GFLOP/s, ratio and the largest |difference| relative to max|C|.
//   dotnet bench/GemmBench/bin/Release/net10.0/GemmBench.dll small [reps=21]
//       the same on small and odd shapes (incl. transposed variants), each timed over enough calls to take ~5 ms.
//   dotnet bench/GemmBench/bin/Release/net10.0/GemmBench.dll sweep SIZES REPS Kc,Mc,Tile,pf,sf,al,cs ...
//       exploration: old vs VarGemm configurations (tile 8 or 12 rows; 0/1 flags: prefetch C, store first pass,
//       64-byte aligned packs, column split when row blocks are few).
using System.Diagnostics;
using System.Globalization;
using GemmBench;
using Glass.Kernels.Linalg;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
string mode = args.Length > 0 ? args[0] : "lib";
Console.WriteLine($"# {mode}  cores={Environment.ProcessorCount}  load={File.ReadAllText("/proc/loadavg").Trim()}");
switch (mode)
{
    case "lib":
    {
        var sizes = (args.Length > 1 ? args[1] : "500,1000,2000,3000").Split(',').Select(int.Parse).ToArray();
        int reps = args.Length > 2 ? int.Parse(args[2]) : 7;
        foreach (int n in sizes)
            Compare(n, n, n, false, false, reps, 1, ("old", OldGemm), ("new", MatMulCpu.Gemm));
        break;
    }
    case "small":
    {
        int reps = args.Length > 1 ? int.Parse(args[1]) : 21;
        (int n, int k, int m, bool ta, bool tb)[] shapes =
        [
            (5, 3, 2, false, false), (37, 29, 13, false, false), (37, 29, 13, true, false), (37, 29, 13, false, true),
            (63, 63, 63, false, false), (64, 64, 64, false, false), (75, 300, 50, false, false), (130, 17, 67, false, true),
            (200, 200, 200, false, false), (200, 200, 200, true, false), (200, 200, 200, false, true),
            (257, 129, 515, false, false), (64, 1000, 1000, false, false), (1000, 64, 1000, true, false),
            (999, 999, 999, false, false), (1000, 1000, 1000, false, true), (1000, 1000, 1000, true, false),
        ];
        foreach (var s in shapes)
        {
            double flops = 2.0 * s.n * s.k * s.m;
            int calls = (int)Math.Clamp(5e-3 * 5e10 / flops, 1, 200_000);
            Compare(s.n, s.k, s.m, s.ta, s.tb, reps, calls, ("old", OldGemm), ("new", MatMulCpu.Gemm));
        }
        break;
    }
    case "sweep":
    {
        var sizes = args[1].Split(',').Select(int.Parse).ToArray();
        int reps = int.Parse(args[2]);
        var impls = new List<(string, GemmFn)> { ("old", OldGemm) };
        foreach (string cfg in args.Skip(3))
        {
            var v = cfg.Split(',').Select(int.Parse).ToArray();
            impls.Add((cfg, (a, b, c, n, k, m, ta, tb, acc) =>
            {
                (VarGemm.Kc, VarGemm.Mc, VarGemm.Tile) = (v[0], v[1], v[2]);
                (VarGemm.Prefetch, VarGemm.StoreFirst, VarGemm.Align, VarGemm.ColSplit) = (v[3] != 0, v[4] != 0, v[5] != 0, v[6] != 0);
                VarGemm.Gemm(a, b, c, n, k, m, ta, tb, acc);
            }));
        }
        foreach (int n in sizes) Compare(n, n, n, false, false, reps, 1, impls.ToArray());
        break;
    }
    case "peak":
    {
        // Register-only FMA throughput (24 independent Vector512 chains): the GEMM's ceiling on this box.
        const long iters = 50_000_000;
        for (int threads = 1; threads <= Environment.ProcessorCount; threads++)
        {
            Peak.Run(1000);
            var sw = Stopwatch.StartNew();
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, _ => Peak.Run(iters));
            double t = sw.Elapsed.TotalSeconds;
            Console.WriteLine($"peak {threads} thread(s): {threads * iters * 24 * 16 / t / 1e9:F1} GF/s");
        }
        break;
    }
    default:
        Console.Error.WriteLine($"unknown mode '{mode}'; expected lib, small or sweep");
        Environment.Exit(2);
        break;
}

static void OldGemm(double[] a, double[] b, double[] c, int n, int k, int m, bool ta, bool tb, bool acc) =>
    OldMatMulCpu.Gemm(a, b, c, n, k, m, ta, tb, acc);

static void Compare(int n, int k, int m, bool ta, bool tb, int reps, int calls, params (string Name, GemmFn Fn)[] impls)
{
    var rng = new Random(n * 31 + k * 7 + m);
    var a = new double[n * k];
    var b = new double[k * m];
    for (int i = 0; i < a.Length; i++) a[i] = rng.NextDouble() - 0.5;
    for (int i = 0; i < b.Length; i++) b[i] = rng.NextDouble() - 0.5;
    var outs = impls.Select(_ => new double[n * m]).ToArray();
    var times = impls.Select(_ => new List<double>()).ToArray();
    var cpuTimes = impls.Select(_ => new List<double>()).ToArray();
    for (int w = 0; w < 2; w++)
        for (int i = 0; i < impls.Length; i++) impls[i].Fn(a, b, outs[i], n, k, m, ta, tb, false);
    for (int r = 0; r < reps; r++)
        for (int j = 0; j < impls.Length; j++)
        {
            int i = (r % 2 == 0) ? j : impls.Length - 1 - j; // alternate the order so neither side always runs second
            double cpu0 = CpuClock.ProcessSeconds();
            var sw = Stopwatch.StartNew();
            for (int q = 0; q < calls; q++) impls[i].Fn(a, b, outs[i], n, k, m, ta, tb, false);
            times[i].Add(sw.Elapsed.TotalSeconds / calls);
            cpuTimes[i].Add((CpuClock.ProcessSeconds() - cpu0) / calls);
        }
    double scale = outs[0].Max(Math.Abs);
    var line = $"{n}x{k}x{m}{(ta ? " tA" : "")}{(tb ? " tB" : "")} calls={calls}";
    for (int i = 0; i < impls.Length; i++)
    {
        double t = Median(times[i]);
        double diff = 0;
        for (int q = 0; q < outs[i].Length; q++) diff = Math.Max(diff, Math.Abs(outs[i][q] - outs[0][q]));
        // Speed-up as the median of per-repeat ratios (old and this one timed back to back): robust to load swings.
        double ratio = Median(times[0].Zip(times[i], (x, y) => x / y).ToList());
        // CPU seconds (all threads) per call: the work done, less sensitive than wall time to other processes on the box.
        double cpuRatio = Median(cpuTimes[0].Zip(cpuTimes[i], (x, y) => x / y).ToList());
        line += $" | {impls[i].Name}: {t * 1e3:F3} ms {2.0 * n * k * m / t / 1e9:F1} GF/s x{ratio:F3}"
              + $" cpu {Median(cpuTimes[i]) * 1e3:F1} ms x{cpuRatio:F3} d={diff / Math.Max(scale, 1e-300):E1}";
    }
    Console.WriteLine(line + $" | load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
}

static double Median(List<double> xs)
{
    var s = xs.OrderBy(x => x).ToArray();
    return s.Length % 2 == 1 ? s[s.Length / 2] : 0.5 * (s[s.Length / 2 - 1] + s[s.Length / 2]);
}

internal delegate void GemmFn(double[] a, double[] b, double[] c, int n, int k, int m, bool ta, bool tb, bool acc);
