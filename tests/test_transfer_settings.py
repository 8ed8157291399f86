"""The authors' published transfer settings: Cascade R-CNN on COCO and
DeepLabV3 R50-D8 on ADE20K and COCO-Stuff-164K (docs/reproduce.md).

Each config is compared with the upstream config it inherits: exactly the
lines its header names differ. Each runs, as shipped (ResNet-50), with the
backbone exported by ``tools/export_backbone.py``: the run must start from
exactly the exported tensors (loaded by ``StrictPretrained``), take one
optimiser step and evaluate with the real dataset class and metric
(``CocoDataset`` + ``CocoMetric``, ``ADE20KDataset`` / ``COCOStuffDataset``
+ ``IoUMetric``) on tiny generated sets in each dataset's real layout.
Only the data paths, image sizes, batch size and proposal counts are
overridden, so that a CPU run takes seconds.
"""
import copy
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.registry import DATASETS, DefaultScope
from mmengine.runner import Runner

import downstream_utils as du
from repo import ROOT, import_tool
import transfer_data as td

CASCADE = osp.join(ROOT,
                   'configs/det/cascade-rcnn_r50-mixskd_fpn_1x_coco.py')
CASCADE_BASELINE = osp.join(
    ROOT, 'configs/det/cascade-rcnn_r50-baseline_fpn_1x_coco.py')
SEG = 'configs/seg/deeplabv3_r50-{}-d8_4xb4-40k_{}-512x512.py'
ADE = osp.join(ROOT, SEG.format('mixskd', 'ade20k'))
ADE_BASELINE = osp.join(ROOT, SEG.format('baseline', 'ade20k'))
STUFF = osp.join(ROOT, SEG.format('mixskd', 'coco-stuff164k'))
STUFF_BASELINE = osp.join(ROOT,
                          SEG.format('baseline', 'coco-stuff164k'))

UPSTREAM = {
    CASCADE: 'mmdet::cascade_rcnn/cascade-rcnn_r50_fpn_1x_coco.py',
    ADE: 'mmseg::deeplabv3/deeplabv3_r50-d8_4xb4-80k_ade20k-512x512.py',
    STUFF: 'mmseg::deeplabv3/'
    'deeplabv3_r50-d8_4xb4-80k_coco-stuff164k-512x512.py',
}
BASELINE_OF = {
    CASCADE: CASCADE_BASELINE,
    ADE: ADE_BASELINE,
    STUFF: STUFF_BASELINE
}
MIXSKD_CKPT = 'work_dirs/mixskd_r50_imagenet/backbone.pth'
BASELINE_CKPT = 'work_dirs/baseline_r50_imagenet/backbone.pth'
STRICT = dict(
    type='StrictPretrained', checkpoint=MIXSKD_CKPT, prefix=None, strict=True)

# Every dotted path in which a config differs from its upstream config,
# with our value: what each header says and nothing else.
COMMON = {
    'custom_imports.imports.0': 'mixskd_mm',
    'custom_imports.allow_failed_imports': False,
}
INIT_CFG = {f'model.backbone.init_cfg.{k}': v for k, v in STRICT.items()}
SEG_CHANGES = dict(
    COMMON, **INIT_CFG, **{
        'model.pretrained': None,
        'model.backbone.type': 'ResNet',
        'optim_wrapper.optimizer.lr': 0.02,
        'optim_wrapper.optimizer.weight_decay': 0.0001,
        'param_scheduler.0.eta_min': 0.0,
        'param_scheduler.0.end': 40000,
        'train_cfg.max_iters': 40000,
        'train_cfg.val_interval': 4000,
        'default_hooks.checkpoint.interval': 4000,
    })
EXPECTED_CHANGES = {
    CASCADE: dict(COMMON, **INIT_CFG),
    ADE: SEG_CHANGES,
    STUFF: SEG_CHANGES,
}


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
def flatten(node, prefix: str = '') -> dict:
    """``{dotted.path: leaf}`` of nested dicts and lists (tuples and
    scalars are leaves), the paths ``--cfg-options`` uses."""
    if isinstance(node, dict):
        items = node.items()
    elif isinstance(node, list):
        items = enumerate(node)
    else:
        return {prefix[:-1]: node}
    flat = {}
    for key, value in items:
        flat.update(flatten(value, f'{prefix}{key}.'))
    return flat


def config_changes(path: str, upstream: str, tmp_path) -> dict:
    """The paths where ``path`` differs from ``upstream``, with the value
    in ``path`` (``'<absent>'`` where only upstream has it). ``_scope_``
    keys, which mmengine adds to dicts inherited through ``pkg::``, are
    left out."""
    wrapper = tmp_path / 'upstream.py'
    wrapper.write_text(f'_base_ = {upstream!r}\n')
    ours = flatten(Config.fromfile(path).to_dict())
    theirs = flatten(Config.fromfile(str(wrapper)).to_dict())
    return {
        key: ours.get(key, '<absent>')
        for key in set(ours) | set(theirs)
        if not key.endswith('._scope_')
        and ours.get(key, '<absent>') != theirs.get(key, '<absent>')
    }


def export_with_cli(train_checkpoint: str, out: str) -> None:
    """Run ``tools/export_backbone.py CKPT OUT`` in this process."""
    cli = import_tool('export_backbone')
    assert cli.main([train_checkpoint, out]) == 0


class CaptureBackbone(Hook):
    """Keep a copy of the backbone's tensors when training starts (after
    ``Runner`` ran ``init_weights``, i.e. ``StrictPretrained``)."""

    def before_train(self, runner) -> None:
        model = getattr(runner.model, 'module', runner.model)
        self.loaded = {
            k: v.detach().clone()
            for k, v in model.backbone.state_dict().items()
        }


# ---------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------
@pytest.fixture(scope='module')
def r50(tmp_path_factory):
    """An mmpretrain ResNet-50 classifier's training checkpoint (EMA,
    with training-only tensors) exported by tools/export_backbone.py."""
    root = tmp_path_factory.mktemp('r50')
    train = du.save_training_checkpoint(
        root / 'train.pth',
        du.resnet_classifier(50),
        du.FAKE_TRAINING_PARTS,
        ema=True,
        seed=50)
    exported = str(root / 'backbone.pth')
    export_with_cli(train['path'], exported)
    return dict(exported=exported, backbone=train['backbone'])


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp('transfer_data')
    return {
        CASCADE: du.write_coco(root / 'coco', num_train=2, num_val=2),
        ADE: td.write_ade20k(root / 'ade' / 'ADEChallengeData2016'),
        STUFF: td.write_coco_stuff164k(root / 'coco_stuff164k'),
    }


# ---------------------------------------------------------------------------
# the configs as shipped
# ---------------------------------------------------------------------------
@pytest.mark.parametrize('path', [CASCADE, ADE, STUFF],
                         ids=['cascade', 'ade20k', 'coco-stuff164k'])
def test_config_differs_from_upstream_only_where_its_header_says(
        path, tmp_path):
    assert config_changes(path, UPSTREAM[path], tmp_path) == \
        EXPECTED_CHANGES[path]


@pytest.mark.parametrize('path', [CASCADE, ADE, STUFF],
                         ids=['cascade', 'ade20k', 'coco-stuff164k'])
def test_baseline_differs_only_in_the_checkpoint(path):
    mixskd = flatten(Config.fromfile(path).to_dict())
    baseline = flatten(Config.fromfile(BASELINE_OF[path]).to_dict())
    key = 'model.backbone.init_cfg.checkpoint'
    assert (mixskd.pop(key), baseline.pop(key)) == (MIXSKD_CKPT,
                                                    BASELINE_CKPT)
    assert mixskd == baseline


def test_cascade_keeps_the_authors_detection_settings():
    cfg = Config.fromfile(CASCADE)
    assert cfg.model.type == 'CascadeRCNN'
    assert [h.type for h in cfg.model.roi_head.bbox_head] == \
        ['Shared2FCBBoxHead'] * 3
    assert [s.assigner.pos_iou_thr for s in cfg.model.train_cfg.rcnn] == \
        [0.5, 0.6, 0.7]
    backbone = cfg.model.backbone
    assert (backbone.type, backbone.depth, backbone.style,
            backbone.frozen_stages, backbone.norm_eval) == ('ResNet', 50,
                                                            'pytorch', 1, True)
    assert cfg.train_cfg.max_epochs == 12
    warmup, steps = cfg.param_scheduler
    assert (warmup.type, warmup.start_factor, warmup.end,
            warmup.by_epoch) == ('LinearLR', 0.001, 500, False)
    assert (steps.milestones, steps.gamma) == ([8, 11], 0.1)
    optimizer = cfg.optim_wrapper.optimizer
    assert (optimizer.type, optimizer.lr, optimizer.momentum,
            optimizer.weight_decay) == ('SGD', 0.02, 0.9, 1e-4)
    # lr 0.02 is for 16 images: 8 GPUs x 2, as the authors launched it.
    assert (cfg.train_dataloader.batch_size,
            cfg.auto_scale_lr.base_batch_size) == (2, 16)
    resize, flip = cfg.train_dataloader.dataset.pipeline[2:4]
    assert (resize.scale, resize.keep_ratio, flip.prob) == ((1333, 800),
                                                            True, 0.5)


@pytest.mark.parametrize('path, dataset, classes',
                         [(ADE, 'ADE20KDataset', 150),
                          (STUFF, 'COCOStuffDataset', 171)],
                         ids=['ade20k', 'coco-stuff164k'])
def test_seg_configs_keep_the_authors_settings(path, dataset, classes):
    cfg = Config.fromfile(path)
    backbone = cfg.model.backbone
    assert (backbone.type, backbone.depth, backbone.strides,
            backbone.dilations, backbone.contract_dilation) == \
        ('ResNet', 50, (1, 2, 1, 1), (1, 1, 2, 4), True)
    assert cfg.model.pretrained is None
    assert (cfg.model.decode_head.num_classes,
            cfg.model.auxiliary_head.num_classes) == (classes, classes)
    assert cfg.model.decode_head.dilations == (1, 12, 24, 36)
    assert cfg.model.auxiliary_head.loss_decode.loss_weight == 0.4
    assert cfg.train_dataloader.dataset.type == dataset
    # batch 16 = 4 GPUs x 4 (the authors: 8 x 2), 512x512 crops.
    assert cfg.train_dataloader.batch_size == 4
    assert cfg.train_dataloader.dataset.pipeline[3].crop_size == (512, 512)
    assert cfg.model.data_preprocessor.size == (512, 512)
    assert cfg.train_cfg.max_iters == 40000
    (poly, ) = cfg.param_scheduler
    assert (poly.type, poly.power, poly.eta_min, poly.end) == ('PolyLR', 0.9,
                                                               0.0, 40000)
    optimizer = cfg.optim_wrapper.optimizer
    assert (optimizer.lr, optimizer.momentum,
            optimizer.weight_decay) == (0.02, 0.9, 1e-4)


@pytest.mark.parametrize('path', [CASCADE_BASELINE, ADE_BASELINE,
                                  STUFF_BASELINE],
                         ids=['cascade', 'ade20k', 'coco-stuff164k'])
def test_baseline_config_loads_the_exported_resnet50_exactly(r50, path):
    cfg = Config.fromfile(path)
    cfg.merge_from_dict({'model.backbone.init_cfg.checkpoint':
                         r50['exported']})
    model = du.build(cfg.model, cfg.default_scope)
    model.init_weights()
    du.assert_same_tensors(model.backbone.state_dict(), r50['backbone'])


# ---------------------------------------------------------------------------
# the generated data follows each dataset's conventions
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    'path, train_ids',
    [(ADE, {0, 6, 149}), (STUFF, {0, 13, 170})],
    ids=['ade20k', 'coco-stuff164k'])
def test_generated_sets_read_with_the_config_dataset(data, path, train_ids):
    """The config's own dataset class and label loading read the files
    (ADE20K: 0 -> ignored, k -> k - 1; COCO-Stuff: train ids as written),
    and IoUMetric scores the ground truth against itself 100 % over
    exactly those classes."""
    cfg = Config.fromfile(path)
    dataset_cfg = copy.deepcopy(cfg.val_dataloader.dataset)
    dataset_cfg.data_root = data[path]['data_root']
    dataset_cfg.pipeline = [
        t for t in dataset_cfg.pipeline if t.type == 'LoadAnnotations'
    ]
    with DefaultScope.overwrite_default_scope('mmseg'):
        dataset = DATASETS.build(dataset_cfg)
        from mmseg.evaluation import IoUMetric
    assert len(dataset) == len(data[path]['names']['val'])
    metric = IoUMetric(iou_metrics=['mIoU'])
    metric.dataset_meta = dataset.metainfo
    union = 0
    for item in dataset:
        seg = torch.from_numpy(item['gt_seg_map'].astype('int64'))
        assert set(seg.unique().tolist()) == train_ids | {255}
        sample = dict(pred_sem_seg=dict(data=seg[None]),
                      gt_sem_seg=dict(data=seg[None]))
        metric.process({}, [sample])
        union = union + metric.results[-1][1]
    assert set(union.nonzero().flatten().tolist()) == train_ids
    assert metric.evaluate(len(dataset))['mIoU'] == 100.0


# ---------------------------------------------------------------------------
# one training iteration and an evaluation, as shipped (ResNet-50)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    'path, dataset, metric, score',
    [(CASCADE, 'CocoDataset', 'CocoMetric', 'coco/bbox_mAP'),
     (ADE, 'ADE20KDataset', 'IoUMetric', 'mIoU'),
     (STUFF, 'COCOStuffDataset', 'IoUMetric', 'mIoU')],
    ids=['cascade', 'ade20k', 'coco-stuff164k'])
def test_finetune_step_and_eval_from_exported_resnet50(
        r50, data, tmp_path, path, dataset, metric, score):
    work_dir = str(tmp_path)
    if path == CASCADE:
        options = td.cascade_overrides(data[path], r50['exported'], work_dir)
        cfg = du.load_config(path, options)
    else:
        options = td.seg_overrides(data[path]['data_root'], r50['exported'],
                                   work_dir)
        cfg = Config.fromfile(path)
        cfg.merge_from_dict(options)
        td.check_seg_pipelines(cfg)
    cfg.experiment_name = f'transfer_{osp.basename(path)}'
    assert cfg.model.backbone.depth == 50
    runner = Runner.from_cfg(cfg)
    assert type(runner.train_dataloader.dataset).__name__ == dataset
    assert type(runner.val_dataloader.dataset).__name__ == dataset
    assert [type(m).__name__ for m in runner.val_evaluator.metrics] == \
        [metric]
    capture = CaptureBackbone()
    runner.register_hook(capture)
    runner.train()

    # StrictPretrained put exactly the exported tensors into the backbone.
    du.assert_same_tensors(capture.loaded, r50['backbone'])
    # One optimiser step changed the trainable last stage.
    trained = runner.model.backbone.state_dict()
    key = 'layer4.0.conv1.weight'
    assert not torch.equal(trained[key], capture.loaded[key])
    assert runner.iter == 1
    assert math.isfinite(runner.message_hub.get_scalar('train/loss').current())
    # The real metric ran over the generated validation images.
    value = runner.message_hub.get_scalar(f'val/{score}').current()
    assert 0 <= value <= (1 if path == CASCADE else 100)
    assert len(runner.val_dataloader.dataset) == 2
