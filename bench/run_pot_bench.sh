#!/bin/sh
# Runs the POT reference cases sequentially (2-core machine: do not run in parallel).
# Output: one JSON line per case in pot_results.jsonl
set -e
cd "$(dirname "$0")"
PY=/usr/bin/python3
OUT=${OUT:-pot_results.jsonl}
: > "$OUT"
# (a)
$PY wait_quiet.py ${QUIET_TIMEOUT:-180}; $PY pot_sinkhorn.py --n 4096 --gamma 0.01 --tol 1e-6 --max-iter 100000 --method sinkhorn --seed 0 --repeats 3 --save-scores scores/n4096_seed0 | tee -a "$OUT"
# (b)
$PY wait_quiet.py ${QUIET_TIMEOUT:-180}; $PY pot_sinkhorn.py --n 2048 --gamma 0.001 --tol 1e-6 --max-iter 100000 --method sinkhorn --seed 0 --repeats 1 --save-scores scores/n2048_seed0 | tee -a "$OUT"
# (d) paper line, gamma 0.05, 200 iterations
$PY wait_quiet.py ${QUIET_TIMEOUT:-180}; $PY pot_sinkhorn.py --n 2048 --gamma 0.05 --tol 1e-6 --max-iter 200 --method sinkhorn --seed 0 --repeats 3 | tee -a "$OUT"
$PY wait_quiet.py ${QUIET_TIMEOUT:-180}; $PY pot_sinkhorn.py --n 2048 --gamma 0.05 --tol 1e-6 --max-iter 200 --method sinkhorn_log --seed 0 --repeats 1 | tee -a "$OUT"
# (c)
$PY wait_quiet.py ${QUIET_TIMEOUT:-180}; $PY pot_sinkhorn.py --n 2048 --gamma 0.01 --tol 1e-6 --max-iter 100000 --method sinkhorn_log --seed 0 --repeats 1 | tee -a "$OUT"
