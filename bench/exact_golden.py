#!/usr/bin/python3
"""Golden reference values for Glass's exact OT and exact GW (tests/Glass.Tests/Golden/exact_*.json).

Reproduces, with Debian's python3-pot (POT 0.8.2, NumPy 1.24.2):
  * ot.emd(a, b, M) — exact OT by POT's network simplex — on seeded random costs: square and rectangular,
    uniform and non-uniform marginals, a marginal with zero entries, an integer cost with many ties;
  * ot.gromov.gromov_wasserstein(C1, C2, p, q, 'square_loss', log=True) — conditional gradient with an exact
    LP per step from the product coupling — on seeded clouds (Euclidean distances / max), including an exact
    isometry (a rotated, shuffled copy) and n != m.
Run from the repo root:  /usr/bin/python3 bench/exact_golden.py
"""
import json

import numpy as np
import ot


def emd_case(name, n, m, seed, uniform=True, zero=False, integer=False):
    rng = np.random.RandomState(seed)
    M = rng.randint(0, 40, size=(n, m)).astype(float) if integer else rng.rand(n, m)
    if uniform:
        a, b = ot.unif(n), ot.unif(m)
    else:
        a = rng.rand(n) + 0.1
        b = rng.rand(m) + 0.1
        if zero:
            a[0] = 0.0
            b[m - 1] = 0.0
        a /= a.sum()
        b /= b.sum()
    G, log = ot.emd(a, b, M, log=True)
    return {"name": name, "n": n, "m": m, "a": a.tolist(), "b": b.tolist(), "cost": M.ravel().tolist(),
            "value": float(log["cost"]), "plan": G.ravel().tolist()}


def gw_case(name, n, m, d, seed, isometry=False, weighted=False):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, d) * np.linspace(1.5, 0.5, d)
    if isometry:
        Q, _ = np.linalg.qr(rng.randn(d, d))
        perm = rng.permutation(n)
        Y = (X @ Q)[perm]
    else:
        Y = rng.randn(m, d) * np.linspace(1.0, 0.7, d)
    C1 = ot.dist(X, X, metric="euclidean"); C1 /= C1.max()
    C2 = ot.dist(Y, Y, metric="euclidean"); C2 /= C2.max()
    p, q = ot.unif(n), ot.unif(len(Y))
    if weighted:
        p = rng.rand(n) + 0.2; p /= p.sum()
        q = rng.rand(len(Y)) + 0.2; q /= q.sum()
    T, log = ot.gromov.gromov_wasserstein(C1, C2, p, q, "square_loss", log=True)
    out = {"name": name, "n": n, "m": len(Y), "C1": C1.ravel().tolist(), "C2": C2.ravel().tolist(),
           "gw_dist": float(log["gw_dist"]), "plan": T.ravel().tolist(), "p": p.tolist(), "q": q.tolist()}
    if isometry:
        out["source_of_y"] = perm.tolist()
    return out


emd = {
    "generator": "bench/exact_golden.py",
    "pot": ot.__version__,
    "cases": [
        emd_case("square_uniform_n40", 40, 40, 1),
        emd_case("rect_uniform_37x23", 37, 23, 2),
        emd_case("rect_nonuniform_30x45", 30, 45, 3, uniform=False),
        emd_case("zero_mass_25x20", 25, 20, 4, uniform=False, zero=True),
        emd_case("integer_ties_30x30", 30, 30, 5, integer=True),
        emd_case("integer_ties_rect_24x36", 24, 36, 6, integer=True),
    ],
}
with open("tests/Glass.Tests/Golden/exact_ot.json", "w") as f:
    json.dump(emd, f)

gw = {
    "generator": "bench/exact_golden.py",
    "pot": ot.__version__,
    "cases": [
        gw_case("clouds_30x30", 30, 30, 3, 11),
        gw_case("clouds_35x22", 35, 22, 2, 12),
        gw_case("isometry_40", 40, 40, 4, 13, isometry=True),
        gw_case("weighted_25x18", 25, 18, 3, 14, weighted=True),
    ],
}
with open("tests/Glass.Tests/Golden/exact_gw.json", "w") as f:
    json.dump(gw, f)
for c in emd["cases"]:
    print("emd", c["name"], c["value"])
for c in gw["cases"]:
    print("gw", c["name"], c["gw_dist"])
