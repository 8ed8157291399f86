"""FRSKDClassifier, its loss terms and the FRSKD recipes."""
import math

import pytest
import torch

from mmpretrain.models.losses import CrossEntropyLoss

from mixskd_mm.models.losses import loss_ce, loss_kd, loss_mix_ce  # noqa
from mixskd_mm.models.losses.frskd_losses import loss_at
from mixskd_mm.models.utils.mixing import MixBatch

import distill_test_utils as dtu

TINY = dict(
    type='FRSKDClassifier',
    backbone=dtu.tiny_backbone(out_indices=(0, 1, 2, 3)),
    head=dtu.tiny_head(),
    data_preprocessor=dict(type='ClsDataPreprocessor', **dtu.NORM))
MIXED = dict(
    TINY,
    train_on='mixed',
    data_preprocessor=dict(
        type='MixSKDDataPreprocessor',
        mix_mode='cutmix',
        alpha=1.0,
        seed=0,
        **dtu.NORM))
TERMS = {'loss_ce', 'loss_teacher_ce', 'loss_kd', 'loss_at'}
MIXED_TERMS = {'loss_mix_ce', 'loss_teacher_mix_ce', 'loss_kd', 'loss_at'}
CE = CrossEntropyLoss()
LN3 = math.log(3.0)


# --- loss terms against hand computations ---------------------------------
def test_ce_plain_and_mixed():
    z = torch.tensor([[0., LN3], [LN3, 0.]])  # softmax [1/4, 3/4], [3/4, 1/4]
    labels = torch.tensor([1, 0])
    assert loss_ce([CE], [z], labels).item() == pytest.approx(
        math.log(4 / 3))
    lam, index = torch.tensor([0.25, 0.25]), torch.tensor([1, 0])
    # each row: 0.25 * CE(own label) + 0.75 * CE(partner's label)
    expected = 0.25 * math.log(4 / 3) + 0.75 * math.log(4)
    assert loss_mix_ce([CE], [z], labels, lam, index).item() == \
        pytest.approx(expected)


def test_loss_kd_is_t2_kl_and_detaches_the_teacher():
    s = torch.zeros(1, 2, requires_grad=True)
    t = torch.tensor([[0., 2 * LN3]], requires_grad=True)  # /T=2: [0, ln 3]
    loss = loss_kd(s, t, temperature=2.0)
    p = [0.25, 0.75]
    expected = 4 * sum(pi * math.log(pi / 0.5) for pi in p)
    assert loss.item() == pytest.approx(expected)
    loss.backward()
    assert t.grad is None
    # d/ds of T^2 KL(p || softmax(s / T)) = T * (softmax(s / T) - p)
    torch.testing.assert_close(s.grad, torch.tensor([[0.5, -0.5]]))


def test_loss_at_sums_levels_and_detaches_refined():
    # Level 1: student attention [1, 0.5] / |.|; teacher [1, 1] / sqrt(2).
    s1 = torch.tensor([[[[1., 1.]], [[1., 0.]]]], requires_grad=True)
    r1 = torch.tensor([[[[2., 2.]]]], requires_grad=True)
    # Level 2: identical attention maps -> 0.
    s2 = torch.tensor([[[[3., 4.]]]], requires_grad=True)
    r2 = torch.tensor([[[[3., 4.]], [[3., 4.]]]], requires_grad=True)
    loss = loss_at([s1, s2], [r1, r2])
    a, n = 1 / math.sqrt(2), math.sqrt(1.25)
    assert loss.item() == pytest.approx(
        ((1 / n - a)**2 + (0.5 / n - a)**2) / 2)
    loss.backward()
    assert r1.grad is None and r2.grad is None
    assert s1.grad.abs().sum() > 0
    with pytest.raises(ValueError, match='level by level'):
        loss_at([s1, s2], [r1])


# --- the classifier ---------------------------------------------------------
def test_loss_terms_are_separate_and_finite():
    model = dtu.build(TINY)
    losses = dtu.losses_of(model, dtu.batch())
    assert set(losses) == TERMS
    for name, value in losses.items():
        assert value.dim() == 0 and torch.isfinite(value) and value > 0, name


def test_self_teacher_is_a_width_2_bifpn_over_four_stages():
    model = dtu.build(TINY)
    assert model.self_teacher.in_channels == [8, 16, 32, 64]
    assert model.self_teacher.out_channels == [16, 32, 64, 128]
    assert model.teacher_head.fc.in_features == 128
    x = torch.randn(2, 3, 16, 16)
    refined = model.self_teacher(model.backbone(x))
    assert [tuple(r.shape) for r in refined] == [(2, 16, 16, 16),
                                                 (2, 32, 8, 8), (2, 64, 4, 4),
                                                 (2, 128, 2, 2)]


@pytest.mark.parametrize(
    'term, owners',
    [('loss_ce', {'backbone', 'head'}),
     ('loss_teacher_ce', {'backbone', 'self_teacher', 'teacher_head'}),
     ('loss_kd', {'backbone', 'head'}), ('loss_at', {'backbone'})])
def test_each_term_reaches_exactly_its_parameters(term, owners):
    model = dtu.build(TINY)
    loss = dtu.losses_of(model, dtu.batch())[term]
    assert dtu.grad_owners(model, loss) == owners


def test_default_weights_and_overrides():
    model = dtu.build(TINY)
    assert model.loss_weights == dict(ce=1.0, teacher_ce=1.0, kd=2.0, at=100.0)
    assert model.temperature == 4.0
    base = dtu.losses_of(model, dtu.batch())
    heavier = dtu.build(dict(TINY, loss_weights=dict(kd=4.0, at=50.0)))
    other = dtu.losses_of(heavier, dtu.batch())
    torch.testing.assert_close(other['loss_kd'], 2 * base['loss_kd'])
    torch.testing.assert_close(other['loss_at'], 0.5 * base['loss_at'])
    torch.testing.assert_close(other['loss_ce'], base['loss_ce'])


def test_original_mode_uses_plain_preprocessor_and_needs_no_mix():
    model = dtu.build(dict(TINY, data_preprocessor=dict(**dtu.NORM)))
    assert type(model.data_preprocessor).__name__ == 'ClsDataPreprocessor'
    data = model.data_preprocessor(dtu.batch(), True)
    assert 'mix' not in data
    assert set(model(**data, mode='loss')) == TERMS


def test_mixed_mode_trains_on_the_mixed_batch_with_mixed_labels():
    model = dtu.build(MIXED)
    data = model.data_preprocessor(dtu.batch(), True)
    mix = data['mix']
    assert not torch.equal(mix.mixed, data['inputs'])
    losses = model(**data, mode='loss')
    labels = model.gt_labels(data['data_samples'])
    stages = model.backbone(mix.mixed)  # BN in train mode: batch statistics
    logits = model.head(model.neck((stages[-1], )))
    assert set(losses) == MIXED_TERMS
    expected = loss_mix_ce([CE], [logits], labels, mix.lam, mix.index)
    torch.testing.assert_close(losses['loss_mix_ce'], expected)


def test_mixed_mode_without_mix_says_what_to_do():
    model = dtu.build(MIXED)
    data = dict(
        inputs=torch.randn(4, 3, 16, 16),
        data_samples=dtu.batch()['data_samples'])
    with pytest.raises(ValueError, match='MixSKDDataPreprocessor'):
        model(**data, mode='loss')


def test_mixed_mode_default_preprocessor_is_mixup():
    cfg = dict(MIXED, data_preprocessor=dict(alpha=0.2, **dtu.NORM))
    model = dtu.build(cfg)
    assert model.data_preprocessor.mix_mode == 'mixup'
    mix = MixBatch(torch.zeros(4, 3, 16, 16), torch.ones(4), torch.arange(4))
    assert set(
        model.loss(
            torch.zeros(4, 3, 16, 16),
            dtu.batch()['data_samples'], mix)) == MIXED_TERMS


@pytest.mark.parametrize(
    'overrides, error, match',
    [(dict(train_on='both'), ValueError, "'both'"),
     (dict(temperature=0), ValueError, 'temperature'),
     (dict(train_on='mixed'), ValueError, "train_on='mixed' needs"),
     (dict(data_preprocessor=dict(type='MixSKDDataPreprocessor')), ValueError,
      "train_on='original' would ignore"),
     (dict(backbone=dtu.tiny_backbone()), ValueError,
      r'out_indices=\(0, 1, 2, 3\)'),
     (dict(loss_weights=dict(beta=1)), KeyError, 'beta')])
def test_bad_config_values_are_refused(overrides, error, match):
    with pytest.raises(error, match=match):
        dtu.build(dict(TINY, **overrides))


def test_deployable_model_is_a_plain_image_classifier():
    model = dtu.build(TINY)
    dtu.losses_of(model, dtu.batch())  # move BN statistics
    dtu.assert_deployable_like_plain(
        model, dtu.plain_classifier(dtu.tiny_backbone(), dtu.tiny_head()))
    assert any(k.startswith('self_teacher.') for k in model.state_dict())


# --- recipes -----------------------------------------------------------------
def test_cifar_recipe_trains():
    cfg = dtu.recipe('frskd_r18_cifar100')
    logs = dtu.train_steps(cfg, steps=2)
    dtu.assert_finite_terms(logs, TERMS)


def test_cifar_recipe_mixed_variant_trains():
    cfg = dtu.recipe('frskd_r18_cifar100')
    cfg.model.train_on = 'mixed'
    cfg.model.data_preprocessor.update(
        type='MixSKDDataPreprocessor', mix_mode='mixup', alpha=0.2)
    log = dtu.train_steps(cfg, steps=1)[0]
    dtu.assert_finite_terms([log], MIXED_TERMS)


@pytest.mark.parametrize('dataset', ['cifar100', 'imagenet'])
def test_recipes_share_the_mixskd_schedule(dataset):
    cfg, ref = dtu.recipe_pair('frskd', dataset)
    dtu.assert_same_schedule(cfg, ref)
    assert cfg.model.type == 'FRSKDClassifier'
    assert cfg.model.self_teacher == dict(type='FRSKDBiFPN', width=2, depth=2)
    assert cfg.model.data_preprocessor.type == 'ClsDataPreprocessor'
