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
#
# Preemption and requeue: with REQUEUE=1 the job is submitted with sbatch
# --requeue --signal=USR1@SIGNAL_SECONDS (120) instead of run in the
# foreground; SBATCH_ARGS adds sbatch options (e.g. "--time=1-0
# --output=slurm-%j.out"). On SIGTERM (preemption) or the USR1 warning before
# the time limit, tools/train.py saves a checkpoint after the current
# iteration and exits with status 75; the job then requeues itself
# (scontrol requeue; a preempted job is requeued by Slurm) and the new run
# starts with --resume, at the next iteration.
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
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PREEMPTED=75  # mixskd_mm.engine.PREEMPTED_EXIT_CODE

if [[ "${REQUEUE:-0}" == 1 && -z "${MIXSKD_REQUEUE_JOB:-}" ]]; then
    GPUS=${GPUS:-8}
    GPUS_PER_NODE=${GPUS_PER_NODE:-8}
    SIGNAL_SECONDS=${SIGNAL_SECONDS:-120}
    for var in GPUS GPUS_PER_NODE SIGNAL_SECONDS; do
        if ! [[ "${!var}" =~ ^[1-9][0-9]*$ ]]; then
            echo "$var must be a positive integer, got '${!var}'" >&2
            exit 2
        fi
    done
    TASKS_PER_NODE=$((GPUS < GPUS_PER_NODE ? GPUS : GPUS_PER_NODE))
    read -r -a EXTRA_SBATCH <<< "${SBATCH_ARGS:-}"
    command -v sbatch >/dev/null 2>&1 || {
        echo "sbatch not found: REQUEUE=1 submits a batch job from a Slurm" \
             "login node; without REQUEUE the job runs through srun" >&2
        exit 127
    }
    # This script is the batch script; MIXSKD_REQUEUE_JOB (exported with
    # the rest of the environment) makes it run the training below.
    MIXSKD_REQUEUE_JOB=1 exec sbatch -p "$PARTITION" \
        --job-name="$JOB_NAME" \
        --gres="gpu:$TASKS_PER_NODE" \
        --ntasks="$GPUS" \
        --ntasks-per-node="$TASKS_PER_NODE" \
        --cpus-per-task="${CPUS_PER_TASK:-5}" \
        --requeue \
        --signal="USR1@$SIGNAL_SECONDS" \
        --open-mode=append \
        ${EXTRA_SBATCH[@]+"${EXTRA_SBATCH[@]}"} \
        "$HERE/slurm_train.sh" "$PARTITION" "$JOB_NAME" "$CONFIG" \
        ${WORK_DIR_ARGS[@]+"${WORK_DIR_ARGS[@]}"} "$@"
fi

if [[ -z "${MIXSKD_REQUEUE_JOB:-}" ]]; then
    exec bash "$HERE/srun.sh" "$PARTITION" "$JOB_NAME" \
        train.py "$CONFIG" ${WORK_DIR_ARGS[@]+"${WORK_DIR_ARGS[@]}"} "$@"
fi

# Inside the batch job (first start or a requeue): resume whatever the
# work_dir's last_checkpoint names (train.py warns and starts from scratch
# when there is none).
RESUME=(--resume)
for arg in "$@"; do
    [[ "$arg" == --resume ]] && RESUME=()
done
# Slurm's preemption also sends SIGTERM to this shell: keep waiting, or the
# job would end (and its steps be killed) before train.py has saved.
trap 'echo "SIGTERM: waiting for train.py to save its checkpoint" >&2' TERM
bash "$HERE/srun.sh" "$PARTITION" "$JOB_NAME" train.py "$CONFIG" \
    ${WORK_DIR_ARGS[@]+"${WORK_DIR_ARGS[@]}"} "$@" \
    ${RESUME[@]+"${RESUME[@]}"} &
child=$!
while true; do
    wait "$child" && rc=0 || rc=$?
    kill -0 "$child" 2>/dev/null || break  # else the trap cut the wait short
done
if [[ $rc -eq $PREEMPTED ]]; then
    echo "training stopped on a signal with a checkpoint (status $rc):" \
         "requeueing job ${SLURM_JOB_ID:-?}" >&2
    scontrol requeue "${SLURM_JOB_ID:?SLURM_JOB_ID is not set}"
fi
exit $rc
