"""Decide how tools/setup_env.sh gets mmcv 2.1.0: CPU or CUDA, and where.

    python tools/mmcv_build_plan.py --cache DIR [--shared-wheels DIR]
        [--force-cpu] [--python-tag py311] [--torch-version 2.14.1]
        [--torch-cuda 13.0|none] [--capabilities 9.0,8.0] [--cores N]
        [--max-jobs N] [--site-packages DIR]

Prints shell assignments (``KEY='value'``, one a line) for ``eval``:

- ``MMCV_TARGET``: ``cuda`` when torch sees a GPU and was built with CUDA
  (and ``--force-cpu`` is not given), else ``cpu``.
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
missing), so tests give them all and need no GPU.
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


def arch_list(capabilities: Sequence[str]) -> List[str]:
    """Distinct compute capabilities, sorted: ``['8.0', '9.0']``."""
    return sorted(set(capabilities), key=lambda c: tuple(map(int,
                                                             c.split('.'))))


def cache_key(python_tag: str, torch_version: str,
              cuda: Optional[Tuple[int, int]], archs: List[str]) -> str:
    """Folder name that tells which wheel it holds (see module doc)."""
    key = f'{python_tag}-torch{base_version(torch_version)}'
    if cuda is None:
        return f'{key}-cpu'
    sms = '_'.join('sm' + a.replace('.', '') for a in archs)
    return f'{key}-cu{cuda[0]}{cuda[1]}-{sms}'


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
              shared_wheels: str, force_cpu: bool = False,
              nvcc_found: Sequence[Tuple[str, Optional[Tuple[int, int]]]] = (),
              site_packages: str = '',
              jobs: Optional[int] = None) -> Dict[str, str]:
    """The set-up's mmcv decisions as shell variables (see module doc)."""
    cuda = parse_cuda(torch_cuda)
    archs = arch_list(capabilities)
    gpu = cuda is not None and bool(archs) and not force_cpu
    key = cache_key(python_tag, torch_version, cuda if gpu else None, archs)
    plan = dict(MMCV_TARGET='cuda' if gpu else 'cpu', MMCV_CACHE_KEY=key,
                MMCV_WHEEL_DIR=osp.join(cache, key),
                FORCE_CUDA='1' if gpu else '0',
                TORCH_CUDA_ARCH_LIST=';'.join(archs) if gpu else '',
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
    parser.add_argument('--cache', required=True)
    parser.add_argument('--shared-wheels', default='')
    parser.add_argument('--force-cpu', action='store_true')
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


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
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
        parser_error = f'--capabilities: {bad} are not like 9.0 or 8.6'
        print(parser_error, file=sys.stderr)
        return 2
    found = []
    if caps and parse_cuda(args.torch_cuda) and not args.force_cpu:
        found = [(p, nvcc_version(p))
                 for p in nvcc_candidates(dict(os.environ),
                                          args.site_packages,
                                          args.default_cuda_home)]
    plan = make_plan(python_tag, args.torch_version, args.torch_cuda, caps,
                     args.cores, args.cache, args.shared_wheels,
                     args.force_cpu, found, args.site_packages,
                     args.max_jobs)
    for key, value in plan.items():
        print(f'{key}={shlex.quote(value)}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
