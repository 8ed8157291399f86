"""The plain mixup / CutMix baseline recipes (mmpretrain batch augments)."""
import math
import os.path as osp
import sys

import pytest
from mmengine.config import Config

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
import distill_test_utils as dtu  # noqa: E402

CASES = [('mixup', 'cifar100', 'Mixup', 0.4),
         ('cutmix', 'cifar100', 'CutMix', 1.0),
         ('mixup', 'imagenet', 'Mixup', 0.2),
         ('cutmix', 'imagenet', 'CutMix', 1.0)]


@pytest.mark.parametrize('method, dataset, augment, alpha', CASES)
def test_recipe_is_a_plain_classifier_with_a_batch_augment(
        method, dataset, augment, alpha):
    arch = 'r18' if dataset == 'cifar100' else 'r50'
    cfg = Config.fromfile(
        osp.join(dtu.ROOT, f'configs/{method}_{arch}_{dataset}.py'))
    ref = Config.fromfile(
        osp.join(dtu.ROOT, f'configs/baseline_{arch}_{dataset}.py'))
    assert cfg.model.type == 'ImageClassifier'
    assert cfg.model.train_cfg.augments == dict(type=augment, alpha=alpha)
    assert isinstance(cfg.model.train_cfg.augments.alpha, float)
    assert cfg.model.head.loss.use_soft
    assert cfg.model.backbone == ref.model.backbone
    for key in ('optim_wrapper', 'param_scheduler', 'train_cfg',
                'train_dataloader'):
        assert cfg[key] == ref[key], key


@pytest.mark.parametrize('method', ['mixup', 'cutmix'])
def test_cifar_recipe_trains(method):
    cfg = dtu.recipe(f'{method}_r18_cifar100')
    logs = dtu.train_steps(cfg, steps=1)
    assert all(math.isfinite(v) for v in logs[0].values())
