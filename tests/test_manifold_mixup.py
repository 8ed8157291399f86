"""ManifoldMixupClassifier: mixing points, faithfulness and recipes."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.optim import build_optim_wrapper

import distill_test_utils as dtu

TINY = dict(
    type='ManifoldMixupClassifier',
    backbone=dtu.tiny_backbone(),
    head=dtu.tiny_head(),
    alpha=2.0,
    seed=0,
    data_preprocessor=dict(type='ClsDataPreprocessor', **dtu.NORM))
RELEASED_POINTS = ('stem', 'layer1', 'layer2', 'layer3')
#: A backbone without a stage adapter.
NO_STAGES = dict(type='MobileNetV3', arch='small')


def released_manifold_mixup(model, x, y, index_k, lam, perm):
    """Self-KD-Lib's ManifoldMixupCIFAR_ResNet.forward + ManifoldMixup loss
    in plain torch, on the weights of ``model`` (an mmpretrain
    ResNet_CIFAR: conv1, norm1, ReLU, layer1-4; GAP; fc). ``index_k`` is
    the released 1-4: mix before layer ``index_k``."""
    b = model.backbone
    out = F.relu(b.norm1(b.conv1(x)))
    y_a, y_b = y, y[perm]
    for k, name in enumerate(('layer1', 'layer2', 'layer3', 'layer4'), 1):
        if k == index_k:
            out = lam * out + (1 - lam) * out[perm]
        out = getattr(b, name)(out)
    logit = model.head.fc(out.mean(dim=(2, 3)))
    return (F.cross_entropy(logit, y_a) * lam +
            F.cross_entropy(logit, y_b) * (1. - lam))


@pytest.mark.parametrize('index_k, point', enumerate(RELEASED_POINTS, 1))
def test_loss_and_gradients_equal_the_released_manifold_mixup(
        index_k, point):
    model = dtu.build(dict(TINY, mix_points=list(RELEASED_POINTS)))
    model.train()
    data = model.data_preprocessor(dtu.batch(6), True)
    labels = torch.cat([s.gt_label for s in data['data_samples']])
    # Make the classifier draw `point`, then replay its lam and partners.
    for seed in range(100):
        rng = np.random.default_rng(seed)
        if RELEASED_POINTS[rng.integers(4)] == point:
            break
    model._rng = np.random.default_rng(seed)
    replay = np.random.default_rng(seed)
    replay.integers(4)
    lam = float(replay.beta(2.0, 2.0))
    perm = torch.as_tensor(replay.permutation(6))
    ours = model(**data, mode='loss')['loss_mix_ce']
    g_ours = torch.autograd.grad(ours, list(model.parameters()))
    ref = released_manifold_mixup(model, data['inputs'], labels, index_k,
                                  lam, perm)
    g_ref = torch.autograd.grad(ref, list(model.parameters()))
    torch.testing.assert_close(ours, ref)
    for (name, _), a, b in zip(model.named_parameters(), g_ours, g_ref):
        torch.testing.assert_close(a, b, msg=name)
    assert 0 < lam < 1 and not torch.equal(perm, torch.arange(6))


@pytest.mark.parametrize('point', ['input', 'layer4'])
def test_other_points_mix_once_and_leave_no_hook(point):
    model = dtu.build(dict(TINY, mix_points=[point]))
    model.train()
    data = model.data_preprocessor(dtu.batch(4), True)
    plain = model.head(model.extract_feat(data['inputs']))
    loss = model(**data, mode='loss')['loss_mix_ce']
    assert torch.isfinite(loss)
    # The mixed forward differs from the plain one; no hook stays behind.
    assert not torch.allclose(
        loss, F.cross_entropy(plain, torch.cat(
            [s.gt_label for s in data['data_samples']])))
    for name in ('layer1', 'layer2', 'layer3', 'layer4'):
        layer = getattr(model.backbone, name)
        assert not layer._forward_hooks and not layer._forward_pre_hooks


def test_points_are_drawn_uniformly_and_reproducibly():
    a, b = dtu.build(TINY), dtu.build(TINY)
    draws = [a.rng.integers(4) for _ in range(400)]
    assert draws == [b.rng.integers(4) for _ in range(400)]
    counts = np.bincount(draws, minlength=4)
    assert counts.min() > 70  # each of the 4 points about 100 times


def test_train_step_is_finite_and_eval_does_not_mix():
    model = dtu.build(TINY)
    optim = build_optim_wrapper(model, dict(optimizer=dict(type='SGD',
                                                           lr=0.1)))
    logs = [model.train_step(dtu.batch(4, seed=s), optim) for s in (0, 1)]
    dtu.assert_finite_terms([{k: float(v) for k, v in log.items()}
                             for log in logs], {'loss_mix_ce'})
    plain = dtu.build(dtu.plain_classifier(dtu.tiny_backbone(),
                                           dtu.tiny_head()))
    plain.load_state_dict(dtu.deployable_state_dict(model), strict=True)
    model.eval()
    plain.eval()
    x = torch.randn(2, 3, 16, 16)
    torch.testing.assert_close(model(x), plain(x))


@pytest.mark.parametrize('overrides, match', [
    (dict(alpha=0), 'model.alpha must be a finite number > 0'),
    (dict(alpha=float('nan')), 'model.alpha'),
    (dict(mix_points=['layer5']), 'model.mix_points must be a non-empty'),
    (dict(mix_points='stem'), 'model.mix_points'),
    (dict(mix_points=[]), 'model.mix_points'),
    (dict(backbone=dict(dtu.tiny_backbone(), num_stages=3,
                        strides=(1, 2, 2), dilations=(1, 1, 1),
                        out_indices=(2, )),
          head=dtu.tiny_head(in_channels=32), mix_points=['layer4']),
     "'layer4' is not a stage"),
    (dict(backbone=NO_STAGES, head=dtu.tiny_head(in_channels=576)),
     'MobileNetV3 has no stage adapter.*mix_points=\\["input"\\]'),
    (dict(seed=-1), 'model.seed'),
    (dict(loss_weights=dict(ce=1.0)), 'valid names'),
    (dict(data_preprocessor=dict(type='MixSKDDataPreprocessor')),
     'mixes inside the network'),
])
def test_bad_hyper_parameters_are_refused(overrides, match):
    with pytest.raises((ValueError, KeyError), match=match):
        dtu.build(dict(TINY, **overrides))


def test_input_mixing_needs_no_stages():
    # Built only: the 'input' path itself is tested on the tiny ResNet.
    model = dtu.build(dict(TINY, backbone=NO_STAGES,
                           head=dtu.tiny_head(in_channels=576),
                           mix_points=['input']))
    assert model.mix_points == ('input', )


# --- recipes -----------------------------------------------------------------
def test_cifar_recipe_trains():
    cfg = dtu.recipe('manifold_mixup_r18_cifar100')
    cfg.model.backbone.base_channels = 8  # the tests' width
    cfg.model.head.in_channels = 64
    logs = dtu.train_steps(cfg, steps=2)
    dtu.assert_finite_terms(logs, {'loss_mix_ce'})


@pytest.mark.parametrize('dataset', ['cifar100', 'imagenet'])
def test_recipes_share_the_mixskd_schedule(dataset):
    cfg, ref = dtu.recipe_pair('manifold_mixup', dataset)
    dtu.assert_same_schedule(cfg, ref)
    assert cfg.model.type == 'ManifoldMixupClassifier'
    assert cfg.model.alpha == 2.0
    assert tuple(cfg.model.mix_points) == RELEASED_POINTS
    assert cfg.model.data_preprocessor.type == 'ClsDataPreprocessor'
