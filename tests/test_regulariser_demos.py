"""The demo configs of the ten regularisation baselines keep their method.

Each demo config inherits its ImageNet recipe and swaps in the demo's data,
schedule and network size; these tests check that the swap keeps what makes
the method (the head type, the head's loss, the augmentation and its place in
the train pipeline) and that the config builds, runs its pipeline on one
generated 64 px image and gives a finite training loss.
"""
import copy

import mmcv
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from mmpretrain.registry import MODELS, TRANSFORMS

import mixskd_mm  # noqa: F401
import mixskd_mm.models.heads  # noqa: F401  (until models/__init__ has it)
from mixskd_mm.demo.stages import METHODS as DEMO_METHODS

from repo import CONFIGS

#: method -> (head type, head loss type) of its recipe.
LOSSES = dict(
    labelsmooth=('LinearClsHead', 'LabelSmoothLoss'),
    focal=('LinearClsHead', 'SoftmaxFocalLoss'),
    virtualsoftmax=('VirtualSoftmaxHead', 'CrossEntropyLoss'),
    maxent=('LinearClsHead', 'MaxEntropyLoss'))
#: method -> its augmentation step in the train pipeline.
AUGMENTS = dict(
    cutout='Cutout',
    randomerasing='RandomErasing',
    autoaugment='AutoAugment',
    randaugment='torchvision/RandAugment',
    augmix='torchvision/AugMix',
    trivialaugment='torchvision/TrivialAugmentWide')
METHODS = tuple(LOSSES) + tuple(AUGMENTS)


def demo(method):
    return Config.fromfile(str(CONFIGS / 'demo' / f'{method}_r18_demo.py'))


def recipe(method):
    return Config.fromfile(str(CONFIGS / f'{method}_r50_imagenet.py'))


def without_pipeline(loader):
    loader = copy.deepcopy(loader.to_dict())
    loader['dataset'].pop('pipeline')
    return loader


@pytest.fixture(scope='module')
def baseline():
    return demo('baseline')


@pytest.mark.parametrize('method', METHODS)
def test_demo_is_listed_and_has_the_demos_data_and_size(method, baseline):
    assert DEMO_METHODS[method] == f'configs/demo/{method}_r18_demo.py'
    cfg = demo(method)
    for key in ('backbone', 'data_preprocessor'):
        assert cfg.model[key] == baseline.model[key]
    for key in ('num_classes', 'in_channels', 'topk'):
        assert cfg.model.head[key] == baseline.model.head[key]
    assert without_pipeline(cfg.train_dataloader) == without_pipeline(
        baseline.train_dataloader)
    for key in ('val_dataloader', 'test_dataloader', 'optim_wrapper',
                'param_scheduler', 'train_cfg', 'default_hooks'):
        assert cfg[key] == baseline[key], key


@pytest.mark.parametrize('method', tuple(LOSSES))
def test_loss_demo_keeps_the_recipes_head_and_loss(method):
    cfg, ref = demo(method), recipe(method)
    head_type, loss_type = LOSSES[method]
    assert cfg.model.head.type == ref.model.head.type == head_type
    assert cfg.model.head.loss.type == ref.model.head.loss.type == loss_type
    assert cfg.train_dataloader.dataset.pipeline == demo(
        'baseline').train_dataloader.dataset.pipeline
    loss, ref_loss = dict(cfg.model.head.loss), dict(ref.model.head.loss)
    if method == 'labelsmooth':
        # eps' = 0.1 * C / (C - 1): the true class keeps 0.9 for any C.
        c = cfg.model.head.num_classes
        assert c == 20
        assert loss.pop('label_smooth_val') == pytest.approx(0.1 * c /
                                                             (c - 1))
        ref_loss.pop('label_smooth_val')
    assert loss == ref_loss
    if method == 'virtualsoftmax':
        assert cfg.model.head.bias is False
    head = MODELS.build(cfg.model.head)
    assert type(head).__name__ == head_type
    assert type(head.loss_module).__name__ == loss_type


def types(steps):
    return [t['type'] for t in steps]


@pytest.mark.parametrize('method', tuple(AUGMENTS))
def test_augment_demo_keeps_the_recipes_augmentation_at_its_place(method):
    cfg, ref = demo(method), recipe(method)
    steps = cfg.train_dataloader.dataset.pipeline
    ref_steps = ref.train_dataloader.dataset.pipeline
    assert AUGMENTS[method] in types(steps)
    # The same steps in the same order (augmentation before or after the
    # crop as in the recipe); only the crop is the demo's.
    assert types(steps) == types(ref_steps)
    for step, ref_step in zip(steps, ref_steps):
        if step['type'] == 'RandomResizedCrop':
            assert step == dict(type='RandomResizedCrop', scale=64,
                                crop_ratio_range=(0.5, 1.0))
        elif step['type'] == 'Cutout':
            # The recipe's quarter of the side, at 64 px.
            assert ref_step['shape'] == 224 // 4
            assert step == dict(ref_step, shape=64 // 4)
        else:
            assert step == ref_step
    assert cfg.model.head.type == 'LinearClsHead'
    assert cfg.model.head.loss.type == 'CrossEntropyLoss'


@pytest.mark.parametrize('method', METHODS)
def test_demo_builds_runs_its_pipeline_and_trains(method, tmp_path):
    cfg = demo(method)
    rng = np.random.default_rng(0)
    path = str(tmp_path / 'img.png')
    mmcv.imwrite(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8), path)
    pipe = Compose([
        TRANSFORMS.build(copy.deepcopy(t))
        for t in cfg.train_dataloader.dataset.pipeline
    ])
    np.random.seed(0)
    torch.manual_seed(0)
    packed = [pipe(dict(img_path=path, gt_label=i)) for i in (1, 2)]
    assert packed[0]['inputs'].shape == (3, 64, 64)
    assert packed[0]['inputs'].dtype == torch.uint8

    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    data = dict(inputs=[p['inputs'] for p in packed],
                data_samples=[p['data_samples'] for p in packed])
    losses = model(**model.data_preprocessor(data, True), mode='loss')
    assert torch.isfinite(losses['loss'])
    losses['loss'].backward()
    assert model.head.fc.weight.grad.abs().sum() > 0
