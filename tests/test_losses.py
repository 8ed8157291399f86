"""Loss primitives and MixSKD terms against hand computations."""
import math
import statistics

import pytest
import torch
import torch.nn as nn

from mixskd_mm.models.losses import (adversarial_feature_loss,
                                     attention_map, attention_transfer,
                                     feature_consistency, kd_kl_div,
                                     mixed_cross_entropy, multi_head_ce,
                                     multi_head_mixed_ce, mutual_logit_kd,
                                     self_teacher_ce, self_teacher_kd,
                                     soft_cross_entropy, std_normalized_kd)
from mixskd_mm.models.utils import FeatureDiscriminator, grad_reverse

LN3 = math.log(3)


def kl(p, q):
    return sum(a * math.log(a / b) for a, b in zip(p, q))


def softmax(z):
    e = [math.exp(v) for v in z]
    return [v / sum(e) for v in e]


def test_kd_kl_div_by_hand():
    s, t = torch.tensor([[0., 0.]]), torch.tensor([[LN3, 0.]])
    # T = 1: KL([.75, .25] || [.5, .5])
    assert kd_kl_div(s, t).item() == pytest.approx(
        kl([.75, .25], [.5, .5]), rel=1e-5)
    # T = 2: logits halved, times T^2 = 4
    assert kd_kl_div(s, t, 2.0).item() == pytest.approx(
        4 * kl(softmax([LN3 / 2, 0]), [.5, .5]), rel=1e-5)
    # Batch mean over two rows.
    s2, t2 = torch.cat([s, s]), torch.cat([t, s])
    assert kd_kl_div(s2, t2).item() == pytest.approx(
        kl([.75, .25], [.5, .5]) / 2, rel=1e-5)


def test_kd_kl_div_detaches_the_teacher():
    s = torch.randn(3, 4, requires_grad=True)
    t = torch.randn(3, 4, requires_grad=True)
    kd_kl_div(s, t, 3.0).backward()
    assert s.grad.abs().sum() > 0 and t.grad is None


def test_mixed_cross_entropy_by_hand():
    logits = torch.tensor([[LN3, 0.], [0., 0.]])
    labels, index = torch.tensor([0, 1]), torch.tensor([1, 0])
    lam = torch.tensor([0.7, 0.7])
    row0 = 0.7 * -math.log(.75) + 0.3 * -math.log(.25)
    row1 = math.log(2)
    assert mixed_cross_entropy(logits, labels, lam, index).item() == \
        pytest.approx((row0 + row1) / 2, rel=1e-5)


def test_soft_cross_entropy_by_hand():
    logits = torch.tensor([[LN3, 0.]])
    target = torch.tensor([[0.5, 0.5]])
    assert soft_cross_entropy(logits, target).item() == pytest.approx(
        0.5 * -math.log(.75) + 0.5 * -math.log(.25), rel=1e-5)


def test_attention_map_and_transfer_by_hand():
    f = torch.tensor([[[[1., 2.]], [[3., 0.]]]])  # (1, 2, 1, 2)
    # channel mean of squares: [5, 2], L2-normalised
    expected = torch.tensor([[5., 2.]]) / math.sqrt(29)
    assert torch.allclose(attention_map(f), expected)
    g = torch.tensor([[[[1., 1.]]]])  # uniform map: [1, 1] / sqrt(2)
    diff = expected - torch.tensor([[1., 1.]]) / math.sqrt(2)
    assert attention_transfer(f, g).item() == pytest.approx(
        diff.pow(2).mean().item(), rel=1e-6)


def test_std_normalized_kd_by_hand():
    s_row, t_row = [1., 0., -1.], [2., 1.5, 0.]
    # Each row divided by its own (unbiased) standard deviation.
    ps = softmax([v / statistics.stdev(s_row) for v in s_row])
    pt = softmax([v / statistics.stdev(t_row) for v in t_row])
    s, t = torch.tensor([s_row]), torch.tensor([t_row])
    assert kl(pt, ps) > 0.01
    assert std_normalized_kd(s, t).item() == pytest.approx(
        kl(pt, ps), rel=1e-4)
    # No T^2 factor and invariant to the logits' scale.
    assert std_normalized_kd(3 * s, 5 * t).item() == pytest.approx(
        kl(pt, ps), rel=1e-4)


def test_multi_head_terms_are_sums_over_heads():
    z = [torch.randn(4, 5) for _ in range(3)]
    y = torch.tensor([0, 1, 2, 3])
    lam, index = torch.full((4, ), 0.6), torch.tensor([1, 2, 3, 0])
    assert torch.allclose(
        multi_head_ce(z, y),
        sum(nn.functional.cross_entropy(v, y) for v in z))
    assert torch.allclose(
        multi_head_mixed_ce(z, y, lam, index),
        sum(mixed_cross_entropy(v, y, lam, index) for v in z))
    assert torch.allclose(
        self_teacher_ce(z[0], z[1], y, lam, index),
        mixed_cross_entropy(z[0], y, lam, index) +
        mixed_cross_entropy(z[1], y, lam, index))


def test_mutual_logit_kd_both_directions_detached_targets():
    bar = torch.randn(4, 5, requires_grad=True)
    mix = torch.randn(4, 5, requires_grad=True)
    loss = mutual_logit_kd([bar], [mix], 3.0)
    assert loss.item() == pytest.approx(
        (kd_kl_div(bar, mix, 3.) + kd_kl_div(mix, bar, 3.)).item())
    loss.backward()
    # Each side only gets the gradient of the direction where it is the
    # student.
    ref_bar = bar.detach().clone().requires_grad_()
    kd_kl_div(ref_bar, mix.detach(), 3.).backward()
    assert torch.allclose(bar.grad, ref_bar.grad)


def test_self_teacher_kd_crossed_pairing_and_no_teacher_grad():
    z_bar, z_mix = torch.randn(2, 4, 5, requires_grad=True).unbind(0)
    t_bar = torch.randn(4, 5, requires_grad=True)
    t_mix = torch.randn(4, 5, requires_grad=True)
    loss = self_teacher_kd(z_bar, z_mix, t_bar, t_mix, 3.0)
    assert loss.item() == pytest.approx(
        (kd_kl_div(z_bar, t_mix, 3.) + kd_kl_div(z_mix, t_bar, 3.)).item())
    loss.backward()
    assert t_bar.grad is None and t_mix.grad is None


def test_feature_consistency_pulls_both_sides():
    a = torch.ones(2, 3, 2, 2, requires_grad=True)
    b = torch.zeros(2, 3, 2, 2, requires_grad=True)
    loss = feature_consistency([a, a], [b, b])
    assert loss.item() == pytest.approx(2.0)
    loss.backward()
    assert torch.all(a.grad > 0) and torch.all(b.grad < 0)


def test_gradient_reversal():
    x = torch.ones(3, requires_grad=True)
    (grad_reverse(x, 0.5) * 2).sum().backward()
    assert torch.allclose(x.grad, torch.full((3, ), -1.0))


def test_adversarial_loss_min_max():
    torch.manual_seed(0)
    disc = FeatureDiscriminator(4, hidden_channels=8)
    bar = torch.randn(6, 4, 2, 2, requires_grad=True)
    mix = torch.randn(6, 4, 2, 2, requires_grad=True)
    loss = adversarial_feature_loss([disc], [bar], [mix], grl_coeff=1.0)
    loss.backward()
    # Without reversal the features would get the opposite gradient.
    bar2 = bar.detach().clone().requires_grad_()
    real = disc(bar2)
    nn.functional.binary_cross_entropy_with_logits(
        real, torch.ones_like(real)).backward()
    assert torch.allclose(bar.grad, -bar2.grad, atol=1e-6)
    # The discriminator descends its BCE: one SGD step lowers it.
    opt = torch.optim.SGD(disc.parameters(), lr=0.5)
    before = adversarial_feature_loss([disc], [bar], [mix]).item()
    for _ in range(5):
        opt.zero_grad()
        adversarial_feature_loss([disc], [bar.detach()],
                                 [mix.detach()]).backward()
        opt.step()
    assert adversarial_feature_loss([disc], [bar], [mix]).item() < before
