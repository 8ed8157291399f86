"""FRSKD's BiFPN self-teacher and objective against the authors' formula.

``authors_bifpn`` below re-computes, with plain torch ops on the weights of
our modules, what the released ``BiFPN_layer.forward`` (``MingiJi/FRSKD``,
``models/bifpnc.py``; reference-methods.md section 2.1) computes: a ReLU on
every fusion input, TensorFlow-style static "same" max-pooling, a ReLU on
every returned map. The FRSKD loss is then re-computed term by term from
section 2.2 (``utils.py::train``, ``distill_loss/AT.py``, ``KD.py``).
"""
import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from mixskd_mm.models.necks import FRSKDBiFPN
from mixskd_mm.models.necks.bifpn import (same_max_pool,
                                          upsample_to)

import distill_test_utils as dtu

TINY = dict(
    type='FRSKDClassifier',
    backbone=dtu.tiny_backbone(out_indices=(0, 1, 2, 3)),
    head=dtu.tiny_head(),
    data_preprocessor=dict(type='ClsDataPreprocessor', **dtu.NORM))


# --- the authors' layer, re-computed ---------------------------------------
def bn(x, norm):
    """Train-mode BatchNorm (batch statistics) with the module's affine."""
    return F.batch_norm(
        x, None, None, norm.weight, norm.bias, training=True, eps=norm.eps)


def block1x1(x, seq):
    """``DepthConvBlock(kernel_size=1)``: conv 1x1, BN, ReLU."""
    return F.relu(bn(F.conv2d(x, seq[0].weight), seq[1]))


def block3x3(x, seq):
    """``DepthConvBlock(kernel_size=3, depth=2)``: (depthwise 3x3,
    pointwise 1x1, BN), ReLU, (depthwise 3x3, pointwise 1x1, BN)."""
    mods = [m for m in seq if not isinstance(m, nn.ReLU)]
    for d in range(len(mods) // 3):
        dw, pw, norm = mods[3 * d:3 * d + 3]
        if d:
            x = F.relu(x)
        x = F.conv2d(x, dw.weight, padding=1, groups=x.shape[1])
        x = bn(F.conv2d(x, pw.weight), norm)
    return x


def tf_same_pool(x):
    """``MaxPool2dStaticSamePadding(3, 2)`` of ``models/utils.py``."""
    h, w = x.shape[-2:]
    extra_h = (math.ceil(w / 2) - 1) * 2 - w + 3
    extra_v = (math.ceil(h / 2) - 1) * 2 - h + 3
    left, top = extra_h // 2, extra_v // 2
    x = F.pad(x, [left, extra_h - left, top, extra_v - top])
    return F.max_pool2d(x, 3, 2)


def normed(w):
    w = F.relu(w)
    return w / (torch.sum(w, dim=0) + 1e-6)


def authors_bifpn(inputs, m):
    """``BiFPN_layer.forward(inputs, preact=False)``, first layer."""
    n = len(inputs)
    input_trans = [
        block1x1(F.relu(inputs[i]), m.bu_lateral[i - 1]) for i in range(1, n)
    ]
    inputs = [block1x1(F.relu(inputs[i]), m.td_lateral[i]) for i in range(n)]
    up_sample = [inputs[-1]]
    for i in range(1, n):
        lvl = n - 1 - i  # up_weight[-i], up_conv[-i], up_sample[-i]
        w = normed(m.td_weights[lvl])
        up = F.interpolate(F.relu(up_sample[0]), scale_factor=2)
        up_sample.insert(
            0,
            block3x3(
                w[0] * F.relu(inputs[-i - 1]) +
                w[1] * block1x1(up, m.td_resample[lvl]), m.td_fuse[lvl]))
    out_layer = [up_sample[0]]
    for i in range(1, n):
        w = normed(m.bu_weights[i - 1])
        down = block1x1(
            tf_same_pool(F.relu(out_layer[-1])), m.bu_resample[i - 1])
        if i < n - 1:
            x = (w[0] * F.relu(input_trans[i - 1]) +
                 w[1] * F.relu(up_sample[i]) + w[2] * down)
        else:
            x = w[0] * F.relu(input_trans[i - 1]) + w[1] * down
        out_layer.append(block3x3(x, m.bu_fuse[i - 1]))
    return [F.relu(f) for f in out_layer]


def fix_weights(bifpn: FRSKDBiFPN, seed: int = 3):
    """Fixed, non-trivial weights: uneven fusion weights (one negative, so
    ``relu(w)`` matters) and BN affines that let pre-ReLU maps go negative.
    """
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        bifpn.td_weights.copy_(
            torch.tensor([[0.5, 2.0], [1.5, -0.3], [0.7, 0.2]]))
        for w, v in zip(bifpn.bu_weights,
                        ([1.0, -0.5, 0.8], [0.3, 1.2, 0.6], [2.0, 0.4])):
            w.copy_(torch.tensor(v))
        for mod in bifpn.modules():
            if isinstance(mod, nn.BatchNorm2d):
                c = mod.num_features
                mod.weight.copy_(1 + 0.5 * torch.randn(c, generator=g))
                mod.bias.copy_(0.5 * torch.randn(c, generator=g))


# --- building blocks ---------------------------------------------------------
def test_same_max_pool_windows_on_an_even_map_start_at_2j():
    x = torch.arange(16.).view(1, 1, 4, 4)
    # windows rows/cols {0,1,2} and {2,3,pad}: maxima at (2|3, 2|3)
    expected = torch.tensor([[[[10., 11.], [14., 15.]]]])
    torch.testing.assert_close(same_max_pool(x), expected)
    torch.testing.assert_close(tf_same_pool(x), expected)
    # nn.MaxPool2d(3, 2, padding=1) starts at 2j - 1: not the same
    assert F.max_pool2d(x, 3, 2, padding=1)[0, 0, 0, 0] == 5.
    # the padding is zeros: windows that reach it give max(x, 0)
    neg = -torch.ones(1, 1, 4, 4)
    torch.testing.assert_close(
        same_max_pool(neg), torch.tensor([[[[-1., 0.], [0., 0.]]]]))


def test_same_max_pool_windows_on_an_odd_map_start_at_2j_minus_1():
    x = torch.arange(25.).view(1, 1, 5, 5)
    # pad 1 before and after: windows {-1,0,1}, {1,2,3}, {3,4,5}
    expected = torch.tensor([[[[6., 8., 9.], [16., 18., 19.],
                               [21., 23., 24.]]]])
    torch.testing.assert_close(same_max_pool(x), expected)
    torch.testing.assert_close(tf_same_pool(x), expected)
    assert same_max_pool(torch.zeros(2, 3, 7, 6)).shape == (2, 3, 4, 3)


def test_upsample_to_is_nearest_x2_cropped():
    x = torch.tensor([[[[1., 2.], [3., 4.]]]])
    torch.testing.assert_close(
        upsample_to(x, (4, 4)), F.interpolate(x, scale_factor=2))
    torch.testing.assert_close(
        upsample_to(x, (3, 3)),
        torch.tensor([[[[1., 1., 2.], [1., 1., 2.], [3., 3., 4.]]]]))
    with pytest.raises(ValueError, match='half'):
        upsample_to(x, (5, 4))


def test_levels_that_do_not_halve_are_refused():
    bifpn = FRSKDBiFPN([2, 2], width=1, depth=1)
    with pytest.raises(ValueError, match='half'):
        bifpn([torch.randn(2, 2, 8, 8), torch.randn(2, 2, 3, 3)])


def test_fusion_weights_per_level_and_none_inert():
    torch.manual_seed(0)
    bifpn = FRSKDBiFPN([4, 8, 16, 32], width=2)
    assert tuple(bifpn.td_weights.shape) == (3, 2)
    assert [tuple(w.shape) for w in bifpn.bu_weights] == [(3, ), (3, ), (2, )]
    sizes = zip([4, 8, 16, 32], [16, 8, 4, 2])
    feats = [torch.randn(2, c, s, s) for c, s in sizes]
    sum(r.sum() for r in bifpn(feats)).backward()
    for name, p in bifpn.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    for w in [bifpn.td_weights, *bifpn.bu_weights]:
        assert (w.grad != 0).all()


def test_refined_maps_are_non_negative_even_for_negative_inputs():
    torch.manual_seed(0)
    bifpn = FRSKDBiFPN([4, 8], width=2)
    feats = [torch.randn(3, 4, 6, 6) - 2, torch.randn(3, 8, 3, 3)]
    refined = bifpn(feats)
    assert [tuple(r.shape) for r in refined] == [(3, 8, 6, 6), (3, 16, 3, 3)]
    for r in refined:
        assert r.min() >= 0 and r.max() > 0


# --- the whole self-teacher and the FRSKD objective --------------------------
def test_frskd_forward_and_loss_equal_the_authors_formula():
    model = dtu.build(TINY)
    fix_weights(model.self_teacher)
    g = torch.Generator().manual_seed(4)
    with torch.no_grad():  # logits of order 1 instead of 0.01
        for fc in (model.head.fc, model.teacher_head.fc):
            fc.weight.copy_(torch.randn(fc.weight.shape, generator=g))
    data = model.data_preprocessor(dtu.batch(n=4, size=16, seed=5), True)
    x, samples = data['inputs'], data['data_samples']
    labels = model.gt_labels(samples)
    losses = model.loss(x, samples)

    stages = model.backbone(x)  # train mode: batch statistics, as in loss()
    refined = authors_bifpn(stages, model.self_teacher)
    ours = model.self_teacher(stages)
    assert [tuple(r.shape) for r in ours] == [(4, 16, 16, 16), (4, 32, 8, 8),
                                              (4, 64, 4, 4), (4, 128, 2, 2)]
    for a, b in zip(ours, refined):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
        assert a.min() >= 0 and (b < 0).sum() == 0

    n, temp = x.shape[0], 4.0
    fc, tfc = model.head.fc, model.teacher_head.fc
    z = F.linear(stages[-1].mean((2, 3)), fc.weight, fc.bias)
    t = F.linear(F.relu(refined[-1]).mean((2, 3)), tfc.weight, tfc.bias)

    def ce(logits):
        return -F.log_softmax(logits, 1)[torch.arange(n), labels].mean()

    p_t = F.softmax(t / temp, 1)
    kd = (p_t * (p_t.log() - F.log_softmax(z / temp, 1))).sum() / n
    kd = kd * temp**2

    def at(f):
        return F.normalize(f.pow(2).mean(1).view(n, -1))

    at_sum = sum((at(s) - at(r)).pow(2).mean()
                 for s, r in zip(stages, refined))
    expected = dict(
        loss_ce=ce(z),
        loss_teacher_ce=ce(t),
        loss_kd=2.0 * kd,
        loss_at=100.0 * at_sum)
    for key, value in expected.items():
        torch.testing.assert_close(
            losses[key], value, rtol=1e-5, atol=1e-7, msg=key)
    assert all(v > 0 for v in expected.values())
