#!/usr/bin/python3
"""Print a markdown table from pot_sinkhorn.py JSON lines (files given as arguments)."""
import json, sys
print("| case | method | n | γ | max-iter | seed | iterations | converged | cost ⟨P,C⟩ | entropy | col err | row err | seconds (median) | all seconds | load1 before/after |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for path in sys.argv[1:]:
    for line in open(path):
        line = line.strip()
        if not line.startswith("{"):
            continue
        d = json.loads(line)
        print("| %s | %s | %d | %g | %d | %s | %d | %s | %.10g | %.8g | %.2e | %.2e | %.3f | %s | %s |" % (
            path.split("/")[-1], d["method"], d["n"], d["gamma"], d["max_iter"], d["seed"],
            d["iterations"], "yes" if d["converged"] else "no" + (" (numerical error)" if any("numerical" in w for w in d["warnings"]) else ""),
            d["cost"], d["entropy"], d["marginal_err_col"], d["marginal_err_row"], d["seconds"],
            ", ".join("%.2f" % x for x in d["all_seconds"]), d.get("loadavg1_before_after", "n/a")))
