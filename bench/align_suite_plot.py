#!/usr/bin/python3
"""Plot of `glass bench align-suite` results: FOSCTTM per case, default glass align vs the entropic-GW baseline
(every seed as a dot, the mean as a bar). Usage: python3 bench/align_suite_plot.py OUT.png RESULTS.jsonl [MORE.jsonl …]
(later files win for the same (case, seed) and method, as in bench/align_suite_table.py)."""
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from align_suite_table import load  # noqa: E402


def main():
    out, paths = sys.argv[1], sys.argv[2:]
    rows = load(paths)
    cases = []
    for (c, _s) in rows:
        if c not in cases:
            cases.append(c)
    fig, ax = plt.subplots(figsize=(12, 4.8))
    for k, c in enumerate(cases):
        rs = [rows[key] for key in sorted(rows) if key[0] == c]
        for off, method, colour in ((-0.18, "glass", "tab:blue"), (0.18, "baseline", "tab:orange")):
            v = [r[method]["foscttm"] for r in rs if r.get(method)]
            if not v:
                continue
            ax.bar(k + off, sum(v) / len(v), width=0.34, color=colour, alpha=0.35,
                   label=("glass align (default)" if method == "glass" else "entropic GW baseline") if k == 0 else None)
            ax.scatter([k + off] * len(v), v, s=10, color=colour, zorder=3)
    ax.set_xticks(range(len(cases)))
    ax.set_xticklabels(cases, rotation=40, ha="right")
    ax.set_ylabel("FOSCTTM (lower is better; every seed a dot)")
    ax.set_title("Alignment suite: default glass align vs entropic GW (label-free tuning)")
    ax.legend(loc="upper left")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(out, dpi=120)


if __name__ == "__main__":
    main()
