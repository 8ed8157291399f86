"""Parts that only zero-weighted terms would train stay at their
initialisation (issue 11.4).

The released CIFAR MixSKD script drops rows 2 and 3, so its self-teacher
gets no gradient and keeps its random weights. A zero weight here still
back-propagates zero gradients, on which SGD's weight decay and momentum
would shrink the part; :meth:`DistillClassifier.freeze_unweighted_parts`
sets ``requires_grad=False`` instead. Checked over 50 SGD steps (weight
decay, Nesterov momentum) through an mmengine ``OptimWrapper``, also under
DDP with ``find_unused_parameters=False``.
"""
import copy

import pytest
import torch
import torch.distributed as dist
from mmengine.model import MMDistributedDataParallel
from mmengine.optim import build_optim_wrapper
from mmpretrain.registry import MODELS

import distill_test_utils as dtu

CIFAR_SCRIPT = dict(mix_ce=0, teacher_mix_ce=0)
OPTIM = dict(
    optimizer=dict(
        type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-4, nesterov=True))
MIXSKD = dtu.tiny_mixskd()
CUTNMIX = dict(
    type='CutnMixOnlineDistiller',
    backbone=dtu.tiny_backbone(),
    head=dtu.tiny_head(),
    data_preprocessor=dict(
        type='MixSKDDataPreprocessor', mix_mode='cutnmix', alpha=1.0,
        seed=0, **dtu.NORM))


def snapshot(model):
    return {k: v.detach().clone() for k, v in model.named_parameters()}


def train(model, steps=50, wrap=None):
    optim_wrapper = build_optim_wrapper(model, copy.deepcopy(OPTIM))
    runner = wrap(model) if wrap else model
    for step in range(steps):
        runner.train_step(dtu.batch(4, 16, seed=step), optim_wrapper)


def split(model, start, frozen_prefixes):
    """(unchanged frozen keys, changed frozen keys, unchanged trained keys)
    """
    now = dict(model.named_parameters())
    frozen_same, frozen_moved, trained_same = [], [], []
    for key, before in start.items():
        same = torch.equal(now[key], before)
        if key.startswith(frozen_prefixes):
            (frozen_same if same else frozen_moved).append(key)
        elif same:
            trained_same.append(key)
    return frozen_same, frozen_moved, trained_same


def test_cifar_script_keeps_the_self_teacher_bit_identical():
    model = dtu.build(dict(MIXSKD, loss_weights=CIFAR_SCRIPT))
    assert model.frozen_parts == ('self_teacher', 'teacher_head')
    start = snapshot(model)
    train(model)
    frozen = ('self_teacher.', 'teacher_head.')
    same, moved, trained_same = split(model, start, frozen)
    assert len(same) == 3 and not moved  # conv, fc weight, fc bias
    assert not trained_same  # everything else trained
    assert all(not p.requires_grad for n, p in model.named_parameters()
               if n.startswith(frozen))


def test_without_the_freeze_the_teacher_shrinks():
    """The control: zero gradients + weight decay move a zero-weight part.
    """
    model = dtu.build(dict(MIXSKD, loss_weights=CIFAR_SCRIPT))
    model.self_teacher.requires_grad_(True)
    model.teacher_head.requires_grad_(True)
    start = model.self_teacher.reduce.weight.detach().clone()
    train(model, steps=20)
    now = model.self_teacher.reduce.weight.detach()
    assert now.norm() < 0.999 * start.norm()


def test_full_objective_freezes_nothing():
    model = dtu.build(MIXSKD)
    assert model.frozen_parts == ()
    assert all(p.requires_grad for p in model.parameters())


def test_all_zero_never_freezes_the_deployable_model():
    weights = dict(ce=0, mix_ce=0, teacher_mix_ce=0, mutual_kd=0,
                   teacher_kd=0, feat=0, adv=0)
    model = dtu.build(dict(MIXSKD, loss_weights=weights))
    assert set(model.frozen_parts) == {
        'branches', 'branch_heads', 'self_teacher', 'teacher_head'}
    for part in (model.backbone, model.neck, model.head):
        assert all(p.requires_grad for p in part.parameters())


def test_branch_heads_freeze_without_their_terms():
    model = dtu.build(
        dict(MIXSKD, loss_weights=dict(ce=0, mix_ce=0, mutual_kd=0)))
    # The branches still train through feat and teacher_mix_ce.
    assert model.frozen_parts == ('branch_heads', )


def test_cutnmix_peer_heads_freeze_when_only_features_train_them():
    model = dtu.build(dict(CUTNMIX, loss_weights=dict(
        mix_ce=0, mutual_kd=0, ensemble_kd=0, feat_mutual=100.0)))
    assert model.frozen_parts == ('peers.0.head', )
    start = snapshot(model)
    train(model, steps=5)
    same, moved, _ = split(model, start, ('peers.0.head.', ))
    assert len(same) == 2 and not moved
    assert not torch.equal(model.peers[0].backbone.conv1.weight,
                           start['peers.0.backbone.conv1.weight'])


def test_recipe_with_cifar_script_weights_freezes_the_self_teacher():
    cfg = dtu.recipe('mixskd_r18_cifar100')
    cfg.merge_from_dict({
        'model.loss_weights.mix_ce': 0,
        'model.loss_weights.teacher_mix_ce': 0
    })
    model = MODELS.build(cfg.model)
    assert model.frozen_parts == ('self_teacher', 'teacher_head')


def test_frozen_parts_under_ddp_without_find_unused(tmp_path):
    """DDP never waits for the frozen parameters' gradients."""
    dist.init_process_group(
        'gloo', init_method=f'file://{tmp_path / "pg"}', rank=0,
        world_size=1)
    try:
        model = dtu.build(dict(MIXSKD, loss_weights=CIFAR_SCRIPT))
        start = snapshot(model)
        train(model, steps=3, wrap=lambda m: MMDistributedDataParallel(
            m, find_unused_parameters=False))
        same, moved, trained_same = split(
            model, start, ('self_teacher.', 'teacher_head.'))
        assert len(same) == 3 and not moved and not trained_same
    finally:
        dist.destroy_process_group()


def test_parts_trained_by_may_not_list_the_deployable_model():
    model = dtu.build(MIXSKD)
    model.parts_trained_by = lambda: {'head': {'ce'}}
    with pytest.raises(ValueError, match="deployable part 'head'"):
        model.freeze_unweighted_parts()


def test_frskd_self_teacher_freezes_without_its_ce():
    # KD and attention transfer detach the self-teacher: without
    # teacher_ce nothing trains the BiFPN or its head.
    model = dtu.build(dict(
        type='FRSKDClassifier',
        backbone=dtu.tiny_backbone(out_indices=(0, 1, 2, 3)),
        head=dtu.tiny_head(),
        loss_weights=dict(teacher_ce=0)))
    assert model.frozen_parts == ('self_teacher', 'teacher_head')
    start = snapshot(model)
    train(model, steps=5)
    same, moved, _ = split(model, start, ('self_teacher.', 'teacher_head.'))
    assert same and not moved
    assert not torch.equal(model.backbone.conv1.weight,
                           start['backbone.conv1.weight'])
    # With the term on, both train.
    assert dtu.build(dict(
        type='FRSKDClassifier',
        backbone=dtu.tiny_backbone(out_indices=(0, 1, 2, 3)),
        head=dtu.tiny_head())).frozen_parts == ()
