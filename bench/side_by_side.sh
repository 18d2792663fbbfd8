#!/bin/sh
# Glass vs POT 0.8.2 on the same score files, one case after the other in one run (2-core machine:
# nothing else should run meanwhile). Output: JSON lines in bench/side_by_side.jsonl, table via
# `python3 bench/side_by_side_table.py`. Needs: .NET 10 SDK; Debian python3-pot + libopenblas0-pthread.
set -e
cd "$(dirname "$0")/.."
dotnet build Glass.Runner -c Release -v q -nologo >/dev/null
G=Glass.Runner/bin/Release/net10.0/glass
PY=/usr/bin/python3
OUT=${OUT:-bench/side_by_side.jsonl}
: > "$OUT"
S4=bench/scores/n4096_seed0; S2=bench/scores/n2048_seed0; S2b=bench/scores/n2048_seed1
tag() { sed "s/^{/{\"case\": \"$1\", /" | tee -a "$OUT"; }

# (A) n = 4096, gamma = 0.01, eps = 1e-6, to convergence (tol 1e-6)
$PY bench/pot_sinkhorn.py --s $S4/s.npy --t $S4/t.npy --gamma 0.01 --tol 1e-6 --max-iter 100000 --method sinkhorn --repeats 3 | tag A
$G bench sinkhorn --s $S4/s.npy --t $S4/t.npy --gamma 0.01 --band-eps 1e-6 --tol 1e-6 --max-iter 100000 --methods banded --repeats 5 --json | tag A
$G bench sinkhorn --s $S4/s.npy --t $S4/t.npy --gamma 0.01 --band-eps 1e-6 --tol 1e-6 --max-iter 100000 --methods banded --repeats 3 --no-overrelax --json | tag A-plain
$G bench sinkhorn --s $S4/s.npy --t $S4/t.npy --gamma 0.01 --tol 1e-10 --band-eps 1e-30 --max-iter 100000 --methods banded --repeats 1 --json | tag A-reference

# (B) n = 2048, gamma = 0.001 (seed 1: on seed 0 POT's exp-domain kernel has an all-zero row)
$PY bench/pot_sinkhorn.py --s $S2b/s.npy --t $S2b/t.npy --gamma 0.001 --tol 1e-6 --max-iter 100000 --method sinkhorn --repeats 1 | tag B
$G bench sinkhorn --s $S2b/s.npy --t $S2b/t.npy --gamma 0.001 --band-eps 1e-6 --tol 1e-6 --max-iter 100000 --methods banded --repeats 5 --json | tag B
$G bench sinkhorn --s $S2/s.npy --t $S2/t.npy --gamma 0.001 --band-eps 1e-6 --tol 1e-6 --max-iter 100000 --methods banded --repeats 3 --json | tag B-seed0

# (C) n = 2048, gamma = 0.01: dense log-domain vs POT sinkhorn_log
$PY bench/pot_sinkhorn.py --s $S2/s.npy --t $S2/t.npy --gamma 0.01 --tol 1e-6 --max-iter 100000 --method sinkhorn_log --repeats 1 | tag C
$G bench sinkhorn --s $S2/s.npy --t $S2/t.npy --gamma 0.01 --tol 1e-6 --max-iter 100000 --methods dense --repeats 3 --json | tag C
$G bench sinkhorn --s $S2/s.npy --t $S2/t.npy --gamma 0.01 --tol 1e-6 --max-iter 100000 --methods dense --repeats 1 --no-overrelax --json | tag C-plain

# (D) the paper's line: n = 2048, gamma = 0.05, eps = 1e-6, 200 iterations
$PY bench/pot_sinkhorn.py --s $S2/s.npy --t $S2/t.npy --gamma 0.05 --tol 1e-6 --max-iter 200 --method sinkhorn --repeats 3 | tag D
$PY bench/pot_sinkhorn.py --s $S2/s.npy --t $S2/t.npy --gamma 0.05 --tol 1e-6 --max-iter 200 --method sinkhorn_log --repeats 1 | tag D
$G bench sinkhorn --s $S2/s.npy --t $S2/t.npy --gamma 0.05 --band-eps 1e-6 --tol 1e-6 --max-iter 200 --repeats 3 --json | tag D
