#!/usr/bin/env bash
# Run a tools/ script in NUM_PROCS processes per node through torchrun, with
# --launcher pytorch. Shared by dist_train.sh and dist_test.sh.
#
#   bash tools/torchrun.sh NUM_PROCS SCRIPT [SCRIPT args]
#
# Environment: NNODES (1), NODE_RANK (0), MASTER_ADDR (127.0.0.1), PORT (29500).
# With GPUs, NUM_PROCS is the number of GPUs per node. Without one, NUM_PROCS
# CPU processes run with gloo (mixskd_mm.compat.setup_cpu_distributed).
set -euo pipefail

NPROC=$1
SCRIPT=$2
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
    "$ROOT/tools/$SCRIPT" "$@" --launcher pytorch
