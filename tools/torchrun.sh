#!/usr/bin/env bash
# Run a tools/ script in NUM_PROCS processes per node through torchrun, with
# --launcher pytorch. Shared by dist_train.sh and dist_test.sh.
#
#   bash tools/torchrun.sh NUM_PROCS SCRIPT [SCRIPT args]
#
# Environment: NNODES (1), NODE_RANK (0), MASTER_ADDR (127.0.0.1), PORT (29500).
# On the master node (NODE_RANK 0) a PORT that another process holds stops the
# run before torchrun starts, naming the port and a free one to use instead.
# With GPUs, NUM_PROCS is the number of GPUs per node. Without one, NUM_PROCS
# CPU processes run with gloo (mixskd_mm.engine.distributed.setup_cpu_distributed).
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

PORT="${PORT:-29500}"
if ! [[ "$PORT" =~ ^[0-9]+$ ]] || (( PORT < 1 || PORT > 65535 )); then
    echo "PORT must be a TCP port number (1-65535), got '$PORT'" >&2
    exit 2
fi
# torchrun's rendezvous store listens on PORT on the master node; a busy port
# would otherwise surface as a bare "EADDRINUSE" (or a hang) from torchrun.
if [[ "${NODE_RANK:-0}" == 0 ]]; then
    "$PYTHON" - "$PORT" "tools/dist_${SCRIPT%.py}.sh" <<'PY' || exit 1
import socket
import sys

port, launcher = int(sys.argv[1]), sys.argv[2]
with socket.socket() as sock:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(('', port))
    except OSError as err:
        with socket.socket() as free:
            free.bind(('', 0))
            spare = free.getsockname()[1]
        sys.exit(f'PORT {port} is already in use ({err.strerror}): another '
                 'job (an earlier torchrun?) holds it. Set the PORT variable '
                 f'to a free port, e.g. PORT={spare} bash {launcher} ...')
PY
fi

exec "$PYTHON" -m torch.distributed.run \
    --nnodes="${NNODES:-1}" \
    --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" \
    --master_port="$PORT" \
    --nproc_per_node="$NPROC" \
    "$ROOT/tools/$SCRIPT" "$@" --launcher pytorch
