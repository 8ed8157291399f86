#!/usr/bin/env bash
# Test a checkpoint with NUM_PROCS processes per node through torchrun.
#
#   bash tools/dist_test.sh CONFIG CHECKPOINT NUM_PROCS [tools/test.py args]
#
# Same environment variables as tools/dist_train.sh (NNODES, NODE_RANK,
# MASTER_ADDR, PORT); without a GPU the processes run on the CPU with gloo.
set -euo pipefail

if [[ $# -lt 3 ]]; then
    echo "usage: bash $0 CONFIG CHECKPOINT NUM_PROCS [tools/test.py args]" >&2
    exit 2
fi
CONFIG=$1
CHECKPOINT=$2
NPROC=$3
shift 3
exec bash "$(dirname "${BASH_SOURCE[0]}")/torchrun.sh" "$NPROC" test.py \
    "$CONFIG" "$CHECKPOINT" "$@"
