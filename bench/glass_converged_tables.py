#!/usr/bin/env python3
"""Markdown tables of converged GLASS runs (bench/reproduce_glass_converged.sh): one row per exp_name, mean ± std over
the seeds that completed, with the yardsticks (independent coupling, exact OT plan) beside the final loss, and the rate
of rows matched to their own index (identity_match_rate: under a planted permutation the truth is π, so a rate far above
chance 1/n means the features leak the row order rather than the geometry; "–" for runs made before it was recorded).

    python3 bench/glass_converged_tables.py runs/converged/M1 [runs/converged/M2 ...]
"""
import glob
import json
import os
import statistics
import sys


def fmt(xs, digits=4):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "–"
    m = statistics.mean(xs)
    s = statistics.stdev(xs) if len(xs) > 1 else 0.0
    return f"{m:.{digits}f} ± {s:.{digits}f}" if len(xs) > 1 else f"{m:.{digits}f}"


def main(dirs):
    cols = ["final_loss", "perm_acc", "identity_match_rate", "independent_loss", "exact_ot_loss", "exact_ot_perm_acc"]
    print("| config | seeds done | steps | final loss | scale-free gap | perm_acc | i↔i rate | independent coupling | exact OT loss | exact OT perm_acc | unconverged steps | γ back-offs |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for d in dirs:
        groups = {}
        for f in sorted(glob.glob(os.path.join(d, "*", "summary.json"))):
            if not os.path.exists(os.path.join(os.path.dirname(f), "COMPLETE")):
                continue
            s = json.load(open(f))
            groups.setdefault(s["exp_name"], []).append(s)
        for name in sorted(groups):
            runs = groups[name]
            ev = [r["eval"] for r in runs]
            row = [name, ",".join(str(r["seed"]) for r in sorted(runs, key=lambda r: r["seed"])),
                   fmt([r["steps"] for r in runs], 0)]
            row += [fmt([e.get(c) for e in ev]) for c in cols]
            # (L − L_OT) / (L_ind − L_OT): 0 at the exact optimum, 1 at the independent coupling; unit-free.
            gap = [(e["final_loss"] - e["exact_ot_loss"]) / (e["independent_loss"] - e["exact_ot_loss"])
                   if "exact_ot_loss" in e and e["independent_loss"] != e["exact_ot_loss"] else None for e in ev]
            row.insert(4, fmt(gap))
            row += [fmt([e.get("sinkhorn_unconverged_steps") for e in ev], 1), fmt([e.get("gamma_backoffs") for e in ev], 1)]
            print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
