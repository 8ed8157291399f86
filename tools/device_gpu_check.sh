#!/usr/bin/env bash
# The one command for a lent GPU machine without network (Python 3.12, torch
# with CUDA, nvcc): installs the OpenMMLab stack from a folder of wheels,
# builds mmcv 2.1.0 with its CUDA kernels, and runs tools/gpu_check.py
# --device cuda into $OUT/gpu_check, all within one 10-minute call.
#
#   mkdir -p .whl && cp ../shared/wheels/device-py312/* .whl/   # here, once
#   OUT=/some/dir bash tools/device_gpu_check.sh [--dry-run]    # there
#
# The route is ../shared/wheels/device-py312/README.md's (mmcv with CUDA ops
# built there in 195 s on 16 cores). The build runs in the background while
# the benchmarks, which need no mmcv ops, run on the GPU with mmcv's pure
# Python package; the other steps run once mmcv is installed. gpu_check.md
# says which steps ran beside the build. --dry-run prints the commands.
#
# Environment: OUT (required), WHEELS (.whl), SITE (/tmp/site), PYTHON
# (python3), TORCH_CUDA_ARCH_LIST (9.0), MAX_JOBS (14), CALL_LIMIT_S (570:
# the time this script may take, inside the device call's 600 s).
set -euo pipefail

DRY=
if [[ "${1:-}" == "--dry-run" ]]; then DRY=1; shift; fi
if [[ $# -gt 0 ]]; then
    echo "usage: OUT=DIR bash $0 [--dry-run]" >&2
    exit 2
fi
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
: "${OUT:?set OUT to the folder for the results (the device tool sets it)}"
WHEELS="${WHEELS:-$ROOT/.whl}"
SITE="${SITE:-/tmp/site}"
PYTHON="${PYTHON:-python3}"
ARCH="${TORCH_CUDA_ARCH_LIST:-9.0}"
JOBS="${MAX_JOBS:-14}"
LIMIT="${CALL_LIMIT_S:-570}"
MMCV_SRC=/tmp/src/mmcv-2.1.0
CHECK="$OUT/gpu_check"

run() { echo "+ $*"; [[ -n "$DRY" ]] || "$@"; }

if [[ ! -f "$WHEELS/mmcv-2.1.0.tar.gz" ]] || ! ls "$WHEELS"/*.whl >/dev/null 2>&1; then
    echo "no wheels in $WHEELS: copy them first (mkdir -p .whl && cp" \
        "../shared/wheels/device-py312/* .whl/) and pass carry [\".whl\"]" \
        "to the device tool, or set WHEELS" >&2
    [[ -n "$DRY" ]] || exit 1
fi

# torchrun.sh calls `python`; a stock Ubuntu has only python3.
run mkdir -p /tmp/gpu_check_bin
run ln -sf "$(command -v "$PYTHON")" /tmp/gpu_check_bin/python
export PATH="/tmp/gpu_check_bin:$PATH"

run "$PYTHON" -m pip install -q --no-index --no-deps --no-compile \
    --target "$SITE" "$WHEELS"/*.whl
run mkdir -p /tmp/src "$CHECK"
run tar xzf "$WHEELS/mmcv-2.1.0.tar.gz" -C /tmp/src
# mmcv 2.1.0's setup.py asks for C++14; torch >= 2.1 headers need C++17.
run sed -i 's/-std=c++14/-std=c++17/g' "$MMCV_SRC/setup.py"

echo "+ (build mmcv with CUDA ops in the background: $OUT/mmcv-build.log)"
if [[ -z "$DRY" ]]; then
    ( cd "$MMCV_SRC" && MMCV_WITH_OPS=1 FORCE_CUDA=1 \
        TORCH_CUDA_ARCH_LIST="$ARCH" MAX_JOBS="$JOBS" PYTHONPATH="$SITE" \
        nice -n 19 "$PYTHON" setup.py bdist_wheel -d /tmp/mmcv-wheel \
        > "$OUT/mmcv-build.log" 2>&1 ) &
    BUILD=$!
fi

# Beside the build: the benchmarks, with mmcv's Python package from the
# archive (classification needs no compiled op).
PYTHONPATH="$SITE:$MMCV_SRC:$ROOT" run "$PYTHON" "$ROOT/tools/gpu_check.py" \
    --device cuda --out "$CHECK" --budget-s 240 \
    --note "beside the mmcv build (nice 19, MAX_JOBS=$JOBS)" \
    --steps benchmark_r18 benchmark_r50 || true

BUILD_START=$SECONDS
if [[ -z "$DRY" ]]; then
    if ! wait "$BUILD"; then
        echo "the mmcv build failed; its log: $OUT/mmcv-build.log" >&2
        tail -30 "$OUT/mmcv-build.log" >&2
    fi
    echo "mmcv build finished $((SECONDS - BUILD_START)) s after the" \
        "benchmarks, $SECONDS s into this script"
fi
run "$PYTHON" -m pip install -q --no-index --no-deps --target "$SITE" \
    /tmp/mmcv-wheel/mmcv-2.1.0-*.whl || true

# The other steps into the same report; a benchmark that failed beside the
# build runs again if the time allows.
STEPS="check_env ops demo_data dist_train export faster_rcnn"
if [[ -z "$DRY" && -f "$CHECK/gpu_check.json" ]]; then
    STEPS="$STEPS $("$PYTHON" -c 'import json, sys; print(" ".join(
        n for n in json.load(open(sys.argv[1]))["failed"]))' \
        "$CHECK/gpu_check.json")"
fi
# With no time left the steps are still recorded, as "not run".
LEFT=$((LIMIT - SECONDS > 1 ? LIMIT - SECONDS : 1))
# shellcheck disable=SC2086
PYTHONPATH="$SITE:$ROOT" run "$PYTHON" "$ROOT/tools/gpu_check.py" --device cuda \
    --out "$CHECK" --budget-s "$LEFT" --append --steps $STEPS
