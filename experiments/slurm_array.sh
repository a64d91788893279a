#!/bin/bash
# Run a recipe as a Slurm job array: task I of N runs every N-th grid point into the shared
# results directory; the last step merges (or run `anyfloat merge results/<name>` by hand).
#
#   sbatch --array=0-9 experiments/slurm_array.sh experiments/lorenz63.toml
#   # when every task has finished:
#   anyfloat merge results/lorenz63
#
#SBATCH --job-name=anyfloat
#SBATCH --cpus-per-task=8
#SBATCH --time=02:00:00
set -euo pipefail
recipe=${1:?usage: sbatch --array=0-(N-1) slurm_array.sh RECIPE.toml}
n=${SLURM_ARRAY_TASK_COUNT:?run as a job array}
i=${SLURM_ARRAY_TASK_ID:?run as a job array}
anyfloat run "$recipe" --shard "$i/$n" --threads "${SLURM_CPUS_PER_TASK:-1}" --quiet
