"""tools/setup_env.sh: which Python it takes, and ``--plan``.

The interpreters are fake scripts that print an implementation and version
the way tools/find_python.sh asks, on a PATH holding nothing else. ``--plan``
runs on a copy of the set-up scripts in an empty project with its own HOME,
so it must leave that project as it found it.
"""
import os
import shlex
import subprocess
import sys

import pytest

from repo import ROOT

SCRIPTS = ('setup_env.sh', 'find_python.sh', 'mmcv_build_plan.py')
PYTAG = 'py{}{}'.format(*sys.version_info[:2])


def _fake_python(folder, name, answer, rc=0):
    folder.mkdir(parents=True, exist_ok=True)
    exe = folder / name
    exe.write_text(f'#!/bin/sh\necho "{answer}"\nexit {rc}\n')
    exe.chmod(0o755)
    return exe


def find_python(tmp_path, fakes, python=None, rc=0):
    """Run find_python.sh with only the fakes on PATH; its variables."""
    bin_dir = tmp_path / 'bin'
    for name, answer, *code in fakes:
        _fake_python(bin_dir, name, answer, *code)
    env = dict(os.environ, PATH=str(bin_dir))
    env.pop('PYTHON', None)
    if python:
        env['PYTHON'] = python
    res = subprocess.run(['/bin/bash', str(ROOT / 'tools' / 'find_python.sh')],
                         env=env, capture_output=True, text=True, timeout=60)
    assert res.returncode == rc, res.stderr
    if rc:
        return res.stderr
    return dict(line.split('=', 1) for line in res.stdout.splitlines())


def test_first_supported_in_order_3_11_first(tmp_path):
    out = find_python(tmp_path, [('python3', 'CPython 3.9.18'),
                                 ('python3.13', 'CPython 3.13.0'),
                                 ('python3.12', 'CPython 3.12.4')])
    assert out['PY'] == str(tmp_path / 'bin' / 'python3.12')
    assert out['PY_VERSION'] == '3.12.4'
    assert shlex.split(out['PY_WHY']) == [
        'first supported on PATH; PYTHON=... to choose']
    out = find_python(tmp_path, [('python3.11', 'CPython 3.11.9')])
    assert out['PY_VERSION'] == '3.11.9'


def test_unusable_ones_are_skipped_and_named(tmp_path):
    out = find_python(tmp_path, [('python3.11', 'PyPy 3.11.0'),
                                 ('python3.12', 'pyenv: no such version', 1),
                                 ('python3.10', 'CPython 3.10.2')])
    assert out['PY'].endswith('/python3.10')
    why = shlex.split(out['PY_WHY'])[0]
    assert 'python3.11: PyPy, not CPython' in why
    assert 'python3.12 does not run' in why


def test_none_supported_is_refused_with_the_fix(tmp_path):
    err = find_python(tmp_path, [('python3', 'CPython 3.14.1')], rc=1)
    assert 'no CPython 3.10-3.13 on PATH' in err
    assert '3.14.1 is too new for torch 2.14.1' in err
    assert 'apt-get install python3.12-venv' in err
    assert 'PYTHON=/path/to/python3.12' in err
    err = find_python(tmp_path / 'empty', [], rc=1)
    assert 'none of python3.11 python3.12' in err


def test_python_env_var_is_taken_or_refused(tmp_path):
    old = _fake_python(tmp_path / 'old', 'python3.9', 'CPython 3.9.18')
    err = find_python(tmp_path, [('python3.11', 'CPython 3.11.9')],
                      python=str(old), rc=1)
    assert f'PYTHON={old} is CPython 3.9.18: 3.9.18 is too old' in err
    assert 'needs CPython 3.10-3.13' in err
    new = _fake_python(tmp_path / 'new', 'python3.13', 'CPython 3.13.1')
    out = find_python(tmp_path, [('python3.11', 'CPython 3.11.9')],
                      python=str(new))
    assert out['PY'] == str(new) and out['PY_VERSION'] == '3.13.1'
    err = find_python(tmp_path, [], python='/no/such/python', rc=1)
    assert 'PYTHON=/no/such/python is not an executable' in err


def plan(tmp_path, rc=0, gpu_caps=None, **env):
    """``setup_env.sh --plan`` in a fresh project; (stdout, stderr)."""
    project = tmp_path / 'project'
    (project / 'tools').mkdir(parents=True, exist_ok=True)
    for name in SCRIPTS:
        (project / 'tools' / name).write_text(
            (ROOT / 'tools' / name).read_text())
    # nvidia-smi stands for the machine's GPUs: none unless given.
    smi = _fake_python(tmp_path / 'smi', 'nvidia-smi', gpu_caps or '',
                       0 if gpu_caps else 9)
    run_env = dict(os.environ, HOME=str(tmp_path / 'home'),
                   PATH=f"{smi.parent}:{os.environ['PATH']}")
    run_env.update(dict(dict(PYTHON=sys.executable), **env))
    for var in ('MIXSKD_CACHE', 'XDG_CACHE_HOME', 'MAX_JOBS', 'FORCE_SETUP',
                'MIXSKD_KEEP_TORCH', 'MIXSKD_MMCV_CUDA',
                'TORCH_CUDA_ARCH_LIST'):
        if var not in env:
            run_env.pop(var, None)
    res = subprocess.run(['bash', str(project / 'tools' / 'setup_env.sh'),
                          '--plan'], env=run_env, capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == rc, res.stderr
    # Nothing created: no .venv/, no cache, no build folder.
    assert sorted(p.name for p in project.iterdir()) == ['tools']
    assert not (tmp_path / 'home').exists()
    return res.stdout, res.stderr


def _lines(out):
    """``[plan] LABEL      value`` lines as {label: value}."""
    return {line[7:18].strip(): line[19:] for line in out.splitlines()
            if line.startswith('[plan] ')}


def test_plan_before_venv_exists_is_the_pinned_cpu_set_up(tmp_path):
    shared = tmp_path / 'shared' / 'wheels'
    out, _ = plan(tmp_path, MAX_JOBS='3')
    lines = _lines(out)
    assert out.startswith('[plan] nothing is created, installed or built')
    assert lines['Python'].startswith(
        f'{sys.version.split()[0]} from {sys.executable} (PYTHON=')
    assert lines['.venv/'].endswith('would be created with this Python')
    assert lines['torch'].startswith('2.14.1 (pinned, CUDA 13.0 build)')
    assert lines['GPUs'] == 'none visible'
    assert lines['mmcv'] == '2.1.0 with CPU ops only'
    key = f'{PYTAG}-torch2.14.1-cpu'
    assert lines['cache key'] == key
    assert lines['wheel dir'] == str(
        tmp_path / 'home' / '.cache' / 'mixskd_mm' / 'wheels' / key)
    assert lines['mmcv wheel'].startswith('none cached: built from source')
    assert lines['nvcc'] == 'not needed (CPU ops)'
    assert lines['MAX_JOBS'] == '3 (from MAX_JOBS)'
    # A shared CPU wheel for this Python is found and would be used.
    shared.mkdir(parents=True)
    tag = 'cp' + PYTAG[2:]
    wheel = shared / f'mmcv-2.1.0-{tag}-{tag}-linux_x86_64.whl'
    wheel.write_bytes(b'')
    lines = _lines(plan(tmp_path)[0])
    assert lines['mmcv wheel'].startswith('cached: ')
    assert lines['mmcv wheel'].endswith(f'{wheel.name} (installed, no build)')


def test_plan_cuda_kernels_without_a_gpu(tmp_path):
    out, _ = plan(tmp_path, MIXSKD_MMCV_CUDA='1',
                  TORCH_CUDA_ARCH_LIST='9.0;8.0')
    lines = _lines(out)
    assert lines['GPUs'] == 'none visible'
    assert lines['mmcv'] == ('2.1.0 with CUDA kernels for sm_80, sm_90 (from '
                             'TORCH_CUDA_ARCH_LIST, MIXSKD_MMCV_CUDA=1)')
    assert lines['cache key'] == f'{PYTAG}-torch2.14.1-cu130-sm80_sm90'
    assert lines['nvcc'] != 'not needed (CPU ops)'
    assert lines['nvcc'].startswith('/') or 'nvidia-cuda-nvcc==13.0.*' in \
        lines['nvcc']


def test_plan_auto_with_a_visible_gpu_and_a_note_without(tmp_path):
    lines = _lines(plan(tmp_path, gpu_caps='9.0')[0])
    assert lines['GPUs'] == '9.0'
    assert lines['mmcv'] == ('2.1.0 with CUDA kernels for sm_90 (from visible '
                             'GPUs)')
    lines = _lines(plan(tmp_path, TORCH_CUDA_ARCH_LIST='9.0')[0])
    assert lines['mmcv'] == '2.1.0 with CPU ops only'
    assert 'MIXSKD_MMCV_CUDA=1 builds CUDA kernels' in lines['note']


@pytest.mark.parametrize('env,fix', [
    (dict(MIXSKD_MMCV_CUDA='1'), 'set TORCH_CUDA_ARCH_LIST to compute '
     "capabilities like '8.0;9.0'"),
    (dict(MIXSKD_MMCV_CUDA='1', TORCH_CUDA_ARCH_LIST='sm_90'),
     "['sm_90'] are not compute capabilities"),
    (dict(PYTHON='/no/such/python'), 'is not an executable'),
])
def test_plan_refuses_bad_settings_before_anything(tmp_path, env, fix):
    _, err = plan(tmp_path, rc=1, **env)
    assert '[setup] FAILED at step: ' in err
    assert fix in err
