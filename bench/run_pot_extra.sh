#!/bin/sh
# Supplementary cases (see pot_results.md)
set -e
cd "$(dirname "$0")"
PY=/usr/bin/python3
OUT=${OUT:-pot_results_extra.jsonl}
: > "$OUT"
# plain sinkhorn on the same problem as (c), for the sinkhorn vs sinkhorn_log comparison
$PY wait_quiet.py ${QUIET_TIMEOUT:-180}; $PY pot_sinkhorn.py --n 2048 --gamma 0.01 --tol 1e-6 --max-iter 100000 --method sinkhorn --seed 0 --repeats 3 | tee -a "$OUT"
# (b) with seed 1: seed 0 breaks at iteration 0 (a row of K underflows to 0)
$PY wait_quiet.py ${QUIET_TIMEOUT:-180}; $PY pot_sinkhorn.py --n 2048 --gamma 0.001 --tol 1e-6 --max-iter 100000 --method sinkhorn --seed 1 --repeats 1 --save-scores scores/n2048_seed1 | tee -a "$OUT"
