#!/usr/bin/python3
"""Golden reference values for Glass's entropic GW baseline (tests/Glass.Tests/Golden/gw_*.json).

Reproduces: POT 0.8.2 `ot.gromov.entropic_gromov_wasserstein(C1, C2, p, q, 'square_loss', epsilon)`
with its defaults (max_iter=1000, tol=1e-9; inner ot.sinkhorn 'sinkhorn' numItermax=1000, stopThr=1e-9)
on small seeded point sets. Run with Debian's python3-pot:  /usr/bin/python3 bench/gw_golden.py
"""
import json, sys
import numpy as np
import ot

def case(name, n, m, dx, dy, eps, seed):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, dx)
    # Y: a noisy rotation of a subset-sized cloud so the problem has structure.
    Y = rng.randn(m, dy) * np.linspace(1.0, 0.5, dy)
    C1 = ot.dist(X, X, metric='euclidean'); C1 /= C1.max()
    C2 = ot.dist(Y, Y, metric='euclidean'); C2 /= C2.max()
    p = ot.unif(n); q = ot.unif(m)
    T, log = ot.gromov.entropic_gromov_wasserstein(C1, C2, p, q, 'square_loss', epsilon=eps, log=True)
    return {
        "name": name, "n": n, "m": m, "epsilon": eps, "seed": seed,
        "C1": C1.ravel().tolist(), "C2": C2.ravel().tolist(),
        "gw_dist": float(log['gw_dist']),
        "outer_checks": len(log['err']), "last_err": float(log['err'][-1]),
        "plan": T.ravel().tolist(),
    }

out = {
    "generator": "bench/gw_golden.py",
    "pot_version": ot.__version__, "numpy_version": np.__version__,
    "call": "ot.gromov.entropic_gromov_wasserstein(C1, C2, ot.unif(n), ot.unif(m), 'square_loss', epsilon, log=True) with defaults max_iter=1000, tol=1e-9",
    "distances": "ot.dist(.., metric='euclidean') divided by its max",
    "cases": [
        case("n40_m35_eps0.05", 40, 35, 3, 2, 0.05, 0),
        case("n40_m35_eps0.01", 40, 35, 3, 2, 0.01, 1),
        case("n25_m25_eps0.005", 25, 25, 2, 2, 0.005, 2),
    ],
}
path = sys.argv[1] if len(sys.argv) > 1 else "tests/Glass.Tests/Golden/gw_entropic.json"
with open(path, "w") as f:
    json.dump(out, f)
for c in out["cases"]:
    print(c["name"], c["gw_dist"], c["outer_checks"], c["last_err"])
