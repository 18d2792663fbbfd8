#!/usr/bin/python3
"""Side-by-side timing of the entropic GW baseline: POT 0.8.2 vs Glass (managed CPU), same matrices.

Reproduces the issue #5 target "within 2x of POT's entropic_gromov_wasserstein at n = 2000".
Usage (repo root):  /usr/bin/python3 bench/gw_side_by_side.py [n] [epsilon] [repeats] [max_iter]
max_iter caps the outer iterations on both sides (POT's max_iter; default 1000 = POT's default): both then run the
same iterates, so a capped run compares the same work.
Writes C1/C2 to /tmp/gw_sbs_*.npy, times POT (median of repeats) and runs
`dotnet run -c Release --project bench/GwBench -- egw C1 C2 eps cpu repeats` for Glass.
"""
import json, subprocess, sys, time
import numpy as np
import ot

n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
eps = float(sys.argv[2]) if len(sys.argv) > 2 else 0.01
repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 3
max_iter = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
rng = np.random.RandomState(0)
X = rng.randn(n, 5); Y = rng.randn(n, 4) * np.array([1.0, 0.8, 0.6, 0.4])
C1 = ot.dist(X, X, metric='euclidean'); C1 /= C1.max()
C2 = ot.dist(Y, Y, metric='euclidean'); C2 /= C2.max()
np.save('/tmp/gw_sbs_C1.npy', C1); np.save('/tmp/gw_sbs_C2.npy', C2)
p = ot.unif(n); q = ot.unif(n)
times = []
for _ in range(repeats):
    t = time.perf_counter()
    T, log = ot.gromov.entropic_gromov_wasserstein(C1, C2, p, q, 'square_loss', epsilon=eps, max_iter=max_iter, log=True)
    times.append(time.perf_counter() - t)
times.sort()
pot = {"impl": "pot", "version": ot.__version__, "n": n, "epsilon": eps, "max_iter": max_iter, "seconds": times[len(times) // 2], "all_seconds": times,
       "gw_loss": float(log['gw_dist']), "outer_checks": len(log['err'])}
print(json.dumps(pot))
out = subprocess.run(["dotnet", "run", "-c", "Release", "--project", "bench/GwBench", "--no-build", "--", "egw",
                      "/tmp/gw_sbs_C1.npy", "/tmp/gw_sbs_C2.npy", str(eps), "cpu", str(repeats), str(max_iter)], capture_output=True, text=True)
print(out.stdout.strip() or out.stderr)
g = json.loads(out.stdout.strip().splitlines()[-1])
print(json.dumps({"ratio_glass_over_pot": g["seconds"] / pot["seconds"], "gw_loss_rel_diff": abs(g["gw_loss"] - pot["gw_loss"]) / abs(pot["gw_loss"])}))
