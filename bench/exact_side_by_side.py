#!/usr/bin/python3
"""Side-by-side timing of Glass's exact solvers against POT 0.8.2 (managed CPU), same matrices, one run.

  * exact OT: ot.emd(unif, unif, M) vs ExactTransport.Solve, M uniform random n x n;
  * exact GW: ot.gromov.gromov_wasserstein(C1, C2, unif, unif, 'square_loss') vs ExactGw.Solve (both from the product
    coupling), C = Euclidean distances / max of Gaussian clouds.
Usage (repo root, after `dotnet build -c Release bench/GwBench`):
    /usr/bin/python3 bench/exact_side_by_side.py [n,n,...] [repeats]
Prints one JSON line per (problem, n, implementation) and the ratio Glass / POT (medians of the repeats).
"""
import json, subprocess, sys, time
import numpy as np
import ot

sizes = [int(v) for v in (sys.argv[1] if len(sys.argv) > 1 else "500,1000,2000").split(",")]
repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3


def median_time(f):
    times = []
    out = None
    for _ in range(repeats):
        t = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2], times, out


def glass(*args):
    r = subprocess.run(["dotnet", "run", "-c", "Release", "--project", "bench/GwBench", "--no-build", "--", *args, str(repeats)],
                       capture_output=True, text=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


for n in sizes:
    rng = np.random.RandomState(n)
    M = rng.rand(n, n)
    np.save("/tmp/exact_sbs_M.npy", M)
    a = ot.unif(n)
    s, all_s, (G, log) = median_time(lambda: ot.emd(a, a, M, log=True, numItermax=10**7))
    pot = {"problem": "emd", "impl": "pot", "version": ot.__version__, "n": n, "seconds": s, "all_seconds": all_s, "cost": float(log["cost"])}
    print(json.dumps(pot))
    g = glass("emd", "/tmp/exact_sbs_M.npy")
    g["problem"] = "emd"
    print(json.dumps(g))
    print(json.dumps({"problem": "emd", "n": n, "ratio_glass_over_pot": g["seconds"] / pot["seconds"], "cost_rel_diff": abs(g["cost"] - pot["cost"]) / pot["cost"]}))

    X = rng.randn(n, 5)
    Y = rng.randn(n, 4) * np.array([1.0, 0.8, 0.6, 0.4])
    C1 = ot.dist(X, X, metric="euclidean"); C1 /= C1.max()
    C2 = ot.dist(Y, Y, metric="euclidean"); C2 /= C2.max()
    np.save("/tmp/exact_sbs_C1.npy", C1); np.save("/tmp/exact_sbs_C2.npy", C2)
    s, all_s, (T, log) = median_time(lambda: ot.gromov.gromov_wasserstein(C1, C2, a, a, "square_loss", log=True))
    pot = {"problem": "gw", "impl": "pot", "version": ot.__version__, "n": n, "seconds": s, "all_seconds": all_s, "gw_loss": float(log["gw_dist"])}
    print(json.dumps(pot))
    g = glass("cg", "/tmp/exact_sbs_C1.npy", "/tmp/exact_sbs_C2.npy")
    g["problem"] = "gw"
    print(json.dumps(g))
    print(json.dumps({"problem": "gw", "n": n, "ratio_glass_over_pot": g["seconds"] / pot["seconds"], "gw_loss_rel_diff": abs(g["gw_loss"] - pot["gw_loss"]) / pot["gw_loss"]}))
