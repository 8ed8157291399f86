"""The plain mixup / CutMix baseline recipes (mmpretrain batch augments)."""
import pytest

import distill_test_utils as dtu

CASES = [('mixup', 'cifar100', 'Mixup', 0.4),
         ('cutmix', 'cifar100', 'CutMix', 1.0),
         ('mixup', 'imagenet', 'Mixup', 0.2),
         ('cutmix', 'imagenet', 'CutMix', 1.0)]


@pytest.mark.parametrize('method, dataset, augment, alpha', CASES)
def test_recipe_is_a_plain_classifier_with_a_batch_augment(
        method, dataset, augment, alpha):
    cfg, ref = dtu.recipe_pair(method, dataset, reference='baseline')
    assert cfg.model.type == 'ImageClassifier'
    assert cfg.model.train_cfg.augments == dict(type=augment, alpha=alpha)
    assert isinstance(cfg.model.train_cfg.augments.alpha, float)
    assert cfg.model.head.loss.use_soft
    assert cfg.model.backbone == ref.model.backbone
    dtu.assert_same_schedule(cfg, ref)


@pytest.mark.parametrize('method', ['mixup', 'cutmix'])
def test_cifar_recipe_trains(method):
    cfg = dtu.recipe(f'{method}_r18_cifar100')
    logs = dtu.train_steps(cfg, steps=1)
    dtu.assert_finite_terms(logs)
