"""Every recipe of ``configs/`` trains one step on generated data.

The recipes (``configs/<method>_r18_cifar100.py`` and
``configs/<method>_r50_imagenet.py``) are found by glob, so one added later is
covered. Each builds its own model (full width, its own number of classes;
a frozen teacher is swapped for a tiny saved one) and its own train
dataloader (sampler and pipeline as shipped) over a few generated images,
takes one batch and runs one ``train_step`` with the recipe's optimiser: every
loss term must be finite and a gradient must reach the backbone. ImageNet
crops are shrunk from 224 to 64 pixels to keep the CPU step short; nothing
else of the recipe changes. The ImageNet recipes' backbones then export and
load strictly into the shipped Faster R-CNN and DeepLabV3 backbones, the
path every pretrained method's weights take to detection and segmentation.
"""
import copy
import math
import pickle

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

import mixskd_mm  # noqa: F401  (registers the models)
from distill_test_utils import build, save_teacher
from downstream_utils import build as build_in_scope
from mixskd_mm.checkpoint import export_backbone
from repo import CONFIGS

RECIPES = sorted(
    p.name[:-len('.py')] for p in CONFIGS.glob('*.py')
    if p.name.endswith(('_r18_cifar100.py', '_r50_imagenet.py')))
#: The transfer configs every ImageNet backbone must load into, strictly.
TRANSFER = {
    'det': ('mmdet', CONFIGS / 'det' / 'faster-rcnn_r50-mixskd_fpn_1x_coco.py'),
    'seg': ('mmseg', CONFIGS / 'seg' /
            'deeplabv3_r50-mixskd-d8_4xb4-40k_voc12aug-512x512.py'),
}
#: Images per generated set: 4 classes x 4, so a sampler that pairs or
#: groups images of one class finds them.
CLASSES, PER_CLASS = 4, 4
BATCH = 8


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    """CIFAR-100 pickles and an ImageNet folder tree of random images."""
    root = tmp_path_factory.mktemp('recipe_data')
    rng = np.random.default_rng(0)
    labels = [i % CLASSES for i in range(CLASSES * PER_CLASS)]
    cifar = root / 'cifar' / 'cifar-100-python'
    cifar.mkdir(parents=True)
    for split in ('train', 'test'):
        entry = dict(
            data=rng.integers(0, 256, (len(labels), 3 * 32 * 32),
                              dtype=np.uint8),
            fine_labels=labels, coarse_labels=labels)
        with open(cifar / split, 'wb') as f:
            pickle.dump(entry, f)
    with open(cifar / 'meta', 'wb') as f:
        pickle.dump(dict(fine_label_names=[f'c{i}' for i in range(100)]), f)
    imagenet = root / 'imagenet'
    (imagenet / 'meta').mkdir(parents=True)
    for split in ('train', 'val'):
        lines = []
        for c in range(CLASSES):
            folder = imagenet / split / f'n{c:08d}'
            folder.mkdir(parents=True)
            for i in range(PER_CLASS):
                image = rng.integers(0, 256, (80, 96, 3), dtype=np.uint8)
                cv2.imwrite(str(folder / f'{i}.JPEG'), image)
                lines.append(f'n{c:08d}/{i}.JPEG {c}\n')
        # An annotation file, because ImageNet's 1000 class names do not
        # match a 4-folder tree.
        (imagenet / 'meta' / f'{split}.txt').write_text(''.join(lines))
    return dict(cifar=str(root / 'cifar'), imagenet=str(imagenet))


@pytest.fixture
def trusted_cifar(monkeypatch):
    """The generated CIFAR files cannot match the release's md5 sums."""
    from mmpretrain.datasets import CIFAR10
    monkeypatch.setattr(CIFAR10, '_check_integrity', lambda self: True)


def _shrink_crops(node):
    """ImageNet crops of 224 (and resizes of 256) -> 64 (and 72)."""
    if isinstance(node, dict):
        for key in ('scale', 'crop_size'):
            if node.get(key) == 224:
                node[key] = 64
            elif node.get(key) == 256:
                node[key] = 72
        for value in node.values():
            _shrink_crops(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _shrink_crops(value)


def _train_batch(cfg: Config, data: dict) -> dict:
    loader = cfg.train_dataloader.to_dict()
    dataset = loader['dataset']
    if 'cifar' in dataset['type'].lower():
        dataset['data_root'] = data['cifar']
    else:
        dataset['data_root'] = data['imagenet']
        _shrink_crops(dataset['pipeline'])
    loader.update(batch_size=BATCH, num_workers=0, persistent_workers=False)
    return next(iter(Runner.build_dataloader(loader, seed=0)))


def _model_cfg(cfg: Config, tmp_path) -> dict:
    model = cfg.model.to_dict()
    if 'data_preprocessor' not in model:  # as the Runner merges it
        model['data_preprocessor'] = copy.deepcopy(
            cfg.data_preprocessor.to_dict())
    if 'teacher' in model:  # the recipe's teacher checkpoint is not here
        saved = save_teacher(
            tmp_path / 'teacher.pth', num_classes=model['head']['num_classes'])
        model['teacher'] = dict(
            config=saved['config'], checkpoint=str(tmp_path / 'teacher.pth'))
    return model


@pytest.mark.parametrize('recipe', RECIPES)
def test_recipe_trains_one_step(recipe, data, trusted_cifar, tmp_path):
    cfg = Config.fromfile(str(CONFIGS / f'{recipe}.py'))
    init_default_scope('mmpretrain')
    model = build(_model_cfg(cfg, tmp_path))
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    before = {k: v.clone() for k, v in model.backbone.state_dict().items()}

    log = model.train_step(_train_batch(cfg, data), optim_wrapper)

    assert 'loss' in log, (recipe, sorted(log))
    bad = {k: float(v) for k, v in log.items() if not math.isfinite(float(v))}
    assert not bad, f'{recipe}: non-finite loss terms {bad}'
    changed = [k for k, v in model.backbone.state_dict().items()
               if v.is_floating_point() and not torch.equal(v, before[k])]
    assert changed, f'{recipe}: the step left the backbone unchanged'

    if not recipe.endswith('_r50_imagenet'):
        return
    ckpt = tmp_path / 'train.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, str(ckpt))
    exported = str(tmp_path / 'backbone.pth')
    export_backbone(str(ckpt), exported)
    want = model.backbone.state_dict()
    for kind, (scope, path) in TRANSFER.items():
        backbone_cfg = Config.fromfile(str(path)).model.backbone.to_dict()
        backbone_cfg['init_cfg']['checkpoint'] = exported
        backbone = build_in_scope(backbone_cfg, scope)
        backbone.init_weights()
        got = backbone.state_dict()
        assert set(got) == set(want), (recipe, kind)
        for key, value in want.items():
            assert torch.equal(got[key], value), (recipe, kind, key)


def test_recipes_are_found():
    methods = {r.rsplit('_', 2)[0] for r in RECIPES}
    assert {'baseline', 'mixskd', 'frskd', 'kd'} <= methods
    for _, path in TRANSFER.values():
        assert path.is_file(), path
