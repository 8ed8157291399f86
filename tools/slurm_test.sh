#!/usr/bin/env bash
# Test a checkpoint on a Slurm cluster: GPUS tasks through srun,
# --launcher slurm.
#
#   bash tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py args]
#
# Environment (see tools/srun.sh): GPUS (8), GPUS_PER_NODE (8),
# CPUS_PER_TASK (5), SRUN_ARGS. Arguments after CHECKPOINT (PY_ARGS) go to
# tools/test.py.
set -euo pipefail

if [[ $# -lt 4 ]]; then
    echo "usage: bash $0 PARTITION JOB_NAME CONFIG CHECKPOINT [test.py args]" >&2
    exit 2
fi
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
CHECKPOINT=$4
shift 4
exec bash "$(dirname "${BASH_SOURCE[0]}")/srun.sh" "$PARTITION" "$JOB_NAME" \
    test.py "$CONFIG" "$CHECKPOINT" "$@"
