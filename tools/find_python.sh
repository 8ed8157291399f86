#!/usr/bin/env bash
# Choose the Python that tools/setup_env.sh builds .venv/ with.
#
#   bash tools/find_python.sh     # prints PY=... PY_VERSION=... PY_WHY=... for eval
#
# PYTHON, when set, is taken or refused; else the first supported CPython on
# PATH among python3.11 (the shared CPU mmcv wheel is cp311), python3.12,
# python3.10, python3.13 and python3. Supported means CPython 3.10-3.13: the
# range torch 2.14.1, mmcv 2.1.0's sources and the OpenMMLab packages all
# install on. Exits 1 with the problem and its fix on stderr when none fits.
set -uo pipefail

MIN=(3 10)
MAX=(3 13)
CANDIDATES=(python3.11 python3.12 python3.10 python3.13 python3)
FIX_INSTALL="install one (Ubuntu 24.04: apt-get install python3.12-venv; Debian 13: apt-get install python3.13-venv) or set PYTHON=/path/to/python3.12"

# "CPython 3.12.1" from an interpreter, or nothing when it does not run
# (a pyenv shim of an unselected version exits non-zero). sys.stdout.write
# so that a Python 2 answers too and is then refused by its version.
describe() {
    "$1" -c 'import platform, sys; sys.stdout.write("%s %d.%d.%d\n" % ((platform.python_implementation(),) + tuple(sys.version_info[:3])))' 2>/dev/null
}

# Empty when "IMPL X.Y.Z" is supported, else why not.
unsupported() {
    local impl="${1%% *}" version="${1#* }" major minor
    IFS=. read -r major minor _ <<< "$version"
    if [[ "$impl" != CPython ]]; then
        echo "$impl, not CPython"
    elif (( major < MIN[0] || (major == MIN[0] && minor < MIN[1]) )); then
        echo "$version is too old"
    elif (( major > MAX[0] || (major == MAX[0] && minor > MAX[1]) )); then
        echo "$version is too new for torch 2.14.1 and mmcv 2.1.0"
    fi
}

# The skipped interpreters, "; "-separated (no sed: PATH may be bare).
joined() {
    local out="" item
    for item in "${skipped[@]}"; do out+="${out:+; }$item"; done
    echo "$out"
}

emit() {
    printf 'PY=%q\nPY_VERSION=%q\nPY_WHY=%q\n' "$1" "$2" "$3"
}

if [[ -n "${PYTHON:-}" ]]; then
    path="$(command -v "$PYTHON" 2>/dev/null)" || {
        echo "PYTHON=$PYTHON is not an executable; point PYTHON at a CPython 3.10-3.13 (e.g. PYTHON=/usr/bin/python3.12) or unset it to take the first supported one on PATH" >&2
        exit 1
    }
    desc="$(describe "$path")" || desc=""
    [[ -n "$desc" ]] || {
        echo "PYTHON=$PYTHON ($path) does not run; point PYTHON at a working CPython 3.10-3.13 or unset it" >&2
        exit 1
    }
    why="$(unsupported "$desc")"
    [[ -z "$why" ]] || {
        echo "PYTHON=$PYTHON is $desc: $why; mixskd_mm needs CPython 3.10-3.13: point PYTHON at one or unset it to take the first supported one on PATH" >&2
        exit 1
    }
    emit "$path" "${desc#* }" "PYTHON=$PYTHON"
    exit 0
fi

skipped=()
for name in "${CANDIDATES[@]}"; do
    path="$(command -v "$name" 2>/dev/null)" || continue
    desc="$(describe "$path")" || desc=""
    if [[ -z "$desc" ]]; then
        skipped+=("$path does not run")
        continue
    fi
    why="$(unsupported "$desc")"
    if [[ -n "$why" ]]; then
        skipped+=("$path: $why")
        continue
    fi
    note="first supported on PATH; PYTHON=... to choose"
    (( ${#skipped[@]} )) && note+="; skipped: $(joined)"
    emit "$path" "${desc#* }" "$note"
    exit 0
done

found="none of ${CANDIDATES[*]}"
(( ${#skipped[@]} )) && found="$(joined)"
echo "no CPython 3.10-3.13 on PATH (found: $found); $FIX_INSTALL" >&2
exit 1
