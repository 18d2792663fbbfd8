#!/usr/bin/env bash
# train.warm_start off vs on, side by side (docs/reproduction.md, "Warm starts"): the converged re-run settings of
# bench/reproduce_glass_converged.sh (lr 1e-2, stop_rel_change 5e-3 over 50 steps, cap 1,500 steps, γ back-off on) on
# G2 τ = 0.10 and 0.40, M2 r = 40° and M1 K = 8 (fixed gates); configs/quickstart_s2.yaml as it is. Each config and seed
# runs cold, then warm, one after the other, so both see the same load. Prints one row per run (and the load average).
#
#   RUNS="G2a:0 G2a:1 G2b:0 M2:0 M1:0 QS:0" EXTRA="" bash bench/glass_warm_start.sh
# RUNS: PART:SEED[:MODE] items (MODE false or true runs only that mode; default both, cold first).
# EXTRA: more train keys for both modes, e.g. EXTRA="gamma_backoff_max: 4" (written under train:).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-G2a:0 G2a:1 G2b:0 M2:0 M1:0 QS:0}
LOG=${LOG:-runs/warm}
GLASS_BIN=${GLASS_BIN:-Glass.Runner/bin/Release/net10.0}
glass() { nice -n 10 dotnet "$GLASS_BIN/glass.dll" "$@"; }
cfg="$LOG/configs"; mkdir -p "$cfg"
variant() {  # variant SRC DST MODE CONVERGE
  local extra="  warm_start: $3"
  [ -n "${EXTRA:-}" ] && extra="$extra\n  $EXTRA"
  if [ "$4" = 1 ]; then
    sed -e 's/^  lr: .*/  lr: 1.0e-2/' -e 's/^  steps: .*/  steps: 1500\n  stop_rel_change: 5.0e-3\n  stop_window: 50/' "$1" > "$2"
  else cp "$1" "$2"; fi
  sed -i -e "s/^train:$/train:\n$extra/" -e 's/^  save_every: .*/  save_every: 500/' -e "s/^exp_name: \(.*\)$/exp_name: \1_warm_$3/" "$2"
}
for item in $RUNS; do
  IFS=: read -r part seed only <<< "$item"
  case $part in
    G2a) src=configs/_auto_sbm_G2_tau0.10.yaml; conv=1 ;;
    G2b) src=configs/_auto_sbm_G2_tau0.40.yaml; conv=1 ;;
    M2) src=configs/_auto_s2_M2_r40.yaml; conv=1 ;;
    M1) src=configs/_auto_s2_M1_K8_g0.10.yaml; conv=1 ;;
    QS) src=configs/quickstart_s2.yaml; conv=0 ;;
    *) echo "unknown part $part (G2a | G2b | M2 | M1 | QS)" >&2; exit 2 ;;
  esac
  for mode in ${only:-false true}; do
    c="$cfg/$(basename "$src" .yaml)_$mode.yaml"
    variant "$src" "$c" "$mode" "$conv"
    out="$LOG/$part/s$seed"
    glass run "$c" --seed "$seed" --device cpu --out "$out" --quiet --no-plots
    run=$(ls -td "$out"/*/ | head -1)
    python3 - "$run" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import json, sys
s = json.load(open(sys.argv[1] + "/summary.json")); e = s["eval"]
print(f'{s["exp_name"]:40s} seed {s["seed"]} steps {s["steps"]:5d} loss {e["final_loss"]:.4f} unconv {int(e["sinkhorn_unconverged_steps"]):4d} '
      f'backoffs {int(e["gamma_backoffs"]):4d} iter/step {e["sinkhorn_iter_total"] / max(1, s["steps"]):7.1f} gamma {e["gamma"]:.4g} '
      f'perm_acc {e.get("perm_acc", float("nan")):.4f} wall {s["wall_seconds_last_session"]:6.1f} s  load {sys.argv[2]}', flush=True)
PY
  done
done
