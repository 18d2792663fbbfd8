#!/usr/bin/python3
"""Side-by-side timing of the entropic GW baseline: POT 0.8.2 vs Glass (managed CPU), same matrices.

Measures the target "entropic GW at n = 2000 >= 1.5x POT's entropic_gromov_wasserstein, same GW loss to 1e-6".
Usage (repo root):  /usr/bin/python3 bench/gw_side_by_side.py [n] [epsilon] [repeats] [max_iter] [pot_repeats] [out.jsonl]
max_iter caps the outer iterations on both sides (POT's max_iter; default 1000 = POT's default): both then run the
same iterates, so a capped run compares the same work. pot_repeats (default = repeats) lets POT run fewer times than
Glass when POT's side is slow. Glass runs twice: POT's iterates (cold inner starts) and with warm-started inner
Sinkhorn (same fixed point). With out.jsonl every record (and the load average) is appended there.
Writes C1/C2 to /tmp/gw_sbs_*.npy, times POT (median of pot_repeats) and runs the built
bench/GwBench (`dotnet build bench/GwBench -c Release` first): `GwBench.dll egw C1 C2 eps cpu repeats max_iter cold|warm`.
"""
import json, subprocess, sys, time
import numpy as np
import ot

n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
eps = float(sys.argv[2]) if len(sys.argv) > 2 else 0.01
repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 3
max_iter = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
pot_repeats = int(sys.argv[5]) if len(sys.argv) > 5 else repeats
out_path = sys.argv[6] if len(sys.argv) > 6 else None
records = []
def emit(rec):
    rec["loadavg"] = list(__import__("os").getloadavg())
    print(json.dumps(rec), flush=True)
    records.append(rec)
rng = np.random.RandomState(0)
X = rng.randn(n, 5); Y = rng.randn(n, 4) * np.array([1.0, 0.8, 0.6, 0.4])
C1 = ot.dist(X, X, metric='euclidean'); C1 /= C1.max()
C2 = ot.dist(Y, Y, metric='euclidean'); C2 /= C2.max()
np.save('/tmp/gw_sbs_C1.npy', C1); np.save('/tmp/gw_sbs_C2.npy', C2)
p = ot.unif(n); q = ot.unif(n)
times = []
for _ in range(pot_repeats):
    t = time.perf_counter()
    T, log = ot.gromov.entropic_gromov_wasserstein(C1, C2, p, q, 'square_loss', epsilon=eps, max_iter=max_iter, log=True)
    times.append(time.perf_counter() - t)
times.sort()
pot = {"impl": "pot", "version": ot.__version__, "n": n, "epsilon": eps, "max_iter": max_iter, "seconds": times[len(times) // 2], "all_seconds": times,
       "gw_loss": float(log['gw_dist']), "outer_checks": len(log['err'])}
emit(pot)
for mode in ["cold", "warm"]:
    out = subprocess.run(["dotnet", "bench/GwBench/bin/Release/net10.0/GwBench.dll", "egw",
                          "/tmp/gw_sbs_C1.npy", "/tmp/gw_sbs_C2.npy", str(eps), "cpu", str(repeats), str(max_iter), mode], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(out.stderr)
    g = json.loads(out.stdout.strip().splitlines()[-1])
    g["max_iter"] = max_iter
    emit(g)
    emit({"compare": f"glass_{mode}_vs_pot", "n": n, "epsilon": eps, "max_iter": max_iter, "ratio_glass_over_pot": g["seconds"] / pot["seconds"],
          "speedup_pot_over_glass": pot["seconds"] / g["seconds"], "gw_loss_rel_diff": abs(g["gw_loss"] - pot["gw_loss"]) / abs(pot["gw_loss"])})
if out_path:
    with open(out_path, "a") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")
