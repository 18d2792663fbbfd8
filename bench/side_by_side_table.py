#!/usr/bin/env python3
"""Markdown table from bench/side_by_side.jsonl (written by bench/side_by_side.sh)."""
import json
import sys

path = sys.argv[1] if len(sys.argv) > 1 else "bench/side_by_side.jsonl"
rows = [json.loads(l) for l in open(path) if l.strip().startswith("{")]
pot = {}
for r in rows:
    if r["method"].startswith("pot_"):
        pot.setdefault(r["case"].split("-")[0], []).append(r)

print("| case | solver | n | γ | iterations | converged | marginal err | nnz | cost ⟨P,C⟩ | Δcost vs POT | seconds (median) | speed-up vs POT |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    base = r["case"].split("-")[0]
    name = r["method"] if r["method"].startswith("pot_") else "glass " + r["method"] + ("" if r.get("overrelax", True) else " (plain)")
    ref = None
    if not r["method"].startswith("pot_") and base in pot:
        # compare with POT's fastest path solved on the same scores
        ref = min(pot[base], key=lambda p: p["seconds"])
        if base == "C":
            ref = next((p for p in pot[base] if p["method"] == "pot_sinkhorn_log"), ref)
    same_scores = r["case"] not in ("B-seed0",)
    dcost = f"{abs(r['cost'] - ref['cost']) / abs(ref['cost']):.1e}" if ref and same_scores else ""
    speed = f"{ref['seconds'] / r['seconds']:.1f}×" if ref and same_scores else ""
    err = r.get("marginal_err", r.get("last_checked_err"))
    nnz = r.get("nnz", r["n"] * r["n"])
    print(f"| {r['case']} | {name} | {r['n']} | {r['gamma']} | {r['iterations']} | {r['converged']} | {err:.2e} | {nnz:,} | "
          f"{r['cost']:.10g} | {dcost} | {r['seconds']:.3f} | {speed} |")
