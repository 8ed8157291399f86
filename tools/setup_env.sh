#!/usr/bin/env bash
# Set up .venv/ with the OpenMMLab stack on torch 2.14.1 plus this plugin.
#
#   bash tools/setup_env.sh           # idempotent: a second run checks and exits in seconds
#   bash tools/setup_env.sh --plan    # print what it would do; change nothing
#   PYTHON=/usr/bin/python3.12 bash tools/setup_env.sh   # choose the Python (3.10-3.13)
#   FORCE_SETUP=1 bash tools/setup_env.sh   # reinstall everything
#   MIXSKD_KEEP_TORCH=1 bash tools/setup_env.sh   # keep the torch already there
#   MIXSKD_MMCV_CUDA=0 bash tools/setup_env.sh    # CPU-only mmcv even with a GPU
#   MIXSKD_MMCV_CUDA=1 TORCH_CUDA_ARCH_LIST='8.0;9.0' bash tools/setup_env.sh
#                                     # CUDA kernels with no GPU visible (login node, image build)
#
# Without PYTHON the first CPython 3.10-3.13 on PATH is used, python3.11 first
# (tools/find_python.sh decides and says why).
# mmcv 2.1.0 (the version mmdet 3.3.0 and mmseg 1.2.2 accept) ships only as a source
# archive and its setup.py hard-codes -std=c++14/17, which torch 2.14's headers reject.
# We build it once with -std=c++20 and cache the wheel under $MIXSKD_CACHE (default
# ~/.cache/mixskd_mm/wheels), in a folder named after python, torch, CUDA and the
# GPU architectures (tools/mmcv_build_plan.py decides). MIXSKD_MMCV_CUDA=auto (the
# default) builds CUDA kernels where torch sees a GPU (FORCE_CUDA=1, for
# TORCH_CUDA_ARCH_LIST when set, else the visible GPUs); =1 builds them for
# TORCH_CUDA_ARCH_LIST with no GPU needed, and is refused without it. The nvcc is one
# of torch's CUDA major version: on PATH, under CUDA_HOME, else PyPI's
# nvidia-cuda-nvcc wheel. A CPU target takes the CPU wheel in ../shared/wheels/ when
# present; a CUDA target never does.
#
# MIXSKD_KEEP_TORCH=1 keeps an installed torch/torchvision (a cluster's cu126/cu128
# build, a container's): in .venv/ if it exists, else the new .venv/ sees the
# interpreter's packages (--system-site-packages). Everything else is installed
# around it under a pip constraint, and mmcv is built against it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
CACHE="${MIXSKD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mixskd_mm/wheels}"
SHARED_WHEELS="$ROOT/../shared/wheels"
MMCV_VERSION=2.1.0
TORCH_PIN=2.14.1
TORCH_PIN_CUDA=13.0
TORCHVISION_PIN=0.29.1
KEEP_TORCH="${MIXSKD_KEEP_TORCH:-0}"
MMCV_CUDA="${MIXSKD_MMCV_CUDA:-auto}"
ARCH_LIST="${TORCH_CUDA_ARCH_LIST:-}"
CONSTRAINTS="$VENV/mixskd-torch-constraints.txt"

step() { echo "[setup] $*"; }
fail() {
    echo "[setup] FAILED at step: $1" >&2
    echo "[setup] what to do: $2" >&2
    exit 1
}
PLAN_ONLY=0
for arg in "$@"; do
    case "$arg" in
        --plan) PLAN_ONLY=1 ;;
        -h|--help) sed -n '2,/^$/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) fail "read arguments" "unknown argument '$arg': the only one is --plan (print the plan, change nothing)" ;;
    esac
done
[[ "$KEEP_TORCH" =~ ^[01]$ ]] || fail "read MIXSKD_KEEP_TORCH" "set it to 1 (keep the installed torch) or 0, not '$KEEP_TORCH'"
[[ "$MMCV_CUDA" =~ ^(0|1|auto)$ ]] || fail "read MIXSKD_MMCV_CUDA" "set it to 0 (CPU-only mmcv), 1 (CUDA kernels for TORCH_CUDA_ARCH_LIST, no GPU needed) or auto (the default), not '$MMCV_CUDA'"

# The Python: the existing .venv/'s, else tools/find_python.sh's choice.
if [[ -x "$VENV/bin/python" ]]; then
    PY="$VENV/bin/python"
    PY_VERSION="$("$PY" -c 'import platform; print(platform.python_version())' 2>/dev/null)" \
        || fail "run $PY" "the .venv/ is broken: delete .venv/ and rerun"
    PY_WHY="the existing .venv/; delete .venv/ to choose another"
    [[ -n "${PYTHON:-}" ]] && PY_WHY+="; PYTHON=$PYTHON is not used while it exists"
else
    CHOICE="$(bash "$ROOT/tools/find_python.sh" 2>&1)" || fail "find Python" "$CHOICE"
    eval "$CHOICE"
fi
SWITCHES_ERR="$("$PY" "$ROOT/tools/mmcv_build_plan.py" --check-switches --cuda "$MMCV_CUDA" \
                --arch-list "$ARCH_LIST" 2>&1)" \
    || fail "read MIXSKD_MMCV_CUDA and TORCH_CUDA_ARCH_LIST" "${SWITCHES_ERR#error: }"

# The mmcv decisions (tools/mmcv_build_plan.py) as shell variables; extra
# arguments (a torch to plan for) go to the plan.
mmcv_plan() {
    local py="$1"; shift
    local args=(--cache "$CACHE" --shared-wheels "$SHARED_WHEELS" --cuda "$MMCV_CUDA"
                --arch-list "$ARCH_LIST" "$@")
    [[ -n "${MAX_JOBS:-}" ]] && args+=(--max-jobs "$MAX_JOBS")
    "$py" "$ROOT/tools/mmcv_build_plan.py" "${args[@]}"
}

stamp_of() {
    { cat "$ROOT/requirements.txt" "$ROOT/pyproject.toml" "$ROOT/tools/setup_env.sh" \
          "$ROOT/tools/mmcv_build_plan.py"
      echo "keep_torch=$KEEP_TORCH mmcv_cuda=$MMCV_CUDA arch_list=$ARCH_LIST key=$1"; } \
        | sha256sum | cut -d' ' -f1
}
STAMP_FILE="$VENV/.mixskd_setup_stamp"
up_to_date() {
    local key
    [[ -z "${FORCE_SETUP:-}" && -f "$STAMP_FILE" && -x "$VENV/bin/python" ]] || return 1
    key="$(mmcv_plan "$VENV/bin/python" 2>/dev/null | sed -n "s/^MMCV_CACHE_KEY=//p" | tr -d "'")" || return 1
    [[ -n "$key" && "$(cat "$STAMP_FILE")" == "$(stamp_of "$key")" ]]
}

# The first wheel for $PYTAG in $MMCV_SEARCH_DIRS.
find_mmcv_wheel() {
    local d dirs
    IFS=: read -r -a dirs <<< "$MMCV_SEARCH_DIRS"
    for d in "${dirs[@]}"; do
        compgen -G "$d/mmcv-${MMCV_VERSION}-${PYTAG}-${PYTAG}-linux_*.whl" >/dev/null 2>&1 \
            && { ls "$d"/mmcv-${MMCV_VERSION}-${PYTAG}-${PYTAG}-linux_*.whl | head -n1; return 0; }
    done
    return 1
}

# --plan: the decisions below, from what is here now, with nothing changed.
# Before .venv/ exists (or with another torch in it) it plans for the pinned
# torch and the GPUs nvidia-smi lists.
print_plan() {
    local torch_line plan_py="$PY" args=() venv_torch="" caps
    say() { printf '[plan] %-11s %s\n' "$1" "$2"; }
    echo "[plan] nothing is created, installed or built (run without --plan to do it)"
    say Python "$PY_VERSION from $PY ($PY_WHY)"
    if [[ -x "$VENV/bin/python" ]]; then
        venv_torch="$("$VENV/bin/python" -c 'import torch; print(torch.__version__)' 2>/dev/null)" || venv_torch=""
        say .venv/ "exists; $(up_to_date && echo 'up to date: a plain run only checks it' || echo 'a plain run updates it')"
    else
        say .venv/ "$VENV would be created with this Python"
    fi
    if [[ "$KEEP_TORCH" == 1 || "${venv_torch%%+*}" == "$TORCH_PIN" ]]; then
        torch_line="the installed one"
    else
        caps="$(command -v nvidia-smi >/dev/null 2>&1 \
                && nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | paste -sd, -)" || caps=""
        args=(--torch-version "$TORCH_PIN" --torch-cuda "$TORCH_PIN_CUDA" --capabilities "$caps")
        torch_line="$TORCH_PIN (pinned, CUDA $TORCH_PIN_CUDA build) with torchvision $TORCHVISION_PIN, to be installed${venv_torch:+ over $venv_torch}"
    fi
    [[ "$KEEP_TORCH" == 0 && -x "$VENV/bin/python" && -n "$venv_torch" ]] && plan_py="$VENV/bin/python"
    local out
    out="$(mmcv_plan "$plan_py" "${args[@]+"${args[@]}"}" 2>&1)" \
        || fail "plan the mmcv build" "${out#error: }"
    eval "$out"
    [[ "$torch_line" == "the installed one" ]] \
        && torch_line="$TORCH_VERSION (CUDA ${TORCH_CUDA/none/none: a CPU build}) of $plan_py, $([[ "$KEEP_TORCH" == 1 ]] && echo 'kept (MIXSKD_KEEP_TORCH=1)' || echo 'the pinned version')"
    say torch "$torch_line"
    say GPUs "${GPU_CAPS:-none visible}"
    if [[ "$MMCV_TARGET" == cuda ]]; then
        say mmcv "$MMCV_VERSION with CUDA kernels for $(a="${TORCH_CUDA_ARCH_LIST//./}"; echo "sm_${a//;/, sm_}") (from $MMCV_ARCH_SOURCE)"
    else
        say mmcv "$MMCV_VERSION with CPU ops only"
    fi
    [[ -n "$MMCV_NOTE" ]] && say note "$MMCV_NOTE"
    say "cache key" "$MMCV_CACHE_KEY"
    say "wheel dir" "$MMCV_WHEEL_DIR"
    PYTAG="cp${MMCV_CACHE_KEY%%-*}"; PYTAG="${PYTAG/cppy/cp}"
    if wheel="$(find_mmcv_wheel)"; then
        say "mmcv wheel" "cached: $wheel (installed, no build)"
    else
        say "mmcv wheel" "none cached: built from source with -std=$MMCV_CXX_STD into the wheel dir"
    fi
    if [[ "$MMCV_TARGET" != cuda ]]; then
        say nvcc "not needed (CPU ops)"
    elif [[ -n "$NVCC" ]]; then
        say nvcc "$NVCC (CUDA_HOME=$MMCV_CUDA_HOME)"
    else
        say nvcc "none of CUDA $TORCH_CUDA's major version found: $NVCC_WHEEL from PyPI would be installed"
    fi
    [[ -n "$NVCC_REJECTED" ]] && say "" "ignored (another CUDA major): $NVCC_REJECTED"
    say MAX_JOBS "$MAX_JOBS${MAX_JOBS_SET:+ (from MAX_JOBS)}"
}
MAX_JOBS_SET="${MAX_JOBS:-}"

if [[ "$PLAN_ONLY" == 1 ]]; then
    print_plan
    exit 0
fi

if up_to_date; then
    if "$VENV/bin/python" -c "import mixskd_mm, mmcv.ops" 2>/dev/null; then
        step "environment in .venv/ is up to date (delete .venv/ or set FORCE_SETUP=1 to rebuild)"
        exit 0
    fi
    step "stamp matches but the import check failed: reinstalling"
fi
step "Python $PY_VERSION from $PY ($PY_WHY)"

need_gb=12
[[ "$KEEP_TORCH" == 1 ]] && need_gb=3
avail_kb=$(df -Pk "$ROOT" | awk 'NR==2 {print $4}')
if [[ "${avail_kb:-0}" -lt $((need_gb * 1024 * 1024)) ]]; then
    fail "check free disk" "the set-up needs about $need_gb GB free under $ROOT (torch 2.14.1's CUDA build is most of it); free some space"
fi

if [[ ! -x "$VENV/bin/python" ]]; then
    step "creating $VENV"
    venv_args=()
    [[ "$KEEP_TORCH" == 1 ]] && venv_args=(--system-site-packages)
    "$PY" -m venv ${venv_args[@]+"${venv_args[@]}"} "$VENV" \
        || fail "create venv" "install the venv module (Debian: apt-get install python3-venv)"
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
# pip, quiet, without the local mirror's "Location ... is ignored" noise.
pip_q() {
    "${PIP[@]}" "$@" -q 2>&1 | grep -v 'is ignored: it is neither a file nor a directory' || true
    return "${PIPESTATUS[0]}"
}

if [[ "$KEEP_TORCH" == 1 ]]; then
    step "keeping the installed torch (MIXSKD_KEEP_TORCH=1)"
    "$VENV/bin/python" - "$CONSTRAINTS" <<'PY' \
        || fail "keep torch" "MIXSKD_KEEP_TORCH=1 needs torch and torchvision importable by $VENV/bin/python: create .venv/ over them (python -m venv --system-site-packages .venv with the python that has them) or pip install your torch build into .venv/, then rerun"
import sys
import torch
import torchvision
with open(sys.argv[1], 'w') as f:
    f.write(f'torch=={torch.__version__}\ntorchvision=={torchvision.__version__}\n')
print(f'[setup] torch {torch.__version__} (CUDA {torch.version.cuda}), '
      f'torchvision {torchvision.__version__}; pinned for pip in {sys.argv[1]}')
PY
    PIN=(-c "$CONSTRAINTS")
else
    rm -f "$CONSTRAINTS"
    PIN=()
fi

step "installing build prerequisites"
pip_q install ${PIN[@]+"${PIN[@]}"} 'setuptools>=77,<80.9' wheel ninja psutil \
    || fail "install build tools" "check that PyPI is reachable (pip config list) and retry"
if [[ "$KEEP_TORCH" == 0 ]]; then
    step "installing torch $TORCH_PIN + torchvision $TORCHVISION_PIN"
    pip_q install "torch==$TORCH_PIN" "torchvision==$TORCHVISION_PIN" \
        || fail "install torch" "torch==$TORCH_PIN/torchvision==$TORCHVISION_PIN must be reachable by pip; check the index and free disk. Your own torch (older driver, cu126/cu128): MIXSKD_KEEP_TORCH=1"
fi
pip_q install ${PIN[@]+"${PIN[@]}"} 'numpy<2.5' opencv-python-headless \
    || fail "install numpy" "check that PyPI is reachable; with MIXSKD_KEEP_TORCH=1 your torch may need another numpy"

PLAN_OUT="$(mmcv_plan "$VENV/bin/python")" || fail "plan the mmcv build" "tools/mmcv_build_plan.py failed (see above); it needs an importable torch in $VENV"
eval "$PLAN_OUT"
step "mmcv target: $MMCV_TARGET ($MMCV_CACHE_KEY${MMCV_ARCH_SOURCE:+, archs from $MMCV_ARCH_SOURCE})"
[[ -n "$MMCV_NOTE" ]] && step "note: $MMCV_NOTE"

if [[ "$MMCV_TARGET" == cuda && -z "$NVCC" ]]; then
    [[ -n "$NVCC_REJECTED" ]] && step "nvcc of another CUDA major version ignored: $NVCC_REJECTED"
    step "no nvcc matching torch's CUDA: installing $NVCC_WHEEL from PyPI"
    pip_q install ${PIN[@]+"${PIN[@]}"} "$NVCC_WHEEL" \
        || fail "install nvcc" "install the CUDA toolkit of torch's version and set CUDA_HOME to it, or set MIXSKD_MMCV_CUDA=0 for a CPU-only mmcv (nms/roi_align then run on the GPU through torchvision)"
    eval "$(mmcv_plan "$VENV/bin/python")"
    [[ -n "$NVCC" ]] || fail "find nvcc" "$NVCC_WHEEL installed but no nvcc was found under $VENV's nvidia/*/bin; set CUDA_HOME to a CUDA toolkit of torch's version, or MIXSKD_MMCV_CUDA=0"
fi

PYTAG="$("$VENV/bin/python" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')"
mkdir -p "$MMCV_WHEEL_DIR" || fail "create wheel cache" "set MIXSKD_CACHE to a writable folder"
if ! MMCV_WHEEL="$(find_mmcv_wheel)"; then
    command -v g++ >/dev/null 2>&1 \
        || fail "build mmcv" "no C++ compiler: install g++ (Debian: apt-get install g++), or put a prebuilt wheel in $MMCV_WHEEL_DIR"
    BUILD_ENV=(MMCV_WITH_OPS=1 FORCE_CUDA="$FORCE_CUDA" MAX_JOBS="$MAX_JOBS")
    if [[ "$MMCV_TARGET" == cuda ]]; then
        BUILD_ENV+=(TORCH_CUDA_ARCH_LIST="$TORCH_CUDA_ARCH_LIST" CUDA_HOME="$MMCV_CUDA_HOME"
                    PATH="$(dirname "$NVCC"):$PATH"
                    CPATH="$CUDA_CPATH${CPATH:+:$CPATH}")
        step "building mmcv ${MMCV_VERSION} with CUDA kernels for sm ${TORCH_CUDA_ARCH_LIST} with $NVCC, -std=$MMCV_CXX_STD, $MAX_JOBS jobs (minutes on many cores; cached afterwards)"
    else
        step "building mmcv ${MMCV_VERSION} (CPU ops) from source with -std=$MMCV_CXX_STD (about 20 min on 2 cores; cached afterwards)"
    fi
    BUILD="$(mktemp -d)"
    ( cd "$BUILD" \
      && "${PIP[@]}" download -q --no-deps --no-binary :all: "mmcv==${MMCV_VERSION}" \
      && tar xzf "mmcv-${MMCV_VERSION}.tar.gz" \
      && cd "mmcv-${MMCV_VERSION}" \
      && sed -i "s/-std=c++14/-std=${MMCV_CXX_STD}/g; s/-std=c++17/-std=${MMCV_CXX_STD}/g" setup.py \
      && env "${BUILD_ENV[@]}" \
         "${PIP[@]}" wheel -q --no-build-isolation --no-deps -w "$MMCV_WHEEL_DIR" . ) \
        || fail "build mmcv" "read the compiler output above; common causes: no disk in /tmp, no g++, a registry error downloading the sdist, or (CUDA) an nvcc/gcc pair nvcc does not support (MIXSKD_MMCV_CUDA=0 builds CPU ops only)"
    rm -rf "$BUILD"
    MMCV_WHEEL="$(find_mmcv_wheel)" || fail "build mmcv" "the build finished but left no wheel in $MMCV_WHEEL_DIR"
fi
step "using mmcv wheel $MMCV_WHEEL"
pip_q install --no-deps --force-reinstall "$MMCV_WHEEL" || fail "install mmcv" "the wheel $MMCV_WHEEL may be corrupt: delete it and rerun"

step "installing requirements.txt"
REQS="$ROOT/requirements.txt"
if [[ "$KEEP_TORCH" == 1 ]]; then
    REQS="$VENV/mixskd-requirements-keep-torch.txt"
    grep -Ev '^(torch|torchvision)([=<>! ]|$)' "$ROOT/requirements.txt" > "$REQS"
fi
pip_q install ${PIN[@]+"${PIN[@]}"} -r "$REQS" \
    || fail "install requirements" "check that PyPI is reachable; the failing package is named above"
step "installing mixskd_mm in editable mode"
pip_q install --no-deps --no-build-isolation -e . \
    || fail "install mixskd_mm" "pyproject.toml may be broken; run '${PIP[*]} install -e .' to see why"

step "checking the installation (tools/check_env.py)"
"$VENV/bin/python" "$ROOT/tools/check_env.py" \
    || fail "check installation" "tools/check_env.py names each problem and its fix above"
stamp_of "$MMCV_CACHE_KEY" > "$STAMP_FILE"
step "done: activate with 'source .venv/bin/activate'"
