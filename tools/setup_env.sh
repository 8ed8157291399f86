#!/usr/bin/env bash
# Set up .venv/ with the OpenMMLab stack on torch 2.14.1 plus this plugin.
#
#   bash tools/setup_env.sh           # idempotent: a second run checks and exits in seconds
#   FORCE_SETUP=1 bash tools/setup_env.sh   # reinstall everything
#
# mmcv 2.1.0 (the version mmdet 3.3.0 and mmseg 1.2.2 accept) ships only as a source
# archive and its setup.py hard-codes -std=c++14/17, which torch 2.14's headers reject.
# We build it once with -std=c++20 and cache the wheel in $MIXSKD_CACHE (default
# ~/.cache/mixskd_mm/wheels); a wheel in ../shared/wheels/ is used when present.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
PY="${PYTHON:-python3.11}"
CACHE="${MIXSKD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mixskd_mm/wheels}"
SHARED_WHEELS="$ROOT/../shared/wheels"
MMCV_VERSION=2.1.0

step() { echo "[setup] $*"; }
fail() {
    echo "[setup] FAILED at step: $1" >&2
    echo "[setup] what to do: $2" >&2
    exit 1
}

stamp_of() {
    cat "$ROOT/requirements.txt" "$ROOT/pyproject.toml" "$ROOT/tools/setup_env.sh" \
        | sha256sum | cut -d' ' -f1
}
STAMP_FILE="$VENV/.mixskd_setup_stamp"
WANT_STAMP="$(stamp_of)"

if [[ -z "${FORCE_SETUP:-}" && -f "$STAMP_FILE" && "$(cat "$STAMP_FILE")" == "$WANT_STAMP" ]]; then
    if "$VENV/bin/python" -c "import mixskd_mm, mmcv.ops" 2>/dev/null; then
        step "environment in .venv/ is up to date (delete .venv/ or set FORCE_SETUP=1 to rebuild)"
        exit 0
    fi
    step "stamp matches but the import check failed: reinstalling"
fi

command -v "$PY" >/dev/null 2>&1 \
    || fail "find Python" "install Python 3.11 or point PYTHON=/path/to/python3.11 at one"
"$PY" -c 'import sys; assert sys.version_info[:2] >= (3, 10)' 2>/dev/null \
    || fail "check Python version" "Python >= 3.10 is required (3.11 recommended); set PYTHON=..."

avail_kb=$(df -Pk "$ROOT" | awk 'NR==2 {print $4}')
if [[ "${avail_kb:-0}" -lt $((12 * 1024 * 1024)) ]]; then
    fail "check free disk" "torch 2.14.1 (CUDA build) needs about 12 GB free under $ROOT; free some space"
fi

if [[ ! -x "$VENV/bin/python" ]]; then
    step "creating $VENV"
    "$PY" -m venv "$VENV" || fail "create venv" "install the venv module (Debian: apt-get install python3-venv)"
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
# pip, quiet, without the local mirror's "Location ... is ignored" noise.
pip_q() {
    "${PIP[@]}" "$@" -q 2>&1 | grep -v 'is ignored: it is neither a file nor a directory' || true
    return "${PIPESTATUS[0]}"
}

step "installing build prerequisites and torch 2.14.1 + torchvision 0.29.1"
pip_q install 'setuptools>=77,<80.9' wheel ninja psutil \
    || fail "install build tools" "check that PyPI is reachable (pip config list) and retry"
pip_q install torch==2.14.1 torchvision==0.29.1 'numpy<2.5' opencv-python-headless \
    || fail "install torch" "torch==2.14.1/torchvision==0.29.1 must be reachable by pip; check the index and free disk"

PYTAG="$("$VENV/bin/python" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')"
find_mmcv_wheel() {
    local d
    for d in "$CACHE" "$SHARED_WHEELS"; do
        compgen -G "$d/mmcv-${MMCV_VERSION}-${PYTAG}-${PYTAG}-linux_*.whl" >/dev/null 2>&1 \
            && { ls "$d"/mmcv-${MMCV_VERSION}-${PYTAG}-${PYTAG}-linux_*.whl | head -n1; return 0; }
    done
    return 1
}

mkdir -p "$CACHE" || fail "create wheel cache" "set MIXSKD_CACHE to a writable folder"
if ! MMCV_WHEEL="$(find_mmcv_wheel)"; then
    command -v g++ >/dev/null 2>&1 \
        || fail "build mmcv" "no C++ compiler: install g++ (Debian: apt-get install g++), or put a prebuilt wheel in $CACHE"
    step "building mmcv ${MMCV_VERSION} from source with -std=c++20 (about 20 min on 2 cores; cached afterwards)"
    BUILD="$(mktemp -d)"
    ( cd "$BUILD" \
      && "${PIP[@]}" download -q --no-deps --no-binary :all: "mmcv==${MMCV_VERSION}" \
      && tar xzf "mmcv-${MMCV_VERSION}.tar.gz" \
      && cd "mmcv-${MMCV_VERSION}" \
      && sed -i 's/-std=c++14/-std=c++20/g; s/-std=c++17/-std=c++20/g' setup.py \
      && MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS="${MAX_JOBS:-2}" \
         "${PIP[@]}" wheel -q --no-build-isolation --no-deps -w "$CACHE" . ) \
        || fail "build mmcv" "read the compiler output above; common causes: no disk in /tmp, no g++, or a registry error downloading the sdist"
    rm -rf "$BUILD"
    MMCV_WHEEL="$(find_mmcv_wheel)" || fail "build mmcv" "the build finished but left no wheel in $CACHE"
fi
step "using mmcv wheel $MMCV_WHEEL"
pip_q install --no-deps "$MMCV_WHEEL" || fail "install mmcv" "the wheel $MMCV_WHEEL may be corrupt: delete it and rerun"

step "installing requirements.txt"
pip_q install -r requirements.txt \
    || fail "install requirements" "check that PyPI is reachable; the failing package is named above"
step "installing mixskd_mm in editable mode"
pip_q install --no-deps --no-build-isolation -e . \
    || fail "install mixskd_mm" "pyproject.toml may be broken; run '${PIP[*]} install -e .' to see why"

step "checking imports and the mmcv CPU ops"
"$VENV/bin/python" - <<'PY' || fail "check installation" "an import failed: see the traceback above"
import torch
import mixskd_mm, mmpretrain, mmdet, mmseg  # noqa: F401
from mmcv.ops import nms, RoIAlign
boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 10., 10.], [20., 20., 30., 30.]])
_, keep = nms(boxes, torch.tensor([0.9, 0.8, 0.7]), 0.5)
assert keep.tolist() == [0, 2], keep
out = RoIAlign((2, 2), 1.0, 0)(torch.ones(1, 1, 8, 8), torch.tensor([[0., 0., 0., 4., 4.]]))
assert out.shape == (1, 1, 2, 2) and torch.allclose(out, torch.ones_like(out))
print(f'[setup] ok: torch {torch.__version__}, mmcv ops run on CPU')
PY
echo "$WANT_STAMP" > "$STAMP_FILE"
step "done: activate with 'source .venv/bin/activate'"
