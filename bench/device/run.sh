#!/usr/bin/env bash
# Runs on the lent GPU machine (repository root, $OUT = folder whose files come back). Prepared so that one call
# does everything: unpack the self-contained build made by bench/device/pack.sh, name the driver and the device, run the
# CUDA kernel tests (NUnit category Gpu, against the CPU reference, GLASS_REQUIRE_CUDA=1 so a CUDA that does not start
# fails loudly instead of skipping), then the CUDA benchmarks.
# Every invocation has its own time limit and appends its lines as they come (stdout line-buffered; JSONL results one
# line per N; each size its own invocation), and every step prints its time when it ends, to the console and to
# $OUT/steps.log — so a slow step loses only its own figures.
#   STEPS="tests inductive sinkhorn" (default: all, in this order of priority) picks steps; results land in $OUT/<step>.*.
#   The limits add up to < 600 s, one device call: run(…, timeout_s=600).
#   DRY_RUN=1 prints what would run (no package, no GPU needed): bash bench/device/run.sh with DRY_RUN=1 OUT=/tmp/x.
set -uo pipefail
OUT=${OUT:-/tmp/glass-device-out}; mkdir -p "$OUT"
pkg=/tmp/glass-device
dry=${DRY_RUN:-}
if [ -z "$dry" ] && [ ! -x "$pkg/glass" ]; then
  mkdir -p "$pkg" && tar -C "$pkg" -xJf .device/glass-device.tar.xz || { echo "no .device/glass-device.tar.xz: run bench/device/pack.sh and carry it" >&2; exit 2; }
fi
export DOTNET_gcServer=0
export GLASS_REQUIRE_CUDA=1 # the tests step: CUDA that does not start fails (with the driver's reason), never skips
line_buffered=(); command -v stdbuf >/dev/null 2>&1 && line_buffered=(stdbuf -oL -eL)

# The driver first: a missing libcuda is the first thing to rule out.
{ date -u; echo "--- ldconfig -p | grep libcuda"; ldconfig -p 2>&1 | grep -i libcuda || echo "(no libcuda in the loader cache)";
  echo "--- nvidia-smi"; nvidia-smi -L 2>&1; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1; echo "--- nproc"; nproc; } > "$OUT/device.txt" 2>&1
cat "$OUT/device.txt"

# run NAME LIMIT_S OUTFILE COMMAND…: one invocation under its own timeout; stdout appended to OUTFILE line by line,
# stderr to $OUT/NAME.err; prints and logs the invocation's seconds and exit code when it ends.
run() {
  local name=$1 limit=$2 out=$3 rc start; shift 3
  start=$(date +%s.%N)
  echo "[$(date -u +%T)] $name: start (limit ${limit} s)" | tee -a "$OUT/steps.log"
  if [ -n "$dry" ]; then
    echo "DRY_RUN: timeout $limit ${line_buffered[*]} $* >> $out 2>> $OUT/$name.err" | tee -a "$out"; rc=0
  else
    timeout "$limit" "${line_buffered[@]}" "$@" >> "$out" 2>> "$OUT/$name.err"; rc=$?
  fi
  [ "$rc" = 124 ] && note=" (TIMED OUT)" || note=""
  echo "[$(date -u +%T)] $name: rc=$rc$note after $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}') s (script at ${SECONDS} s)" | tee -a "$OUT/steps.log"
}

steps=${STEPS:-tests inductive sinkhorn}
for s in $steps; do
  case $s in
    tests)
      run tests 140 "$OUT/tests.txt" "$pkg/Glass.Tests" --category Gpu --verbose
      tail -3 "$OUT/tests.txt" ;;
    inductive)
      # One invocation per N (each trains its own model, a few seconds): a slow 200k keeps the smaller figures.
      for spec in 1000:40 20000:50 45000:90 200000:130; do
        nn=${spec%%:*}; lim=${spec##*:}
        run "inductive-$nn" "$lim" "$OUT/inductive.jsonl" "$pkg/glass" bench inductive --n "$nn" --seed 0 --device cuda --json
      done
      cut -c1-400 "$OUT/inductive.jsonl"; tail -3 "$OUT"/inductive-*.err 2>/dev/null ;;
    sinkhorn)
      run sinkhorn-cuda 35 "$OUT/sinkhorn.jsonl" "$pkg/glass" bench sinkhorn --device cuda --n 2048 --gamma 0.05 --repeats 5 --json
      run sinkhorn-cpu 35 "$OUT/sinkhorn.jsonl" "$pkg/glass" bench sinkhorn --device cpu --n 2048 --gamma 0.05 --repeats 5 --json
      run scaling 60 "$OUT/scaling.txt" "$pkg/glass" bench scaling --device cuda
      cut -c1-300 "$OUT/sinkhorn.jsonl" ;;
    *) echo "unknown step $s" >&2 ;;
  esac
done
echo "done at ${SECONDS} s"
