#!/usr/bin/python3
"""POT (Python Optimal Transport) Sinkhorn reference benchmark for Glass.

Run with Debian's interpreter: /usr/bin/python3 (needs python3-pot, and
libopenblas0-pthread selected as libblas.so.3).

Problem: 1-D scores s, t (n each), uniform marginals a = b = 1/n,
cost C_ij = (s_i - t_j)^2, entropic OT with regularisation gamma, solved by
ot.sinkhorn(a, b, C, reg=gamma, method=..., numItermax=M, stopThr=tol, log=True).
POT 0.8.2 checks the stopping criterion ||P^T 1 - b||_2 < tol every 10
iterations (hard-coded). Only the solve is timed (C is built outside).

Prints one JSON object per line (one line per invocation).
"""
import argparse
import json
import math
import os
import sys
import time
import warnings

import numpy as np
import ot

try:
    import threadpoolctl
except ImportError:  # pragma: no cover
    threadpoolctl = None


def blas_info():
    if threadpoolctl is None:
        return None, None
    for info in threadpoolctl.threadpool_info():
        if info.get("user_api") == "blas":
            return info.get("num_threads"), "%s %s (%s, %s)" % (
                info.get("internal_api"), info.get("version"),
                info.get("threading_layer"), info.get("filepath"))
    return None, None


def load_vec(path):
    x = np.load(path)
    if x.ndim != 1:
        sys.exit("%s: expected a 1-D array, got shape %s" % (path, x.shape))
    return np.ascontiguousarray(x, dtype=np.float64)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, help="problem size (ignored/checked when --s/--t given)")
    p.add_argument("--gamma", type=float, required=True, help="entropic regularisation (POT reg)")
    p.add_argument("--tol", type=float, default=1e-6, help="POT stopThr")
    p.add_argument("--max-iter", type=int, default=100000, help="POT numItermax")
    p.add_argument("--method", choices=["sinkhorn", "sinkhorn_log"], default="sinkhorn")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--s", help="1-D .npy source scores")
    p.add_argument("--t", help="1-D .npy target scores")
    p.add_argument("--save-scores", metavar="DIR", help="write s.npy and t.npy (float64) into DIR")
    p.add_argument("--check-every", type=int, default=10,
                   help="POT 0.8.2 hard-codes 10; any other value is rejected")
    p.add_argument("--threads", type=int, default=None,
                   help="optional OpenBLAS thread limit (threadpoolctl); default: library default")
    args = p.parse_args()

    if args.check_every != 10:
        sys.exit("POT 0.8.2 checks the marginal error every 10 iterations (hard-coded); "
                 "--check-every must be 10")
    if (args.s is None) != (args.t is None):
        sys.exit("--s and --t must be given together")

    if args.s is not None:
        s, t = load_vec(args.s), load_vec(args.t)
        if args.n is not None and (len(s) != args.n or len(t) != args.n):
            sys.exit("--n %d does not match score lengths %d, %d" % (args.n, len(s), len(t)))
        source = "files"
    else:
        if args.n is None:
            sys.exit("--n is required unless --s/--t are given")
        rng = np.random.default_rng(args.seed)
        s = rng.standard_normal(args.n)   # s first
        t = rng.standard_normal(args.n)   # then t
        source = "rng"
    n, m = len(s), len(t)

    if args.save_scores:
        os.makedirs(args.save_scores, exist_ok=True)
        np.save(os.path.join(args.save_scores, "s.npy"), s.astype(np.float64))
        np.save(os.path.join(args.save_scores, "t.npy"), t.astype(np.float64))

    limiter = None
    if args.threads is not None and threadpoolctl is not None:
        limiter = threadpoolctl.threadpool_limits(limits=args.threads, user_api="blas")
    threads, blas = blas_info()

    a = np.full(n, 1.0 / n)
    b = np.full(m, 1.0 / m)
    C = (s[:, None] - t[None, :]) ** 2  # built once, outside timing

    load_before = os.getloadavg()[0]
    all_seconds = []
    P = log = None
    caught = []
    for _ in range(args.repeats):
        P = log = None
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            t0 = time.perf_counter()
            P, log = ot.sinkhorn(a, b, C, reg=args.gamma, method=args.method,
                                 numItermax=args.max_iter, stopThr=args.tol, log=True)
            t1 = time.perf_counter()
        all_seconds.append(t1 - t0)
        caught = [str(x.message) for x in w]

    # POT stores the 0-based index of the last loop pass in log['niter'];
    # iterations performed = niter + 1 (a converged run stops at niter % 10 == 0).
    niter = int(log["niter"])
    iterations = niter + 1
    if any("numerical errors" in msg for msg in caught):
        # sinkhorn_knopp reverted u, v to the previous pass before breaking
        iterations = niter
    errs = log.get("err", [])
    last_err = float(errs[-1]) if len(errs) else float("nan")
    converged = bool(len(errs) and last_err < args.tol and niter % 10 == 0)

    cost = float(np.sum(P * C))
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(P > 0, P * np.log(P), 0.0)
    entropy = float(-np.sum(plogp))
    col_err = float(np.linalg.norm(P.sum(axis=0) - b))
    row_err = float(np.linalg.norm(P.sum(axis=1) - a))

    out = {
        "method": "pot_" + args.method,
        "n": n,
        "gamma": args.gamma,
        "tol": args.tol,
        "max_iter": args.max_iter,
        "seed": args.seed if source == "rng" else None,
        "scores": source,
        "iterations": iterations,
        "pot_niter": niter,
        "converged": converged,
        "last_checked_err": last_err,
        "cost": cost,
        "entropy": entropy,
        "marginal_err": col_err,
        "marginal_err_col": col_err,
        "marginal_err_row": row_err,
        "seconds": float(np.median(all_seconds)),
        "all_seconds": [round(x, 6) for x in all_seconds],
        "threads": threads,
        "cpus": os.cpu_count(),
        "loadavg1_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "blas": blas,
        "pot": ot.__version__,
        "numpy": np.__version__,
        "warnings": caught,
    }
    if not math.isfinite(cost):
        out["note"] = "non-finite cost"
    print(json.dumps(out), flush=True)
    if limiter is not None:
        limiter.restore_original_limits()


if __name__ == "__main__":
    main()
