#!/bin/sh
# ε-scaling vs one cold solve vs POT 0.8.2 `ot.sinkhorn`, side by side in one run, to convergence at tol 1e-6 on
# N(0,1) scores: case B (n = 2048, γ = 0.001, seeds 1–3) and case A (n = 4096, γ = 0.01). Glass runs its default
# (auto) method with --eps-scaling off and on. Raw JSON lines (with the 1-min load average):
# bench/results/eps_scaling_side_by_side.jsonl.
set -e
cd "$(dirname "$0")/.."
G=Glass.Runner/bin/Release/net10.0/glass
PY=/usr/bin/python3
OUT=${OUT:-bench/results/eps_scaling_side_by_side.jsonl}
: > "$OUT"
load() { cut -d' ' -f1 /proc/loadavg; }
tag() { L=$(load); sed "s/^{/{\"case\": \"$1\", \"loadavg1\": $L, /" | tee -a "$OUT"; }
run() { # case, score dir, gamma
  $PY bench/pot_sinkhorn.py --s $2/s.npy --t $2/t.npy --gamma $3 --tol 1e-6 --max-iter 100000 --method sinkhorn --repeats 1 | tag $1
  for e in off on; do
    $G bench sinkhorn --s $2/s.npy --t $2/t.npy --gamma $3 --tol 1e-6 --max-iter 100000 --eps-scaling $e --repeats ${RG:-3} --json 2>/dev/null | tag $1
  done
}
for seed in 1 2 3; do run B-seed$seed bench/scores/n2048_seed$seed 0.001; done
run A bench/scores/n4096_seed0 0.01
