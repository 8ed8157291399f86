"""Decide how tools/setup_env.sh gets mmcv 2.1.0: CPU or CUDA, and where.

    python tools/mmcv_build_plan.py --cache DIR [--shared-wheels DIR]
        [--cuda 0|1|auto] [--arch-list '8.0;9.0'] [--python-tag py311]
        [--torch-version 2.14.1] [--torch-cuda 13.0|none]
        [--capabilities 9.0,8.0] [--cores N] [--max-jobs N]
        [--site-packages DIR]
    python tools/mmcv_build_plan.py --check-switches --cuda 1 --arch-list 9.0

Prints shell assignments (``KEY='value'``, one a line) for ``eval``:

- ``MMCV_TARGET``: ``cuda`` or ``cpu``. ``--cuda`` is MIXSKD_MMCV_CUDA and
  ``--arch-list`` TORCH_CUDA_ARCH_LIST: ``0`` is CPU ops only; ``1`` builds
  CUDA kernels for the arch list whether or not a GPU is visible (a login
  node, an image build) and is refused without a list or with a CPU torch;
  ``auto`` builds CUDA kernels when torch was built with CUDA and sees a
  GPU, for the arch list when given, else for the visible GPUs.
  ``MMCV_ARCH_SOURCE`` says where the architectures came from and
  ``MMCV_NOTE`` what a setting did not do (an arch list with ``auto`` and no
  GPU). ``TORCH_VERSION``, ``TORCH_CUDA`` and ``GPU_CAPS`` echo the inputs.
- ``MMCV_CACHE_KEY``: python, torch, and CUDA version plus GPU
  architectures, e.g. ``py312-torch2.11.0-cu130-sm90``, or
  ``py311-torch2.14.1-cpu``. ``MMCV_WHEEL_DIR`` is ``CACHE/KEY``, where a
  build puts its wheel.
- ``MMCV_SEARCH_DIRS``: ``:``-separated folders to take a ready wheel from.
  Only a CPU target built against torch 2.14.1 may also take the CPU wheel
  of ``--shared-wheels`` and one in the flat ``CACHE`` folder of earlier
  set-ups (both CPU builds against torch 2.14.1); a CUDA target takes only
  its own folder, so a CPU wheel never lands on a GPU machine.
- ``FORCE_CUDA``, ``TORCH_CUDA_ARCH_LIST`` (``8.0;9.0``), ``MAX_JOBS``,
  ``MMCV_CXX_STD`` (the ``-std=`` that replaces mmcv's c++14/17).
- ``NVCC``, ``MMCV_CUDA_HOME``, ``CUDA_CPATH``: an nvcc whose major version is
  torch's (on PATH, under ``CUDA_HOME``/``CUDA_PATH``, /usr/local/cuda or an
  ``nvidia/*/bin`` of site-packages), with the include folders of the
  ``nvidia-*`` wheels (cuSPARSE, cuBLAS ... headers that torch's headers
  need and a bare toolkit may lack). Empty when none matches;
  ``NVCC_WHEEL`` then names the PyPI package to install
  (``nvidia-cuda-nvcc-cu12==12.8.*``, ``nvidia-cuda-nvcc==13.0.*``) and
  ``NVCC_REJECTED`` the compilers found with another major version.

Each input defaults to this interpreter's torch (imported only when one is
missing), so tests give them all and need no GPU. Bad switches exit 2 with
the problem and its fix on stderr; ``--check-switches`` only does that, so
the set-up refuses them before it installs anything.
"""
import argparse
import glob
import os
import os.path as osp
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
from typing import Dict, List, Optional, Sequence, Tuple

#: The torch the shared and earlier flat-cache CPU wheels were built against.
SHARED_WHEEL_TORCH = '2.14.1'


def base_version(version: str) -> str:
    """``'2.11.0+cu130'`` -> ``'2.11.0'``."""
    return version.split('+')[0]


def parse_nvcc_version(text: str) -> Optional[Tuple[int, int]]:
    """``(major, minor)`` from ``nvcc --version`` output, or None."""
    match = re.search(r'release (\d+)\.(\d+)', text)
    return (int(match[1]), int(match[2])) if match else None


def parse_cuda(version: Optional[str]) -> Optional[Tuple[int, int]]:
    """``'13.0'`` -> ``(13, 0)``; None or ``'none'`` -> None."""
    if not version or version.lower() == 'none':
        return None
    major, minor = version.split('.')[:2]
    return int(major), int(minor)


#: One TORCH_CUDA_ARCH_LIST entry: ``9.0``, ``9.0a`` (arch-specific
#: features), ``10.0f`` (family) or ``9.0+PTX`` (also PTX for later GPUs).
ARCH_RE = re.compile(r'(\d+)\.(\d)([af]?)(\+PTX)?')
ARCH_FIX = ("set TORCH_CUDA_ARCH_LIST to compute capabilities like '8.0;9.0' "
            "(A100 8.0, L40S/RTX 4090 8.9, H100/H200 9.0, B200 10.0; "
            "'9.0+PTX' adds PTX for newer GPUs); on the GPU machine "
            "'nvidia-smi --query-gpu=compute_cap --format=csv' prints them")


class PlanError(ValueError):
    """A switch the set-up refuses; the message names the fix."""


def _arch_order(arch: str) -> Tuple[int, int, str, bool]:
    major, minor, suffix, ptx = ARCH_RE.fullmatch(arch).groups()
    return int(major), int(minor), suffix, bool(ptx)


def arch_list(capabilities: Sequence[str]) -> List[str]:
    """Distinct compute capabilities, sorted: ``['8.0', '9.0']``."""
    return sorted(set(capabilities), key=_arch_order)


def parse_arch_list(text: str) -> List[str]:
    """TORCH_CUDA_ARCH_LIST (``;`` or space separated) -> sorted entries.

    Raises:
        PlanError: an entry that is not a compute capability (``sm_90``,
            ``Hopper``, ``90``).
    """
    entries = [a for a in re.split(r'[;\s]+', text.strip()) if a]
    bad = [a for a in entries if not ARCH_RE.fullmatch(a)]
    if bad:
        raise PlanError(f"TORCH_CUDA_ARCH_LIST={text!r}: {bad} are not "
                        f"compute capabilities; {ARCH_FIX}")
    return arch_list(entries)


def sm_name(arch: str) -> str:
    """``'9.0'`` -> ``'sm90'``, ``'9.0a+PTX'`` -> ``'sm90aptx'``."""
    major, minor, suffix, ptx = ARCH_RE.fullmatch(arch).groups()
    return f'sm{major}{minor}{suffix}' + ('ptx' if ptx else '')


def cache_key(python_tag: str, torch_version: str,
              cuda: Optional[Tuple[int, int]], archs: List[str]) -> str:
    """Folder name that tells which wheel it holds (see module doc)."""
    key = f'{python_tag}-torch{base_version(torch_version)}'
    if cuda is None:
        return f'{key}-cpu'
    sms = '_'.join(sm_name(a) for a in archs)
    return f'{key}-cu{cuda[0]}{cuda[1]}-{sms}'


def choose_target(mode: str, torch_cuda: Optional[Tuple[int, int]],
                  visible: List[str], requested: List[str],
                  torch_version: str = '') -> Tuple[List[str], str, str]:
    """``(archs, source, note)``: archs empty for CPU ops (module doc).

    Raises:
        PlanError: ``mode`` not 0/1/auto; ``1`` without an arch list or
            with a torch built without CUDA.
    """
    if mode not in ('0', '1', 'auto'):
        raise PlanError(f"MIXSKD_MMCV_CUDA={mode!r}: set it to 0 (CPU ops "
                        "only), 1 (CUDA kernels for TORCH_CUDA_ARCH_LIST, "
                        "no GPU needed) or auto (the default: CUDA kernels "
                        "for the visible GPUs)")
    if mode == '0':
        return [], '', ''
    if mode == '1':
        if not requested:
            raise PlanError("MIXSKD_MMCV_CUDA=1 builds CUDA kernels without "
                            "looking at the GPUs, so it needs their "
                            "architectures: " + ARCH_FIX)
        if torch_cuda is None:
            raise PlanError(f"MIXSKD_MMCV_CUDA=1 but torch {torch_version} "
                            "was built without CUDA: use the pinned torch "
                            "(unset MIXSKD_KEEP_TORCH) or keep a CUDA build "
                            "of torch, or set MIXSKD_MMCV_CUDA=0")
        return requested, 'TORCH_CUDA_ARCH_LIST, MIXSKD_MMCV_CUDA=1', ''
    if torch_cuda is None or not visible:
        note = ''
        if requested:
            note = ('TORCH_CUDA_ARCH_LIST is set but no GPU is visible to '
                    'torch and MIXSKD_MMCV_CUDA is auto: CPU ops only; '
                    'MIXSKD_MMCV_CUDA=1 builds CUDA kernels for the list')
        return [], '', note
    if requested:
        return requested, 'TORCH_CUDA_ARCH_LIST', ''
    return arch_list(visible), 'visible GPUs', ''


def nvcc_wheel_spec(cuda: Tuple[int, int]) -> str:
    """PyPI requirement for an nvcc of torch's CUDA version."""
    name = 'nvidia-cuda-nvcc' if cuda[0] >= 13 else \
        f'nvidia-cuda-nvcc-cu{cuda[0]}'
    return f'{name}=={cuda[0]}.{cuda[1]}.*'


def cxx_std(torch_version: str) -> str:
    """C++ standard for mmcv against this torch.

    torch >= 2.13's headers need C++20 (measured with 2.14.1: -std=c++17
    fails); torch 2.11 built with mmcv's own c++17 on the GPU machine.
    """
    major, minor = (int(x) for x in base_version(torch_version).split('.')[:2])
    return 'c++20' if (major, minor) >= (2, 13) else 'c++17'


def max_jobs(cores: int) -> int:
    """Parallel compile jobs: all cores up to 2, else one core spare."""
    return max(1, cores if cores <= 2 else cores - 1)


def nvcc_candidates(environ: Dict[str, str], site_packages: str,
                    default_home: str = '/usr/local/cuda') -> List[str]:
    """Existing nvcc executables, in order of preference, de-duplicated."""
    found = [shutil.which('nvcc', path=environ.get('PATH', ''))]
    for var in ('CUDA_HOME', 'CUDA_PATH'):
        if environ.get(var):
            found.append(osp.join(environ[var], 'bin', 'nvcc'))
    if default_home:
        found.append(osp.join(default_home, 'bin', 'nvcc'))
    found += sorted(glob.glob(osp.join(site_packages, 'nvidia', '*', 'bin',
                                       'nvcc')))
    out, seen = [], set()
    for path in found:
        if path and os.access(path, os.X_OK) and \
                osp.realpath(path) not in seen:
            seen.add(osp.realpath(path))
            out.append(path)
    return out


def nvcc_version(path: str) -> Optional[Tuple[int, int]]:
    """Run ``nvcc --version``; None when it fails."""
    try:
        out = subprocess.run([path, '--version'], capture_output=True,
                             text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return parse_nvcc_version(out)


def pick_nvcc(found: List[Tuple[str, Optional[Tuple[int, int]]]],
              cuda: Tuple[int, int]) -> Tuple[Optional[str], List[str]]:
    """The first nvcc of torch's major CUDA version (exact minor first).

    Returns:
        tuple: (path or None, ``'path (release X.Y)'`` of the rejected).
    """
    # A wrapper script (/usr/local/bin/nvcc exec'ing the toolkit's) has no
    # toolkit around it to serve as CUDA_HOME: prefer one that has.
    found = sorted(found, key=lambda pv: not osp.isfile(osp.join(
        osp.dirname(osp.dirname(pv[0])), 'include', 'cuda_runtime.h')))
    same = [p for p, v in found if v and v[0] == cuda[0]]
    exact = [p for p, v in found if v == cuda]
    rejected = [f'{p} (release {v[0]}.{v[1]})' if v else f'{p} (no version)'
                for p, v in found if not v or v[0] != cuda[0]]
    return (exact or same or [None])[0], rejected


def cuda_env(nvcc: str, site_packages: str) -> Tuple[str, str]:
    """``(CUDA_HOME, CPATH)`` for a found nvcc.

    torch's ATen/cuda headers include cuBLAS, cuSPARSE, cuSOLVER and cuRAND
    headers, which a minimal toolkit (or the nvidia-cuda-nvcc wheel) lacks
    but the ``nvidia-*`` wheels that torch's CUDA build installed carry in
    ``site-packages/nvidia/*/include``. They go on CPATH, which the compilers
    search after the toolkit's own ``-I`` folders.
    """
    home = osp.dirname(osp.dirname(nvcc))
    return home, ':'.join(sorted(glob.glob(
        osp.join(site_packages, 'nvidia', '*', 'include'))))


def make_plan(python_tag: str, torch_version: str, torch_cuda: Optional[str],
              capabilities: Sequence[str], cores: int, cache: str,
              shared_wheels: str, mode: str = 'auto', arch_env: str = '',
              nvcc_found: Sequence[Tuple[str, Optional[Tuple[int, int]]]] = (),
              site_packages: str = '',
              jobs: Optional[int] = None) -> Dict[str, str]:
    """The set-up's mmcv decisions as shell variables (see module doc).

    Raises:
        PlanError: see :func:`choose_target` and :func:`parse_arch_list`.
    """
    cuda = parse_cuda(torch_cuda)
    archs, source, note = choose_target(mode, cuda, list(capabilities),
                                        parse_arch_list(arch_env),
                                        torch_version)
    gpu = bool(archs)
    key = cache_key(python_tag, torch_version, cuda if gpu else None, archs)
    plan = dict(MMCV_TARGET='cuda' if gpu else 'cpu', MMCV_CACHE_KEY=key,
                MMCV_WHEEL_DIR=osp.join(cache, key),
                FORCE_CUDA='1' if gpu else '0',
                TORCH_CUDA_ARCH_LIST=';'.join(archs),
                MMCV_ARCH_SOURCE=source, MMCV_NOTE=note,
                TORCH_VERSION=torch_version, TORCH_CUDA=torch_cuda or 'none',
                GPU_CAPS=','.join(arch_list(capabilities)),
                MAX_JOBS=str(jobs or max_jobs(cores)),
                MMCV_CXX_STD=cxx_std(torch_version), NVCC='',
                MMCV_CUDA_HOME='', CUDA_CPATH='', NVCC_WHEEL='',
                NVCC_REJECTED='')
    dirs = [plan['MMCV_WHEEL_DIR']]
    if not gpu and base_version(torch_version) == SHARED_WHEEL_TORCH:
        dirs += [cache, shared_wheels]
    plan['MMCV_SEARCH_DIRS'] = ':'.join(dirs)
    if gpu:
        nvcc, rejected = pick_nvcc(list(nvcc_found), cuda)
        plan['NVCC_REJECTED'] = '; '.join(rejected)
        if nvcc is None:
            plan['NVCC_WHEEL'] = nvcc_wheel_spec(cuda)
        else:
            plan['NVCC'] = nvcc
            plan['MMCV_CUDA_HOME'], plan['CUDA_CPATH'] = cuda_env(
                nvcc, site_packages)
    return plan


def live_torch() -> Tuple[str, Optional[str], List[str]]:
    """This interpreter's torch version, CUDA version and GPU capabilities."""
    import torch
    caps = []
    if torch.version.cuda and torch.cuda.is_available():
        caps = ['{}.{}'.format(*torch.cuda.get_device_capability(i))
                for i in range(torch.cuda.device_count())]
    return torch.__version__, torch.version.cuda, caps


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--cache')
    parser.add_argument('--shared-wheels', default='')
    parser.add_argument('--cuda', default='auto',
                        help='MIXSKD_MMCV_CUDA: 0, 1 or auto')
    parser.add_argument('--arch-list', default='',
                        help="TORCH_CUDA_ARCH_LIST, e.g. '8.0;9.0'")
    parser.add_argument('--check-switches', action='store_true',
                        help='only check --cuda and --arch-list, print '
                        'nothing, import no torch')
    parser.add_argument('--python-tag')
    parser.add_argument('--torch-version')
    parser.add_argument('--torch-cuda', help="e.g. 13.0, or 'none'")
    parser.add_argument('--capabilities',
                        help="visible GPUs' compute capabilities, "
                        "comma-separated ('' for none)")
    parser.add_argument('--cores', type=int, default=os.cpu_count() or 1)
    parser.add_argument('--max-jobs', type=int)
    parser.add_argument('--default-cuda-home', default='/usr/local/cuda',
                        help='toolkit looked in after PATH and CUDA_HOME')
    parser.add_argument('--site-packages',
                        default=sysconfig.get_paths()['purelib'])
    return parser.parse_args(argv)


def _fail(err: Exception) -> int:
    print(f'error: {err}', file=sys.stderr)
    return 2


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    try:
        requested = parse_arch_list(args.arch_list)
        if args.check_switches:
            # A torch with CUDA and no GPU: only the switches can fail.
            choose_target(args.cuda, (13, 0), [], requested)
            return 0
    except PlanError as err:
        return _fail(err)
    if not args.cache:
        return _fail(PlanError('--cache DIR is required: the folder that '
                               'holds the cached mmcv wheels'))
    if None in (args.torch_version, args.torch_cuda, args.capabilities):
        version, cuda, caps = live_torch()
        args.torch_version = args.torch_version or version
        if args.torch_cuda is None:
            args.torch_cuda = cuda or 'none'
        if args.capabilities is None:
            args.capabilities = ','.join(caps)
    python_tag = args.python_tag or 'py{}{}'.format(*sys.version_info[:2])
    caps = [c.strip() for c in args.capabilities.split(',') if c.strip()]
    bad = [c for c in caps if not re.fullmatch(r'\d+\.\d+', c)]
    if bad:
        return _fail(PlanError(f'--capabilities: {bad} are not like 9.0 or '
                               '8.6'))
    try:
        archs, _, _ = choose_target(args.cuda, parse_cuda(args.torch_cuda),
                                    caps, requested, args.torch_version)
    except PlanError as err:
        return _fail(err)
    found = []
    if archs:
        found = [(p, nvcc_version(p))
                 for p in nvcc_candidates(dict(os.environ),
                                          args.site_packages,
                                          args.default_cuda_home)]
    plan = make_plan(python_tag, args.torch_version, args.torch_cuda, caps,
                     args.cores, args.cache, args.shared_wheels, args.cuda,
                     args.arch_list, found, args.site_packages, args.max_jobs)
    for key, value in plan.items():
        print(f'{key}={shlex.quote(value)}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
