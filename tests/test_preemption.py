"""SIGTERM mid-epoch: checkpoint, exit 75, resume at the next iteration.

tools/train.py runs in subprocesses on the tiny project of
tests/tiny_train_project.py (2 epochs of 8 iterations). The preempted run's
record hook holds iteration 11 (epoch 2, batch 3) until the test, having
seen the ``paused`` marker, sends SIGTERM from outside; so the signal lands
in that iteration however slow the machine is. The run is then resumed with
``--resume`` and compared with an uninterrupted run of the same config.
"""
import os
import signal
import subprocess
import time

import pytest
import torch
from mmengine.runner.checkpoint import _load_checkpoint

from mmengine.config import Config

from mixskd_mm.engine import (PREEMPTED_EXIT_CODE, PreemptionHook,
                              add_preemption_hook)

import tiny_train_project as tiny
from repo import ROOT

STOP_AT = 11  # iterations done when SIGTERM arrives: epoch 2, batch 3 of 8
TOTAL = 2 * tiny.ITERS_PER_EPOCH


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    root = tiny.write_project(tmp_path_factory.mktemp('preempt'))
    plain, work_dir = root / 'plain', root / 'preempted'
    # The uninterrupted run alongside the preempted one: half the wait.
    procs = [
        subprocess.Popen(
            tiny.train_cmd(tiny.config(root, pause), out), cwd=root,
            env=tiny.env(root), text=True, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT)
        for pause, out in ((None, plain), (STOP_AT, work_dir))]
    first = procs[1]
    try:
        _wait_for(work_dir / 'paused', first)
        first.send_signal(signal.SIGTERM)
        first_log, _ = first.communicate(timeout=120)
        plain_log, _ = procs[0].communicate(timeout=240)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    assert procs[0].returncode == 0, plain_log[-4000:]
    first_records = tiny.batches(work_dir)
    after_first = {p.name for p in work_dir.glob('*.pth')}
    pointer_after_first = (work_dir / 'last_checkpoint').read_text()

    resumed = tiny.run(
        tiny.train_cmd(tiny.config(root, None), work_dir, '--resume'), root)
    return dict(
        root=root, plain=plain, work_dir=work_dir, rc=first.returncode,
        first_log=first_log, first_records=first_records,
        after_first=after_first, pointer_after_first=pointer_after_first,
        resumed=resumed)


def _wait_for(path, proc, timeout=240):
    """Wait until ``path`` exists; fail with the log if ``proc`` ends."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            pytest.fail(f'train.py ended ({proc.returncode}) before '
                        f'iteration {STOP_AT}:\n{proc.stdout.read()[-4000:]}')
        assert time.monotonic() < deadline, f'no {path} after {timeout} s'
        time.sleep(0.05)


def test_sigterm_writes_a_checkpoint_and_exits_75(runs):
    assert runs['rc'] == PREEMPTED_EXIT_CODE == 75, runs['first_log'][-3000:]
    assert (f'SIGTERM received: saving preempted_iter_{STOP_AT}.pth after '
            f'iteration {STOP_AT} and exiting with status 75') \
        in runs['first_log']
    # The iteration in progress finished; nothing after it ran.
    assert [r['iter'] for r in runs['first_records']] == list(
        range(1, STOP_AT + 1))
    assert runs['after_first'] == {'epoch_1.pth',
                                   f'preempted_iter_{STOP_AT}.pth'}
    ckpt_path = runs['work_dir'] / f'preempted_iter_{STOP_AT}.pth'
    assert runs['pointer_after_first'] == str(ckpt_path)


def test_resume_starts_at_the_next_iteration_of_the_epoch(runs):
    resumed = runs['resumed']
    assert resumed.returncode == 0, resumed.stdout[-4000:]
    log = resumed.stdout
    assert 'resumed epoch: 1, iter: 11' in log
    assert ('resuming epoch 2 at batch 4 of 8: skipping the 3 batches '
            'trained before the preemption') in log
    assert 'Epoch(train) [2][1/8]' not in log
    assert 'Epoch(train) [2][4/8]' in log
    second = tiny.batches(runs['work_dir'])[len(runs['first_records']):]
    assert (second[0]['epoch'], second[0]['iter'], second[0]['batch_idx']) \
        == (1, STOP_AT + 1, 3)


def test_each_sample_of_the_epoch_once_and_as_many_iterations(runs):
    records = tiny.batches(runs['work_dir'])
    plain = tiny.batches(runs['plain'])
    assert [r['iter'] for r in records] == list(range(1, TOTAL + 1))
    assert len(plain) == len(records) == TOTAL
    epoch2 = [i for r in records if r['epoch'] == 1 for i in r['samples']]
    assert sorted(epoch2) == list(range(tiny.NUM_SAMPLES))
    # The same batches in the same order as without the preemption.
    assert [r['samples'] for r in records] == [r['samples'] for r in plain]


def test_same_final_weights_as_an_uninterrupted_run(runs):
    """Bit-identical: same CPU kernels, one thread, same batches and order,
    and the optimizer's momentum and the scheduler come from the checkpoint;
    the pipeline has no random augmentation (the RNG state is not saved)."""
    ours = _load_checkpoint(str(runs['work_dir'] / 'epoch_2.pth'), 'cpu')
    ref = _load_checkpoint(str(runs['plain'] / 'epoch_2.pth'), 'cpu')
    assert ours['meta']['iter'] == ref['meta']['iter'] == TOTAL
    assert ours['state_dict'].keys() == ref['state_dict'].keys()
    for key, value in ref['state_dict'].items():
        assert torch.equal(ours['state_dict'][key], value), key


def test_finished_run_drops_the_preemption_checkpoint(runs):
    work_dir = runs['work_dir']
    assert sorted(p.name for p in work_dir.glob('*.pth')) == ['epoch_2.pth']
    assert (work_dir / 'last_checkpoint').read_text() == str(
        work_dir / 'epoch_2.pth')


def test_hook_arguments_are_checked():
    assert [s.name for s in PreemptionHook(signals=['TERM', 'usr1']).signals] \
        == ['SIGTERM', 'SIGUSR1']
    with pytest.raises(ValueError, match="'SIGFOO' is not a signal.*SIGUSR1"):
        PreemptionHook(signals=['SIGFOO'])
    with pytest.raises(ValueError, match='exit_code=0; give an integer'):
        PreemptionHook(exit_code=0)
    with pytest.raises(ValueError, match="needs a '{}'"):
        PreemptionHook(filename_tmpl='preempted.pth')


def test_add_preemption_hook_keeps_a_configured_one():
    cfg = Config(dict(custom_hooks=[dict(type='NonFiniteLossHook')]))
    add_preemption_hook(cfg)
    assert [h['type'] for h in cfg.custom_hooks] == [
        'NonFiniteLossHook', 'PreemptionHook']
    cfg = Config(dict(custom_hooks=[
        dict(type='PreemptionHook', signals=['SIGUSR2'])]))
    add_preemption_hook(cfg)
    assert cfg.custom_hooks == [
        dict(type='PreemptionHook', signals=['SIGUSR2'])]


def _stub(bin_dir, name, body):
    path = bin_dir / name
    path.write_text(f'#!/usr/bin/env bash\n{body}\n')
    path.chmod(0o755)


@pytest.fixture
def slurm_stubs(tmp_path):
    """``sbatch``, ``srun`` and ``scontrol`` that record their argv; srun
    exits with $SRUN_RC."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    for name in ('sbatch', 'scontrol'):
        _stub(bin_dir, name, f'printf "%s\\n" "$@" > {tmp_path}/{name}.txt\n'
              f'echo "MIXSKD_REQUEUE_JOB=$MIXSKD_REQUEUE_JOB" >> '
              f'{tmp_path}/{name}.txt')
    _stub(bin_dir, 'srun', f'printf "%s\\n" "$@" > {tmp_path}/srun.txt\n'
          'exit "${SRUN_RC:-0}"')
    env = dict(os.environ, PATH=f'{bin_dir}:{os.environ["PATH"]}')
    for var in ('GPUS', 'GPUS_PER_NODE', 'CPUS_PER_TASK', 'SRUN_ARGS',
                'SBATCH_ARGS', 'REQUEUE', 'MIXSKD_REQUEUE_JOB',
                'SLURM_JOB_ID', 'SIGNAL_SECONDS'):
        env.pop(var, None)
    return env, tmp_path


def _slurm_train(args, env):
    return subprocess.run(
        ['bash', str(ROOT / 'tools' / 'slurm_train.sh'), *args],
        env=env, capture_output=True, text=True, timeout=60)


def test_slurm_train_requeue_submits_with_requeue_and_signal(slurm_stubs):
    env, out = slurm_stubs
    env.update(REQUEUE='1', GPUS='2', SBATCH_ARGS='--time=1-0')
    res = _slurm_train(['gpu', 'job', 'cfg.py', 'work_dirs/x', '--amp'], env)
    assert res.returncode == 0, res.stderr
    assert (out / 'sbatch.txt').read_text().splitlines() == [
        '-p', 'gpu', '--job-name=job', '--gres=gpu:2', '--ntasks=2',
        '--ntasks-per-node=2', '--cpus-per-task=5', '--requeue',
        '--signal=USR1@120', '--open-mode=append', '--time=1-0',
        str(ROOT / 'tools' / 'slurm_train.sh'), 'gpu', 'job', 'cfg.py',
        '--work-dir', 'work_dirs/x', '--amp', 'MIXSKD_REQUEUE_JOB=1']
    assert not (out / 'srun.txt').exists()


@pytest.mark.parametrize('srun_rc,requeued', [(75, True), (1, False),
                                              (0, False)])
def test_slurm_batch_job_resumes_and_requeues_on_75(slurm_stubs, srun_rc,
                                                    requeued):
    env, out = slurm_stubs
    env.update(REQUEUE='1', MIXSKD_REQUEUE_JOB='1', SLURM_JOB_ID='4242',
               SRUN_RC=str(srun_rc), GPUS='1')
    res = _slurm_train(['gpu', 'job', 'cfg.py', 'w', '--amp'], env)
    assert res.returncode == srun_rc, res.stderr
    argv = (out / 'srun.txt').read_text().splitlines()
    assert argv[-7:] == ['cfg.py', '--work-dir', 'w', '--amp', '--resume',
                         '--launcher', 'slurm']
    assert (out / 'scontrol.txt').exists() == requeued
    if requeued:
        assert (out / 'scontrol.txt').read_text().splitlines()[:2] == [
            'requeue', '4242']
        assert 'requeueing job 4242' in res.stderr


def test_slurm_requeue_needs_sbatch(tmp_path):
    env = dict(os.environ, REQUEUE='1', PATH='/usr/bin:/bin')
    env.pop('MIXSKD_REQUEUE_JOB', None)
    res = _slurm_train(['gpu', 'job', 'cfg.py'], env)
    assert res.returncode == 127
    assert 'sbatch not found: REQUEUE=1 submits a batch job' in res.stderr
