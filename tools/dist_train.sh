#!/usr/bin/env bash
# Train with NUM_PROCS processes per node through torchrun (--launcher pytorch).
#
#   bash tools/dist_train.sh CONFIG NUM_PROCS [tools/train.py args]
#   NNODES=2 NODE_RANK=0 MASTER_ADDR=10.0.0.1 PORT=29500 bash tools/dist_train.sh ...
#
# With GPUs, NUM_PROCS is the number of GPUs per node. Without one, NUM_PROCS CPU
# processes train with gloo
# (mixskd_mm.engine.distributed.setup_cpu_distributed).
set -euo pipefail

if [[ $# -lt 2 ]]; then
    echo "usage: bash $0 CONFIG NUM_PROCS [tools/train.py args]" >&2
    exit 2
fi
CONFIG=$1
NPROC=$2
shift 2
exec bash "$(dirname "${BASH_SOURCE[0]}")/torchrun.sh" "$NPROC" train.py \
    "$CONFIG" "$@"
