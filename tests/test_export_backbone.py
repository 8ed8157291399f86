"""Tests of tools/export_backbone.py and mixskd_mm.checkpoint.export."""
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config

from mixskd_mm.checkpoint import CheckpointFormatError
from mixskd_mm.checkpoint import export_backbone

import downstream_utils as du
from repo import ROOT, import_tool

TOOL = osp.join(ROOT, 'tools', 'export_backbone.py')
R18_TENSORS = 120  # backbone tensors of an mmpretrain ResNet-18
# A KD-style frozen teacher: its backbone sits under 'teacher.backbone.'
# and must not be mistaken for the student's.
TEACHER = {'teacher.backbone.conv1.weight': (64, 3, 7, 7)}


@pytest.fixture(scope='module')
def train_ckpt(tmp_path_factory):
    """A ResNet-18 classifier checkpoint with self-distillation parts."""
    path = tmp_path_factory.mktemp('export') / 'epoch_3.pth'
    return du.save_training_checkpoint(path, du.resnet_classifier(18),
                                       dict(du.FAKE_TRAINING_PARTS, **TEACHER))


def _rewrite(src: str, dst, edit) -> str:
    """Copy a checkpoint, applying ``edit(checkpoint)`` on the way."""
    checkpoint = torch.load(src, map_location='cpu', weights_only=False)
    edit(checkpoint)
    torch.save(checkpoint, str(dst))
    return str(dst)


def test_keeps_backbone_drops_the_rest(train_ckpt, tmp_path):
    out = tmp_path / 'sub' / 'backbone.pth'
    info = export_backbone(train_ckpt['path'], str(out))

    assert info['kept'] == R18_TENSORS
    assert dict(info['dropped_groups']) == {
        'head': 2,
        'branches': 2,
        'branch_heads': 1,
        'self_teacher': 2,
        'teacher': 1,
    }
    assert info['dropped'] == 8
    assert info['ema'] is False
    assert 'meta.cfg' in info['check']
    # weights_only=True: the file needs no pickled objects beyond builtins,
    # so stock mmdet/mmseg `Pretrained` can read it on torch >= 2.6.
    exported = du.load_exported(out)
    assert set(exported) == {'state_dict', 'meta'}
    assert exported['state_dict']['conv1.weight'].shape == (64, 3, 7, 7)
    du.assert_same_tensors(exported['state_dict'], train_ckpt['backbone'])
    meta = exported['meta']
    assert meta['source'] == osp.abspath(train_ckpt['path'])
    assert meta['classifier'] == 'ImageClassifier'
    assert meta['backbone']['type'] == 'ResNet'
    assert meta['backbone']['depth'] == 18
    assert (meta['ema'], meta['epoch'], meta['iter']) == (False, 3, 30)


def test_takes_ema_weights(tmp_path):
    ckpt = du.save_training_checkpoint(
        tmp_path / 'ema.pth', du.resnet_classifier(18), ema=True)
    # mmengine's EMAHook put the averaged weights in `state_dict`: they
    # must differ from the raw ones or this test proves nothing.
    assert not torch.equal(ckpt['backbone']['conv1.weight'],
                           ckpt['raw_backbone']['conv1.weight'])
    info = export_backbone(ckpt['path'], str(tmp_path / 'bb.pth'))

    assert info['ema'] is True
    exported = du.load_exported(tmp_path / 'bb.pth')
    assert exported['meta']['ema'] is True
    du.assert_same_tensors(exported['state_dict'], ckpt['backbone'])


def test_without_saved_config_checks_stages(tmp_path):
    ckpt = du.save_training_checkpoint(
        tmp_path / 'nocfg.pth', du.resnet_classifier(18), with_cfg=False)
    info = export_backbone(ckpt['path'], str(tmp_path / 'bb.pth'))
    assert 'complete ResNet stages' in info['check']
    assert info['kept'] == R18_TENSORS


def test_ddp_prefix_and_custom_prefix(train_ckpt, tmp_path):
    # Weights saved from a DDP-wrapped model carry 'module.'; a custom
    # --prefix selects another sub-module (here the teacher's backbone).
    def wrap(checkpoint):
        checkpoint['state_dict'] = {
            'module.' + k: v
            for k, v in checkpoint['state_dict'].items()
        }
        del checkpoint['meta']['cfg']  # its backbone is the student's

    src = _rewrite(train_ckpt['path'], tmp_path / 'ddp.pth', wrap)
    info = export_backbone(src, str(tmp_path / 'bb.pth'))
    assert info['kept'] == R18_TENSORS

    with pytest.raises(
            CheckpointFormatError, match='does not hold a complete ResNet'):
        # Only conv1 of the teacher exists in this fake checkpoint.
        export_backbone(
            src, str(tmp_path / 'teacher.pth'), prefix='teacher.backbone')


# The classifiers of this project, from their own configs: whatever
# training-only parts each adds, only the backbone is exported.
PROJECT_CLASSIFIERS = [
    'mixskd_r50_imagenet', 'mixskd_r18_cifar100', 'frskd_r18_cifar100',
    'cutnmix_r18_cifar100', 'kd_r18_cifar100'
]


@pytest.mark.parametrize('name', PROJECT_CLASSIFIERS)
def test_project_classifiers(name, tmp_path):
    model_cfg = Config.fromfile(
        osp.join(ROOT, 'configs', f'{name}.py')).model.to_dict()
    teacher = model_cfg.get('teacher')
    if isinstance(teacher, dict) and 'checkpoint' in teacher:
        # KD builds its frozen teacher from a checkpoint: give it one.
        teacher['checkpoint'] = du.save_training_checkpoint(
            tmp_path / 'teacher.pth', teacher['config'])['path']
    ckpt = du.save_training_checkpoint(
        tmp_path / 'train.pth', model_cfg, ema=True)
    info = export_backbone(ckpt['path'], str(tmp_path / 'bb.pth'))

    groups = {k.split('.')[0] for k in ckpt['state_dict']} - {'backbone'}
    assert set(info['dropped_groups']) == groups
    assert info['ema'] is True
    assert info['check'].startswith('matches the backbone of meta.cfg')
    exported = du.load_exported(tmp_path / 'bb.pth')
    assert exported['meta']['classifier'] == model_cfg['type']
    du.assert_same_tensors(exported['state_dict'], ckpt['backbone'])


def _drop(*keys):

    def edit(checkpoint):
        for key in keys:
            del checkpoint['state_dict'][key]

    return edit


def _drop_stage(stage):

    def edit(checkpoint):
        state_dict = checkpoint['state_dict']
        for key in [k for k in state_dict if k.startswith(stage)]:
            del state_dict[key]
        del checkpoint['meta']['cfg']

    return edit


def _no_cfg_drop(key):

    def edit(checkpoint):
        del checkpoint['state_dict'][key]
        del checkpoint['meta']['cfg']

    return edit


def _reshape(key, shape):

    def edit(checkpoint):
        checkpoint['state_dict'][key] = torch.zeros(shape)

    return edit


def _detector(checkpoint):
    checkpoint['state_dict']['neck.lateral_convs.0.conv.weight'] = \
        torch.zeros(1)
    checkpoint['state_dict']['rpn_head.rpn_conv.weight'] = torch.zeros(1)


def _no_backbone(checkpoint):
    checkpoint['state_dict'] = {
        'encoder.' + k: v
        for k, v in checkpoint['state_dict'].items()
    }
    del checkpoint['meta']['cfg']


@pytest.mark.parametrize(
    'edit, patterns', [
        (_drop('backbone.layer3.1.conv2.weight'), [
            'do not match the backbone built from its own saved config',
            r'1 missing, 0 unexpected, 0 shape mismatch',
            r'missing keys \(1\): layer3.1.conv2.weight',
            'export from the original training checkpoint'
        ]),
        (_reshape('backbone.conv1.weight', (64, 3, 3, 3)), [
            r'shape mismatches \(1\): conv1.weight: checkpoint '
            r'\(64, 3, 3, 3\) vs config \(64, 3, 7, 7\)'
        ]),
        (_no_cfg_drop('backbone.layer2.0.bn1.running_var'), [
            'does not hold a complete ResNet backbone',
            r'missing \(1\): layer2.0.bn1.running_var', 'truncated'
        ]),
        (_drop_stage('backbone.layer4.'), [r'layer4.\* \(the whole stage\)']),
        (_detector, [
            'is a detection/segmentation checkpoint', 'rpn_head',
            'Export from the checkpoint written by '
            'the ImageNet pretraining'
        ]),
        (_no_backbone, [
            "is not a classifier checkpoint: no key starts "
            "with 'backbone.'", 'encoder', '--prefix'
        ]),
    ],
    ids=[
        'missing-vs-cfg', 'shape-vs-cfg', 'missing-no-cfg', 'missing-stage',
        'detector', 'no-backbone'
    ])
def test_bad_checkpoints_are_refused(train_ckpt, tmp_path, edit, patterns):
    src = _rewrite(train_ckpt['path'], tmp_path / 'bad.pth', edit)
    du.assert_export_refused(src, tmp_path / 'bb.pth', patterns)


def test_already_exported_is_refused(train_ckpt, tmp_path):
    first = tmp_path / 'bb.pth'
    export_backbone(train_ckpt['path'], str(first))
    with pytest.raises(
            CheckpointFormatError,
            match='already a backbone-only checkpoint.*Use it '
            'directly as init_cfg.checkpoint'):
        export_backbone(str(first), str(tmp_path / 'again.pth'))
    # A torchvision-style plain state dict (no meta) is recognised too.
    plain = tmp_path / 'plain.pth'
    torch.save(du.load_exported(first)['state_dict'], str(plain))
    with pytest.raises(CheckpointFormatError, match='already a backbone'):
        export_backbone(str(plain), str(tmp_path / 'again.pth'))


def test_unreadable_files(train_ckpt, tmp_path):
    with pytest.raises(
            FileNotFoundError,
            match="checkpoint file not found: '.*nope.pth'"):
        export_backbone(str(tmp_path / 'nope.pth'), str(tmp_path / 'o.pth'))

    truncated = tmp_path / 'truncated.pth'
    with open(train_ckpt['path'], 'rb') as src:
        truncated.write_bytes(src.read(4096))
    with pytest.raises(
            CheckpointFormatError,
            match='cannot read checkpoint .*truncated, corrupt'):
        export_backbone(str(truncated), str(tmp_path / 'o.pth'))

    tensor = tmp_path / 'tensor.pth'
    torch.save(torch.zeros(3), str(tensor))
    with pytest.raises(CheckpointFormatError, match='not a dict of weights'):
        export_backbone(str(tensor), str(tmp_path / 'o.pth'))

    with pytest.raises(CheckpointFormatError, match='is the input'):
        export_backbone(train_ckpt['path'], train_ckpt['path'])


def test_cli_prints_counts(train_ckpt, tmp_path, capsys):
    tool = import_tool('export_backbone')
    out = tmp_path / 'bb.pth'
    assert tool.main([train_ckpt['path'], str(out)]) == 0
    stdout = capsys.readouterr().out
    assert f'Kept {R18_TENSORS} backbone tensors (raw, no EMA weights' in \
        stdout
    assert ('Dropped 8 tensors: head (2), branches (2), branch_heads (1), '
            'self_teacher (2), teacher (1).') in stdout
    assert out.is_file()


def test_cli_exits_nonzero_with_message(tmp_path):
    # The real entry point, as a user runs it.
    result = subprocess.run([
        sys.executable, TOOL,
        str(tmp_path / 'missing.pth'),
        str(tmp_path / 'bb.pth')
    ],
                            capture_output=True,
                            text=True,
                            cwd=ROOT,
                            env=dict(os.environ, PYTHONWARNINGS='ignore'))
    assert result.returncode == 1, result.stderr
    assert 'export_backbone.py: error: checkpoint file not found' in \
        result.stderr
    assert 'Traceback' not in result.stderr


def test_cli_refuses_non_finite_backbone(train_ckpt, tmp_path):
    # What a diverged run (loss: nan) leaves: NaN/Inf in the backbone.
    def diverge(checkpoint):
        state_dict = checkpoint['state_dict']
        state_dict['backbone.layer2.0.conv1.weight'][0, 0, 0, 0] = \
            float('nan')
        state_dict['backbone.bn1.running_var'][3] = float('inf')
        state_dict['head.fc.weight'][0, 0] = float('nan')  # dropped anyway

    src = _rewrite(train_ckpt['path'], tmp_path / 'nan.pth', diverge)
    out = tmp_path / 'bb.pth'
    result = subprocess.run([sys.executable, TOOL, src, str(out)],
                            capture_output=True, text=True, cwd=ROOT,
                            env=dict(os.environ, PYTHONWARNINGS='ignore'))
    assert result.returncode == 1, result.stderr
    assert ('non-finite values (NaN or Inf) in 2 backbone tensor(s): '
            'bn1.running_var, layer2.0.conv1.weight') in result.stderr
    assert 'The training run diverged' in result.stderr
    assert 'Traceback' not in result.stderr
    assert not out.exists()


@pytest.mark.parametrize('umask, mode', [(0o022, 0o644), (0o027, 0o640)])
def test_output_mode_follows_umask(train_ckpt, tmp_path, umask, mode):
    # Like the checkpoints mmengine writes, not mkstemp's 0600.
    previous = os.umask(umask)
    try:
        export_backbone(train_ckpt['path'], str(tmp_path / 'bb.pth'))
    finally:
        os.umask(previous)
    assert os.stat(tmp_path / 'bb.pth').st_mode & 0o777 == mode
    assert os.listdir(tmp_path) == ['bb.pth']  # no temporary file left
