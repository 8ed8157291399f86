"""BAKE (BAKEClassifier): build, train, refusals, faithfulness.

The faithfulness tests re-compute, with plain torch ops on the model's
features and logits, Self-KD-Lib's ``knowledge_ensemble`` (``methods/
bake.py``: affinities, ``torch.inverse`` of the propagation) and both KD
losses the targets meet: the BAKE authors' ``KDLoss`` (``yxgeee/BAKE``,
``small_scale/train.py``: the ensemble is the target) for the default, and
Self-KD-Lib's ``DistillKL`` (a softmax of the ensemble at T) for
``resoftmax_targets=True``; our terms and the gradients of their sum must
equal them.
"""
import copy

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.structures import DataSample

import distill_test_utils as dtu
from mixskd_mm.datasets import IntraClassSampler
from mixskd_mm.models.losses.bake_losses import knowledge_ensemble

TERMS = {'loss_ce', 'loss_ensemble_kd'}


class Labelled:
    def __init__(self, labels):
        self.labels = list(labels)

    def __len__(self):
        return len(self.labels)

    def get_gt_labels(self):
        return self.labels


def tiny(**overrides) -> dict:
    cfg = dict(
        type='BAKEClassifier',
        backbone=dtu.tiny_backbone(),
        head=dtu.tiny_head(),
        data_preprocessor=dict(type='ClsDataPreprocessor', **dtu.NORM))
    cfg.update(overrides)
    return cfg


def grouped_batch(labels, group=4, size=16, seed=0) -> dict:
    """Raw data of groups: each label ``group`` times in a row."""
    g = torch.Generator().manual_seed(seed)
    return dict(
        inputs=[torch.randint(0, 256, (3, size, size), dtype=torch.uint8,
                              generator=g)
                for _ in range(group * len(labels))],
        data_samples=[DataSample().set_gt_label(c)
                      for c in labels for _ in range(group)])


def released_ensemble(feats, logits, omega=0.5, T=4.0):
    """``knowledge_ensemble`` of the release, on CPU."""
    n = logits.size(0)
    masks = torch.eye(n)
    feats = nn.functional.normalize(feats, p=2, dim=1)
    logits = nn.functional.softmax(logits / T, dim=1)
    W = torch.matmul(feats, feats.permute(1, 0)) - masks * 1e9
    W = nn.functional.softmax(W, dim=1)
    W = (1 - omega) * torch.inverse(masks - omega * W)
    return torch.matmul(W, logits)


def bake_kd_loss(inputs, target, T=4.0):
    """The BAKE authors' ``KDLoss``: the target is a distribution."""
    log_p = torch.log_softmax(inputs / T, dim=1)
    return nn.KLDivLoss(reduction='sum')(log_p, target) * T**2 / inputs.size(0)


def distill_kl(y_s, y_t, T=4.0):
    """Self-KD-Lib's ``DistillKL``: softmax of the target at T."""
    return F.kl_div(F.log_softmax(y_s / T, dim=1), F.softmax(y_t / T, dim=1),
                    reduction='batchmean') * T**2


def test_recipes_set_the_group_sampler():
    for name, per_step, m in (('bake_r18_cifar100', 256, 3),
                              ('bake_r50_imagenet', 32, 1)):
        cfg = dtu.recipe(name)
        assert cfg.model.type == 'BAKEClassifier'
        assert (cfg.model.omega, cfg.model.temperature) == (0.5, 4.0)
        assert cfg.train_dataloader.sampler.type == 'IntraClassSampler'
        assert cfg.train_dataloader.sampler.num_partners == m
        assert cfg.train_dataloader.batch_size == per_step
        assert per_step % (m + 1) == 0
    model = dtu.build(dtu.recipe('bake_r18_cifar100').model)
    assert model.loss_weights == dict(ce=1.0, ensemble_kd=1.0)
    assert model.resoftmax_targets is False


def test_sampler_gives_m_other_images_of_the_class():
    labels = [0] * 3 + [1] * 6 + [2] * 4
    sampler = IntraClassSampler(Labelled(labels), num_partners=3, seed=1)
    out = list(sampler)
    assert len(out) == len(sampler) == 4 * len(labels)
    for g in range(len(labels)):
        anchor, *partners = out[4 * g:4 * g + 4]
        assert all(labels[p] == labels[anchor] for p in partners)
        assert anchor not in partners
        if labels[anchor] > 0:  # 3 or more others: distinct partners
            assert len(set(partners)) == 3
        else:  # 2 others: drawn with replacement
            assert set(partners) <= {0, 1, 2} - {anchor}


def test_one_train_step_has_finite_terms_and_gradients():
    model = dtu.build(tiny())
    losses = dtu.losses_of(model, grouped_batch([0, 3, 1]))
    assert set(losses) == TERMS
    assert all(torch.isfinite(v) and v > 0 for v in losses.values())
    assert dtu.grad_owners(model, sum(losses.values())) == {
        'backbone', 'head'}


@pytest.mark.parametrize('overrides, match', [
    (dict(omega=1.0), 'model.omega must be in'),
    (dict(omega=-0.1), r'model.omega must be a finite number in \[0.0, 1.0\]'),
    (dict(omega=1.5), 'model.omega must be'),
    (dict(temperature=0), 'model.temperature must be'),
    (dict(loss_weights=dict(ensemble_kd=float('nan'))),
     'model.loss_weights.ensemble_kd'),
])
def test_bad_hyper_parameters_are_refused(overrides, match):
    with pytest.raises(ValueError, match=match):
        dtu.build(tiny(**overrides))
    with pytest.raises(TypeError, match='resoftmax_targets must be a bool'):
        dtu.build(tiny(resoftmax_targets='yes'))


def test_a_batch_without_groups_is_refused():
    model = dtu.build(tiny())
    with pytest.raises(ValueError, match=r'image 0 of the batch \(class 0\) '
                       'has no other image of its class.*IntraClassSampler'):
        dtu.losses_of(model, dtu.batch(4))


def test_ensemble_is_a_distribution_and_omega_zero_keeps_the_prediction():
    g = torch.Generator().manual_seed(0)
    feats, logits = torch.randn(6, 8, generator=g), torch.randn(6, 5,
                                                                generator=g)
    targets = knowledge_ensemble(feats, logits, 0.5, 4.0)
    torch.testing.assert_close(targets.sum(1), torch.ones(6))
    assert (targets > 0).all()
    torch.testing.assert_close(knowledge_ensemble(feats, logits, 0.0, 4.0),
                               F.softmax(logits / 4.0, dim=1))
    torch.testing.assert_close(targets,
                               released_ensemble(feats, logits, 0.5, 4.0))


@pytest.mark.parametrize('resoftmax', [False, True])
def test_matches_the_released_formula_and_its_gradient(resoftmax):
    model = dtu.build(tiny(resoftmax_targets=resoftmax, omega=0.6), seed=4)
    data = model.data_preprocessor(grouped_batch([2, 0, 4], seed=9), True)
    reference = copy.deepcopy(model)

    losses = model(**data, mode='loss')
    model.zero_grad()
    sum(losses.values()).backward()

    targets = reference.gt_labels(data['data_samples'])
    features = reference.extract_feat(data['inputs'])[-1]
    logits = reference.head((features, ))
    with torch.no_grad():
        kd_targets = released_ensemble(features.detach(), logits.detach(),
                                       omega=0.6)
    loss_cls = F.cross_entropy(logits, targets)
    if resoftmax:  # Self-KD-Lib: criterion_div = DistillKL(T)
        loss_div = distill_kl(logits, kd_targets.detach())
    else:  # BAKE: KDLoss on the ensemble itself
        loss_div = bake_kd_loss(logits, kd_targets.detach())
    torch.testing.assert_close(losses['loss_ce'], loss_cls)
    torch.testing.assert_close(losses['loss_ensemble_kd'], loss_div)
    reference.zero_grad()
    (loss_cls + loss_div).backward()
    for (name, ours), theirs in zip(model.named_parameters(),
                                    reference.parameters()):
        torch.testing.assert_close(ours.grad, theirs.grad, msg=name)


def test_ensemble_is_float32_under_bf16_autocast():
    g = torch.Generator().manual_seed(1)
    feats, logits = torch.randn(8, 16, generator=g), torch.randn(8, 5,
                                                                 generator=g)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        targets = knowledge_ensemble(feats.bfloat16(), logits.bfloat16(),
                                     0.5, 4.0)
    assert targets.dtype == torch.float32
    torch.testing.assert_close(
        targets,
        released_ensemble(feats.bfloat16().float(),
                          logits.bfloat16().float()))
