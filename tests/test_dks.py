"""DKSClassifier, its terms, its branches and recipes, against Self-KD-Lib.

``released_dks`` re-computes ``methods/dks.py::DKS`` with plain torch ops
(``nn.CrossEntropyLoss``, ``utils.DistillKL(T=4)``, the released double loop
over classifiers) on the logits of our modules; ``models/resnet.py``
``CIFAR_ResNet18_dks`` fixes the branches (``branch_layers=[[1, 2], [2]]``).
"""
import math

import pytest
import torch
import torch.nn.functional as F
from distill_test_utils import (NORM, assert_deployable_like_plain, batch,
                                build, grad_owners, losses_of,
                                plain_classifier, recipe, tiny_backbone,
                                tiny_head, train_steps)

from mixskd_mm.models.losses.dks_losses import loss_synergy_kd
from mixskd_mm.models.losses.functional import loss_kd
from mixskd_mm.models.stages import stage_adapter
from mixskd_mm.models.utils.stage_copy_branch import StageCopyBranch

TINY = dict(
    type='DKSClassifier',
    backbone=tiny_backbone(out_indices=(0, 1, 2, 3)),
    head=tiny_head(),
    data_preprocessor=dict(type='ClsDataPreprocessor', **NORM))
TERMS = {'loss_ce', 'loss_synergy_kd'}


def released_dks(outputs, labels, temperature=4.0):
    """``DKS(...)`` on ``outputs = [out, x1, x2]``: ``(loss_cls, loss_div)``.
    """

    def distill_kl(y_s, y_t):
        p_s = F.log_softmax(y_s / temperature, dim=1)
        p_t = F.softmax(y_t / temperature, dim=1)
        return F.kl_div(p_s, p_t, reduction='batchmean') * temperature**2

    loss_cls, loss_div = 0., 0.
    for output in outputs:
        loss_cls = loss_cls + F.cross_entropy(output, labels)
        for counterpart in outputs:
            if counterpart is not output:
                loss_div = loss_div + distill_kl(output, counterpart.detach())
    return loss_cls, loss_div


def test_branches_are_the_released_dks_architecture():
    model = build(TINY)
    assert [b.num_blocks for b in model.branches] == [(1, 2), (2, )]
    assert [len(s) for s in model.branches[0].layers] == [1, 2]
    assert [len(s) for s in model.branches[1].layers] == [2]
    x = torch.randn(2, 3, 16, 16)
    maps, logits = model.forward_paths(x)
    assert [tuple(m.shape) for m in maps] == [(2, 64, 2, 2)] * 3
    assert [tuple(z.shape) for z in logits] == [(2, 5)] * 3


def test_stage_copy_branch_appends_fresh_shape_keeping_blocks():
    torch.manual_seed(0)
    model = build(TINY)
    stages = stage_adapter(model.backbone).stages()
    branch = StageCopyBranch(stages, 2, (3, ))  # stage 4 has two blocks
    blocks = list(branch.layers[0])
    assert len(blocks) == 3
    w1, w2 = blocks[1].conv1.weight, blocks[2].conv1.weight
    assert w1.shape == w2.shape and not torch.equal(w1, w2)
    assert all(p.data_ptr() != q.data_ptr() for p in branch.parameters()
               for q in model.backbone.parameters())
    assert branch(torch.randn(2, 32, 4, 4)).shape == (2, 64, 2, 2)


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


@pytest.mark.parametrize('term', sorted(TERMS))
def test_each_term_reaches_every_classifier(term):
    model = build(TINY)
    assert grad_owners(model, losses_of(model, batch())[term]) == {
        'backbone', 'head', 'branches', 'branch_heads'}


def test_synergy_is_every_ordered_pair_towards_detached_targets():
    zs = [torch.randn(3, 5, requires_grad=True) for _ in range(3)]
    expected = sum(loss_kd(zs[j], zs[k], 2.0) for j in range(3)
                   for k in range(3) if j != k)
    torch.testing.assert_close(loss_synergy_kd(zs, 2.0), expected)
    a, b = zs[:2]
    loss_synergy_kd([a, b], 2.0).backward()
    # d/da KD(a <- sg b) = T (softmax(a/T) - softmax(b/T)) / N, and
    # KD(b <- sg a) gives a no gradient.
    grad = 2.0 * (F.softmax(a / 2, 1) - F.softmax(b / 2, 1)).detach() / 3
    torch.testing.assert_close(a.grad, grad)
    with pytest.raises(ValueError, match='at least two'):
        loss_synergy_kd(zs[:1], 2.0)


def test_defaults_are_the_released_weights():
    model = build(TINY)
    assert model.loss_weights == dict(ce=1.0, synergy_kd=1.0)
    assert model.temperature == 4.0


@pytest.mark.parametrize(
    'overrides, error, match',
    [(dict(temperature=-1), ValueError, 'temperature'),
     (dict(loss_weights=dict(synergy_kd=float('nan'))), ValueError,
      'synergy_kd'),
     (dict(loss_weights=dict(kd=1)), KeyError, 'kd'),
     (dict(backbone=tiny_backbone(out_indices=(1, 2, 3))), ValueError,
      r'out_indices=\(0, 1, 2, 3\)'),
     (dict(branch_stages=(-1, 2)), ValueError, r'branch_stages\[0\]'),
     (dict(branch_blocks=((1, 2), (2.5, ))), ValueError,
      r'num_blocks\[0\]'),
     (dict(branch_blocks=(3, (2, ))), TypeError, 'sequence of ints')])
def test_bad_hyper_parameters_are_refused(overrides, error, match):
    with pytest.raises(error, match=match):
        build(dict(TINY, **overrides))


def test_prediction_is_a_plain_image_classifier():
    model = build(TINY)
    losses_of(model, batch())
    assert_deployable_like_plain(
        model, plain_classifier(tiny_backbone(), tiny_head()))


def test_checkpointed_branches_give_the_same_terms_and_gradients():
    plain, cp = build(TINY), build(dict(TINY, with_cp=True))
    cp.load_state_dict(plain.state_dict())
    grads = []
    for model in (plain, cp):
        losses = losses_of(model, batch())
        model.zero_grad()
        sum(losses.values()).backward()
        grads.append((losses, [p.grad for p in model.branches.parameters()]))
    for key in TERMS:
        torch.testing.assert_close(grads[0][0][key], grads[1][0][key])
    for a, b in zip(grads[0][1], grads[1][1]):
        torch.testing.assert_close(a, b)


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

    stages = model.backbone(x)
    feats = [stages[-1]]
    for branch, k in zip(model.branches, (1, 2)):
        h = stages[k]
        for block in (b for stage in branch.layers for b in stage):
            h = block(h)
        feats.append(h)
    fcs = [model.head.fc] + [h.fc for h in model.branch_heads]
    outputs = [fc(f.mean((2, 3))) for fc, f in zip(fcs, feats)]
    loss_cls, loss_div = released_dks(outputs, labels)
    torch.testing.assert_close(losses['loss_ce'], loss_cls)
    torch.testing.assert_close(losses['loss_synergy_kd'], loss_div)
    assert loss_cls > 0 and loss_div > 0
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
    cfg = narrow(recipe('dks_r18_cifar100'))
    assert cfg.model.branch_blocks == ((1, 2), (2, ))
    log = train_steps(cfg, steps=1)[0]
    assert TERMS < set(log)
    assert all(math.isfinite(v) for v in log.values())
