"""Checkpoints cannot run code: the weights-only loaders of the checkpoint
layer (mixskd_mm.checkpoint.safe_load, registered by mixskd_mm.compat).

Real mmengine checkpoints (a Runner trains a tiny classifier with a message
hub, EMA, SGD with momentum and two schedulers) load, resume and export,
also with an empty HistoryBuffer, an empty array and ``b''`` (pickled
through ``builtins.bytes()``); crafted pickles that would create a file
are refused with the global, the file and the opt-in named, and create
nothing.
"""
import os
import os.path as osp
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.hooks import Hook
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner import Runner
from mmengine.runner import checkpoint as mm_checkpoint

import mixskd_mm  # noqa: F401  (registers the loaders)
from mixskd_mm.checkpoint import (CHECKPOINT_GLOBALS, TRUST_ENV,
                                  CheckpointFormatError,
                                  UntrustedCheckpointError, export_backbone,
                                  safe_load_url, safe_torch_load)

from repo import ROOT

N_IMAGES = 8


class _TinySet(torch.utils.data.Dataset):
    """8 random 16 px images of 4 classes, as mmpretrain samples."""

    def __init__(self):
        generator = torch.Generator().manual_seed(0)
        self.images = torch.rand(N_IMAGES, 3, 16, 16, generator=generator)
        self.labels = torch.arange(N_IMAGES) % 4

    def __len__(self):
        return N_IMAGES

    def __getitem__(self, i):
        from mmpretrain.structures import DataSample
        return dict(inputs=self.images[i] * 255,
                    data_samples=DataSample().set_gt_label(int(
                        self.labels[i])))


def _runner(work_dir, **kwargs):
    model = dict(
        type='ImageClassifier',
        backbone=dict(type='ResNet', depth=18, stem_channels=8,
                      base_channels=8),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=4, in_channels=64))
    return Runner(
        model=model,
        work_dir=str(work_dir),
        default_scope='mmpretrain',
        train_dataloader=dict(
            dataset=_TinySet(), batch_size=4, num_workers=0,
            sampler=dict(type='DefaultSampler', shuffle=True),
            collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(optimizer=dict(
            type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4)),
        param_scheduler=[
            dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0,
                 end=1),
            dict(type='MultiStepLR', by_epoch=True, milestones=[1], begin=1)
        ],
        train_cfg=dict(by_epoch=True, max_epochs=kwargs.pop('epochs', 2)),
        custom_hooks=([dict(type='EMAHook', momentum=0.1)]
                      if kwargs.pop('ema', True) else []) +
        kwargs.pop('hooks', []),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook',
                                           interval=1)),
        randomness=dict(seed=0),
        **kwargs)


@pytest.fixture(scope='module')
def run(tmp_path_factory):
    """Two epochs of real training; the checkpoints the Runner saved."""
    work_dir = tmp_path_factory.mktemp('runner')
    runner = _runner(work_dir)
    runner.train()
    return dict(work_dir=work_dir, epoch1=str(work_dir / 'epoch_1.pth'),
                epoch2=str(work_dir / 'epoch_2.pth'),
                state=runner.model.state_dict())


class _Payload:
    """Unpickling calls ``func(*args)``: what a crafted checkpoint does."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def _crafted(path, payload, legacy=False):
    torch.save(dict(state_dict=dict(w=torch.zeros(2)), meta=dict(x=payload)),
               str(path), _use_new_zipfile_serialization=not legacy)
    return str(path)


# ------------------------------------------------- real mmengine checkpoints
def test_allow_list_is_what_a_runner_checkpoint_needs(run):
    # A set: torch keeps the allow-list as a set, whose order a scoped
    # addition can change.
    process_wide = set(torch.serialization.get_safe_globals())
    # torch's defaults alone refuse it: the premise of the allow-list.
    needed = set(torch.serialization.get_unsafe_globals_in_checkpoint(
        run['epoch2']))
    assert 'mmengine.logging.history_buffer.HistoryBuffer' in needed
    assert 'builtins.getattr' in needed
    with pytest.raises(pickle.UnpicklingError):
        torch.load(run['epoch2'], weights_only=True)
    # Every global it holds is on the list, and it loads weights-only.
    with torch.serialization.safe_globals(CHECKPOINT_GLOBALS):
        assert torch.serialization.get_unsafe_globals_in_checkpoint(
            run['epoch2']) == []
    ckpt = safe_torch_load(run['epoch2'], map_location='cpu')
    assert set(ckpt) >= {'meta', 'state_dict', 'message_hub', 'optimizer',
                         'param_schedulers', 'ema_state_dict'}
    loss = ckpt['message_hub']['log_scalars']['train/loss']
    assert isinstance(loss, HistoryBuffer) and len(loss.data[0]) == 4
    assert np.isfinite(loss.mean())
    # The allow-list was scoped to the load.
    assert set(torch.serialization.get_safe_globals()) == process_wide


def test_resume_and_load_from(run, tmp_path):
    # --resume: the Runner restores epoch, optimizer and message hub and
    # trains on to epoch 3.
    runner = _runner(tmp_path / 'resume', epochs=3, resume=True,
                     load_from=run['epoch2'])
    runner.train()
    assert runner.train_loop.epoch == 3
    history = MessageHub.get_current_instance().get_scalar('train/loss')
    assert len(history.data[0]) == 6  # 2 x 2 iterations before, 2 after
    # load_from: the weights of epoch 2 (EMA weights in state_dict).
    runner = _runner(tmp_path / 'load', load_from=run['epoch2'], ema=False)
    runner.load_or_resume()
    saved = safe_torch_load(run['epoch2'])['state_dict']
    for key, value in runner.model.state_dict().items():
        assert torch.equal(value, saved[key]), key


def test_export_of_runner_checkpoint(run, tmp_path):
    info = export_backbone(run['epoch2'], str(tmp_path / 'bb.pth'))
    assert info['ema'] is True
    # A Runner built from arguments (not Runner.from_cfg) saves no model
    # config, so the export checks the ResNet layout.
    assert info['check'].startswith('complete ResNet stages'), info['check']
    exported = torch.load(str(tmp_path / 'bb.pth'), weights_only=True)
    saved = safe_torch_load(run['epoch2'])['state_dict']
    assert set(exported['state_dict']) == {
        k[len('backbone.'):] for k in saved if k.startswith('backbone.')}


def test_fresh_process_loads_runner_checkpoint(run):
    # A new process has built no HistoryBuffer yet (its statistics methods
    # are registered on the first one): what `tools/train.py --resume` and
    # `tools/export_backbone.py` meet.
    code = ('import mixskd_mm, sys; '
            'from mmengine.runner.checkpoint import _load_checkpoint; '
            'ckpt = _load_checkpoint(sys.argv[1]); '
            "print(ckpt['message_hub']['log_scalars']['train/loss'].mean())")
    env = {k: v for k, v in os.environ.items() if k != TRUST_ENV}
    result = subprocess.run([sys.executable, '-c', code, run['epoch2']],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert np.isfinite(float(result.stdout.strip().splitlines()[-1]))


def test_numpy_1_module_names_load(tmp_path):
    # Checkpoints written with numpy < 2 name numpy.core.multiarray.
    path = tmp_path / 'np1.pth'
    torch.save(dict(seed=np.int64(3), scores=np.arange(3.0)), str(path),
               _use_new_zipfile_serialization=False)
    data = path.read_bytes()
    assert b'numpy._core.multiarray' in data
    path.write_bytes(data.replace(b'numpy._core.multiarray',
                                  b'numpy.core.multiarray'))
    ckpt = safe_torch_load(str(path))
    assert ckpt['seed'] == 3
    np.testing.assert_array_equal(ckpt['scores'], [0.0, 1.0, 2.0])


class _EmptyValues(Hook):
    """Puts what protocol 2 pickles through ``builtins.bytes()`` into the
    checkpoints: an empty HistoryBuffer in the message hub (a scalar that
    was registered but never logged), an empty array and ``b''`` in meta.
    """

    def before_save_checkpoint(self, runner, checkpoint):
        hub = runner.message_hub
        hub._log_scalars['eval/never_logged'] = HistoryBuffer()
        hub._resumed_keys['eval/never_logged'] = True
        checkpoint['message_hub'] = runner.message_hub.state_dict()
        checkpoint['meta'].update(no_scores=np.array([]), blank=b'',
                                  tag=b'mixskd')


def test_empty_buffer_array_and_bytes_load(tmp_path):
    runner = _runner(tmp_path, ema=False, hooks=[_EmptyValues()])
    runner.train()
    path = str(tmp_path / 'epoch_2.pth')
    assert 'builtins.bytes' in torch.serialization.\
        get_unsafe_globals_in_checkpoint(path)  # what used to be refused
    for load in (safe_torch_load, mm_checkpoint._load_checkpoint):
        ckpt = load(path)
        empty = ckpt['message_hub']['log_scalars']['eval/never_logged']
        assert isinstance(empty, HistoryBuffer)
        assert empty.data[0].shape == (0, )
        assert len(ckpt['message_hub']['log_scalars']['train/loss']
                   .data[0]) == 4
        assert ckpt['meta']['blank'] == b''
        assert ckpt['meta']['tag'] == b'mixskd'
        assert ckpt['meta']['no_scores'].shape == (0, )
        assert ckpt['meta']['no_scores'].dtype == np.float64
    # and it resumes: the Runner restores the empty buffer with the rest
    resumed = _runner(tmp_path / 'resume', epochs=3, ema=False,
                      resume=True, load_from=path)
    resumed.train()
    assert resumed.train_loop.epoch == 3


# -------------------------------------------------------- crafted pickles
@pytest.mark.parametrize('legacy', [False, True], ids=['zip', 'legacy'])
def test_crafted_pickle_is_refused_everywhere(tmp_path, legacy):
    marker = tmp_path / 'PWNED'
    path = _crafted(tmp_path / 'evil.pth', _Payload(open, str(marker), 'w'),
                    legacy)
    loads = [
        lambda: safe_torch_load(path),
        lambda: mm_checkpoint._load_checkpoint(path),  # load_from, resume
        lambda: mm_checkpoint.load_checkpoint(torch.nn.Linear(2, 2), path),
        lambda: export_backbone(path, str(tmp_path / 'bb.pth')),
    ]
    for load in loads:
        with pytest.raises(UntrustedCheckpointError) as info:
            load()
        info.match('refusing to unpickle checkpoint .*evil.pth')
        info.match(r'io\.open')
        info.match(TRUST_ENV + '=1')
        assert not marker.exists()
    assert isinstance(info.value, CheckpointFormatError)


def test_blocked_module_payload_is_refused(tmp_path):
    marker = tmp_path / 'PWNED'
    path = _crafted(tmp_path / 'evil.pth',
                    _Payload(os.system, f'touch {marker}'))
    with pytest.raises(UntrustedCheckpointError, match=r'posix\.system'):
        mm_checkpoint._load_checkpoint(path)
    assert not marker.exists()


@pytest.mark.parametrize('func,name', [(exec, 'builtins.exec'),
                                       (eval, 'builtins.eval')])
def test_builtin_code_payloads_are_refused(tmp_path, func, name):
    marker = tmp_path / 'PWNED'
    path = _crafted(tmp_path / 'evil.pth',
                    _Payload(func, f'open({str(marker)!r}, "w").close()'))
    with pytest.raises(UntrustedCheckpointError,
                       match=f'needs the global.s. {name}'):
        mm_checkpoint._load_checkpoint(path)
    assert not marker.exists()


def test_bytes_builds_only_the_empty_bytes(tmp_path):
    # bytes(n) would let a pickle allocate n bytes; b'x' * n pickles
    # through _codecs.encode, so bytes() never needs an argument.
    for args in ((10**12, ), ([1, 2], )):
        path = _crafted(tmp_path / 'big.pth', _Payload(bytes, *args))
        with pytest.raises(UntrustedCheckpointError,
                           match=r'refusing bytes\('):
            safe_torch_load(path)


def test_getattr_only_reaches_history_buffer_statistics(tmp_path):
    ok = _crafted(tmp_path / 'ok.pth', _Payload(getattr, HistoryBuffer,
                                                'mean'))
    assert safe_torch_load(ok)['meta']['x'] is HistoryBuffer.mean
    for target, name in ((HistoryBuffer, '__init__'),
                         (HistoryBuffer, 'update'), (np.ndarray, 'tofile')):
        path = _crafted(tmp_path / 'bad.pth', _Payload(getattr, target,
                                                       name))
        with pytest.raises(UntrustedCheckpointError,
                           match=f"refusing getattr.*'{name}'"):
            safe_torch_load(path)


def test_export_cli_refuses_crafted_pickle(tmp_path):
    marker = tmp_path / 'PWNED'
    path = _crafted(tmp_path / 'evil.pth', _Payload(open, str(marker), 'w'))
    env = {k: v for k, v in os.environ.items() if k != TRUST_ENV}
    result = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'export_backbone.py'), path,
         str(tmp_path / 'bb.pth')],
        capture_output=True, text=True, cwd=ROOT,
        env=dict(env, PYTHONWARNINGS='ignore'))
    assert result.returncode == 1, result.stderr
    assert 'export_backbone.py: error: refusing to unpickle' in result.stderr
    assert 'io.open' in result.stderr and TRUST_ENV in result.stderr
    assert 'Traceback' not in result.stderr
    assert not marker.exists()


def test_trust_opt_in_unpickles_fully(tmp_path, monkeypatch):
    # The opt-in is the only switch: with it the same file runs its pickle.
    marker = tmp_path / 'created'
    path = _crafted(tmp_path / 'evil.pth', _Payload(open, str(marker), 'w'))
    monkeypatch.setenv(TRUST_ENV, '1')
    ckpt = mm_checkpoint._load_checkpoint(path)
    ckpt['meta']['x'].close()
    assert marker.exists()
    monkeypatch.setenv(TRUST_ENV, '0')
    marker.unlink()
    with pytest.raises(UntrustedCheckpointError):
        safe_torch_load(path)
    assert isinstance(safe_torch_load(path, trust=True)['meta']['x'].name,
                      str)
    assert marker.exists()


# ----------------------------------------------------------- http(s) path
def test_http_loader_is_weights_only(tmp_path, run):
    """mmengine's http(s) loader (and torchvision://, open-mmlab://) read
    downloads through ``load_url``, which torch.hub defaults to
    weights_only=False; it is the safe version now. file:// URLs take the
    same torch.hub download path without a network."""
    assert mm_checkpoint.load_url is safe_load_url
    marker = tmp_path / 'PWNED'
    path = _crafted(tmp_path / 'evil.pth', _Payload(open, str(marker), 'w'))
    with pytest.raises(UntrustedCheckpointError, match=r'io\.open'):
        mm_checkpoint.load_from_http(
            'file://' + path, model_dir=str(tmp_path / 'hub'))
    assert not marker.exists()
    ckpt = mm_checkpoint.load_from_http(
        'file://' + run['epoch1'], model_dir=str(tmp_path / 'hub'))
    assert ckpt['meta']['epoch'] == 1
