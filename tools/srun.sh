#!/usr/bin/env bash
# Run a tools/ script as GPUS Slurm tasks through srun, with --launcher slurm.
# Shared by slurm_train.sh and slurm_test.sh (OpenMMLab's slurm_*.sh
# arguments and environment).
#
#   bash tools/srun.sh PARTITION JOB_NAME SCRIPT [SCRIPT args]
#
# Environment: GPUS (8) tasks in all, GPUS_PER_NODE (8) GPUs and tasks per
# node (at most GPUS), CPUS_PER_TASK (5), SRUN_ARGS (extra srun options,
# split on spaces, e.g. "--quotatype=auto --time=1-0").
# mmengine's slurm launcher reads SLURM_PROCID, SLURM_NTASKS and the node
# list, and picks the master port from MASTER_PORT (29500 if unset).
set -euo pipefail

if [[ $# -lt 3 ]]; then
    echo "usage: bash $0 PARTITION JOB_NAME SCRIPT [SCRIPT args]" >&2
    exit 2
fi
PARTITION=$1
JOB_NAME=$2
SCRIPT=$3
shift 3

GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
for var in GPUS GPUS_PER_NODE CPUS_PER_TASK; do
    if ! [[ "${!var}" =~ ^[1-9][0-9]*$ ]]; then
        echo "$var must be a positive integer, got '${!var}'" >&2
        exit 2
    fi
done
# One task per GPU: a job smaller than a node asks for only its GPUs.
TASKS_PER_NODE=$((GPUS < GPUS_PER_NODE ? GPUS : GPUS_PER_NODE))
read -r -a EXTRA_SRUN <<< "${SRUN_ARGS:-}"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON=python
[[ -x "$ROOT/.venv/bin/python" ]] && PYTHON="$ROOT/.venv/bin/python"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"

command -v srun >/dev/null 2>&1 || {
    echo "srun not found: run this on a Slurm login node, or use" \
         "tools/dist_train.sh / dist_test.sh (torchrun) instead" >&2
    exit 127
}
exec srun -p "$PARTITION" \
    --job-name="$JOB_NAME" \
    --gres="gpu:$TASKS_PER_NODE" \
    --ntasks="$GPUS" \
    --ntasks-per-node="$TASKS_PER_NODE" \
    --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 \
    ${EXTRA_SRUN[@]+"${EXTRA_SRUN[@]}"} \
    "$PYTHON" -u "$ROOT/tools/$SCRIPT" "$@" --launcher slurm
