#!/bin/sh
# Sinkhorn engine vs POT 0.8.2, side by side in one run on the same score files, to convergence at tol 1e-6 on
# N(0,1) scores: D (n = 2048, γ = 0.05), B on three seeds (n = 2048, γ = 0.001), A (n = 4096, γ = 0.01),
# C (dense log domain vs sinkhorn_log, n = 2048, γ = 0.01). Glass runs `glass bench sinkhorn` with its default
# (auto) method and, for D, each method. Raw JSON lines: bench/results/engine_side_by_side.jsonl (with loadavg).
set -e
cd "$(dirname "$0")/.."
G=Glass.Runner/bin/Release/net10.0/glass
PY=/usr/bin/python3
OUT=${OUT:-bench/results/engine_side_by_side.jsonl}
: > "$OUT"
load() { cut -d' ' -f1 /proc/loadavg; }
tag() { L=$(load); sed "s/^{/{\"case\": \"$1\", \"loadavg1\": $L, /" | tee -a "$OUT"; }
mkdir -p bench/scores
for seed in 1 2 3; do
  [ -f bench/scores/n2048_seed$seed/s.npy ] || $PY bench/pot_sinkhorn.py --n 2048 --seed $seed --gamma 1 --max-iter 1 --repeats 1 --save-scores bench/scores/n2048_seed$seed >/dev/null
done
S2=bench/scores/n2048_seed0; S4=bench/scores/n4096_seed0
# (D) n = 2048, gamma = 0.05, to convergence
$PY bench/pot_sinkhorn.py --s $S2/s.npy --t $S2/t.npy --gamma 0.05 --tol 1e-6 --max-iter 100000 --method sinkhorn --repeats ${RP:-3} | tag D
$G bench sinkhorn --s $S2/s.npy --t $S2/t.npy --gamma 0.05 --tol 1e-6 --max-iter 100000 --methods auto,stored,banded --repeats ${RG:-3} --json 2>/dev/null | tag D
# (B) n = 2048, gamma = 0.001, three fresh seeds
for seed in 1 2 3; do
  S=bench/scores/n2048_seed$seed
  $PY bench/pot_sinkhorn.py --s $S/s.npy --t $S/t.npy --gamma 0.001 --tol 1e-6 --max-iter 100000 --method sinkhorn --repeats 1 | tag B-seed$seed
  $G bench sinkhorn --s $S/s.npy --t $S/t.npy --gamma 0.001 --tol 1e-6 --max-iter 100000 --repeats ${RG:-3} --json 2>/dev/null | tag B-seed$seed
done
# (A) n = 4096, gamma = 0.01
$PY bench/pot_sinkhorn.py --s $S4/s.npy --t $S4/t.npy --gamma 0.01 --tol 1e-6 --max-iter 100000 --method sinkhorn --repeats 1 | tag A
$G bench sinkhorn --s $S4/s.npy --t $S4/t.npy --gamma 0.01 --tol 1e-6 --max-iter 100000 --repeats ${RG:-3} --json 2>/dev/null | tag A
# (C) dense log domain vs sinkhorn_log, n = 2048, gamma = 0.01 (POT's log path takes minutes: SKIP_C=1 skips it)
[ -n "$SKIP_C" ] && exit 0
$PY bench/pot_sinkhorn.py --s $S2/s.npy --t $S2/t.npy --gamma 0.01 --tol 1e-6 --max-iter 100000 --method sinkhorn_log --repeats 1 | tag C
$G bench sinkhorn --s $S2/s.npy --t $S2/t.npy --gamma 0.01 --tol 1e-6 --max-iter 100000 --methods dense --repeats 1 --json 2>/dev/null | tag C
