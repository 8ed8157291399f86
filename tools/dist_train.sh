#!/usr/bin/env bash
# Train with NUM_PROCS processes per node through torchrun (--launcher pytorch).
#
#   bash tools/dist_train.sh CONFIG NUM_PROCS [tools/train.py args]
#   NNODES=2 NODE_RANK=0 MASTER_ADDR=10.0.0.1 PORT=29500 bash tools/dist_train.sh ...
#
# With GPUs, NUM_PROCS is the number of GPUs per node. Without one, NUM_PROCS CPU
# processes train with gloo (mixskd_mm.compat.setup_cpu_distributed).
set -euo pipefail

if [[ $# -lt 2 ]]; then
    echo "usage: bash $0 CONFIG NUM_PROCS [tools/train.py args]" >&2
    exit 2
fi
CONFIG=$1
NPROC=$2
shift 2
if ! [[ "$NPROC" =~ ^[1-9][0-9]*$ ]]; then
    echo "NUM_PROCS must be a positive integer, got '$NPROC'" >&2
    exit 2
fi

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON=python
[[ -x "$ROOT/.venv/bin/python" ]] && PYTHON="$ROOT/.venv/bin/python"

# One OpenMP thread per process unless asked otherwise: N processes times all
# cores each oversubscribes the CPU (torchrun sets the same, with a warning).
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"

exec "$PYTHON" -m torch.distributed.run \
    --nnodes="${NNODES:-1}" \
    --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" \
    --master_port="${PORT:-29500}" \
    --nproc_per_node="$NPROC" \
    "$ROOT/tools/train.py" "$CONFIG" --launcher pytorch "$@"
