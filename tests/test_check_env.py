"""tools/check_env.py reports this CPU machine's stack and breaks loudly."""
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / 'tools' / 'check_env.py'


def _load():
    spec = importlib.util.spec_from_file_location('check_env', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(*args, pythonpath=None):
    env = dict(os.environ, OMP_NUM_THREADS='1')
    if pythonpath:
        env['PYTHONPATH'] = str(pythonpath)
    return subprocess.run([sys.executable, str(SCRIPT), *args], env=env,
                          capture_output=True, text=True, timeout=300)


def test_cpu_machine_reports_cpu_native_ops_and_no_gpu():
    res = _run('--json')
    assert res.returncode == 0, res.stderr[-3000:]
    info = json.loads(res.stdout)
    assert info['gpus'] == [] and info['problems'] == []
    assert info['mmcv_cuda'] == 'not available'
    assert info['ops'] == {'nms': {'cpu': 'native'},
                           'roi_align': {'cpu': 'native'}}
    assert info['versions']['mmcv'] == '2.1.0'
    assert info['versions']['mmdet'] == '3.3.0'
    assert info['versions']['mixskd_mm'] == '0.1.0'


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
