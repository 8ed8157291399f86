"""Report the installed stack and where mmcv's nms and roi_align run.

    python tools/check_env.py [--json]

Prints python, torch (its CUDA build, the NVIDIA driver, the visible GPUs),
numpy, mmengine, mmcv (and the CUDA version its ops were compiled with, and
the ``sm_`` architectures its shared object has kernels for, read from the
file so that a login node without a GPU can tell), mmpretrain, mmdet, mmseg
and mixskd_mm, the patches of upstream code that ``import mixskd_mm``
applied here (``mixskd_mm/patches.py`` says what each replaces and why),
then, for ``nms`` and ``roi_align`` on the CPU and on each visible GPU
type, whether they ran with mmcv's own kernels (``native``), through
torchvision (``torchvision fallback``, see ``mixskd_mm/ops``) or
failed. Exits 1, naming each problem and its fix, when the stack is
broken; ``tools/setup_env.sh`` ends with it.
"""
import argparse
import importlib
import json
import platform
import shutil
import subprocess
import sys
from typing import Dict, List, Tuple

PACKAGES = ('numpy', 'mmengine', 'mmcv', 'mmpretrain', 'mmdet', 'mmseg',
            'mixskd_mm')
REINSTALL = 'FORCE_SETUP=1 bash tools/setup_env.sh'


def driver_version() -> str:
    """The NVIDIA driver from nvidia-smi, or why there is none."""
    smi = shutil.which('nvidia-smi')
    if smi is None:
        return 'none (no nvidia-smi)'
    try:
        out = subprocess.run(
            [smi, '--query-gpu=driver_version', '--format=csv,noheader'],
            capture_output=True, text=True, timeout=30).stdout.split()
    except (OSError, subprocess.SubprocessError) as err:
        return f'unknown ({err})'
    return out[0] if out else 'unknown (nvidia-smi printed nothing)'


def versions() -> Dict[str, str]:
    """Each package's version, or ``'ERROR: ...'`` when it fails to import.

    ``mixskd_mm`` is imported first: it switches off what transformers >= 5
    breaks in mmpretrain and installs the GPU fallback when needed.
    """
    out = {'python': platform.python_version()}
    for name in ('mixskd_mm', ) + PACKAGES[:-1]:
        try:
            out[name] = getattr(importlib.import_module(name), '__version__',
                                '?')
        except Exception as err:  # report every failure, not just the first
            out[name] = f'ERROR: {type(err).__name__}: {err}'
    return {key: out[key] for key in ('python', ) + PACKAGES}


def _fallback_active() -> bool:
    """Whether mixskd_mm installed its torchvision fallback (False if the
    package does not import: then it is reported as broken anyway)."""
    try:
        from mixskd_mm.ops import fallback_active
    except Exception:
        return False
    return fallback_active()


def active_patches() -> object:
    """The names of mixskd_mm's active patches, or ``'ERROR: ...'`` when
    the package does not import (reported as broken by :func:`versions`)."""
    try:
        from mixskd_mm.patches import active_patches as active
    except Exception as err:
        return f'ERROR: {type(err).__name__}: {err}'
    return active()


def patches_line(info: Dict[str, object]) -> str:
    """``a, b (2 of 9 active; see mixskd_mm/patches.py)`` and the like."""
    names = info.get('patches')
    if not isinstance(names, list):
        return 'none (mixskd_mm does not import)'
    total = info.get('patches_total', '?')
    return (f"{', '.join(names) or 'none'} ({len(names)} of {total} "
            'active; see mixskd_mm/patches.py)')


def probe_op(name: str, device: str, mmcv_cuda: str) -> str:
    """Run ``name`` ('nms' or 'roi_align') on ``device``; return its mode.

    ``mmcv_cuda`` is ``mmcv.ops.get_compiling_cuda_version()``.
    """
    import torch
    from mmcv.ops import RoIAlign, nms
    mode = 'native'
    if device != 'cpu' and mmcv_cuda == 'not available':
        mode = 'torchvision fallback' if _fallback_active() else 'missing'
    try:
        if name == 'nms':
            boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 10., 10.],
                                  [20., 20., 30., 30.]], device=device)
            _, keep = nms(boxes, torch.tensor([.9, .8, .7], device=device),
                          0.5)
            ok = keep.tolist() == [0, 2]
        else:
            out = RoIAlign((2, 2), 1.0, 0)(
                torch.ones(1, 1, 8, 8, device=device),
                torch.tensor([[0., 0., 0., 4., 4.]], device=device))
            ok = out.shape == (1, 1, 2, 2) and bool((out == 1).all())
    except Exception as err:
        return f'FAILED ({mode}): {type(err).__name__}: {err}'.splitlines()[0]
    return mode if ok else f'FAILED ({mode}): wrong result'


def mmcv_kernel_archs() -> object:
    """``{'sm': [...], 'ptx': [...], 'path': ...}`` read from mmcv's _ext
    shared object (no GPU needed), or ``'ERROR: ...'``."""
    try:
        from mixskd_mm.ops.cuda_archs import (kernel_archs, mmcv_ext_path,
                                              ptx_archs)
        path = mmcv_ext_path()
        if path is None:
            return 'ERROR: mmcv has no _ext shared object'
        return dict(sm=kernel_archs(path), ptx=ptx_archs(path), path=path)
    except Exception as err:
        return f'ERROR: {type(err).__name__}: {err}'


def kernels_line(info: Dict[str, object]) -> str:
    """``CUDA kernels for sm_90 (no GPU visible to run them)`` and the
    like, for an mmcv built with CUDA."""
    archs = info.get('mmcv_cuda_archs')
    if not isinstance(archs, dict):
        return f'CUDA kernels unknown ({archs})'
    if not archs['sm'] and not archs['ptx']:
        return f"no CUDA kernels found in {archs['path']}"
    line = 'CUDA kernels for ' + ', '.join(archs['sm'] + archs['ptx'])
    if not info['gpus']:
        return line + ' (no GPU visible to run them)'
    missing = uncovered(info)
    return line + (f" (none for the visible sm_{', sm_'.join(missing)})"
                   if missing else '')


def uncovered(info: Dict[str, object]) -> List[str]:
    """Visible GPUs' ``90``-style archs that mmcv has neither a cubin for
    nor PTX of an older or equal architecture to JIT from."""
    archs = info.get('mmcv_cuda_archs')
    if not isinstance(archs, dict):
        return []
    sms = {int(a[3:]) for a in archs['sm']}
    ptx = [int(a[8:]) for a in archs['ptx']]
    out = []
    for cap in info.get('gpu_caps', []):
        sm = int(cap.replace('.', ''))
        if sm not in sms and not any(p <= sm for p in ptx):
            out.append(str(sm))
    return sorted(set(out))


def collect() -> Dict[str, object]:
    """Everything the report prints, as a JSON-able dict."""
    info: Dict[str, object] = dict(versions=versions())
    info['patches'] = active_patches()
    if isinstance(info['patches'], list):
        from mixskd_mm.patches import PATCHES
        info['patches_total'] = len(PATCHES)
    import torch
    gpus, caps = [], []
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            cap = '{}.{}'.format(*torch.cuda.get_device_capability(i))
            gpus.append(f'{torch.cuda.get_device_name(i)} (sm {cap})')
            caps.append(cap)
    info.update(torch_cuda=torch.version.cuda or 'none (CPU build)',
                driver=driver_version(), gpus=gpus, gpu_caps=caps, ops={})
    if str(info['versions']['mmcv']).startswith('ERROR'):
        return info
    try:
        from mmcv.ops import get_compiling_cuda_version
        info['mmcv_cuda'] = str(get_compiling_cuda_version())
    except Exception as err:
        info['mmcv_cuda'] = f'ERROR: {type(err).__name__}: {err}'
        return info
    if info['mmcv_cuda'] != 'not available':
        info['mmcv_cuda_archs'] = mmcv_kernel_archs()
    devices = ['cpu'] + (['cuda'] if gpus else [])
    info['ops'] = {op: {dev: probe_op(op, dev, info['mmcv_cuda'])
                        for dev in devices}
                   for op in ('nms', 'roi_align')}
    return info


def problems(info: Dict[str, object]) -> List[Tuple[str, str]]:
    """``(problem, fix)`` pairs; empty when the stack works."""
    found = []
    for name, version in info['versions'].items():
        if str(version).startswith('ERROR'):
            fix = REINSTALL
            if name == 'mmcv' or 'mmcv._ext' in str(version):
                fix = (f'{REINSTALL} (mmcv must be the full build with ops, '
                       'not mmcv-lite: pip uninstall mmcv-lite first)')
            found.append((f'{name} does not import: {version}', fix))
    if str(info.get('mmcv_cuda', '')).startswith('ERROR'):
        found.append((f"mmcv.ops does not load: {info['mmcv_cuda']}",
                      f'{REINSTALL} (rebuilds mmcv against this torch)'))
    for op, by_device in info['ops'].items():
        for device, mode in by_device.items():
            if mode.startswith('FAILED'):
                fix = REINSTALL if device == 'cpu' else (
                    f'{REINSTALL} on this GPU machine (builds mmcv with '
                    'FORCE_CUDA=1); until then `import mixskd_mm` before '
                    'mmcv ops enables the torchvision fallback')
                found.append((f'{op} on {device}: {mode}', fix))
    missing = uncovered(info)
    if missing:
        listed = ';'.join(f'{m[:-1]}.{m[-1]}' for m in missing)
        found.append((f"mmcv's CUDA kernels ({kernels_line(info)}) do not "
                      f"cover the visible GPUs' sm_{', sm_'.join(missing)}",
                      f"MIXSKD_MMCV_CUDA=1 TORCH_CUDA_ARCH_LIST='{listed}' "
                      f'{REINSTALL} (add the other clusters\' archs to the '
                      'list)'))
    driver = str(info['driver'])
    if not info['gpus'] and not driver.startswith(('none', 'unknown')):
        found.append((
            f"nvidia-smi reports driver {driver} but torch "
            f"(CUDA {info['torch_cuda']}) sees no GPU: the driver is too old "
            'for this torch build or CUDA_VISIBLE_DEVICES hides the GPUs',
            'install a torch built for your driver (e.g. a cu126 or cu128 '
            'build) and rerun the set-up with MIXSKD_KEEP_TORCH=1, or update '
            'the driver (CUDA 13 builds need >= 580)'))
    return found


def report(info: Dict[str, object]) -> str:
    """The human-readable report."""
    v = info['versions']
    lines = [f"python      {v['python']}",
             f"torch       {__import__('torch').__version__} "
             f"(CUDA build: {info['torch_cuda']})",
             f"driver      {info['driver']}",
             f"GPUs        {', '.join(info['gpus']) or 'none visible'}"]
    for name in PACKAGES:
        extra = ''
        cuda = str(info.get('mmcv_cuda', ''))
        if name == 'mmcv' and cuda and not cuda.startswith('ERROR'):
            extra = ' (ops: CPU kernels only, built without CUDA)' \
                if cuda == 'not available' else \
                f' (ops: CPU and CUDA {cuda} kernels)'
        lines.append(f'{name:<11} {v[name]}{extra}')
        if name == 'mmcv' and 'mmcv_cuda_archs' in info:
            lines.append(f"{'mmcv CUDA':<11} {kernels_line(info)}")
    lines.append(f"{'patches':<11} {patches_line(info)}")
    for op, by_device in info['ops'].items():
        lines.append(f'{op:<11} ' + ', '.join(
            f'{dev}: {mode}' for dev, mode in by_device.items()))
    return '\n'.join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--json', action='store_true',
                        help='print the report and problems as JSON')
    args = parser.parse_args(argv)
    info = collect()
    found = problems(info)
    if args.json:
        print(json.dumps(dict(info, problems=found), indent=1))
    else:
        print(report(info))
        for problem, fix in found:
            print(f'PROBLEM: {problem}\n  fix: {fix}', file=sys.stderr)
        if not found:
            print('ok: the stack imports and nms/roi_align run on every '
                  'device listed')
    return 1 if found else 0


if __name__ == '__main__':
    sys.exit(main())
