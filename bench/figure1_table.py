#!/usr/bin/env python3
"""Figure 1 (GLASS runtime per step vs n on S²) with convergence and yardsticks beside the timing: per n and config,
the median runtime per step (steps 2…, median over a run, then mean over seeds), the Sinkhorn iterations per step,
steps on unconverged solves, γ back-offs, and the loss after the timed steps beside the independent coupling and the
exact OT plan of the lifted cost (the run's summary.json `eval` block).

    python3 bench/figure1_table.py [--from-step K] RUNS_DIR [RUNS_DIR ...]     # e.g. runs/M4 runs/M4cap

--from-step K times only steps ≥ K (default 2: every step but the first, which includes JIT compilation).
"""
import csv
import glob
import json
import math
import os
import statistics
import sys


def ms(xs, d=4):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "–"
    return f"{statistics.mean(xs):.{d}g} ± {statistics.stdev(xs):.{d}g}" if len(xs) > 1 else f"{xs[0]:.{d}g}"


def main(args):
    first = 2
    if args[:1] == ["--from-step"]:
        first, args = int(args[1]), args[2:]
    dirs = args
    print("| config | n | runs | s/step | Sinkhorn iterations / step | unconverged steps | γ back-offs | loss | independent coupling | exact OT loss |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for d in dirs:
        groups = {}
        for f in glob.glob(os.path.join(d, "*", "summary.json")):
            run = os.path.dirname(f)
            if not os.path.exists(os.path.join(run, "COMPLETE")):
                continue
            s = json.load(open(f))
            rows = [r for r in csv.DictReader(open(os.path.join(run, "metrics.csv"))) if int(r["step"]) >= first]
            s["_rt"] = statistics.median(float(r["runtime_sec"]) for r in rows)
            s["_it"] = statistics.median(float(r["sinkhorn_iter"]) for r in rows)
            groups.setdefault(s["exp_name"], []).append(s)
        for name in sorted(groups, key=lambda k: int(k.split("_n")[1].split("_")[0])):
            rs = groups[name]
            ev = [r["eval"] for r in rs]
            n = name.split("_n")[1].split("_")[0]
            print("| " + " | ".join([name, n, str(len(rs)), ms([r["_rt"] for r in rs]), ms([r["_it"] for r in rs], 3),
                                     ms([e.get("sinkhorn_unconverged_steps") for e in ev], 3), ms([e.get("gamma_backoffs") for e in ev], 3),
                                     ms([e.get("final_loss") for e in ev]), ms([e.get("independent_loss") for e in ev]),
                                     ms([e.get("exact_ot_loss") for e in ev])]) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
