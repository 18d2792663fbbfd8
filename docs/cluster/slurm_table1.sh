#!/bin/bash
# Table 1 sweep (10 configs × 5 seeds = 50 runs) as a Slurm job array: each array task runs its 1/10 of the grid
# into one shared run folder. Submit from the repository root on a shared filesystem:
#   mkdir -p logs && jobid=$(sbatch --parsable docs/cluster/slurm_table1.sh)
#   sbatch --dependency=afterok:$jobid --wrap "glass compile-runs --logdir runs/table1"
# `glass` on the PATH: `dotnet tool install -g Glass.Cli` (or --tool-path on the shared filesystem).
# glass reads SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_COUNT itself: any contiguous --array
# range works (0-9, 1-10, 0-18:2); `glass sweep … --list` shows a task's share without running it.
#SBATCH --job-name=glass-table1
#SBATCH --array=0-9
#SBATCH --cpus-per-task=2
#SBATCH --mem=4G
#SBATCH --time=02:00:00
#SBATCH --output=logs/table1_%A_%a.out
set -euo pipefail
cd "$SLURM_SUBMIT_DIR"
# A requeued or resubmitted task skips the runs already complete and resumes an interrupted one from its checkpoint.
glass sweep configs/_auto_s2_M1_*.yaml --seeds 0,1,2,3,4 --out runs/table1 --device auto --quiet
