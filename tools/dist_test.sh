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
if ! [[ "$NPROC" =~ ^[1-9][0-9]*$ ]]; then
    echo "NUM_PROCS must be a positive integer, got '$NPROC'" >&2
    exit 2
fi

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON=python
[[ -x "$ROOT/.venv/bin/python" ]] && PYTHON="$ROOT/.venv/bin/python"

export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"

exec "$PYTHON" -m torch.distributed.run \
    --nnodes="${NNODES:-1}" \
    --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" \
    --master_port="${PORT:-29500}" \
    --nproc_per_node="$NPROC" \
    "$ROOT/tools/test.py" "$CONFIG" "$CHECKPOINT" --launcher pytorch "$@"
