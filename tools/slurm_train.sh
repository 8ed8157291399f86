#!/usr/bin/env bash
# Train on a Slurm cluster: GPUS tasks (one per GPU) through srun,
# --launcher slurm.
#
#   bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG [WORK_DIR] [train.py args]
#   GPUS=16 GPUS_PER_NODE=8 bash tools/slurm_train.sh gpu mixskd \
#       configs/mixskd_r50_imagenet.py work_dirs/mixskd_r50 --amp
#
# Environment (see tools/srun.sh): GPUS (8), GPUS_PER_NODE (8),
# CPUS_PER_TASK (5), SRUN_ARGS. Arguments after WORK_DIR (PY_ARGS) go to
# tools/train.py; WORK_DIR may be left out when the next argument is a flag.
set -euo pipefail

if [[ $# -lt 3 ]]; then
    echo "usage: bash $0 PARTITION JOB_NAME CONFIG [WORK_DIR] [train.py args]" >&2
    exit 2
fi
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
shift 3
WORK_DIR_ARGS=()
if [[ $# -gt 0 && "$1" != -* ]]; then
    WORK_DIR_ARGS=(--work-dir "$1")
    shift
fi
exec bash "$(dirname "${BASH_SOURCE[0]}")/srun.sh" "$PARTITION" "$JOB_NAME" \
    train.py "$CONFIG" ${WORK_DIR_ARGS[@]+"${WORK_DIR_ARGS[@]}"} "$@"
