#!/usr/bin/env bash
# Simulates a sharded sweep on one machine: N `glass sweep --shard i/N` processes at once into one shared folder, then
# the same sweep unsharded into another, and compares them run for run: the same (exp_name, seed) runs, each once, with
# the same metrics.csv (runtime_sec aside) and summary.json final/eval values, bit for bit; then compile-runs merges.
#   usage: docs/cluster/simulate_shards.sh N OUT_DIR CONFIG... [-- sweep options, e.g. --seeds 0,1,2,3,4 --steps 20]
#   GLASS: the command to run (default: dotnet Glass.Runner/bin/Release/net10.0/glass.dll)
set -euo pipefail
n=$1; out=$2; shift 2
configs=(); while [ $# -gt 0 ] && [ "$1" != "--" ]; do configs+=("$1"); shift; done
[ $# -gt 0 ] && shift
read -r -a glass <<<"${GLASS:-dotnet Glass.Runner/bin/Release/net10.0/glass.dll}"
rm -rf "$out"; mkdir -p "$out"
start=$(date +%s.%N)
pids=()
for ((i = 0; i < n; i++)); do
  "${glass[@]}" sweep "${configs[@]}" "$@" --shard "$i/$n" --out "$out/shared" --quiet --no-plots >"$out/shard$i.log" 2>&1 &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || { echo "a shard failed: see $out/shard*.log" >&2; exit 1; }; done
mid=$(date +%s.%N)
"${glass[@]}" sweep "${configs[@]}" "$@" --shard 0/1 --out "$out/whole" --quiet --no-plots >"$out/whole.log" 2>&1
end=$(date +%s.%N)
echo "sharded ($n processes at once): $(awk "BEGIN { print $mid - $start }") s; unsharded: $(awk "BEGIN { print $end - $mid }") s"
python3 - "$out/shared" "$out/whole" <<'PY'
import csv, json, os, sys
def runs(d):
    r = {}
    for name in sorted(os.listdir(d)):
        p = os.path.join(d, name)
        if name.startswith('.') or not os.path.isfile(os.path.join(p, 'config.json')): continue
        assert os.path.isfile(os.path.join(p, 'COMPLETE')), p + ' incomplete'
        info = json.load(open(os.path.join(p, 'run.json')))
        rows = list(csv.reader(open(os.path.join(p, 'metrics.csv'))))
        t = rows[0].index('runtime_sec') if 'runtime_sec' in rows[0] else -1
        rows = [[v for i, v in enumerate(row) if i != t] for row in rows]
        s = json.load(open(os.path.join(p, 'summary.json')))
        s['final'].pop('runtime_sec', None)
        key = (info['exp_name'], info['seed'])
        assert key not in r, f'{key} twice in {d}'
        r[key] = (rows, s['final'], s['eval'])
    return r
a, b = runs(sys.argv[1]), runs(sys.argv[2])
assert sorted(a) == sorted(b), f'different runs: {sorted(set(a) ^ set(b))}'
bad = [k for k in b if a[k] != b[k]]
assert not bad, f'metrics differ for {bad}'
print(f'{len(a)} runs: the shards together equal the unsharded sweep run for run (metrics bit for bit)')
PY
"${glass[@]}" compile-runs --logdir "$out/shared" --out "$out/summary.csv" | tail -1
