"""SADClassifier, its attention term and recipes, against Self-KD-Lib.

``ReleasedAttention`` re-computes ``methods/sad.py`` (``Attention`` with
p = 2 and ``SAD``: ``1000 * AT(features)``, the features upsampled with
``scale_factor=2.`` before their attention) with plain torch ops on the
stage outputs of our backbone.
"""
import math

import pytest
import torch
import torch.nn.functional as F
from distill_test_utils import (NORM, assert_deployable_like_plain, batch,
                                build, grad_owners, losses_of,
                                plain_classifier, recipe, tiny_backbone,
                                tiny_head, train_steps)

from mixskd_mm.models.losses.sad_losses import loss_sad, sad_attention

TINY = dict(
    type='SADClassifier',
    backbone=tiny_backbone(out_indices=(0, 1, 2, 3)),
    head=tiny_head(),
    data_preprocessor=dict(type='ClsDataPreprocessor', **NORM))
TERMS = {'loss_ce', 'loss_sad'}


def released_at(f):
    """``Attention.at``: softmax over positions of the channel mean of f^2.
    """
    b, _, h, w = f.size()
    return F.softmax(f.pow(2).mean(1).view(b, -1), dim=1).view(b, h, w)


def released_sad_loss(features):
    """``Attention.forward``: sum over consecutive pairs (before x1000)."""
    return sum(
        (released_at(features[i]) - released_at(
            F.interpolate(features[i + 1].detach(), scale_factor=2.,
                          mode='bilinear'))).pow(2).mean()
        for i in range(len(features) - 1))


def test_attention_is_a_spatial_softmax_of_channel_mean_squares():
    f = torch.tensor([[[[1., 2.]], [[3., 0.]]]])  # (1, 2, 1, 2)
    a = sad_attention(f)  # channel means of squares: [5, 2]
    e = math.exp(3.)
    torch.testing.assert_close(a, torch.tensor([[e / (e + 1), 1 / (e + 1)]]))
    assert sad_attention(torch.randn(2, 3, 4, 4)).sum(1).allclose(
        torch.ones(2))


def test_loss_sad_detaches_the_deeper_stage_and_needs_two():
    s1 = torch.randn(2, 3, 8, 8, requires_grad=True)
    s2 = torch.randn(2, 5, 4, 4, requires_grad=True)
    loss = loss_sad([s1, s2])
    torch.testing.assert_close(loss, released_sad_loss([s1, s2]))
    loss.backward()
    assert s2.grad is None and s1.grad.abs().sum() > 0
    with pytest.raises(ValueError, match='at least two'):
        loss_sad([s1])


def test_train_step_terms_finite_and_backbone_stages_learn():
    model = build(TINY)
    losses = losses_of(model, batch())
    assert set(losses) == TERMS
    for name, value in losses.items():
        assert value.dim() == 0 and torch.isfinite(value) and value > 0, name
    model.zero_grad()
    losses['loss_sad'].backward()
    for k, stage in enumerate(model.backbone.res_layers):
        g = sum(p.grad.abs().sum() for p in getattr(model.backbone,
                                                    stage).parameters()
                if p.grad is not None)
        assert (g > 0) == (k < 3), stage  # the last stage is only a target


@pytest.mark.parametrize('term, owners', [('loss_ce', {'backbone', 'head'}),
                                          ('loss_sad', {'backbone'})])
def test_each_term_reaches_exactly_its_parameters(term, owners):
    model = build(TINY)
    assert grad_owners(model, losses_of(model, batch())[term]) == owners


def test_defaults_are_the_released_weights():
    model = build(TINY)
    assert model.loss_weights == dict(ce=1.0, sad=1000.0)
    assert model.temperature is None


@pytest.mark.parametrize(
    'overrides, error, match',
    [(dict(loss_weights=dict(sad=-1000)), ValueError, 'loss_weights.sad'),
     (dict(loss_weights=dict(at=1)), KeyError, 'at'),
     (dict(backbone=tiny_backbone()), ValueError,
      r'out_indices=\(0, 1, 2, 3\)'),
     (dict(data_preprocessor=dict(type='MixSKDDataPreprocessor')),
      ValueError, 'ClsDataPreprocessor')])
def test_bad_hyper_parameters_are_refused(overrides, error, match):
    with pytest.raises(error, match=match):
        build(dict(TINY, **overrides))


def test_prediction_is_a_plain_image_classifier():
    model = build(TINY)
    losses_of(model, batch())
    assert_deployable_like_plain(
        model, plain_classifier(tiny_backbone(), tiny_head()))
    assert all(k.startswith(('backbone.', 'neck.', 'head.', 'data_'))
               for k in model.state_dict())


def test_terms_and_gradients_equal_the_released_formula():
    model = build(TINY)
    with torch.no_grad():
        model.head.fc.weight.copy_(
            torch.randn(model.head.fc.weight.shape,
                        generator=torch.Generator().manual_seed(3)))
    data = model.data_preprocessor(batch(n=6, size=32, seed=2), True)
    x, samples = data['inputs'], data['data_samples']
    labels = model.gt_labels(samples)
    params = list(model.parameters())

    losses = model.loss(x, samples)
    ours = torch.autograd.grad(sum(losses.values()), params,
                               allow_unused=True)

    features = model.backbone(x)  # out1 .. out4: 32, 16, 8, 4 px
    logit = model.head.fc(features[-1].mean((2, 3)))
    loss_cls = F.cross_entropy(logit, labels)
    loss_div = 1000 * released_sad_loss(features)
    torch.testing.assert_close(losses['loss_ce'], loss_cls)
    torch.testing.assert_close(losses['loss_sad'], loss_div)
    assert loss_div > 0
    theirs = torch.autograd.grad(loss_cls + loss_div, params,
                                 allow_unused=True)
    for p_ours, p_theirs in zip(ours, theirs):
        assert (p_ours is None) == (p_theirs is None)
        if p_ours is not None:
            torch.testing.assert_close(p_ours, p_theirs, rtol=1e-4,
                                       atol=1e-5)


def narrow(cfg):
    """The recipe at 8 base channels (tests/test_recipe_step.py trains it
    at full width)."""
    cfg.model.backbone.base_channels = 8
    cfg.model.head.in_channels = 64
    return cfg


def test_cifar_recipe_trains():
    log = train_steps(narrow(recipe('sad_r18_cifar100')), steps=1,
                      size=32)[0]
    assert TERMS < set(log)
    assert all(math.isfinite(v) for v in log.values())
