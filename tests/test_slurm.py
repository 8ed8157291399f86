"""tools/slurm_train.sh and slurm_test.sh build the upstream srun command.

A stub ``srun`` first on PATH writes its argv (one per line) to a file and
exits, so the test reads exactly what would run on a cluster.
"""
import os
import stat
import subprocess

import pytest

from repo import ROOT


@pytest.fixture
def stub_srun(tmp_path):
    """PATH with a recording ``srun``; returns (env, argv file)."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    record = tmp_path / 'argv.txt'
    srun = bin_dir / 'srun'
    srun.write_text('#!/usr/bin/env bash\n'
                    f'printf "%s\\n" "$@" > {record}\n'
                    'echo "PYTHONPATH=$PYTHONPATH" >> '
                    f'{tmp_path / "env.txt"}\n')
    srun.chmod(srun.stat().st_mode | stat.S_IEXEC)
    env = dict(os.environ, PATH=f'{bin_dir}:{os.environ["PATH"]}')
    for var in ('GPUS', 'GPUS_PER_NODE', 'CPUS_PER_TASK', 'SRUN_ARGS'):
        env.pop(var, None)
    return env, record


def _run(script, args, env):
    return subprocess.run(['bash', str(ROOT / 'tools' / script), *args],
                          env=env, capture_output=True, text=True,
                          timeout=60)


def _python():
    venv = ROOT / '.venv' / 'bin' / 'python'
    return str(venv) if venv.exists() else 'python'


def test_slurm_train_defaults(stub_srun):
    env, record = stub_srun
    res = _run('slurm_train.sh',
               ['gpu', 'mixskd', 'configs/mixskd_r50_imagenet.py',
                'work_dirs/x', '--amp', '--cfg-options', 'a=1'], env)
    assert res.returncode == 0, res.stderr
    assert record.read_text().splitlines() == [
        '-p', 'gpu', '--job-name=mixskd', '--gres=gpu:8', '--ntasks=8',
        '--ntasks-per-node=8', '--cpus-per-task=5', '--kill-on-bad-exit=1',
        _python(), '-u', str(ROOT / 'tools' / 'train.py'),
        'configs/mixskd_r50_imagenet.py', '--work-dir', 'work_dirs/x',
        '--amp', '--cfg-options', 'a=1', '--launcher', 'slurm']
    assert f'PYTHONPATH={ROOT}' in (record.parent / 'env.txt').read_text()


def test_slurm_train_env_and_no_work_dir(stub_srun):
    env, record = stub_srun
    env.update(GPUS='16', GPUS_PER_NODE='4', CPUS_PER_TASK='10',
               SRUN_ARGS='--quotatype=auto --time=1-0')
    res = _run('slurm_train.sh', ['p1', 'job', 'cfg.py', '--resume'], env)
    assert res.returncode == 0, res.stderr
    argv = record.read_text().splitlines()
    assert argv[:10] == [
        '-p', 'p1', '--job-name=job', '--gres=gpu:4', '--ntasks=16',
        '--ntasks-per-node=4', '--cpus-per-task=10', '--kill-on-bad-exit=1',
        '--quotatype=auto', '--time=1-0']
    assert argv[13:] == ['cfg.py', '--resume', '--launcher', 'slurm']


def test_slurm_train_small_job_asks_for_its_gpus_only(stub_srun):
    env, record = stub_srun
    env.update(GPUS='2')
    assert _run('slurm_train.sh', ['p', 'j', 'c.py'], env).returncode == 0
    argv = record.read_text().splitlines()
    assert '--gres=gpu:2' in argv and '--ntasks=2' in argv
    assert '--ntasks-per-node=2' in argv


def test_slurm_test(stub_srun):
    env, record = stub_srun
    res = _run('slurm_test.sh',
               ['gpu', 'eval', 'cfg.py', 'ckpt.pth', '--out', 'm.json'], env)
    assert res.returncode == 0, res.stderr
    argv = record.read_text().splitlines()
    assert argv[8:] == [
        _python(), '-u', str(ROOT / 'tools' / 'test.py'), 'cfg.py',
        'ckpt.pth', '--out', 'm.json', '--launcher', 'slurm']


@pytest.mark.parametrize('script,args', [
    ('slurm_train.sh', ['gpu', 'job']),
    ('slurm_test.sh', ['gpu', 'job', 'cfg.py']),
])
def test_usage_errors(stub_srun, script, args):
    env, record = stub_srun
    res = _run(script, args, env)
    assert res.returncode == 2 and 'usage:' in res.stderr
    assert not record.exists()


def test_bad_gpus_named(stub_srun):
    env, record = stub_srun
    env.update(GPUS='eight')
    res = _run('slurm_train.sh', ['p', 'j', 'c.py'], env)
    assert res.returncode == 2
    assert "GPUS must be a positive integer, got 'eight'" in res.stderr
    assert not record.exists()


def test_no_srun_names_the_alternative(tmp_path):
    env = dict(os.environ, PATH=f'{tmp_path}:/usr/bin:/bin')
    res = _run('slurm_train.sh', ['p', 'j', 'c.py'], env)
    assert res.returncode == 127 and 'dist_train.sh' in res.stderr
