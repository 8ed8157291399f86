"""Every pretraining recipe's learning rate against the authors' formula.

The schedulers are built from each ``configs/*.py`` with mmengine's own
``PARAM_SCHEDULERS`` (``convert_to_iter_based`` handled as the Runner does,
with a fake epoch length) and stepped like ``ParamSchedulerHook``: the
iteration-based ones after every iteration, the epoch-based ones after every
epoch. The learning rate of every training iteration is compared with
Self-KD-Lib's ``adjust_lr`` (``utils.py`` for CIFAR,
``main_mixskd_imagenet.py`` for ImageNet; reference-methods.md 1.8).
"""
import glob
import math
import os.path as osp
from bisect import bisect_right

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.registry import PARAM_SCHEDULERS, DefaultScope

import mixskd_mm  # noqa: F401  (registers LinearWarmupLR)

from repo import ROOT

# The recipes with the authors' schedule. Those on other backbones
# ({mixskd,baseline}_<backbone>_imagenet.py) keep mmpretrain's own schedule
# for the backbone (tests/test_modern_recipes.py compares them with it).
RECIPES = sorted(
    p for pattern in ('*_r18_cifar100.py', '*_r50_imagenet.py')
    for p in glob.glob(osp.join(ROOT, 'configs', pattern)))
ITERS_PER_EPOCH = 7  # a fake epoch length; warm-up spans 35 iterations

# The authors' scripts (scripts/main_cifar.sh, main_mixskd_imagenet.sh).
AUTHORS = {
    'cifar100': dict(
        epochs=205, warmup=5, lr_type='multistep', milestones=[100, 150]),
    'imagenet': dict(epochs=305, warmup=5, lr_type='cosine'),
}


def authors_lr(init_lr, epoch, step, iters, epochs, warmup, lr_type,
               milestones=None):
    """Self-KD-Lib's ``adjust_lr`` at (0-indexed) ``epoch`` and ``step``."""
    if epoch < warmup:
        return init_lr * float(1 + step + epoch * iters) / (warmup * iters)
    epoch = epoch - warmup
    if lr_type == 'multistep':
        return init_lr * 0.1**bisect_right(milestones, epoch)
    return init_lr * 0.5 * (1. + math.cos(math.pi * epoch /
                                          (epochs - warmup)))


def recipe_lrs(cfg, iters):
    """The lr of every training iteration, as (epoch, step, lr) tuples."""
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], **{
        k: v
        for k, v in cfg.optim_wrapper.optimizer.items() if k != 'type'
    })
    wrapper = OptimWrapper(optimizer)
    DefaultScope.get_instance('test_recipe_schedule',
                              scope_name=cfg.default_scope)
    schedulers = [
        PARAM_SCHEDULERS.build(
            dict(s),
            default_args=dict(optimizer=wrapper, epoch_length=iters))
        for s in cfg.param_scheduler
    ]
    out = []
    for epoch in range(cfg.train_cfg.max_epochs):
        for step in range(iters):
            out.append((epoch, step, optimizer.param_groups[0]['lr']))
            optimizer.step()
            for s in schedulers:
                if not s.by_epoch:
                    s.step()
        for s in schedulers:
            if s.by_epoch:
                s.step()
    return out


@pytest.mark.parametrize(
    'path', RECIPES, ids=[osp.basename(p) for p in RECIPES])
def test_every_iteration_matches_the_authors(path):
    cfg = Config.fromfile(path)
    dataset = 'cifar100' if 'cifar100' in osp.basename(path) else 'imagenet'
    authors = AUTHORS[dataset]
    assert cfg.train_cfg.max_epochs == authors['epochs']
    assert cfg.randomness.seed == 0
    init_lr = cfg.optim_wrapper.optimizer.lr
    assert init_lr == 0.1
    lrs = recipe_lrs(cfg, ITERS_PER_EPOCH)
    assert len(lrs) == authors['epochs'] * ITERS_PER_EPOCH
    for epoch, step, lr in lrs:
        want = authors_lr(init_lr, epoch, step, ITERS_PER_EPOCH, **authors)
        assert lr == pytest.approx(want, rel=1e-9, abs=1e-15), (epoch, step)


def test_cifar_steps_and_warmup_values():
    """The points where the lr changes, written out (0-indexed epochs)."""
    cfg = Config.fromfile(osp.join(ROOT, 'configs/mixskd_r18_cifar100.py'))
    n = ITERS_PER_EPOCH
    lr = {(e, s): v for e, s, v in recipe_lrs(cfg, n)}
    assert lr[0, 0] == pytest.approx(0.1 / (5 * n))
    assert lr[2, 3] == pytest.approx(0.1 * (2 * n + 4) / (5 * n))
    assert lr[4, n - 1] == pytest.approx(0.1)
    for epoch, want in [(5, 0.1), (104, 0.1), (105, 0.01), (154, 0.01),
                        (155, 0.001), (204, 0.001)]:
        for step in (0, n - 1):
            assert lr[epoch, step] == pytest.approx(want), (epoch, step)


def test_imagenet_cosine_is_per_epoch():
    cfg = Config.fromfile(osp.join(ROOT, 'configs/mixskd_r50_imagenet.py'))
    n = ITERS_PER_EPOCH
    lr = {(e, s): v for e, s, v in recipe_lrs(cfg, n)}
    assert lr[4, n - 1] == pytest.approx(0.1)
    assert lr[5, 0] == pytest.approx(0.1)
    want = 0.05 * (1 + math.cos(math.pi * 150 / 300))
    assert lr[155, 0] == pytest.approx(want)
    assert lr[155, n - 1] == lr[155, 0]  # constant within the epoch
    assert lr[304, 0] == pytest.approx(0.05 * (1 + math.cos(
        math.pi * 299 / 300)))


def test_linear_warmup_refuses_factors_and_open_ends():
    from mixskd_mm.engine.lr_warmup import LinearWarmupLR
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.)
    with pytest.raises(TypeError, match='start_factor'):
        LinearWarmupLR(optimizer, end=5, start_factor=0.1)
    with pytest.raises(ValueError, match='finite end'):
        LinearWarmupLR(optimizer, begin=0)
    with pytest.raises(ValueError, match='finite end'):
        LinearWarmupLR(optimizer, begin=3, end=3)
