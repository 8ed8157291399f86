"""Helpers for the backbone export / StrictPretrained / downstream tests.

Not a test module (pytest collects only ``test_*.py``). The tests import it
with ``sys.path`` pointed at this folder, because pytest runs with
``--import-mode=importlib`` (mmseg's wheel installs a top-level ``tests``
package that would shadow ours).

To cover a new classifier (e.g. the real MixSKD classifier), write its
training checkpoint with :func:`save_training_checkpoint` and run the same
checks, e.g.::

    MIXSKD_R18 = dict(type='MixSKD', backbone=dict(type='ResNet', depth=18),
                      ...)

    def test_export_mixskd(tmp_path):
        ckpt = save_training_checkpoint(tmp_path / 'mixskd.pth', MIXSKD_R18)
        info = export_backbone(ckpt['path'], str(tmp_path / 'bb.pth'))
        assert_same_tensors(load_exported(tmp_path / 'bb.pth'),
                            ckpt['backbone'])
"""
import copy
import os.path as osp
import shutil
import socket
from collections import OrderedDict
from types import SimpleNamespace
from typing import Dict, Optional

import torch
from mmengine.config import Config
from mmengine.hooks import EMAHook
from mmengine.logging import MessageHub
from mmengine.registry import MODELS, DefaultScope

import mixskd_mm  # noqa: F401  (registers StrictPretrained, applies compat)

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DET_CONFIG = osp.join(REPO_ROOT,
                      'configs/det/faster-rcnn_r50-mixskd_fpn_1x_coco.py')
DET_BASELINE_CONFIG = osp.join(
    REPO_ROOT, 'configs/det/faster-rcnn_r50-baseline_fpn_1x_coco.py')
DET_MMPRETRAIN_CONFIG = osp.join(
    REPO_ROOT, 'configs/det/faster-rcnn_r50-mixskd-mmpretrain_fpn_1x_coco.py')
SEG_CONFIG = osp.join(
    REPO_ROOT,
    'configs/seg/deeplabv3_r50-mixskd-d8_4xb4-40k_voc12aug-512x512.py')
SEG_BASELINE_CONFIG = osp.join(
    REPO_ROOT,
    'configs/seg/deeplabv3_r50-baseline-d8_4xb4-40k_voc12aug-512x512.py')

IMAGE_SIZE = 128


def resnet_classifier(depth: int = 18, num_classes: int = 20) -> dict:
    """Config of an mmpretrain ``ImageClassifier`` with a ResNet."""
    width = 512 if depth < 50 else 2048
    return dict(
        type='ImageClassifier',
        backbone=dict(type='ResNet', depth=depth),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(
            type='LinearClsHead',
            num_classes=num_classes,
            in_channels=width,
            loss=dict(type='CrossEntropyLoss')))


# Training-only parts that a self-distillation classifier adds next to
# ``backbone`` and ``head``; the export must drop them.
FAKE_TRAINING_PARTS = OrderedDict([
    ('branches.0.layer4.0.conv1.weight', (8, 4, 3, 3)),
    ('branches.0.layer4.0.bn1.running_mean', (8, )),
    ('branch_heads.0.fc.weight', (20, 8)),
    ('self_teacher.fuse.weight', (8, 16, 1, 1)),
    ('self_teacher.fuse.bias', (8, )),
])


# ---------------------------------------------------------------------------
# models and checkpoints
# ---------------------------------------------------------------------------
def build(model_cfg: dict, scope: str = 'mmpretrain') -> torch.nn.Module:
    """Build a model config in the registry tree of ``scope``."""
    with DefaultScope.overwrite_default_scope(scope):
        return MODELS.build(copy.deepcopy(model_cfg))


def randomize_(module: torch.nn.Module, seed: int) -> None:
    """Perturb every float tensor (parameters and BN statistics).

    Afterwards no tensor equals its default initialisation (ones, zeros,
    fresh Kaiming draws), so an equality check against a checkpoint cannot
    pass by accident, e.g. when a norm that zero_init_residual re-zeroes was
    zero in the checkpoint too. The noise is small so that the weights still
    train (all-positive random convolutions overflow to NaN).
    """
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for key, tensor in module.state_dict().items():
            if tensor.is_floating_point():
                noise = torch.randn(tensor.shape, generator=generator)
                if key.endswith('running_var'):
                    tensor.mul_(1 + 0.1 * noise.abs())  # stays positive
                else:
                    tensor.add_(0.02 * noise)
            elif tensor.numel() == 1:  # num_batches_tracked
                tensor.fill_(
                    int(torch.randint(1, 1000, (1, ), generator=generator)))


def backbone_of(state_dict: Dict[str, torch.Tensor],
                prefix: str = 'backbone.') -> 'OrderedDict':
    """The tensors under ``prefix``, prefix removed, cloned."""
    return OrderedDict((k[len(prefix):], v.clone())
                       for k, v in state_dict.items() if k.startswith(prefix))


def save_training_checkpoint(path,
                             model_cfg: dict,
                             extra_tensors: Optional[dict] = None,
                             ema: bool = False,
                             with_cfg: bool = True,
                             seed: int = 0) -> dict:
    """Write a checkpoint shaped like the one mmengine's Runner saves.

    It has ``meta`` (with the config text in ``meta['cfg']``, as
    ``Runner.save_checkpoint`` stores it), ``state_dict``, ``message_hub``
    (whose HistoryBuffers need ``weights_only=False``, as in real runs) and
    ``optimizer``. With ``ema=True`` mmengine's real ``EMAHook`` is used:
    the averaged model is taken before the raw weights change, and the
    hook's ``before_save_checkpoint`` swaps the weights, so ``state_dict``
    holds the EMA weights and ``ema_state_dict`` the raw ones.

    Args:
        path (str | Path): Where to write.
        model_cfg (dict): mmpretrain classifier config.
        extra_tensors (dict, optional): ``{key: shape}`` of training-only
            tensors to add (fake branches / self-teacher). Defaults to None.
        ema (bool): Save as with ``EMAHook``. Defaults to False.
        with_cfg (bool): Store ``meta['cfg']``. Defaults to True.
        seed (int): Seed of the random weights. Defaults to 0.

    Returns:
        dict: ``path`` (str), ``backbone`` (the backbone tensors the export
        must produce, prefix removed), ``raw_backbone`` (the non-EMA
        backbone when ``ema``) and ``state_dict``.
    """
    path = str(path)
    model = build(model_cfg)
    randomize_(model, seed)
    hook = None
    if ema:
        hook = EMAHook()
        runner = SimpleNamespace(model=model)
        hook.before_run(runner)  # the averaged copy keeps these weights
        randomize_(model, seed + 1)  # "training" moves the raw weights
    state_dict = OrderedDict(
        (k, v.clone()) for k, v in model.state_dict().items())
    generator = torch.Generator().manual_seed(seed + 2)
    for key, shape in (extra_tensors or {}).items():
        state_dict[key] = torch.rand(shape, generator=generator)
    message_hub = MessageHub.get_instance(f'export_test_{seed}')
    message_hub.update_scalar('train/loss', 1.0)
    meta = dict(epoch=3, iter=30, seed=seed, mmengine_version='0.10.7')
    if with_cfg:
        meta['cfg'] = Config(
            dict(
                model=model_cfg,
                default_scope='mmpretrain',
                custom_imports=dict(
                    imports=['mixskd_mm'],
                    allow_failed_imports=False))).pretty_text
    checkpoint = dict(
        meta=meta,
        state_dict=state_dict,
        message_hub=message_hub.state_dict(),
        optimizer=dict(state={}, param_groups=[]))
    raw_backbone = backbone_of(state_dict)
    if hook is not None:
        hook.before_save_checkpoint(runner, checkpoint)
    torch.save(checkpoint, path)
    return dict(
        path=path,
        backbone=backbone_of(checkpoint['state_dict']),
        raw_backbone=raw_backbone,
        state_dict=checkpoint['state_dict'])


def load_exported(path) -> dict:
    """Load an exported backbone file the strictest way torch allows."""
    return torch.load(str(path), map_location='cpu', weights_only=True)


def assert_same_tensors(actual: Dict[str, torch.Tensor],
                        expected: Dict[str, torch.Tensor]) -> None:
    """Same keys and bit-identical values."""
    only_actual = sorted(set(actual) - set(expected))
    only_expected = sorted(set(expected) - set(actual))
    assert not (only_actual or only_expected), (
        f'keys differ: only in actual {only_actual[:5]}, only in expected '
        f'{only_expected[:5]}')
    different = [
        k for k in expected if not torch.equal(actual[k], expected[k])
    ]
    assert not different, f'{len(different)} tensors differ: {different[:5]}'


# ---------------------------------------------------------------------------
# data and config overrides
# ---------------------------------------------------------------------------
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
