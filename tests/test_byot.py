"""BYOTClassifier, its terms and recipes, against Self-KD-Lib's release.

``released_byot`` re-computes ``methods/byot.py::BYOT`` with plain torch ops
(``nn.CrossEntropyLoss``, ``utils.DistillKL(T=4)``, the ``0.5 * 0.1`` hint)
on the logits and maps of our modules; ``models/resnet.py``
``CIFAR_ResNet18_byot`` fixes the branches (``branch_layers=[[1, 1], [1]]``).
"""
import math

import pytest
import torch
import torch.nn.functional as F
from distill_test_utils import (NORM, assert_deployable_like_plain, batch,
                                build, grad_owners, losses_of,
                                plain_classifier, recipe, tiny_backbone,
                                tiny_head, train_steps)

from mixskd_mm.models.losses.byot_losses import loss_hint, loss_kd

TINY = dict(
    type='BYOTClassifier',
    backbone=tiny_backbone(out_indices=(0, 1, 2, 3)),
    head=tiny_head(),
    data_preprocessor=dict(type='ClsDataPreprocessor', **NORM))
TERMS = {'loss_ce', 'loss_kd', 'loss_hint'}


def released_byot(logits, features, labels, temperature=4.0):
    """``BYOT(...)``: logits ``[out, x1, x2]``, features ``[f0, f1, f2]``
    (the released list without its leading embedding); returns
    ``(loss_cls, loss_div)``."""

    def distill_kl(y_s, y_t):
        p_s = F.log_softmax(y_s / temperature, dim=1)
        p_t = F.softmax(y_t / temperature, dim=1)
        return F.kl_div(p_s, p_t, reduction='batchmean') * temperature**2

    loss_cls = sum(F.cross_entropy(z, labels) for z in logits)
    loss_div = sum(distill_kl(z, logits[0].detach()) for z in logits[1:])
    loss_div = loss_div + sum(0.5 * 0.1 * ((f - features[0].detach())**2
                                           ).mean() for f in features[1:])
    return loss_cls, loss_div


def test_branches_are_the_released_byot_architecture():
    model = build(TINY)
    assert model.branch_stages == (1, 2)
    assert [b.num_blocks for b in model.branches] == [(1, 1), (1, )]
    stages = model.backbone.res_layers
    first = model.branches[0].layers  # after stage 2: stage 3, stage 4 copy
    for copy, name in zip(first, ('layer3', 'layer4')):
        assert len(copy) == 1
        orig = getattr(model.backbone, name)[0]
        assert [p.shape for p in copy[0].parameters()] == \
            [p.shape for p in orig.parameters()]
    assert len(stages) == 4 and len(model.branches[1].layers[0]) == 1
    x = torch.randn(2, 3, 16, 16)
    maps, logits = model.forward_paths(x)
    assert [tuple(m.shape) for m in maps] == [(2, 64, 2, 2)] * 3
    assert [tuple(z.shape) for z in logits] == [(2, 5)] * 3


def test_train_step_terms_finite_and_every_branch_learns():
    model = build(TINY)
    losses = losses_of(model, batch())
    assert set(losses) == TERMS
    for name, value in losses.items():
        assert value.dim() == 0 and torch.isfinite(value) and value > 0, name
    model.zero_grad()
    sum(losses.values()).backward()
    for name, p in model.named_parameters():
        if name.startswith(('branches.', 'branch_heads.')):
            assert p.grad is not None and p.grad.abs().sum() > 0, name


@pytest.mark.parametrize(
    'term, owners',
    [('loss_ce', {'backbone', 'head', 'branches', 'branch_heads'}),
     ('loss_kd', {'backbone', 'branches', 'branch_heads'}),
     ('loss_hint', {'backbone', 'branches'})])
def test_each_term_reaches_exactly_its_parameters(term, owners):
    model = build(TINY)
    assert grad_owners(model, losses_of(model, batch())[term]) == owners


def test_terms_detach_the_deepest_classifier():
    z0 = torch.randn(3, 5, requires_grad=True)
    zi = torch.randn(3, 5, requires_grad=True)
    f0 = torch.randn(3, 4, 2, 2, requires_grad=True)
    fi = torch.randn(3, 4, 2, 2, requires_grad=True)
    (loss_kd([zi], z0, 4.0) + loss_hint([fi], f0)).backward()
    assert z0.grad is None and f0.grad is None
    torch.testing.assert_close(fi.grad, 2 * (fi - f0).detach() / fi.numel())
    with pytest.raises(ValueError, match='one shape'):
        loss_hint([fi[:, :2]], f0)


def test_defaults_are_the_released_weights_and_overrides_apply():
    model = build(TINY)
    assert model.loss_weights == dict(ce=1.0, kd=1.0, hint=0.05)
    assert model.temperature == 4.0
    base = losses_of(model, batch())
    other = losses_of(build(dict(TINY, loss_weights=dict(hint=0.1))),
                      batch())
    torch.testing.assert_close(other['loss_hint'], 2 * base['loss_hint'])
    torch.testing.assert_close(other['loss_kd'], base['loss_kd'])


@pytest.mark.parametrize(
    'overrides, error, match',
    [(dict(temperature=0), ValueError, 'temperature'),
     (dict(loss_weights=dict(hint=-1)), ValueError, 'loss_weights.hint'),
     (dict(loss_weights=dict(beta=1)), KeyError, 'beta'),
     (dict(backbone=tiny_backbone()), ValueError,
      r'out_indices=\(0, 1, 2, 3\)'),
     (dict(branch_stages=(3, ), branch_blocks=((), )), ValueError,
      r'branch_stages\[0\]'),
     (dict(branch_stages=(1, 1)), ValueError, 'distinct'),
     (dict(branch_blocks=((1, 1), )), ValueError, 'one list per branch'),
     (dict(branch_blocks=((1, ), (1, ))), ValueError,
      'one block count for each'),
     (dict(branch_blocks=((0, 1), (1, ))), ValueError, r'num_blocks\[0\]'),
     (dict(with_cp='all'), TypeError, 'with_cp')])
def test_bad_hyper_parameters_are_refused(overrides, error, match):
    with pytest.raises(error, match=match):
        build(dict(TINY, **overrides))


def test_unweighted_branches_are_frozen():
    model = build(dict(TINY, loss_weights=dict(ce=0, kd=0, hint=0)))
    assert model.frozen_parts == ('branches', 'branch_heads')
    assert not any(p.requires_grad for p in model.branches.parameters())


def test_prediction_is_a_plain_image_classifier():
    model = build(TINY)
    losses_of(model, batch())  # move BN statistics
    assert_deployable_like_plain(
        model, plain_classifier(tiny_backbone(), tiny_head()))
    assert any(k.startswith('branches.') for k in model.state_dict())


def test_terms_and_gradients_equal_the_released_formula():
    model = build(TINY)
    g = torch.Generator().manual_seed(3)
    with torch.no_grad():  # logits of order 1 instead of 0.01
        for head in [model.head, *model.branch_heads]:
            head.fc.weight.copy_(
                torch.randn(head.fc.weight.shape, generator=g))
    data = model.data_preprocessor(batch(n=6, size=16, seed=2), True)
    x, samples = data['inputs'], data['data_samples']
    labels = model.gt_labels(samples)
    params = [p for p in model.parameters() if p.requires_grad]

    losses = model.loss(x, samples)
    ours = torch.autograd.grad(sum(losses.values()), params)

    # The released forward: backbone stages, then each branch's blocks one
    # after another, GAP, its linear layer.
    stages = model.backbone(x)
    feats = [stages[-1]]
    for branch, k in zip(model.branches, (1, 2)):
        h = stages[k]
        for block in (b for stage in branch.layers for b in stage):
            h = block(h)
        feats.append(h)
    fcs = [model.head.fc] + [h.fc for h in model.branch_heads]
    logits = [fc(f.mean((2, 3))) for fc, f in zip(fcs, feats)]
    loss_cls, loss_div = released_byot(logits, feats, labels)
    hint = sum(0.05 * (f - feats[0].detach()).pow(2).mean()
               for f in feats[1:])
    torch.testing.assert_close(losses['loss_ce'], loss_cls)
    torch.testing.assert_close(losses['loss_kd'] + losses['loss_hint'],
                               loss_div)
    torch.testing.assert_close(losses['loss_hint'], hint)
    assert all(v > 0 for v in (loss_cls, loss_div - hint, hint))
    theirs = torch.autograd.grad(loss_cls + loss_div, params)
    for p_ours, p_theirs in zip(ours, theirs):
        torch.testing.assert_close(p_ours, p_theirs, rtol=1e-4, atol=1e-5)


def narrow(cfg):
    """The recipe at 8 base channels (tests/test_recipe_step.py trains it
    at full width)."""
    cfg.model.backbone.base_channels = 8
    cfg.model.head.in_channels = 64
    return cfg


def test_cifar_recipe_trains():
    cfg = narrow(recipe('byot_r18_cifar100'))
    assert cfg.model.branch_blocks == ((1, 1), (1, ))
    log = train_steps(cfg, steps=1)[0]
    assert TERMS < set(log)
    assert all(math.isfinite(v) for v in log.values())
