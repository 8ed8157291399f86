"""Tf-KD-reg (TfKDRegClassifier): build, train, refusals, faithfulness.

The faithfulness test re-computes Self-KD-Lib's ``TF_KD_reg`` (``methods/
tf_kd_reg.py``) and ``main.py``'s total loss ``CE + TF_KD_reg(z, y, C,
epsilon=0.1, T=20)`` with plain torch ops on the model's logits and checks
our terms and the gradient of their sum against it.
"""
import copy

import pytest
import torch
import torch.nn.functional as F

import distill_test_utils as dtu
from mixskd_mm.models.losses.tfkd_losses import loss_tfkd, virtual_teacher

TERMS = {'loss_ce', 'loss_tfkd'}


def tiny(**overrides) -> dict:
    cfg = dict(
        type='TfKDRegClassifier',
        backbone=dtu.tiny_backbone(),
        head=dtu.tiny_head(),
        data_preprocessor=dict(type='ClsDataPreprocessor', **dtu.NORM))
    cfg.update(overrides)
    return cfg


def released_tf_kd_reg(outputs, targets, num_classes, epsilon=0.1, T=20):
    """``TF_KD_reg`` of the release, on CPU."""
    n = targets.size(0)
    smoothed = torch.full((n, num_classes), epsilon / (num_classes - 1))
    smoothed.scatter_(1, targets.unsqueeze(1), 1 - epsilon)
    log_prob = F.log_softmax(outputs / T, dim=1)
    return -torch.sum(log_prob * smoothed / T) / n


def test_recipe_builds_with_the_released_settings():
    cfg = dtu.recipe('tfkd_r18_cifar100')
    assert cfg.model.type == 'TfKDRegClassifier'
    model = dtu.build(cfg.model)
    assert model.correct_prob == 0.9 and model.temperature == 20.0
    assert model.loss_weights == dict(ce=1.0, tfkd=1.0)
    imagenet = dtu.recipe('tfkd_r50_imagenet')
    assert imagenet.model.type == 'TfKDRegClassifier'
    assert imagenet.model.correct_prob == 0.9


def test_one_train_step_has_finite_terms_and_gradients():
    model = dtu.build(tiny())
    losses = dtu.losses_of(model, dtu.batch(6))
    assert set(losses) == TERMS
    assert all(torch.isfinite(v) and v > 0 for v in losses.values())
    owners = dtu.grad_owners(model, sum(losses.values()))
    assert owners == {'backbone', 'head'}
    # The Tf-KD term alone trains backbone and head as well.
    assert dtu.grad_owners(
        model, dtu.losses_of(model, dtu.batch(6))['loss_tfkd']) == {
            'backbone', 'head'}


def test_virtual_teacher():
    q = virtual_teacher(torch.tensor([2, 0]), 5, 0.6)
    expected = torch.full((2, 5), 0.1)
    expected[0, 2] = expected[1, 0] = 0.6
    torch.testing.assert_close(q, expected)
    torch.testing.assert_close(q.sum(1), torch.ones(2))


@pytest.mark.parametrize('overrides, match', [
    (dict(correct_prob=0.2), r'model.correct_prob must be .*\(0.2, 1.0\]'),
    (dict(correct_prob=1.5), 'model.correct_prob must be'),
    (dict(correct_prob=float('nan')), 'model.correct_prob must be'),
    (dict(temperature=0), 'model.temperature must be'),
    (dict(temperature=-4.0), 'model.temperature must be'),
    (dict(loss_weights=dict(tfkd=-1.0)), 'model.loss_weights.tfkd'),
])
def test_bad_hyper_parameters_are_refused(overrides, match):
    with pytest.raises(ValueError, match=match):
        dtu.build(tiny(**overrides))


def test_unknown_weight_and_mixing_preprocessor_are_refused():
    with pytest.raises(KeyError, match='tfkd'):
        dtu.build(tiny(loss_weights=dict(kd=1.0)))
    with pytest.raises(ValueError, match='ClsDataPreprocessor'):
        dtu.build(tiny(data_preprocessor=dict(
            type='MixSKDDataPreprocessor', mix_mode='mixup', **dtu.NORM)))


def test_matches_the_released_formula_and_its_gradient():
    model = dtu.build(tiny(), seed=3)
    data = model.data_preprocessor(dtu.batch(8, seed=5), True)
    reference = copy.deepcopy(model)

    losses = model(**data, mode='loss')
    model.zero_grad()
    sum(losses.values()).backward()

    labels = reference.gt_labels(data['data_samples'])
    logits = reference.head(reference.extract_feat(data['inputs']))
    ce = F.cross_entropy(logits, labels)
    reg = released_tf_kd_reg(logits, labels, dtu.NUM_CLASSES)
    torch.testing.assert_close(losses['loss_ce'], ce)
    torch.testing.assert_close(losses['loss_tfkd'], reg)
    reference.zero_grad()
    (ce + reg).backward()
    for (name, ours), theirs in zip(model.named_parameters(),
                                    reference.parameters()):
        torch.testing.assert_close(ours.grad, theirs.grad, msg=name)
    # The weight of the term scales it (and nothing else).
    weighted = dtu.build(tiny(loss_weights=dict(tfkd=3.0)), seed=3)
    again = weighted(**data, mode='loss')
    torch.testing.assert_close(again['loss_tfkd'], 3 * reg,
                               rtol=1e-5, atol=1e-6)


def test_term_other_settings():
    logits = torch.randn(4, 7, generator=torch.Generator().manual_seed(0))
    labels = torch.tensor([0, 6, 3, 3])
    torch.testing.assert_close(
        loss_tfkd(logits, labels, 0.7, 5.0),
        released_tf_kd_reg(logits, labels, 7, epsilon=0.3, T=5.0))
