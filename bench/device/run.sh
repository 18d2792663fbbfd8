#!/usr/bin/env bash
# Runs on the lent GPU machine (repository root, $OUT = folder whose files come back). Prepared so that one call
# does everything: unpack the self-contained build made by bench/device/pack.sh, name the device, run the CUDA
# kernel tests (NUnit category Gpu, against the CPU reference), then the CUDA benchmarks. Each step has its own
# time limit and writes its own file, so a slow step cannot hide the results of the others.
#   STEPS="tests inductive sinkhorn" (default: all, in this order of priority) picks steps; each result lands in
#   $OUT/<step>.*. The limits add up to < 600 s, one device call: run(…, timeout_s=600).
set -uo pipefail
OUT=${OUT:-/tmp/glass-device-out}; mkdir -p "$OUT"
pkg=/tmp/glass-device
if [ ! -x "$pkg/glass" ]; then
  mkdir -p "$pkg" && tar -C "$pkg" -xJf .device/glass-device.tar.xz || { echo "no .device/glass-device.tar.xz: run bench/device/pack.sh and carry it" >&2; exit 2; }
fi
export DOTNET_gcServer=0
{ date -u; nvidia-smi -L; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv; nproc; } > "$OUT/device.txt" 2>&1
cat "$OUT/device.txt"
steps=${STEPS:-tests inductive sinkhorn}
for s in $steps; do
  case $s in
    tests)
      timeout 150 "$pkg/Glass.Tests" --category Gpu --verbose > "$OUT/tests.txt" 2>&1; echo "tests rc=$?"; tail -3 "$OUT/tests.txt" ;;
    sinkhorn)
      timeout 40 "$pkg/glass" bench sinkhorn --device cuda --n 2048 --gamma 0.05 --repeats 5 --json > "$OUT/sinkhorn.jsonl" 2>&1
      timeout 40 "$pkg/glass" bench sinkhorn --device cpu --n 2048 --gamma 0.05 --repeats 5 --json >> "$OUT/sinkhorn.jsonl" 2>&1
      timeout 60 "$pkg/glass" bench scaling --device cuda > "$OUT/scaling.txt" 2>&1; echo "sinkhorn rc=$?"; cat "$OUT/sinkhorn.jsonl" | cut -c1-300 ;;
    inductive)
      timeout 150 "$pkg/glass" bench inductive --n 1000,20000,45000 --seed 0 --device cuda --json > "$OUT/inductive.jsonl" 2> "$OUT/inductive.err"; echo "inductive rc=$?"
      timeout 140 "$pkg/glass" bench inductive --n 200000 --seed 0 --device cuda --json >> "$OUT/inductive.jsonl" 2>> "$OUT/inductive.err"; echo "inductive-200k rc=$?"
      cut -c1-400 "$OUT/inductive.jsonl"; tail -3 "$OUT/inductive.err" ;;
    *) echo "unknown step $s" >&2 ;;
  esac
done
