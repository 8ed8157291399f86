"""Helpers for the downstream (detection, segmentation) transfer tests:
tiny COCO and VOC sets, the ``--cfg-options`` that point the shipped configs
at them, and (re-exported from ``export_utils``) the checkpoint helpers.

Not a test module (pytest collects only ``test_*.py``). pyproject.toml puts
``tests/`` on ``sys.path``, so tests write ``import downstream_utils as du``
(pytest runs with ``--import-mode=importlib``: mmseg's wheel installs a
top-level ``tests`` package that would shadow ours).
"""
import copy
import os.path as osp
import shutil
import socket

from mmengine.config import Config

import mixskd_mm  # noqa: F401  (registers StrictPretrained, applies compat)

from export_utils import (  # noqa: F401  (re-exported, the older home)
    FAKE_TRAINING_PARTS, assert_export_refused, assert_same_tensors,
    backbone_of, build, captured_log, load_exported, randomize_,
    resnet_classifier, save_training_checkpoint)
from repo import ROOT

REPO_ROOT = ROOT  # the older name, kept for importers
DET_CONFIG = osp.join(ROOT,
                      'configs/det/faster-rcnn_r50-mixskd_fpn_1x_coco.py')
DET_BASELINE_CONFIG = osp.join(
    ROOT, 'configs/det/faster-rcnn_r50-baseline_fpn_1x_coco.py')
DET_MMPRETRAIN_CONFIG = osp.join(
    ROOT, 'configs/det/faster-rcnn_r50-mixskd-mmpretrain_fpn_1x_coco.py')
SEG_CONFIG = osp.join(
    ROOT,
    'configs/seg/deeplabv3_r50-mixskd-d8_4xb4-40k_voc12aug-512x512.py')
SEG_BASELINE_CONFIG = osp.join(
    ROOT,
    'configs/seg/deeplabv3_r50-baseline-d8_4xb4-40k_voc12aug-512x512.py')

IMAGE_SIZE = 128


def write_coco(root, num_train: int = 4, num_val: int = 2) -> dict:
    """A tiny COCO-format detection set (mixskd_mm.demo.data)."""
    from mixskd_mm.demo.data import write_coco_detection_set
    return write_coco_detection_set(
        str(root),
        num_train=num_train,
        num_val=num_val,
        image_size=IMAGE_SIZE,
        seed=0)


def write_voc(root, num_train: int = 4, num_val: int = 2) -> dict:
    """A tiny VOC-format segmentation set, with the SBD 'aug' split too.

    The VOC-aug config trains on ``ConcatDataset([train, aug])``; the aug
    part reads ``SegmentationClassAug`` and ``aug.txt``, copied here from
    the train split so that the config's datasets are used unchanged.
    """
    from mixskd_mm.demo.data import write_voc_segmentation_set
    info = write_voc_segmentation_set(
        str(root),
        num_train=num_train,
        num_val=num_val,
        image_size=IMAGE_SIZE,
        seed=0)
    voc = info['data_root']
    shutil.copytree(
        osp.join(voc, 'SegmentationClass'),
        osp.join(voc, 'SegmentationClassAug'))
    splits = osp.join(voc, 'ImageSets', 'Segmentation')
    shutil.copy(osp.join(splits, 'train.txt'), osp.join(splits, 'aug.txt'))
    return info


def det_overrides(coco: dict,
                  checkpoint: str,
                  work_dir: str,
                  depth: int = 18) -> dict:
    """``--cfg-options`` for the det configs: tiny data, ResNet-``depth``.

    Every value can be written on the command line (see :func:`to_cli`),
    so the in-process and the ``dist_train.sh`` runs use the same options.
    Pipeline steps are addressed by index; :func:`check_pipelines` makes
    sure the indices still point at the expected transforms.
    """
    root = coco['root']
    small = (IMAGE_SIZE, IMAGE_SIZE)
    options = {
        'work_dir': work_dir,
        'model.backbone.init_cfg.checkpoint': checkpoint,
        'model.roi_head.bbox_head.num_classes': len(coco['classes']),
        # A barely trained detector scores every class ~1/6: keep all boxes
        # so that CocoMetric has detections to match.
        'model.test_cfg.rcnn.score_thr': 0.0,
        # Fewer proposals and RoIs: RoIAlign and the shared FCs over 2 x 512
        # RoIs take most of a CPU iteration; 128 px images need far fewer.
        'model.train_cfg.rpn_proposal.nms_pre': 500,
        'model.train_cfg.rpn_proposal.max_per_img': 200,
        'model.train_cfg.rcnn.sampler.num': 64,
        'model.test_cfg.rpn.nms_pre': 500,
        'model.test_cfg.rpn.max_per_img': 100,
        'train_cfg.max_epochs': 1,
        'default_hooks.logger.interval': 1,
        'val_evaluator.ann_file': osp.join(root, coco['ann_files']['val']),
    }
    if depth != 50:
        options['model.backbone.depth'] = depth
        options['model.neck.in_channels'] = [64, 128, 256, 512]
    for split, loader, resize in (('train', 'train_dataloader', 2),
                                  ('val', 'val_dataloader', 1)):
        options.update({
            f'{loader}.batch_size':
            2 if split == 'train' else 1,
            f'{loader}.num_workers':
            0,
            f'{loader}.persistent_workers':
            False,
            f'{loader}.dataset.data_root':
            root,
            f'{loader}.dataset.ann_file':
            coco['ann_files'][split],
            f'{loader}.dataset.data_prefix.img':
            f'{split}/',
            f'{loader}.dataset.metainfo.classes':
            tuple(coco['classes']),
            f'{loader}.dataset.pipeline.{resize}.scale':
            small,
        })
    return options


def seg_overrides(voc: dict,
                  checkpoint: str,
                  work_dir: str,
                  depth: int = 18) -> dict:
    """``--cfg-options`` for the seg configs: tiny data, ResNet-``depth``.

    The real ``PascalVOCDataset`` reads the files with the config's 21
    classes (labels 0-5 occur; ``IoUMetric`` averages with nanmean).
    """
    small = (IMAGE_SIZE, IMAGE_SIZE)
    options = {
        'work_dir': work_dir,
        'model.backbone.init_cfg.checkpoint': checkpoint,
        'model.data_preprocessor.size': small,
        'train_cfg.max_iters': 1,
        'train_cfg.val_interval': 1,
        'default_hooks.logger.interval': 1,
        'train_dataloader.batch_size': 2,
    }
    if depth != 50:
        options.update({
            'model.backbone.depth': depth,
            'model.decode_head.in_channels': 512,
            'model.decode_head.channels': 64,
            'model.auxiliary_head.in_channels': 256,
            'model.auxiliary_head.channels': 32,
        })
    for loader in ('train_dataloader', 'val_dataloader'):
        options[f'{loader}.num_workers'] = 0
        options[f'{loader}.persistent_workers'] = False
    for i in (0, 1):  # VOC train + SBD aug
        prefix = f'train_dataloader.dataset.datasets.{i}'
        options.update({
            f'{prefix}.data_root':
            voc['data_root'],
            f'{prefix}.pipeline.2.scale': (2 * IMAGE_SIZE, IMAGE_SIZE),
            f'{prefix}.pipeline.3.crop_size':
            small,
            f'{prefix}.pipeline.6.size':
            small,
        })
    options['val_dataloader.dataset.data_root'] = voc['data_root']
    options['val_dataloader.dataset.pipeline.1.scale'] = (2 * IMAGE_SIZE,
                                                          IMAGE_SIZE)
    return options


def check_pipelines(cfg: Config) -> None:
    """Fail clearly if the base configs moved the transforms we override."""
    expected = {
        'train_dataloader.dataset.pipeline.2': 'Resize',
        'val_dataloader.dataset.pipeline.1': 'Resize',
        'train_dataloader.dataset.datasets.0.pipeline.2': 'RandomResize',
        'train_dataloader.dataset.datasets.0.pipeline.3': 'RandomCrop',
        'train_dataloader.dataset.datasets.0.pipeline.6': 'Pad',
        'train_dataloader.dataset.datasets.1.pipeline.2': 'RandomResize',
    }
    for path, transform in expected.items():
        node = cfg
        try:
            for part in path.split('.'):
                node = node[int(part)] if part.isdigit() else node[part]
        except (KeyError, IndexError, TypeError):
            continue  # the det config has no `datasets`, the seg no Resize
        assert node['type'] == transform, (
            f'{path} is {node["type"]}, expected {transform}: update the '
            'pipeline indices in tests/downstream_utils.py')


def load_config(path: str, options: dict) -> Config:
    """Load a config and merge ``options`` like ``--cfg-options`` does."""
    cfg = Config.fromfile(path)
    cfg.merge_from_dict(copy.deepcopy(options))
    check_pipelines(cfg)
    return cfg


def to_cli(options: dict) -> list:
    """Format options as ``--cfg-options`` arguments (mmengine DictAction).
    """

    def value(v):
        if isinstance(v, tuple):
            return '(' + ','.join(value(x) for x in v) + ')'
        if isinstance(v, list):
            return '[' + ','.join(value(x) for x in v) + ']'
        text = str(v)
        assert ',' not in text and ' ' not in text, (
            f'{text!r} cannot be passed through --cfg-options')
        return text

    return [f'{k}={value(v)}' for k, v in options.items()]


def free_port() -> int:
    """A TCP port nobody listens on now (for torchrun's master port)."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]

