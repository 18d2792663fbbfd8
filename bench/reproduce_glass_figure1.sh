#!/usr/bin/env bash
# Figure 1 (runtime per step vs n on S², M4) with convergence and yardsticks beside the timing, three ways:
#   M4       the paper's configs, 40 steps (init_u_scale 0.2: the scores barely spread, so the band holds every pair);
#   M4cap    the same with `ot.rank_cap: 16` (the band capped at 16 columns per row);
#   trained  lr 1e-2 and 150 steps, timed over steps ≥ 51 (the scores have spread: the regime training runs in).
#
#   SEEDS=0,1,2,3,4 bash bench/reproduce_glass_figure1.sh          # LOG=runs/figure1 by default
#   python3 bench/figure1_table.py runs/figure1/M4 runs/figure1/M4cap
#   python3 bench/figure1_table.py --from-step 51 runs/figure1/trained
# Timings: run on an otherwise idle machine (quote `uptime`); glass plot RUNS --out DIR fits the exponent.
set -euo pipefail
cd "$(dirname "$0")/.."
GLASS_BIN=${GLASS_BIN:-Glass.Runner/bin/Release/net10.0}
LOG=${LOG:-runs/figure1}
SEEDS=${SEEDS:-0,1,2,3,4}
glass() { dotnet "$GLASS_BIN/glass.dll" "$@"; }
mkdir -p "$LOG/cap_cfg" "$LOG/trained_cfg"
for f in configs/_auto_s2_M4_n*.yaml; do
  sed -e 's/^ot:$/ot:\n  rank_cap: 16/' -e 's/^exp_name: \(.*\)$/exp_name: \1_cap16/' "$f" > "$LOG/cap_cfg/$(basename "$f")"
  sed -e 's/^  lr: .*/  lr: 1.0e-2/' -e 's/^  steps: .*/  steps: 150/' -e 's/^  save_every: .*/  save_every: 500/' \
      -e 's/^exp_name: \(.*\)$/exp_name: \1_trained/' "$f" > "$LOG/trained_cfg/$(basename "$f")"
done
uptime
glass sweep configs/_auto_s2_M4_n*.yaml --seeds "$SEEDS" --device cpu --out "$LOG/M4" --steps 40 --quiet --no-plots
glass sweep "$LOG"/cap_cfg/_auto_s2_M4_n*.yaml --seeds "$SEEDS" --device cpu --out "$LOG/M4cap" --steps 40 --quiet --no-plots
uptime
glass sweep "$LOG"/trained_cfg/_auto_s2_M4_n*.yaml --seeds "$SEEDS" --device cpu --out "$LOG/trained" --quiet --no-plots
uptime
