"""The ImageNet twins of the modern backbones: MixSKD and its baseline.

``configs/{baseline,mixskd}_<family>_imagenet.py`` for ConvNeXt-T, Swin-T,
RegNetX-4.0GF, ResNeXt-50 (32x4d) and MobileNetV2. The baseline is
mmpretrain's own recipe for the backbone; the MixSKD twin inherits it and
changes only the model. Checked here:

- both build at full size; the MixSKD twin is a ``MixSKDClassifier`` whose
  branches end at the shape of the backbone's last stage, and its backbone
  has exactly the baseline's tensors (both export one layout);
- the twins share schedule, optimiser, data, hooks and head, the baseline's
  equal upstream's, and the MixSKD settings equal the ResNet-50 recipe's;
- one MixSKD training step with the recipe's optimiser on a tiny generated
  batch gives finite loss terms, moves the backbone and exports. The step
  uses a small arch of the same backbone class (a full-size step takes
  tens of seconds on two CPU cores); everything else is the recipe's.
"""
import copy
import logging
import math
import os.path as osp

import mmpretrain
import pytest
import torch
from mmengine.config import Config, ConfigDict
from mmengine.logging import MMLogger
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import mixskd_mm  # noqa: F401  (registers the models)
from mixskd_mm.checkpoint import export_backbone
from mixskd_mm.models.classifiers import MixSKDClassifier
from repo import CONFIGS

UPSTREAM_ROOT = osp.join(osp.dirname(mmpretrain.__file__), '.mim', 'configs')
#: family -> (mmpretrain recipe, what the MixSKD twin sets on the backbone,
#: the input side for the full-size forward, the small arch of the step).
FAMILIES = {
    'convnext-t': dict(
        upstream='convnext/convnext-tiny_32xb128_in1k.py',
        backbone=dict(out_indices=(0, 1, 2, 3), gap_before_final_norm=False),
        size=64,
        small=dict(backbone=dict(arch=dict(depths=[1, 1, 2, 1],
                                           channels=[16, 32, 64, 128])),
                   head=dict(in_channels=128))),
    'swin-t': dict(
        upstream='swin_transformer/swin-tiny_16xb64_in1k.py',
        backbone=dict(out_indices=(0, 1, 2, 3), out_after_downsample=False),
        # Every stage at least one 7x7 window.
        size=224,
        small=dict(backbone=dict(arch=dict(embed_dims=16,
                                           depths=[1, 1, 2, 1],
                                           num_heads=[1, 1, 2, 4]),
                                 pad_small_map=True),
                   head=dict(in_channels=128))),
    'regnetx-4.0gf': dict(
        upstream='regnet/regnetx-4.0gf_8xb64_in1k.py',
        backbone=dict(out_indices=(0, 1, 2, 3)),
        size=64,
        small=dict(backbone=dict(arch=dict(w0=16, wa=24.0, wm=2.0,
                                           group_w=8, depth=6, bot_mul=1.0)),
                   head=dict(in_channels=128))),
    'resnext50-32x4d': dict(
        upstream='resnext/resnext50-32x4d_8xb32_in1k.py',
        backbone=dict(out_indices=(0, 1, 2, 3)),
        size=64,
        small=dict(backbone=dict(stem_channels=16, base_channels=16,
                                 groups=4),
                   head=dict(in_channels=512))),
    'mobilenet-v2': dict(
        upstream='mobilenet_v2/mobilenet-v2_8xb32_in1k.py',
        backbone=dict(out_indices=(1, 2, 4, 7)),
        size=64,
        small=dict(backbone=dict(widen_factor=0.25))),
}
#: What the twins of a family must share (and the baseline with upstream).
SHARED = ('optim_wrapper', 'param_scheduler', 'train_cfg', 'val_cfg',
          'test_cfg', 'train_dataloader', 'val_dataloader',
          'test_dataloader', 'val_evaluator', 'custom_hooks',
          'default_hooks', 'auto_scale_lr', 'randomness', 'env_cfg',
          'default_scope')
#: The MixSKD settings every twin takes from configs/mixskd_r50_imagenet.py.
MIXSKD_KEYS = ('self_teacher', 'teacher_inputs', 'branch_depth',
               'temperature', 'loss_weights', 'adversarial')
#: Families whose baseline changes upstream's backbone (the norm per stage).
NORM_PER_STAGE = ('convnext-t', 'swin-t')
LOSS_KEYS = {'loss_ce', 'loss_mix_ce', 'loss_teacher_mix_ce',
             'loss_mutual_kd', 'loss_teacher_kd', 'loss_feat'}


def _load(method, family):
    return Config.fromfile(str(CONFIGS / f'{method}_{family}_imagenet.py'))


def _plain(node):
    """Plain dicts and lists, without the ``_scope_`` that inheriting
    ``mmpretrain::`` adds, so that configs compare by value."""
    if isinstance(node, (dict, ConfigDict)):
        return {k: _plain(v) for k, v in node.items() if k != '_scope_'}
    if isinstance(node, (list, tuple)):
        return type(node)(_plain(v) for v in node)
    return node


def _model_cfg(cfg):
    """``cfg.model`` with the top-level preprocessor as the Runner merges it
    (mmpretrain's recipes keep theirs there)."""
    model = _plain(cfg.model)
    model.setdefault('data_preprocessor', _plain(cfg.data_preprocessor))
    return model


def _build(model_cfg):
    init_default_scope('mmpretrain')
    return MODELS.build(copy.deepcopy(model_cfg))


def _merge(base, update):
    out = copy.deepcopy(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def test_every_family_has_both_twins():
    for family in FAMILIES:
        for method in ('baseline', 'mixskd'):
            path = CONFIGS / f'{method}_{family}_imagenet.py'
            assert path.is_file(), path


@pytest.mark.parametrize('family', FAMILIES)
def test_twins_build_with_one_backbone_layout(family):
    spec = FAMILIES[family]
    baseline_cfg, mixskd_cfg = _load('baseline', family), _load(
        'mixskd', family)
    baseline = _build(_model_cfg(baseline_cfg))
    mixskd = _build(_model_cfg(mixskd_cfg))
    assert type(baseline).__name__ == 'ImageClassifier'
    assert isinstance(mixskd, MixSKDClassifier)
    assert type(mixskd.data_preprocessor).__name__ == \
        'MixSKDDataPreprocessor'
    assert mixskd.data_preprocessor.alpha == 0.2
    assert mixskd.data_preprocessor.mix_mode == 'mixup'
    # The recipe's normalisation (RegNet's is BGR), not a default.
    for name in ('mean', 'std'):
        assert torch.equal(getattr(mixskd.data_preprocessor, name),
                           getattr(baseline.data_preprocessor, name)), name
    assert mixskd.data_preprocessor.to_rgb == baseline.data_preprocessor.to_rgb
    assert mixskd.data_preprocessor.num_classes == 1000
    assert type(mixskd.head.loss_module) is type(baseline.head.loss_module)

    # One layout: same tensor names and shapes, so both export alike.
    want = {k: v.shape for k, v in baseline.backbone.state_dict().items()}
    got = {k: v.shape for k, v in mixskd.backbone.state_dict().items()}
    assert got == want

    # Three branches, each ending at the backbone's last stage.
    assert len(mixskd.branches) == 3
    mixskd.eval()
    size = spec['size']
    with torch.no_grad():
        stages = mixskd.backbone(torch.randn(1, 3, size, size))
        assert len(stages) == 4
        last = stages[-1].shape
        assert last[1] == mixskd.head.fc.in_features
        assert last[-1] == size // 32
        for branch, stage in zip(mixskd.branches, stages):
            assert branch(stage).shape == last
        # The baseline's network runs at that size too.
        baseline.eval()
        assert baseline(torch.randn(1, 3, size, size)).shape == (1, 1000)


@pytest.mark.parametrize('family', FAMILIES)
def test_twins_share_the_upstream_recipe(family):
    spec = FAMILIES[family]
    baseline, mixskd = _load('baseline', family), _load('mixskd', family)
    upstream = Config.fromfile(osp.join(UPSTREAM_ROOT, spec['upstream']))
    for key in SHARED:
        assert _plain(mixskd.get(key)) == _plain(baseline.get(key)), key
        assert _plain(baseline.get(key)) == _plain(upstream.get(key)), key
    assert mixskd.train_cfg.max_epochs == upstream.train_cfg.max_epochs
    assert mixskd.custom_imports.imports == ['mixskd_mm']

    # Baseline model: upstream's, but for the norm of every stage (and
    # ConvNeXt's per-position norm before pooling).
    want = _plain(upstream.model)
    if family in NORM_PER_STAGE:
        want['backbone']['out_indices'] = (0, 1, 2, 3)
        if family == 'convnext-t':
            want['backbone']['gap_before_final_norm'] = False
            want['neck'] = dict(type='GlobalAveragePooling')
        assert baseline.find_unused_parameters is True
        assert mixskd.find_unused_parameters is False
    else:
        assert mixskd.get('find_unused_parameters') is None
    assert _plain(baseline.model) == _plain(want)

    # MixSKD model: the baseline's network and init, no batch augments.
    model = _plain(mixskd.model)
    base_model = _plain(baseline.model)
    assert model['type'] == 'MixSKDClassifier'
    assert 'train_cfg' not in model
    for key in ('head', 'neck', 'init_cfg'):
        assert model.get(key) == base_model.get(key), key
    assert model['backbone'] == _merge(base_model['backbone'],
                                       _plain(spec['backbone']))
    preprocessor = model['data_preprocessor']
    for key, value in _plain(upstream.data_preprocessor).items():
        assert preprocessor[key] == value, key
    # The settings of the ResNet-50 recipe.
    r50 = Config.fromfile(str(CONFIGS / 'mixskd_r50_imagenet.py')).model
    for key in MIXSKD_KEYS:
        assert model[key] == _plain(r50[key]), key
    for key in ('type', 'mix_mode', 'alpha'):
        assert preprocessor[key] == r50.data_preprocessor[key], key


def _tiny_batch(size, classes=1000):
    gen = torch.Generator().manual_seed(0)
    return dict(
        inputs=[torch.randint(0, 256, (3, size, size), dtype=torch.uint8,
                              generator=gen) for _ in range(2)],
        data_samples=[DataSample().set_gt_label(label)
                      for label in (3, classes - 1)])


@pytest.mark.parametrize('family', FAMILIES)
def test_mixskd_step_is_finite_and_exports(family, tmp_path):
    spec = FAMILIES[family]
    cfg = _load('mixskd', family)
    model_cfg = _merge(_model_cfg(cfg), spec['small'])
    torch.manual_seed(0)
    model = _build(model_cfg)
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)  # not one line per initialised tensor
    try:
        model.init_weights()
    finally:
        logger.setLevel(level)
    if family == 'resnext50-32x4d':
        # Upstream's zero-initialised residual BN in the backbone only; the
        # branch copies take the backbone's init rules (weight 1).
        assert not model.backbone.layer4[-1].norm3.weight.any()
        assert bool((model.branches[2].layers[0][-1].norm3.weight == 1).all())
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    before = {k: v.clone() for k, v in model.backbone.state_dict().items()}

    log = model.train_step(_tiny_batch(64), optim_wrapper)

    assert LOSS_KEYS <= set(log), sorted(log)
    bad = {k: float(v) for k, v in log.items() if not math.isfinite(float(v))}
    assert not bad, bad
    # Four heads' CE on 1000 classes at init is near 4 ln(1000).
    assert 0.5 * 4 * math.log(1000) < float(log['loss_ce']) < 8 * math.log(
        1000)
    changed = [k for k, v in model.backbone.state_dict().items()
               if v.is_floating_point() and not torch.equal(v, before[k])]
    assert changed

    # Saved as the Runner saves it: the config text in meta.cfg, which the
    # export checks the backbone against.
    ckpt, out = tmp_path / 'train.pth', tmp_path / 'backbone.pth'
    meta = dict(cfg=Config(dict(model=model_cfg,
                                default_scope='mmpretrain')).pretty_text)
    torch.save({'state_dict': model.state_dict(), 'meta': meta}, str(ckpt))
    info = export_backbone(str(ckpt), str(out))
    assert info['check'].startswith('matches the backbone of meta.cfg')
    exported = torch.load(str(out), weights_only=True)['state_dict']
    want = model.backbone.state_dict()
    assert set(exported) == set(want)
    for key, value in want.items():
        assert torch.equal(exported[key], value), key


def test_regnet_precise_bn_runs_the_deployable_path():
    """The RegNet recipe's PreciseBNHook on the MixSKD twin: backbone BN
    statistics from clean batches; branch statistics untouched."""
    from mmpretrain.engine.hooks.precise_bn_hook import update_bn_stats
    from mmengine.dataset import pseudo_collate
    cfg = _load('mixskd', 'regnetx-4.0gf')
    assert [h.type for h in cfg.custom_hooks] == ['PreciseBNHook']
    model = _build(_merge(_model_cfg(cfg),
                          FAMILIES['regnetx-4.0gf']['small']))
    model.train()
    samples = [dict(inputs=b, data_samples=s) for b, s in zip(
        *_tiny_batch(64).values())]
    loader = torch.utils.data.DataLoader(samples, batch_size=2,
                                         collate_fn=pseudo_collate)
    backbone_bn = model.backbone.bn1  # the stem's
    branch_bn = next(m for m in model.branches.modules()
                     if isinstance(m, torch.nn.BatchNorm2d))
    branch_before = branch_bn.running_mean.clone()
    assert not backbone_bn.running_mean.any()

    update_bn_stats(model, loader, num_samples=2,
                    logger=MMLogger.get_current_instance())

    assert backbone_bn.running_mean.abs().sum() > 0
    assert torch.equal(branch_bn.running_mean, branch_before)
