"""tools/check_env.py reports this CPU machine's stack and breaks loudly."""
import json
import os
import subprocess
import sys

from fatbin_utils import elf, fatbin
from repo import TOOLS, import_tool

SCRIPT = TOOLS / 'check_env.py'


def _load():
    return import_tool('check_env')


def _run(*args, pythonpath=None):
    env = dict(os.environ, OMP_NUM_THREADS='1')
    if pythonpath:
        env['PYTHONPATH'] = str(pythonpath)
    return subprocess.run([sys.executable, str(SCRIPT), *args], env=env,
                          capture_output=True, text=True, timeout=300)


def test_this_machine_reports_its_gpus_mmcv_build_and_native_ops():
    # Stated for each machine the README sets up: a CPU one (CPU-only
    # mmcv), a GPU one (mmcv with CUDA kernels for its GPUs).
    import torch
    from mixskd_mm.ops import mmcv_has_cuda_kernels
    res = _run('--json')
    assert res.returncode == 0, res.stderr[-3000:]
    info = json.loads(res.stdout)
    assert info['problems'] == []
    assert len(info['gpus']) == torch.cuda.device_count() if \
        torch.cuda.is_available() else info['gpus'] == []
    devices = ['cpu'] + (['cuda'] if info['gpus'] else [])
    if mmcv_has_cuda_kernels():
        assert info['mmcv_cuda'] != 'not available'
        assert info['mmcv_cuda_archs']['sm']
        assert {dev: 'native' for dev in devices} == info['ops']['nms']
    else:
        assert info['mmcv_cuda'] == 'not available'
        assert 'mmcv_cuda_archs' not in info
        assert info['ops']['nms']['cpu'] == 'native'
        assert info['ops']['roi_align']['cpu'] == 'native'
        assert set(info['ops']['nms']) == set(devices)
    assert info['versions']['mmcv'] == '2.1.0'
    assert info['versions']['mmdet'] == '3.3.0'
    assert info['versions']['mixskd_mm'] == '0.1.0'
    # The same patches as `import mixskd_mm` applied in this process.
    from mixskd_mm.patches import PATCHES, active_patches
    assert info['patches'] == active_patches()
    assert 'checkpoint_local_loader' in info['patches']
    assert info['patches_total'] == len(PATCHES)


def test_broken_package_exits_1_with_the_fix(tmp_path):
    for name in ('mmdet', 'mixskd_mm'):
        (tmp_path / name).mkdir()
        (tmp_path / name / '__init__.py').write_text(
            f"raise ImportError('simulated broken {name}')\n")
    res = _run(pythonpath=tmp_path)
    assert res.returncode == 1
    assert 'mmdet       ERROR: ImportError: simulated broken mmdet' \
        in res.stdout
    assert 'PROBLEM: mmdet does not import' in res.stderr
    assert 'fix: FORCE_SETUP=1 bash tools/setup_env.sh' in res.stderr
    assert 'PROBLEM: mixskd_mm does not import' in res.stderr
    # The rest of the report is still there, and mmcv is not blamed.
    assert 'mmcv.ops does not load' not in res.stderr
    assert 'mmcv        2.1.0 (ops: CPU kernels only' in res.stdout
    assert 'nms         cpu: native' in res.stdout
    assert 'patches     none (mixskd_mm does not import)' in res.stdout


def _info(**kw):
    info = dict(versions={'python': '3.11', 'mmcv': '2.1.0'},
                torch_cuda='13.0', driver='none (no nvidia-smi)', gpus=[],
                mmcv_cuda='not available',
                ops={'nms': {'cpu': 'native'}})
    info.update(kw)
    return info


def test_problems_rules():
    check_env = _load()
    assert check_env.problems(_info()) == []
    gpu_fallback = _info(gpus=['H200 (sm 9.0)'], ops={'nms': {
        'cpu': 'native', 'cuda': 'torchvision fallback'}})
    assert check_env.problems(gpu_fallback) == []
    failed = check_env.problems(_info(gpus=['H200 (sm 9.0)'], ops={'nms': {
        'cpu': 'native', 'cuda': 'FAILED (missing): RuntimeError: x'}}))
    assert len(failed) == 1 and 'nms on cuda' in failed[0][0]
    assert 'FORCE_CUDA=1' in failed[0][1]
    old_driver = check_env.problems(_info(driver='535.104'))
    assert len(old_driver) == 1 and 'driver 535.104' in old_driver[0][0]
    assert 'MIXSKD_KEEP_TORCH=1' in old_driver[0][1]
    lite = check_env.problems(_info(versions={
        'mmcv': "ERROR: ModuleNotFoundError: No module named 'mmcv._ext'"}))
    assert 'mmcv-lite' in lite[0][1]


def test_report_lists_the_active_patches():
    check_env = _load()
    versions = dict({k: '1' for k in ('python', ) + check_env.PACKAGES},
                    mmcv='2.1.0')
    report = check_env.report(_info(
        versions=versions, patches=['numpy_in1d', 'atomic_checkpoints'],
        patches_total=9))
    assert ('patches     numpy_in1d, atomic_checkpoints (2 of 9 active; see '
            'mixskd_mm/patches.py)') in report
    assert check_env.patches_line(_info(patches=[], patches_total=9)) == \
        'none (0 of 9 active; see mixskd_mm/patches.py)'


def _cuda_info(gpu_caps=(), sm=('sm_90', ), ptx=()):
    gpus = [f'GPU (sm {c})' for c in gpu_caps]
    return _info(mmcv_cuda='13.0', gpus=gpus, gpu_caps=list(gpu_caps),
                 mmcv_cuda_archs=dict(sm=list(sm), ptx=list(ptx),
                                      path='/x/_ext.so'))


def test_cuda_kernels_without_a_gpu_are_reported_not_a_problem():
    check_env = _load()
    info = _cuda_info()
    assert check_env.kernels_line(info) == \
        'CUDA kernels for sm_90 (no GPU visible to run them)'
    assert check_env.problems(info) == []
    report = check_env.report(dict(info, versions=dict(
        {k: '1' for k in ('python', ) + check_env.PACKAGES}, mmcv='2.1.0')))
    assert 'mmcv        2.1.0 (ops: CPU and CUDA 13.0 kernels)' in report
    assert 'mmcv CUDA   CUDA kernels for sm_90 (no GPU visible to run them)' \
        in report


def test_visible_gpu_without_kernels_is_a_problem_with_the_arch_list():
    check_env = _load()
    assert check_env.kernels_line(_cuda_info(['9.0'])) == \
        'CUDA kernels for sm_90'
    # PTX of an older arch is JIT-compiled for a newer GPU: covered.
    assert check_env.problems(_cuda_info(['10.0'], ptx=['compute_90'])) == []
    info = _cuda_info(['8.6', '9.0'], sm=['sm_80', 'sm_90'])
    assert check_env.kernels_line(info).endswith('(none for the visible '
                                                 'sm_86)')
    (problem, fix), = check_env.problems(info)
    assert "do not cover the visible GPUs' sm_86" in problem
    assert "MIXSKD_MMCV_CUDA=1 TORCH_CUDA_ARCH_LIST='8.6'" in fix


def test_kernel_archs_read_from_the_mmcv_shared_object(tmp_path,
                                                      monkeypatch):
    from mixskd_mm.ops import cuda_archs
    so = tmp_path / '_ext.so'
    so.write_bytes(elf([(b'.nv_fatbin', fatbin([(2, 90, b'c')]))]))
    monkeypatch.setattr(cuda_archs, 'mmcv_ext_path', lambda: str(so))
    assert _load().mmcv_kernel_archs() == dict(sm=['sm_90'], ptx=[],
                                                path=str(so))
    monkeypatch.setattr(cuda_archs, 'mmcv_ext_path', lambda: None)
    assert _load().mmcv_kernel_archs().startswith('ERROR: mmcv has no _ext')
