#!/usr/bin/env python3
"""Rewrites the generated blocks of docs/reproduction.md from `glass compile-runs` output.

Usage: reproduction_tables.py LOGDIR docs/reproduction.md
Each block sits between `<!-- BEGIN name -->` and `<!-- END name -->`; text outside the blocks is kept.
Standard library only. The paper's numbers are from ../shared/papers/000_… (Tables 1–2).
"""
import csv
import re
import sys
from pathlib import Path

PAPER_T1 = {8: (2.7914, 2.6594), 16: (2.8307, 2.8201), 32: (2.8320, 2.8312)}  # K: (baseline, tied), γ0 = 0.1
PAPER_T2 = {10: 2.8319, 20: 2.8308, 30: 2.8259, 40: 2.8112}


def groups(path):
    with open(path, newline="") as f:
        return {row["exp_name"]: row for row in csv.DictReader(f)}


def ms(row, key="eval_final_loss"):
    if row is None or not row.get(key + "_mean"):
        return "—"
    std = row.get(key + "_std", "")
    std = "n/a" if std in ("", "NaN") else f"{float(std):.4f}"
    return f"{float(row[key + '_mean']):.4f} ± {std}"


def runs(row):
    return row["runs"] if row and "runs" in row else "0"


def table1(log):
    g = groups(Path(log, "M1", "summary_by_exp.csv"))
    lines = ["| K | fixed gates (ours) | tied gates (ours) | Δ tied − fixed (ours) | perm_acc fixed / tied (ours) | paper baseline | paper tied | paper Δ | runs |",
             "|---|---|---|---|---|---|---|---|---|"]
    for k, (pb, pt) in PAPER_T1.items():
        f, t = g.get(f"s2_M1_K{k}_g0.10"), g.get(f"s2_M1_tie_K{k}_g0.10")
        d = "—"
        if f and t and f.get("eval_final_loss_mean") and t.get("eval_final_loss_mean"):
            d = f"{float(t['eval_final_loss_mean']) - float(f['eval_final_loss_mean']):+.4f}"
        acc = f"{ms(f, 'eval_perm_acc')} / {ms(t, 'eval_perm_acc')}"
        lines.append(f"| {k} | {ms(f)} | {ms(t)} | {d} | {acc} | {pb:.4f} | {pt:.4f} | {pt - pb:+.4f} | {runs(f)} / {runs(t)} |")
    lines += ["", "Tied gates at the other γ₀ of the sweep (no paper numbers):", "",
              "| config | final loss (ours) | perm_acc | runs |", "|---|---|---|---|"]
    for name in sorted(n for n in g if "_tie_" in n and not n.endswith("g0.10")):
        lines.append(f"| {name} | {ms(g[name])} | {ms(g[name], 'eval_perm_acc')} | {runs(g[name])} |")
    return "\n".join(lines)


def table2(log):
    g = groups(Path(log, "M2", "summary_by_exp.csv"))
    lines = ["| chart radius (deg) | final loss (ours) | perm_acc (ours) | paper | runs |", "|---|---|---|---|---|"]
    for r, p in PAPER_T2.items():
        row = g.get(f"s2_M2_r{r}")
        lines.append(f"| {r} | {ms(row)} | {ms(row, 'eval_perm_acc')} | {p:.4f} | {runs(row)} |")
    return "\n".join(lines)


def runtime_csv(path):
    pts, exponent = {}, None
    for r in csv.reader(open(path)):
        if not r or r[0] == "n":
            continue
        if r[0].startswith("#"):
            m = re.search(r"fitted exponent ([-0-9.eE]+)", ",".join(r))
            exponent = float(m.group(1)) if m else None
            continue
        pts[int(float(r[0]))] = (float(r[1]), r[2])
    return pts, exponent


def figure1(log):
    full, e_full = runtime_csv(Path(log, "M4_plots", "runtime_vs_n.csv"))
    cap_path = Path(log, "M4cap_plots", "runtime_vs_n.csv")
    cap, e_cap = runtime_csv(cap_path) if cap_path.exists() else ({}, None)
    lines = ["| n | s/step, paper config (band = all pairs) | s/step, `rank_cap: 16` | runs |", "|---|---|---|---|"]
    for n in sorted(full):
        c = f"{cap[n][0]:.4g}" if n in cap else "—"
        lines.append(f"| {n} | {full[n][0]:.4g} | {c} | {full[n][1]} |")
    lines.append("")
    lines.append(f"Fitted exponent (least squares on log–log): **{e_full:.3f}** with the paper's configs"
                 + (f", **{e_cap:.3f}** with `rank_cap: 16`" if e_cap is not None else "") + " (paper: ≈ 0.98).")
    return "\n".join(lines)


def figure2(log):
    g = groups(Path(log, "G2", "summary_by_exp.csv"))
    lines = ["| τ | final loss (ours) | perm_acc (ours) | runs |", "|---|---|---|---|"]
    for name in sorted(g, key=lambda n: float(n.rsplit("tau", 1)[1])):
        lines.append(f"| {name.rsplit('tau', 1)[1]} | {ms(g[name])} | {ms(g[name], 'eval_perm_acc')} | {runs(g[name])} |")
    return "\n".join(lines)


def main():
    log, doc = sys.argv[1], Path(sys.argv[2])
    blocks = {"table1": table1(log), "table2": table2(log), "figure1": figure1(log), "figure2": figure2(log)}
    text = doc.read_text()
    for name, body in blocks.items():
        pat = re.compile(rf"(<!-- BEGIN {name} -->\n).*?(<!-- END {name} -->)", re.S)
        if not pat.search(text):
            sys.exit(f"{doc}: no block <!-- BEGIN {name} --> … <!-- END {name} -->")
        text = pat.sub(lambda m: m.group(1) + body + "\n" + m.group(2), text)
    doc.write_text(text)


if __name__ == "__main__":
    main()
