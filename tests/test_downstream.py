"""Downstream transfer: the det/seg configs fine-tune from exported weights.

Runs the real mmdet/mmseg pieces (CocoDataset + CocoMetric through
pycocotools, PascalVOCDataset + IoUMetric) on tiny generated COCO/VOC sets,
with ResNet-18 and 128 px images so that CPU runs take seconds. The configs
as shipped (ResNet-50) are checked for loading only.
"""
import math
import os
import os.path as osp
import subprocess

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from mixskd_mm.checkpoint import export_backbone

import downstream_utils as du
from repo import ROOT

DIST_TRAIN = osp.join(ROOT, 'tools', 'dist_train.sh')


def _exported(root, depth):
    train = du.save_training_checkpoint(
        root / f'r{depth}_train.pth',
        du.resnet_classifier(depth),
        du.FAKE_TRAINING_PARTS,
        ema=True,
        seed=depth)
    exported = str(root / f'r{depth}_backbone.pth')
    export_backbone(train['path'], exported)
    return dict(
        train=train['path'], exported=exported, backbone=train['backbone'])


@pytest.fixture(scope='module')
def r18(tmp_path_factory):
    return _exported(tmp_path_factory.mktemp('r18'), 18)


@pytest.fixture(scope='module')
def r50(tmp_path_factory):
    """ResNet-50 pretraining checkpoints of the project's own ImageNet
    configs (MixSKD and the plain baseline), and their exports."""
    root = tmp_path_factory.mktemp('r50')
    result = {}
    for method in ('mixskd', 'baseline'):
        name = f'{method}_r50_imagenet'
        model_cfg = Config.fromfile(
            osp.join(ROOT, 'configs', f'{name}.py')).model.to_dict()
        train = du.save_training_checkpoint(
            root / f'{name}.pth', model_cfg, ema=True)
        exported = str(root / f'{name}_backbone.pth')
        export_backbone(train['path'], exported)
        result[method] = dict(
            train=train['path'], exported=exported, backbone=train['backbone'])
    return result


@pytest.fixture(scope='module')
def coco(tmp_path_factory):
    return du.write_coco(
        tmp_path_factory.mktemp('data') / 'coco', num_train=4, num_val=2)


@pytest.fixture(scope='module')
def voc(tmp_path_factory):
    return du.write_voc(
        tmp_path_factory.mktemp('data') / 'voc', num_train=2, num_val=2)


# ---------------------------------------------------------------------------
# the configs as shipped
# ---------------------------------------------------------------------------
def test_det_configs_keep_the_1x_schedule():
    for path in (du.DET_CONFIG, du.DET_BASELINE_CONFIG,
                 du.DET_MMPRETRAIN_CONFIG):
        cfg = Config.fromfile(path)
        assert cfg.custom_imports.imports[0] == 'mixskd_mm'
        assert cfg.train_cfg.max_epochs == 12
        warmup, steps = cfg.param_scheduler
        assert (warmup.type, warmup.end, warmup.by_epoch) == ('LinearLR', 500,
                                                              False)
        assert (steps.type, steps.milestones) == ('MultiStepLR', [8, 11])
        assert cfg.optim_wrapper.optimizer.lr == 0.02
        assert cfg.optim_wrapper.optimizer.weight_decay == 1e-4
        # lr 0.02 is for 16 images: 8 GPUs x 2.
        assert cfg.train_dataloader.batch_size == 2
        assert cfg.auto_scale_lr.base_batch_size == 16
        backbone = cfg.model.backbone
        assert (backbone.depth, backbone.frozen_stages,
                backbone.norm_eval) == (50, 1, True)
        assert backbone.init_cfg.type == 'StrictPretrained'
    assert Config.fromfile(du.DET_CONFIG).model.backbone.init_cfg == dict(
        type='StrictPretrained',
        checkpoint='work_dirs/mixskd_r50_imagenet/backbone.pth')
    mmpretrain = Config.fromfile(du.DET_MMPRETRAIN_CONFIG).model.backbone
    assert mmpretrain.type == 'mmpretrain.ResNet'
    assert mmpretrain.init_cfg.prefix == 'backbone.'


def test_seg_configs_use_torchvision_style_resnet():
    for path in (du.SEG_CONFIG, du.SEG_BASELINE_CONFIG):
        cfg = Config.fromfile(path)
        assert cfg.model.pretrained is None
        backbone = cfg.model.backbone
        assert backbone.type == 'ResNet'  # not ResNetV1c (deep stem)
        assert (backbone.depth, backbone.strides, backbone.dilations,
                backbone.contract_dilation) == (50, (1, 2, 1, 1), (1, 1, 2, 4),
                                                True)
        assert backbone.norm_cfg.type == 'SyncBN'
        assert backbone.init_cfg.type == 'StrictPretrained'
        assert cfg.train_cfg.max_iters == 40000
        assert cfg.param_scheduler[0].end == 40000
        assert cfg.model.decode_head.num_classes == 21


@pytest.mark.parametrize(
    'path, method, checkpoint',
    [(du.DET_CONFIG, 'mixskd', 'exported'),
     (du.DET_BASELINE_CONFIG, 'baseline', 'exported'),
     (du.DET_MMPRETRAIN_CONFIG, 'mixskd', 'train'),
     (du.SEG_CONFIG, 'mixskd', 'exported'),
     (du.SEG_BASELINE_CONFIG, 'baseline', 'exported')],
    ids=['det', 'det-baseline', 'det-mmpretrain', 'seg', 'seg-baseline'])
def test_shipped_configs_load_resnet50_exactly(r50, path, method, checkpoint):
    cfg = Config.fromfile(path)
    cfg.merge_from_dict(
        {'model.backbone.init_cfg.checkpoint': r50[method][checkpoint]})
    model = du.build(cfg.model, cfg.default_scope)
    model.init_weights()
    du.assert_same_tensors(model.backbone.state_dict(),
                           r50[method]['backbone'])


# ---------------------------------------------------------------------------
# fine-tuning runs
# ---------------------------------------------------------------------------
def _scalar(runner, key):
    return runner.message_hub.get_scalar(key).current()


def test_det_finetune_and_coco_eval(r18, coco, tmp_path):
    options = du.det_overrides(coco, r18['exported'], str(tmp_path))
    options['experiment_name'] = 'det_finetune'
    cfg = du.load_config(du.DET_CONFIG, options)
    runner = Runner.from_cfg(cfg)
    assert type(runner.train_dataloader.dataset).__name__ == 'CocoDataset'
    assert [type(m).__name__ for m in runner.val_evaluator.metrics] == \
        ['CocoMetric']
    runner.train()

    assert runner.iter == 2  # 4 images, batch 2, 1 epoch
    assert math.isfinite(_scalar(runner, 'train/loss'))
    # pycocotools ran: the summary metrics exist (values of a 2-iteration
    # detector are ~0).
    for key in ('coco/bbox_mAP', 'coco/bbox_mAP_50'):
        assert 0 <= _scalar(runner, f'val/{key}') <= 1
    assert osp.isfile(tmp_path / 'epoch_1.pth')


def test_seg_finetune_and_miou_eval(r18, voc, tmp_path):
    options = du.seg_overrides(voc, r18['exported'], str(tmp_path))
    options['experiment_name'] = 'seg_finetune'
    cfg = du.load_config(du.SEG_CONFIG, options)
    runner = Runner.from_cfg(cfg)
    datasets = runner.train_dataloader.dataset.datasets
    assert [type(d).__name__ for d in datasets] == ['PascalVOCDataset'] * 2
    assert [type(m).__name__ for m in runner.val_evaluator.metrics] == \
        ['IoUMetric']
    # The config keeps SyncBN; a single process trains with BN because the
    # Runner reverts it (Runner.wrap_model) when not distributed.
    norms = {type(m).__name__ for m in runner.model.modules()}
    assert 'SyncBatchNorm' not in norms
    runner.train()

    assert runner.iter == 1
    assert math.isfinite(_scalar(runner, 'train/loss'))
    assert 0 <= _scalar(runner, 'val/mIoU') <= 100


def test_raw_checkpoint_stops_the_exported_config(r18, coco, tmp_path):
    options = du.det_overrides(coco, r18['train'], str(tmp_path))
    options['experiment_name'] = 'det_raw_checkpoint'
    runner = Runner.from_cfg(du.load_config(du.DET_CONFIG, options))
    with pytest.raises(RuntimeError) as info:
        runner.train()
    info.match('StrictPretrained: checkpoint .*r18_train.pth does not '
               'match ResNet: 100 missing')
    info.match('raw training checkpoint: export its backbone with '
               '`python tools/export_backbone.py CKPT OUT`')
    assert runner.iter == 0


def test_mmpretrain_resnet_config_finetunes_from_raw_checkpoint(
        r18, coco, tmp_path):
    options = du.det_overrides(coco, r18['train'], str(tmp_path))
    options.update({
        'experiment_name': 'det_mmpretrain',
        'train_cfg.max_epochs': 0,  # loading is what differs here
    })
    runner = Runner.from_cfg(du.load_config(du.DET_MMPRETRAIN_CONFIG, options))
    runner.train()
    backbone = runner.model.backbone
    assert type(backbone).__module__.startswith('mmpretrain.')
    du.assert_same_tensors(backbone.state_dict(), r18['backbone'])


def test_dist_train_two_cpu_processes(r18, coco, tmp_path):
    assert osp.isfile(DIST_TRAIN), 'tools/dist_train.sh is missing'
    options = du.det_overrides(coco, r18['exported'], str(tmp_path))
    options.update({
        'experiment_name': 'det_dist',
        # 4 images over 2 processes: one batch of 2 on each rank.
        'train_dataloader.batch_size': 2,
    })
    env = dict(os.environ, PORT=str(du.free_port()), PYTHONWARNINGS='ignore')
    result = subprocess.run(
        ['bash', DIST_TRAIN, du.DET_CONFIG, '2', '--cfg-options'] +
        du.to_cli(options),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=420)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-6000:]
    assert 'StrictPretrained: loaded 120 tensors into ResNet' in log
    assert 'Epoch(train) [1][1/1]' in log, log[-3000:]
    assert 'coco/bbox_mAP:' in log, log[-3000:]
    checkpoint = torch.load(
        str(tmp_path / 'epoch_1.pth'), map_location='cpu', weights_only=False)
    assert checkpoint['meta']['epoch'] == 1


def test_mmpretrain_and_mmdet_resnet_compute_the_same(r18):
    # Why the two det configs are interchangeable: same keys, same maths.
    features = []
    for backbone in (dict(type='ResNet'), dict(type='mmpretrain.ResNet')):
        model = du.build(
            dict(
                backbone,
                depth=18,
                out_indices=(0, 1, 2, 3),
                init_cfg=dict(
                    type='StrictPretrained', checkpoint=r18['exported'])),
            'mmdet')
        model.init_weights()
        model.eval()
        with torch.no_grad():
            features.append(
                model(
                    torch.rand(
                        2,
                        3,
                        64,
                        64,
                        generator=torch.Generator().manual_seed(0))))
    for mmdet_out, mmpretrain_out in zip(*features):
        torch.testing.assert_close(mmdet_out, mmpretrain_out)
