"""Tests of the StrictPretrained weight initializer."""
import logging

import pytest
import torch
from mmengine.registry import WEIGHT_INITIALIZERS

from mixskd_mm.engine import StrictPretrainedInit
from mixskd_mm.checkpoint import export_backbone

import downstream_utils as du


@pytest.fixture(scope='module')
def ckpts(tmp_path_factory):
    """Raw training checkpoints and their exports, ResNet-18 and -50."""
    root = tmp_path_factory.mktemp('strict')
    result = {}
    for depth in (18, 50):
        train = du.save_training_checkpoint(
            root / f'r{depth}_train.pth',
            du.resnet_classifier(depth),
            du.FAKE_TRAINING_PARTS,
            seed=depth)
        exported = str(root / f'r{depth}_backbone.pth')
        export_backbone(train['path'], exported)
        result[depth] = dict(
            train=train['path'], exported=exported, backbone=train['backbone'])
    return result


def _init(scope, backbone_cfg, **init_cfg):
    init_cfg.setdefault('type', 'StrictPretrained')
    model = du.build(dict(backbone_cfg, init_cfg=init_cfg), scope)
    model.init_weights()
    return model


@pytest.mark.parametrize('scope', ['mmdet', 'mmseg', 'mmpretrain'])
def test_registered_for_every_scope(scope):
    import importlib
    registry = importlib.import_module(f'{scope}.registry')
    # The child registry of each scope finds it in mmengine's root.
    assert registry.WEIGHT_INITIALIZERS.get('StrictPretrained') is \
        StrictPretrainedInit
    assert WEIGHT_INITIALIZERS.get('StrictPretrained') is \
        StrictPretrainedInit


# Every ResNet a config of this project may load into. mmpretrain's ResNet
# re-zeroes the last norm of each block after init_cfg unless the type is
# 'Pretrained' (zero_init_residual, on by default): depth 50 covers the
# Bottleneck's bn3, depth 18 the BasicBlock's bn2.
BACKBONES = [
    ('mmdet', dict(type='ResNet', frozen_stages=1, norm_eval=True)),
    ('mmseg',
     dict(
         type='ResNet',
         strides=(1, 2, 1, 1),
         dilations=(1, 1, 2, 4),
         contract_dilation=True,
         norm_cfg=dict(type='SyncBN', requires_grad=True))),
    ('mmpretrain', dict(type='ResNet', zero_init_residual=True)),
    ('mmdet', dict(type='mmpretrain.ResNet', zero_init_residual=True)),
]


@pytest.mark.parametrize('depth', [18, 50])
@pytest.mark.parametrize(
    'scope, backbone',
    BACKBONES,
    ids=['mmdet', 'mmseg-d8', 'mmpretrain', 'mmdet-mmpretrain.ResNet'])
def test_loaded_weights_are_final(ckpts, scope, backbone, depth):
    model = _init(
        scope,
        dict(backbone, depth=depth),
        checkpoint=ckpts[depth]['exported'])
    # Every tensor, BN statistics and counters included, is the
    # checkpoint's after init_weights() returned.
    du.assert_same_tensors(model.state_dict(), ckpts[depth]['backbone'])


def test_prefix_loads_raw_training_checkpoint(ckpts):
    with du.captured_log() as records:
        model = _init(
            'mmdet',
            dict(type='ResNet', depth=18),
            checkpoint=ckpts[18]['train'],
            prefix='backbone.')
    du.assert_same_tensors(model.state_dict(), ckpts[18]['backbone'])
    messages = [r.getMessage() for r in records]
    assert any('StrictPretrained: loaded 120 tensors into ResNet' in m
               and "prefix 'backbone.'" in m for m in messages), messages


def test_raw_checkpoint_without_prefix_is_refused(ckpts):
    with pytest.raises(RuntimeError) as info:
        _init(
            'mmdet',
            dict(type='ResNet', depth=18),
            checkpoint=ckpts[18]['train'])
    # 120 backbone tensors missing (num_batches_tracked not counted); the
    # 120 - 20 + 2 head + 5 fake training tensors are unexpected.
    info.match('does not match ResNet: 100 missing, 107 unexpected, 0 '
               'shape mismatch')
    info.match(r'missing keys \(100\): conv1.weight, bn1.weight')
    info.match(r'unexpected keys \(107\): backbone.conv1.weight')
    info.match('raw training checkpoint')
    info.match('tools/export_backbone.py')
    info.match("init_cfg.prefix='backbone.'")


def test_prefix_on_exported_checkpoint_is_refused(ckpts):
    with pytest.raises(
            RuntimeError,
            match="no key of .* starts with prefix 'backbone.'.*"
            'remove init_cfg.prefix'):
        _init(
            'mmseg',
            dict(type='ResNet', depth=18),
            checkpoint=ckpts[18]['exported'],
            prefix='backbone')


def test_other_depth_is_refused(ckpts):
    with pytest.raises(RuntimeError) as info:
        _init(
            'mmdet',
            dict(type='ResNet', depth=50),
            checkpoint=ckpts[18]['exported'])
    info.match(r'\d+ missing, \d+ unexpected, \d+ shape mismatch')
    info.match(r'shape mismatches \(\d+\): layer1.0.conv1.weight: checkpoint '
               r'\(64, 64, 3, 3\) vs model \(64, 64, 1, 1\)')
    info.match('different architecture')
    info.match('init_cfg.strict=False')


def test_not_strict_warns_and_loads_the_rest(ckpts, tmp_path):
    exported = du.load_exported(ckpts[18]['exported'])
    del exported['state_dict']['layer4.1.conv2.weight']
    exported['state_dict']['extra.weight'] = torch.zeros(10, 512)
    partial = tmp_path / 'partial.pth'
    torch.save(exported, str(partial))

    with pytest.raises(
            RuntimeError,
            match=r'(?s)1 missing, 1 unexpected.*missing keys \(1\): '
            r'layer4.1.conv2.weight.*unexpected keys \(1\): extra.weight'):
        _init('mmdet', dict(type='ResNet', depth=18), checkpoint=str(partial))

    with du.captured_log() as records:
        model = _init(
            'mmdet',
            dict(type='ResNet', depth=18),
            checkpoint=str(partial),
            strict=False)
    warnings = [
        r.getMessage() for r in records if r.levelno == logging.WARNING
    ]
    assert any('StrictPretrained (strict=False)' in w
               and '1 missing, 1 unexpected' in w for w in warnings), warnings
    assert any('loaded 119 tensors' in r.getMessage() for r in records)
    state = model.state_dict()
    expected = ckpts[18]['backbone']
    assert not torch.equal(state['layer4.1.conv2.weight'],
                           expected['layer4.1.conv2.weight'])
    del state['layer4.1.conv2.weight']
    du.assert_same_tensors(state, {
        k: v
        for k, v in expected.items() if k in state
    })


def test_missing_bn_counters_are_allowed(ckpts, tmp_path):
    # torchvision checkpoints have no num_batches_tracked.
    exported = du.load_exported(ckpts[18]['exported'])
    state_dict = {
        k: v
        for k, v in exported['state_dict'].items()
        if not k.endswith('num_batches_tracked')
    }
    path = tmp_path / 'no_counters.pth'
    torch.save(state_dict, str(path))
    model = _init('mmdet', dict(type='ResNet', depth=18), checkpoint=str(path))
    state = {
        k: v
        for k, v in model.state_dict().items()
        if not k.endswith('num_batches_tracked')
    }
    du.assert_same_tensors(state, state_dict)


def test_missing_file(tmp_path):
    with pytest.raises(
            FileNotFoundError,
            match='checkpoint file not found.*'
            'tools/export_backbone.py'):
        _init(
            'mmdet',
            dict(type='ResNet', depth=18),
            checkpoint=str(tmp_path / 'missing.pth'))


def test_checkpoint_argument_is_required():
    with pytest.raises(TypeError, match='needs init_cfg.checkpoint'):
        StrictPretrainedInit(checkpoint=None)
