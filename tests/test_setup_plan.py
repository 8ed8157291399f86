"""tools/mmcv_build_plan.py: the set-up's CPU/CUDA decision and cache key.

Every input that stands for torch.cuda is given on the command line, and the
compilers are fake ``nvcc`` scripts that print a release line (the machine's
own /usr/local/cuda is hidden with ``--default-cuda-home``), so these run
without a GPU and never import torch in the plan's process.
"""
import os
import shlex
import subprocess
import sys

import pytest

from repo import TOOLS, import_tool

PLAN = TOOLS / 'mmcv_build_plan.py'


def _fake_nvcc(folder, release):
    folder.mkdir(parents=True, exist_ok=True)
    nvcc = folder / 'nvcc'
    nvcc.write_text('#!/bin/sh\necho "nvcc: NVIDIA (R) Cuda compiler '
                    f'driver"\necho "Cuda compilation tools, release '
                    f'{release}, V{release}.88"\n')
    nvcc.chmod(0o755)
    return nvcc


def plan(tmp_path, *args, path='/usr/bin:/bin', env=None, rc=0):
    """Run the plan; return its variables as a dict."""
    cmd = [sys.executable, str(PLAN), '--cache', str(tmp_path / 'cache'),
           '--shared-wheels', str(tmp_path / 'shared'),
           '--site-packages', str(tmp_path / 'site'), '--cores', '16',
           '--default-cuda-home', str(tmp_path / 'no-toolkit'),
           '--python-tag', 'py312', *args]
    run_env = dict(os.environ, PATH=path, **(env or {}))
    for var in ('CUDA_HOME', 'CUDA_PATH'):
        if not env or var not in env:
            run_env.pop(var, None)
    res = subprocess.run(cmd, env=run_env, capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == rc, res.stderr
    out = {}
    for line in res.stdout.splitlines():
        key, value = line.split('=', 1)
        out[key] = shlex.split(value)[0] if value else ''
    return out


def test_cpu_machine_uses_cpu_key_shared_and_legacy_wheels(tmp_path):
    p = plan(tmp_path, '--torch-version', '2.14.1', '--torch-cuda', '13.0',
             '--capabilities', '', '--python-tag', 'py311', '--cores', '2')
    assert p['MMCV_TARGET'] == 'cpu' and p['FORCE_CUDA'] == '0'
    assert p['MMCV_CACHE_KEY'] == 'py311-torch2.14.1-cpu'
    cache = tmp_path / 'cache'
    assert p['MMCV_SEARCH_DIRS'].split(':') == [
        str(cache / 'py311-torch2.14.1-cpu'), str(cache),
        str(tmp_path / 'shared')]
    assert p['MAX_JOBS'] == '2' and p['TORCH_CUDA_ARCH_LIST'] == ''
    assert p['MMCV_CXX_STD'] == 'c++20' and p['NVCC_WHEEL'] == ''


def test_gpu_machine_builds_cuda_with_matching_nvcc(tmp_path):
    old = _fake_nvcc(tmp_path / 'old' / 'bin', '12.4')
    good = _fake_nvcc(tmp_path / 'cuda-13.0' / 'bin', '13.0')
    p = plan(tmp_path, '--torch-version', '2.11.0+cu130', '--torch-cuda',
             '13.0', '--capabilities', '9.0',
             path=f'{old.parent}:/usr/bin:/bin',
             env={'CUDA_HOME': str(tmp_path / 'cuda-13.0')})
    assert p['MMCV_TARGET'] == 'cuda' and p['FORCE_CUDA'] == '1'
    assert p['MMCV_CACHE_KEY'] == 'py312-torch2.11.0-cu130-sm90'
    # Never the shared or flat-cache CPU wheels on a GPU machine.
    assert p['MMCV_SEARCH_DIRS'] == str(
        tmp_path / 'cache' / 'py312-torch2.11.0-cu130-sm90')
    assert p['TORCH_CUDA_ARCH_LIST'] == '9.0' and p['MAX_JOBS'] == '15'
    assert p['NVCC'] == str(good)
    assert p['MMCV_CUDA_HOME'] == str(tmp_path / 'cuda-13.0')
    assert p['CUDA_CPATH'] == '' and p['NVCC_WHEEL'] == ''
    assert f'{old} (release 12.4)' in p['NVCC_REJECTED']
    assert p['MMCV_CXX_STD'] == 'c++17'


def test_archs_of_all_visible_gpus(tmp_path):
    _fake_nvcc(tmp_path / 'bin', '12.8')
    p = plan(tmp_path, '--torch-version', '2.14.1', '--torch-cuda', '12.8',
             '--capabilities', '9.0,8.0,9.0,8.6',
             path=f'{tmp_path / "bin"}:/usr/bin:/bin')
    assert p['TORCH_CUDA_ARCH_LIST'] == '8.0;8.6;9.0'
    assert p['MMCV_CACHE_KEY'] == 'py312-torch2.14.1-cu128-sm80_sm86_sm90'


@pytest.mark.parametrize('cuda,spec', [
    ('13.0', 'nvidia-cuda-nvcc==13.0.*'),
    ('12.8', 'nvidia-cuda-nvcc-cu12==12.8.*'),
])
def test_no_matching_nvcc_names_the_pypi_wheel(tmp_path, cuda, spec):
    _fake_nvcc(tmp_path / 'bin', '11.8')
    p = plan(tmp_path, '--torch-version', '2.14.1', '--torch-cuda', cuda,
             '--capabilities', '9.0',
             path=f'{tmp_path / "bin"}:/usr/bin:/bin')
    assert p['MMCV_TARGET'] == 'cuda' and p['NVCC'] == ''
    assert p['NVCC_WHEEL'] == spec
    assert 'release 11.8' in p['NVCC_REJECTED']


def test_system_nvcc_gets_the_wheels_headers_too(tmp_path):
    # torch's CUDA headers need cusparse.h etc.; a toolkit may lack them
    # while torch's nvidia-* wheels have them.
    _fake_nvcc(tmp_path / 'cuda' / 'bin', '13.0')
    (tmp_path / 'site' / 'nvidia' / 'cu13' / 'include').mkdir(parents=True)
    p = plan(tmp_path, '--torch-version', '2.14.1', '--torch-cuda', '13.0',
             '--capabilities', '9.0',
             env={'CUDA_HOME': str(tmp_path / 'cuda')})
    assert p['MMCV_CUDA_HOME'] == str(tmp_path / 'cuda')
    assert p['CUDA_CPATH'] == str(
        tmp_path / 'site' / 'nvidia' / 'cu13' / 'include')


def test_nvcc_from_the_pypi_wheel_brings_its_headers(tmp_path):
    site = tmp_path / 'site' / 'nvidia'
    nvcc = _fake_nvcc(site / 'cu13' / 'bin', '13.0')
    for pkg in ('cu13', 'cublas'):
        (site / pkg / 'include').mkdir(parents=True)
    p = plan(tmp_path, '--torch-version', '2.14.1', '--torch-cuda', '13.0',
             '--capabilities', '10.0')
    assert p['NVCC'] == str(nvcc)
    assert p['MMCV_CUDA_HOME'] == str(site / 'cu13')
    assert p['CUDA_CPATH'].split(':') == [str(site / 'cu13' / 'include'),
                                          str(site / 'cublas' / 'include')]


def test_force_cpu_and_cpu_torch_on_a_gpu_machine(tmp_path):
    forced = plan(tmp_path, '--torch-version', '2.14.1', '--torch-cuda',
                  '13.0', '--capabilities', '9.0', '--cuda', '0')
    cpu_torch = plan(tmp_path, '--torch-version', '2.14.1+cpu',
                     '--torch-cuda', 'none', '--capabilities', '9.0')
    for p in (forced, cpu_torch):
        assert p['MMCV_TARGET'] == 'cpu' and p['FORCE_CUDA'] == '0'
        assert p['MMCV_CACHE_KEY'] == 'py312-torch2.14.1-cpu'
        assert str(tmp_path / 'shared') in p['MMCV_SEARCH_DIRS']


def test_another_torch_never_takes_the_shared_wheel(tmp_path):
    p = plan(tmp_path, '--torch-version', '2.7.1+cu126', '--torch-cuda',
             '12.6', '--capabilities', '')
    assert p['MMCV_CACHE_KEY'] == 'py312-torch2.7.1-cpu'
    assert p['MMCV_SEARCH_DIRS'] == str(
        tmp_path / 'cache' / 'py312-torch2.7.1-cpu')


def test_keys_differ_in_every_input(tmp_path):
    _fake_nvcc(tmp_path / 'bin', '13.0')
    path = f'{tmp_path / "bin"}:/usr/bin:/bin'
    base = ['--torch-version', '2.14.1', '--torch-cuda', '13.0',
            '--capabilities', '9.0']
    variants = [base, base[:-1] + ['8.0'], base[:1] + ['2.11.0'] + base[2:],
                base[:3] + ['13.1'] + base[4:], base + ['--python-tag',
                                                        'py311']]
    keys = {plan(tmp_path, *v, path=path)['MMCV_CACHE_KEY'] for v in variants}
    assert len(keys) == len(variants)


def test_max_jobs_override_and_bad_capability(tmp_path):
    p = plan(tmp_path, '--torch-version', '2.14.1', '--torch-cuda', 'none',
             '--capabilities', '', '--max-jobs', '3')
    assert p['MAX_JOBS'] == '3'
    plan(tmp_path, '--torch-version', '2.14.1', '--torch-cuda', '13.0',
         '--capabilities', 'sm90', rc=2)


def test_live_defaults_on_this_cpu_machine(tmp_path):
    # No faked inputs: this machine's torch, which sees no GPU.
    res = subprocess.run([sys.executable, str(PLAN), '--cache',
                          str(tmp_path)], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    assert "MMCV_TARGET=cpu" in res.stdout
    import torch
    key = 'py{}{}-torch{}-cpu'.format(*sys.version_info[:2],
                                      torch.__version__.split('+')[0])
    assert f'MMCV_CACHE_KEY={key}' in res.stdout


@pytest.mark.parametrize('var,value,fix', [
    ('MIXSKD_KEEP_TORCH', 'yes', 'set it to 1 (keep the installed torch)'),
    ('MIXSKD_MMCV_CUDA', 'yes', 'set it to 0 (CPU-only mmcv), 1 (CUDA '
     'kernels for TORCH_CUDA_ARCH_LIST, no GPU needed) or auto'),
])
def test_setup_env_refuses_bad_switches_first(tmp_path, var, value, fix):
    # A copy of the script in an empty project: it must stop before it
    # creates or installs anything.
    (tmp_path / 'tools').mkdir()
    script = tmp_path / 'tools' / 'setup_env.sh'
    script.write_text((TOOLS / 'setup_env.sh').read_text())
    res = subprocess.run(['bash', str(script)], capture_output=True,
                         text=True, timeout=60,
                         env=dict(os.environ, **{var: value}))
    assert res.returncode == 1
    assert f'FAILED at step: read {var}' in res.stderr
    assert f"{fix}" in res.stderr and f"not '{value}'" in res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ['tools']


def _plan_module():
    return import_tool('mmcv_build_plan')


def _pure(mode, arch_env, caps=(), cuda='13.0'):
    return _plan_module().make_plan('py312', '2.14.1', cuda, list(caps), 2,
                                    '/c', '/s', mode, arch_env)


def test_cuda_1_builds_for_the_arch_list_without_a_gpu():
    p = _pure('1', '9.0;8.0')
    assert p['MMCV_TARGET'] == 'cuda' and p['FORCE_CUDA'] == '1'
    assert p['TORCH_CUDA_ARCH_LIST'] == '8.0;9.0'
    assert p['MMCV_CACHE_KEY'] == 'py312-torch2.14.1-cu130-sm80_sm90'
    assert p['MMCV_SEARCH_DIRS'] == '/c/py312-torch2.14.1-cu130-sm80_sm90'
    assert p['GPU_CAPS'] == '' and 'MIXSKD_MMCV_CUDA=1' in \
        p['MMCV_ARCH_SOURCE']
    # Suffixes and +PTX survive into the build and name their own key.
    p = _pure('1', '9.0a 8.0+PTX')
    assert p['TORCH_CUDA_ARCH_LIST'] == '8.0+PTX;9.0a'
    assert p['MMCV_CACHE_KEY'].endswith('-cu130-sm80ptx_sm90a')


def test_auto_takes_the_list_only_with_a_gpu_and_says_so_without():
    with_gpu = _pure('auto', '8.0;9.0', caps=['9.0'])
    assert with_gpu['TORCH_CUDA_ARCH_LIST'] == '8.0;9.0'
    assert with_gpu['MMCV_ARCH_SOURCE'] == 'TORCH_CUDA_ARCH_LIST'
    visible = _pure('auto', '', caps=['9.0', '8.6'])
    assert visible['TORCH_CUDA_ARCH_LIST'] == '8.6;9.0'
    assert visible['MMCV_ARCH_SOURCE'] == 'visible GPUs'
    no_gpu = _pure('auto', '9.0')
    assert no_gpu['MMCV_TARGET'] == 'cpu' and \
        no_gpu['MMCV_CACHE_KEY'] == 'py312-torch2.14.1-cpu'
    assert 'MIXSKD_MMCV_CUDA=1 builds CUDA kernels' in no_gpu['MMCV_NOTE']
    forced_cpu = _pure('0', '9.0', caps=['9.0'])
    assert forced_cpu['MMCV_TARGET'] == 'cpu' and forced_cpu['MMCV_NOTE'] \
        == ''


@pytest.mark.parametrize('mode,arch_env,cuda,match', [
    ('1', '', '13.0', "needs their architectures: set TORCH_CUDA_ARCH_LIST"),
    ('1', '9.0', None, 'built without CUDA.*MIXSKD_MMCV_CUDA=0'),
    ('1', 'sm_90', '13.0', r"\['sm_90'\] are not compute capabilities"),
    ('auto', '9.0;Hopper', '13.0', r"\['Hopper'\] are not"),
    ('1', '90', '13.0', "like '8.0;9.0'"),
    ('yes', '', '13.0', "MIXSKD_MMCV_CUDA='yes': set it to 0"),
])
def test_refused_switches_name_the_fix(mode, arch_env, cuda, match):
    with pytest.raises(ValueError, match=match) as err:
        _pure(mode, arch_env, cuda=cuda)
    assert type(err.value).__name__ == 'PlanError'
