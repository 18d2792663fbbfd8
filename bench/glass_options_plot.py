#!/usr/bin/python3
"""Plots of the GLASS reading-option re-runs (bench/reproduce_glass_options.sh): Figure 2's scale-free gap, perm_acc and
i↔i rate vs τ per ψ_τ reading, and Table 2's scale-free gap vs chart radius, mask against clamp.

    /usr/bin/python3 bench/glass_options_plot.py runs/options runs/converged/M2 docs/reproduction/glass_readings.png
"""
import glob, json, os, statistics, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt


def load(d):
    out = {}
    for f in glob.glob(os.path.join(d, "*", "summary.json")):
        if os.path.exists(os.path.join(os.path.dirname(f), "COMPLETE")):
            s = json.load(open(f)); out.setdefault(s["exp_name"], []).append(s["eval"])
    return out


def gap(e):
    return (e["final_loss"] - e["exact_ot_loss"]) / (e["independent_loss"] - e["exact_ot_loss"])


def ms(xs):
    return statistics.mean(xs), (statistics.stdev(xs) if len(xs) > 1 else 0)


opt, clamp, out = load(os.path.join(sys.argv[1], "G2")), load(sys.argv[2]), sys.argv[3]
m2 = load(os.path.join(sys.argv[1], "M2"))
fig, ax = plt.subplots(1, 4, figsize=(17, 3.8))
for feat, c in [("structural", "C0"), ("spectral", "C1"), ("probes", "C2")]:
    taus = sorted({float(k.split("tau")[1].split("_")[0]) for k in opt if k.endswith(feat)})
    rows = [opt[f"sbm_G2_tau{t:.2f}_conv_{feat}"] for t in taus]
    for a, key in [(ax[0], gap), (ax[1], lambda e: e["perm_acc"]), (ax[2], lambda e: e["identity_match_rate"])]:
        mu, sd = zip(*[ms([key(e) for e in r]) for r in rows])
        a.errorbar(taus, mu, yerr=sd, marker="o", color=c, label=feat, capsize=3)
ax[0].set(title="Figure 2: scale-free gap (0 = optimum, 1 = independent)", xlabel="τ")
ax[1].set(title="Figure 2: perm_acc (chance 0.0025)", xlabel="τ")
ax[2].set(title="Figure 2: rows matched to their own index", xlabel="τ")
for a in ax[:3]: a.legend(fontsize=8)
for name, data, pat, c in [("clamp", clamp, "s2_M2_r{}_conv", "C0"), ("mask", m2, "s2_M2_r{}_conv_mask", "C3")]:
    rs = [r for r in (10, 20, 30, 40) if pat.format(r) in data]
    mu, sd = zip(*[ms([gap(e) for e in data[pat.format(r)]]) for r in rs])
    ax[3].errorbar(rs, mu, yerr=sd, marker="o", color=c, label=f"chart: {name}", capsize=3)
ax[3].set(title="Table 2: scale-free gap vs chart radius", xlabel="radius (degrees)")
ax[3].legend(fontsize=8)
fig.tight_layout()
fig.savefig(out, dpi=110)
print(out)
