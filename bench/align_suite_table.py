#!/usr/bin/env python3
"""Markdown tables of `glass bench align-suite` results (docs/reproduction.md, "The alignment suite").

Usage: python3 bench/align_suite_table.py RESULTS.jsonl [MORE.jsonl …]
Lines of later files (and later lines) win for the same (case, seed) and method, so a glass-only and a baseline-only
run of the same cases merge. Prints the per-case table (mean ± sample std over seeds) and a per-seed table of each case.
"""
import json
import statistics
import sys


def load(paths):
    rows = {}
    for path in paths:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                o = json.loads(line)
                key = (o["case"], o["seed"])
                merged = rows.setdefault(key, {})
                merged.update({k: v for k, v in o.items() if v is not None or k not in merged})
    return rows


def ms(values, digits=4):
    v = [x for x in values if x is not None]
    if not v:
        return "–"
    if len(v) == 1:
        return f"{v[0]:.{digits}f}"
    return f"{statistics.mean(v):.{digits}f} ± {statistics.stdev(v):.{digits}f}"


def g(values):
    v = [x for x in values if x is not None]
    return "–" if not v else f"{statistics.mean(v):.3g}"


def main():
    rows = load(sys.argv[1:])
    cases = []
    for (c, _s) in rows:
        if c not in cases:
            cases.append(c)
    print("| case | kind | seeds | FOSCTTM glass | FOSCTTM baseline | Δ (glass − baseline) | exact glass | exact baseline | GW loss glass | GW loss baseline | GW loss true | s glass | s baseline |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for c in cases:
        rs = [rows[k] for k in sorted(rows) if k[0] == c]
        gl = [r.get("glass") for r in rs]
        bl = [r.get("baseline") for r in rs]
        def col(ms_list, key):
            return [m[key] if m else None for m in ms_list]
        paired = [(a["foscttm"] - b["foscttm"]) for a, b in zip(gl, bl) if a and b]
        name = c + (" (symmetric)" if rs[0].get("symmetric") else "")
        print(f"| {name} | {rs[0]['kind']} | {len(rs)} | {ms(col(gl, 'foscttm'))} | {ms(col(bl, 'foscttm'))} | {ms(paired)} | "
              f"{ms(col(gl, 'exact'), 3)} | {ms(col(bl, 'exact'), 3)} | {g(col(gl, 'gw_loss'))} | {g(col(bl, 'gw_loss'))} | "
              f"{g([r.get('true_gw_loss') for r in rs])} | {ms(col(gl, 'seconds'), 1)} | {ms(col(bl, 'seconds'), 1)} |")
    print()
    print("Per seed (glass FOSCTTM / baseline FOSCTTM; selected candidate and smoothing):")
    print()
    for c in cases:
        rs = [rows[k] for k in sorted(rows) if k[0] == c]
        cells = []
        for r in rs:
            a = r.get("glass", {}) or {}
            b = r.get("baseline", {}) or {}
            fa = f"{a['foscttm']:.4f}" if "foscttm" in a else "–"
            fb = f"{b['foscttm']:.4f}" if "foscttm" in b else "–"
            cells.append(f"{r['seed']}: {fa} / {fb} ({r.get('selected', '–')}, {r.get('smoothing', '–')})")
        print(f"- **{c}**: " + "; ".join(cells))


if __name__ == "__main__":
    main()
