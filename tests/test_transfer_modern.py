"""Transfer of ConvNeXt-T and Swin-T MixSKD backbones to detection and
segmentation: Mask R-CNN 1x on COCO and UperNet 160k on ADE20K.

A MixSKD pretraining checkpoint of each backbone (random weights, shaped
like the Runner's, training-only branches and self-teacher included) is
exported with ``export_backbone``; the export must load strictly and
exactly into the backbone of every shipped config, built as shipped with
only its checkpoint path pointed at the export, and the built backbone must
feed the neck/heads the channels they are configured for. The wrong
pairings fail loudly: a ConvNeXt export into a Swin config (StrictPretrained
names the keys) and mmdet's or mmseg's own SwinTransformer with
StrictPretrained (the ``swin_strict_pretrained_guard`` patch).
"""
import copy
import os.path as osp

import pytest
import torch
from mmengine.config import Config, ConfigDict
from mmengine.registry import MODELS, DefaultScope

import export_utils as eu
from mixskd_mm.checkpoint import CheckpointFormatError, export_backbone
from mixskd_mm.engine.swin_init_guard import IgnoredInitializerError
from mixskd_mm.patches import get_patch
from repo import ROOT

DET = 'configs/det/mask-rcnn_{}-{}_fpn_1x_coco.py'
SEG = 'configs/seg/upernet_{}-{}_8xb2-160k_ade20k-512x512.py'
ARCHS = ('convnext-t', 'swin-t')
#: (config path, arch, task) of the 8 shipped configs.
CONFIGS = [(osp.join(ROOT, pattern.format(arch, kind)), arch, task)
           for pattern, task in ((DET, 'det'), (SEG, 'seg'))
           for arch in ARCHS for kind in ('mixskd', 'baseline')]
IDS = [osp.basename(path)[:-3] for path, _, _ in CONFIGS]
SCOPE = {'det': 'mmdet', 'seg': 'mmseg'}
UPSTREAM_SWIN = {
    'det': 'mmdet::swin/mask-rcnn_swin-t-p4-w7_fpn_1x_coco.py',
    'seg': 'mmseg::swin/'
    'swin-tiny-patch4-window7-in1k-pre_upernet_8xb2-160k_ade20k-512x512.py',
}
WIDTHS = [96, 192, 384, 768]
PRETRAIN_BACKBONES = {
    'convnext-t':
    dict(type='ConvNeXt', arch='tiny', out_indices=(0, 1, 2, 3),
         gap_before_final_norm=False),
    'swin-t':
    dict(type='SwinTransformer', arch='tiny', out_indices=(0, 1, 2, 3)),
}
#: A small input whose last Swin stage (2 x 3) is smaller than the window.
IMAGE = (64, 96)


def mixskd_classifier(arch: str) -> dict:
    """A MixSKD pretraining classifier on the mmpretrain backbone."""
    return dict(
        type='MixSKDClassifier',
        backbone=PRETRAIN_BACKBONES[arch],
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=10, in_channels=768),
        # Light branches keep the checkpoint small; the export drops them.
        branch_depth='light',
        data_preprocessor=dict(
            type='MixSKDDataPreprocessor', alpha=1.0, seed=0,
            mean=[127.5] * 3, std=[64.] * 3))


@pytest.fixture(scope='module')
def exports(tmp_path_factory):
    """arch -> training checkpoint, export info, exported tensors."""
    root = tmp_path_factory.mktemp('modern')
    out = {}
    for seed, arch in enumerate(ARCHS):
        train = eu.save_training_checkpoint(
            root / f'{arch}_train.pth', mixskd_classifier(arch), seed=seed)
        path = str(root / f'{arch}_backbone.pth')
        info = export_backbone(train['path'], path)
        out[arch] = dict(
            path=path, info=info, train=train,
            exported=eu.load_exported(path)['state_dict'])
    return out


def shipped(path: str, checkpoint: str = None) -> Config:
    cfg = Config.fromfile(path)
    if checkpoint is not None:
        cfg.model.backbone.init_cfg.checkpoint = checkpoint
    return cfg


def build_model(cfg: Config, task: str):
    with DefaultScope.overwrite_default_scope(SCOPE[task]):
        return MODELS.build(copy.deepcopy(cfg.model))


def upstream_backbone(task: str, tmp_path, **changes) -> dict:
    wrapper = tmp_path / f'upstream_{task}.py'
    wrapper.write_text(f'_base_ = {UPSTREAM_SWIN[task]!r}\n')
    backbone = Config.fromfile(str(wrapper)).model.backbone.to_dict()
    backbone.update(changes)
    return backbone


# ---------------------------------------------------------------- export
@pytest.mark.parametrize('arch', ARCHS)
def test_export_keeps_exactly_the_backbone(exports, arch):
    got = exports[arch]
    assert got['info']['check'].startswith('matches the backbone of meta.cfg')
    assert set(got['info']['dropped_groups']) == {
        'head', 'branches', 'branch_heads', 'self_teacher', 'teacher_head'}
    eu.assert_same_tensors(got['exported'], got['train']['backbone'])
    assert {f'norm{i}.weight' for i in range(4)} <= set(got['exported'])


@pytest.mark.parametrize('arch', ARCHS)
def test_export_without_a_saved_config_is_refused(exports, arch, tmp_path):
    # Without meta.cfg only a ResNet's completeness can be checked by keys.
    state = torch.load(exports[arch]['train']['path'], weights_only=False)
    src = tmp_path / 'no_meta.pth'
    torch.save(dict(state_dict=state['state_dict'], meta={}), str(src))
    out = tmp_path / 'backbone.pth'
    with pytest.raises(CheckpointFormatError, match='saves no config to check its '
                       'backbone against, and the backbone is not a ResNet'):
        export_backbone(str(src), str(out))
    assert not out.exists()


# ----------------------------------------------- the 8 configs as shipped
@pytest.mark.parametrize('path,arch,task', CONFIGS, ids=IDS)
def test_config_loads_the_export_exactly_and_feeds_its_neck(
        exports, path, arch, task):
    cfg = shipped(path, exports[arch]['path'])
    init_cfg = cfg.model.backbone.init_cfg
    assert (init_cfg.type, init_cfg.prefix, init_cfg.strict) == (
        'StrictPretrained', None, True)
    assert cfg.model.backbone.type == 'mmpretrain.' + \
        PRETRAIN_BACKBONES[arch]['type']
    assert 'mmpretrain.models' in cfg.custom_imports.imports
    model = build_model(cfg, task)
    model.init_weights()
    eu.assert_same_tensors(model.backbone.state_dict(),
                           exports[arch]['exported'])

    model.eval()
    with torch.no_grad():
        feats = model.backbone(torch.rand(1, 3, *IMAGE))
        expected = (cfg.model.neck.in_channels if task == 'det' else
                    cfg.model.decode_head.in_channels)
        assert expected == WIDTHS
        assert [tuple(f.shape) for f in feats] == [
            (1, c, IMAGE[0] // s, IMAGE[1] // s)
            for c, s in zip(WIDTHS, (4, 8, 16, 32))]
        if task == 'det':
            levels = model.neck(feats)
            assert [f.shape[1] for f in levels] == [256] * 5
        else:
            aux = feats[cfg.model.auxiliary_head.in_index]
            assert aux.shape[1] == cfg.model.auxiliary_head.in_channels


@pytest.mark.parametrize('path,task', [
    (osp.join(ROOT, DET.format('swin-t', 'mixskd')), 'det'),
    (osp.join(ROOT, SEG.format('convnext-t', 'mixskd')), 'seg'),
], ids=['convnext-export-into-swin-det', 'swin-export-into-convnext-seg'])
def test_the_other_architecture_is_refused_naming_the_keys(
        exports, path, task):
    other = 'convnext-t' if 'swin' in path else 'swin-t'
    model = build_model(shipped(path, exports[other]['path']), task)
    with pytest.raises(RuntimeError) as info:
        model.init_weights()
    info.match('StrictPretrained: checkpoint .* does not match')
    foreign = ('downsample_layers.0.0.weight' if other == 'convnext-t' else
               'patch_embed.projection.weight')
    own = ('patch_embed.projection.weight' if other == 'convnext-t' else
           'downsample_layers.0.0.weight')
    info.match(foreign)
    info.match(own)


@pytest.mark.parametrize('path,arch,task',
                         [c for c in CONFIGS if '-mixskd' in c[0]],
                         ids=[i for i in IDS if '-mixskd' in i])
def test_baseline_twin_differs_only_in_the_checkpoint(path, arch, task):
    mixskd = Config.fromfile(path).to_dict()
    baseline = Config.fromfile(path.replace('-mixskd', '-baseline')).to_dict()
    ours = mixskd['model']['backbone']['init_cfg'].pop('checkpoint')
    theirs = baseline['model']['backbone']['init_cfg'].pop('checkpoint')
    assert (ours, theirs) == (
        f'work_dirs/mixskd_{arch}_imagenet/backbone.pth',
        f'work_dirs/baseline_{arch}_imagenet/backbone.pth')
    assert mixskd == baseline


# ------------------------------------- mmdet's / mmseg's SwinTransformer
@pytest.mark.parametrize('task', ['det', 'seg'])
def test_mmpretrain_swin_computes_what_upstream_swin_computes(
        exports, task, tmp_path):
    # Same weights, an input whose last map is smaller than the window:
    # pad_small_map=True reproduces upstream's padding and shift.
    ours = shipped(osp.join(ROOT, (DET if task == 'det' else SEG).format(
        'swin-t', 'mixskd'))).model.backbone.to_dict()
    ours.pop('init_cfg')
    theirs = upstream_backbone(task, tmp_path, init_cfg=None)
    theirs.pop('convert_weights', None)
    weights = exports['swin-t']['exported']
    x = torch.rand(1, 3, *IMAGE)
    outputs = []
    for cfg in (ours, theirs):
        with DefaultScope.overwrite_default_scope(SCOPE[task]):
            net = MODELS.build(cfg)
        net.load_state_dict(weights, strict=True)
        net.eval()  # upstream's train() override returns None, not self
        with torch.no_grad():
            outputs.append(net(x))
    for a, b in zip(*outputs):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    with pytest.raises(AssertionError, match='smaller than the window'):
        with DefaultScope.overwrite_default_scope(SCOPE[task]):
            net = MODELS.build(dict(ours, pad_small_map=False))
        net(x)


def _upstream_swin_with(task, tmp_path, init_cfg):
    # A ConfigDict, as from a config file: upstream reads init_cfg.checkpoint.
    cfg = upstream_backbone(task, tmp_path, init_cfg=ConfigDict(init_cfg))
    if task == 'det':  # the export has upstream's keys, not the authors'
        cfg['convert_weights'] = False
    with DefaultScope.overwrite_default_scope(SCOPE[task]):
        return MODELS.build(cfg)


@pytest.mark.parametrize('task', ['det', 'seg'])
def test_upstream_swin_with_strict_pretrained_is_refused(
        exports, task, tmp_path):
    # The raw ConvNeXt training checkpoint: a wrong file in every respect.
    wrong = exports['convnext-t']['train']['path']
    net = _upstream_swin_with(
        task, tmp_path, dict(type='StrictPretrained', checkpoint=wrong))
    assert type(net).__module__ == f'{SCOPE[task]}.models.backbones.swin'
    with pytest.raises(IgnoredInitializerError) as info:
        net.init_weights()
    for pattern in (f'{SCOPE[task]}.models.backbones.swin.SwinTransformer',
                    'loads init_cfg\\[.checkpoint.\\] itself',
                    'strict=False', "type='mmpretrain.SwinTransformer'",
                    "'mmpretrain.models'", 'same state-dict keys',
                    'configs/_base_/models/swin-t_dense.py'):
        info.match(pattern)

    # Why: without the guard the same pairing "succeeds": the loader strips
    # 'backbone.' and loads the four output norms, whose names and shapes
    # ConvNeXt-T shares; everything else stays random.
    before = {k: v.clone() for k, v in net.state_dict().items()}
    patch = get_patch('swin_strict_pretrained_guard')
    assert patch.undo() is True
    try:
        net.init_weights()
    finally:
        assert patch.apply() is True
    after = net.state_dict()
    changed = {k for k in after if not torch.equal(after[k], before[k])}
    norms = {f'norm{i}.{t}' for i in range(4) for t in ('weight', 'bias')}
    assert changed == norms
    convnext = exports['convnext-t']['exported']
    assert all(torch.equal(after[k], convnext[k]) for k in changed)


def test_the_whole_detector_stops_at_init_weights(exports, tmp_path):
    cfg = shipped(osp.join(ROOT, DET.format('swin-t', 'mixskd')))
    upstream = upstream_backbone('det', tmp_path)
    upstream['init_cfg'] = dict(cfg.model.backbone.init_cfg,
                                checkpoint=exports['swin-t']['path'])
    cfg.model.backbone = upstream
    model = build_model(cfg, 'det')
    with pytest.raises(IgnoredInitializerError, match='never runs'):
        model.init_weights()


@pytest.mark.parametrize('task', ['det', 'seg'])
def test_upstream_swin_keeps_its_own_pretrained_loading(
        exports, task, tmp_path):
    # Other init_cfg types pass the guard; the export's keys are upstream's.
    # mmdet's loader keeps only 'backbone.' keys, so it takes the training
    # checkpoint (the export, without prefix, leaves it nothing: IndexError);
    # mmseg's strips the prefix where there is one and takes the export.
    swin = exports['swin-t']
    checkpoint = swin['train']['path'] if task == 'det' else swin['path']
    net = _upstream_swin_with(
        task, tmp_path, dict(type='Pretrained', checkpoint=checkpoint))
    net.init_weights()
    eu.assert_same_tensors(net.state_dict(), exports['swin-t']['exported'])
