"""Loss primitives, the shared terms and MixSKD's against hand values."""
import math
import statistics

import pytest
import torch
import torch.nn as nn

from mmpretrain.models.losses import CrossEntropyLoss, LabelSmoothLoss

from mixskd_mm.models.losses import (attention_map, attention_transfer,
                                     check_head_loss, loss_ce, loss_kd,
                                     loss_mix_ce, std_normalize_logits)
from mixskd_mm.models.losses.mixskd_losses import (loss_adv, loss_feat,
                                                   loss_mutual_kd,
                                                   loss_teacher_mix_ce,
                                                   loss_teacher_kd)
from mixskd_mm.models.utils import FeatureDiscriminator, grad_reverse

CE = CrossEntropyLoss()

LN3 = math.log(3)


def kl(p, q):
    return sum(a * math.log(a / b) for a, b in zip(p, q))


def softmax(z):
    e = [math.exp(v) for v in z]
    return [v / sum(e) for v in e]


def test_loss_kd_by_hand():
    s, t = torch.tensor([[0., 0.]]), torch.tensor([[LN3, 0.]])
    # T = 1: KL([.75, .25] || [.5, .5])
    assert loss_kd(s, t).item() == pytest.approx(
        kl([.75, .25], [.5, .5]), rel=1e-5)
    # T = 2: logits halved, times T^2 = 4
    assert loss_kd(s, t, 2.0).item() == pytest.approx(
        4 * kl(softmax([LN3 / 2, 0]), [.5, .5]), rel=1e-5)
    # Batch mean over two rows.
    s2, t2 = torch.cat([s, s]), torch.cat([t, s])
    assert loss_kd(s2, t2).item() == pytest.approx(
        kl([.75, .25], [.5, .5]) / 2, rel=1e-5)


def test_loss_kd_detaches_the_teacher():
    s = torch.randn(3, 4, requires_grad=True)
    t = torch.randn(3, 4, requires_grad=True)
    loss_kd(s, t, 3.0).backward()
    assert s.grad.abs().sum() > 0 and t.grad is None


def test_loss_mix_ce_by_hand():
    logits = torch.tensor([[LN3, 0.], [0., 0.]])
    labels, index = torch.tensor([0, 1]), torch.tensor([1, 0])
    lam = torch.tensor([0.7, 0.7])
    row0 = 0.7 * -math.log(.75) + 0.3 * -math.log(.25)
    row1 = math.log(2)
    assert loss_mix_ce([CE], [logits], labels, lam, index).item() == \
        pytest.approx((row0 + row1) / 2, rel=1e-5)


def test_loss_ce_label_smoothing_by_hand():
    # Smoothed target (1 - e) onehot + e / K, e = 0.5, K = 2: [.75, .25].
    ls = LabelSmoothLoss(label_smooth_val=0.5, loss_weight=7.0)
    logits = torch.tensor([[LN3, 0.]])
    expected = 7 * (0.75 * -math.log(.75) + 0.25 * -math.log(.25))
    assert loss_ce([ls], [logits], torch.tensor([0])).item() == \
        pytest.approx(expected, rel=1e-5)
    # Mixed labels: the smoothed mixed target, lam 0.6 of class 0, 0.4 of 1:
    # 0.5 * [.6, .4] + 0.25 = [.55, .45].
    mixed = loss_mix_ce([ls], [logits.repeat(2, 1)], torch.tensor([0, 1]),
                        torch.tensor([0.6, 0.4]), torch.tensor([1, 0]))
    assert mixed.item() == pytest.approx(
        7 * (0.55 * -math.log(.75) + 0.45 * -math.log(.25)), rel=1e-5)


def test_loss_ce_and_mix_ce_match_plain_cross_entropy():
    torch.manual_seed(0)
    z = torch.randn(6, 5)
    y = torch.tensor([0, 1, 2, 3, 4, 0])
    lam, index = torch.rand(6), torch.randperm(6)
    torch.testing.assert_close(
        loss_ce([CE], [z], y), nn.functional.cross_entropy(z, y))
    ce = nn.functional.cross_entropy
    expected = (lam * ce(z, y, reduction='none') +
                (1 - lam) * ce(z, y[index], reduction='none')).mean()
    torch.testing.assert_close(loss_mix_ce([CE], [z], y, lam, index),
                               expected)


@pytest.mark.parametrize('loss, match', [
    (CrossEntropyLoss(use_soft=True), 'use_soft=True'),
    (CrossEntropyLoss(use_sigmoid=True), 'use_sigmoid=True'),
    (CrossEntropyLoss(reduction='sum'), "reduction='sum'"),
    (LabelSmoothLoss(0.1, mode='multi_label', use_sigmoid=True),
     "mode='multi_label'"),
    (nn.CrossEntropyLoss(), 'not a softmax loss'),
])
def test_check_head_loss_refuses_what_the_terms_cannot_honour(loss, match):
    with pytest.raises(ValueError,
                       match=rf'KDClassifier cannot honour model\.head\.loss'
                       rf'=\w+: .*{match}.*support CrossEntropyLoss'):
        check_head_loss(loss, 'KDClassifier')
    check_head_loss(LabelSmoothLoss(0.1, mode='classy_vision'), 'K')
    check_head_loss(CrossEntropyLoss(class_weight=[1.0] * 5), 'K')


def test_attention_map_and_transfer_by_hand():
    f = torch.tensor([[[[1., 2.]], [[3., 0.]]]])  # (1, 2, 1, 2)
    # channel mean of squares: [5, 2], L2-normalised
    expected = torch.tensor([[5., 2.]]) / math.sqrt(29)
    assert torch.allclose(attention_map(f), expected)
    g = torch.tensor([[[[1., 1.]]]])  # uniform map: [1, 1] / sqrt(2)
    diff = expected - torch.tensor([[1., 1.]]) / math.sqrt(2)
    assert attention_transfer(f, g).item() == pytest.approx(
        diff.pow(2).mean().item(), rel=1e-6)


def test_kd_of_std_normalized_logits_by_hand():
    s_row, t_row = [1., 0., -1.], [2., 1.5, 0.]
    # Each row divided by its own (unbiased) standard deviation.
    ps = softmax([v / statistics.stdev(s_row) for v in s_row])
    pt = softmax([v / statistics.stdev(t_row) for v in t_row])
    s, t = torch.tensor([s_row]), torch.tensor([t_row])
    assert kl(pt, ps) > 0.01

    def std_kd(a, b):
        return loss_kd(std_normalize_logits(a), std_normalize_logits(b))

    assert std_kd(s, t).item() == pytest.approx(kl(pt, ps), rel=1e-4)
    # No T^2 factor and invariant to the logits' scale.
    assert std_kd(3 * s, 5 * t).item() == pytest.approx(kl(pt, ps),
                                                        rel=1e-4)


def test_multi_head_terms_are_sums_over_heads():
    z = [torch.randn(4, 5) for _ in range(3)]
    y = torch.tensor([0, 1, 2, 3])
    lam, index = torch.full((4, ), 0.6), torch.tensor([1, 2, 3, 0])
    assert torch.allclose(
        loss_ce([CE] * 3, z, y),
        sum(nn.functional.cross_entropy(v, y) for v in z))
    assert torch.allclose(
        loss_mix_ce([CE] * 3, z, y, lam, index),
        sum(loss_mix_ce([CE], [v], y, lam, index) for v in z))
    assert torch.allclose(
        loss_teacher_mix_ce(CE, z[0], z[1], y, lam, index),
        loss_mix_ce([CE], [z[0]], y, lam, index) +
        loss_mix_ce([CE], [z[1]], y, lam, index))
    # Each head through its own loss module.
    heavy = CrossEntropyLoss(loss_weight=3.0)
    assert torch.allclose(
        loss_ce([CE, heavy], z[:2], y),
        loss_ce([CE], z[:1], y) + 3 * loss_ce([CE], z[1:2], y))
    with pytest.raises(ValueError):  # one loss module per logits tensor
        loss_ce([CE], z, y)


def test_loss_mutual_kd_both_directions_detached_targets():
    bar = torch.randn(4, 5, requires_grad=True)
    mix = torch.randn(4, 5, requires_grad=True)
    loss = loss_mutual_kd([bar], [mix], 3.0)
    assert loss.item() == pytest.approx(
        (loss_kd(bar, mix, 3.) + loss_kd(mix, bar, 3.)).item())
    loss.backward()
    # Each side only gets the gradient of the direction where it is the
    # student.
    ref_bar = bar.detach().clone().requires_grad_()
    loss_kd(ref_bar, mix.detach(), 3.).backward()
    assert torch.allclose(bar.grad, ref_bar.grad)


def test_loss_teacher_kd_crossed_pairing_and_no_teacher_grad():
    z_bar, z_mix = torch.randn(2, 4, 5, requires_grad=True).unbind(0)
    t_bar = torch.randn(4, 5, requires_grad=True)
    t_mix = torch.randn(4, 5, requires_grad=True)
    loss = loss_teacher_kd(z_bar, z_mix, t_bar, t_mix, 3.0)
    assert loss.item() == pytest.approx(
        (loss_kd(z_bar, t_mix, 3.) + loss_kd(z_mix, t_bar, 3.)).item())
    loss.backward()
    assert t_bar.grad is None and t_mix.grad is None


def test_loss_feat_pulls_both_sides():
    a = torch.ones(2, 3, 2, 2, requires_grad=True)
    b = torch.zeros(2, 3, 2, 2, requires_grad=True)
    loss = loss_feat([a, a], [b, b])
    assert loss.item() == pytest.approx(2.0)
    loss.backward()
    assert torch.all(a.grad > 0) and torch.all(b.grad < 0)


def test_gradient_reversal():
    x = torch.ones(3, requires_grad=True)
    (grad_reverse(x, 0.5) * 2).sum().backward()
    assert torch.allclose(x.grad, torch.full((3, ), -1.0))


def test_loss_adv_min_max():
    torch.manual_seed(0)
    disc = FeatureDiscriminator(4, hidden_channels=8)
    bar = torch.randn(6, 4, 2, 2, requires_grad=True)
    mix = torch.randn(6, 4, 2, 2, requires_grad=True)
    loss = loss_adv([disc], [bar], [mix], grl_coeff=1.0)
    loss.backward()
    # Without reversal the features would get the opposite gradient.
    bar2 = bar.detach().clone().requires_grad_()
    real = disc(bar2)
    nn.functional.binary_cross_entropy_with_logits(
        real, torch.ones_like(real)).backward()
    assert torch.allclose(bar.grad, -bar2.grad, atol=1e-6)
    # The discriminator descends its BCE: one SGD step lowers it.
    opt = torch.optim.SGD(disc.parameters(), lr=0.5)
    before = loss_adv([disc], [bar], [mix]).item()
    for _ in range(5):
        opt.zero_grad()
        loss_adv([disc], [bar.detach()], [mix.detach()]).backward()
        opt.step()
    assert loss_adv([disc], [bar], [mix]).item() < before


def test_loss_kd_runs_in_float32_for_low_precision_logits():
    # Under bf16 autocast the logits arrive in bf16; the KL is computed from
    # their float32 values, not in bf16 (where it is mostly rounding).
    torch.manual_seed(0)
    s = (torch.randn(8, 10) * 3).bfloat16()
    t = (s.float() + 0.01 * torch.randn(8, 10)).bfloat16()
    out = loss_kd(s, t, 3.0)
    assert out.dtype == torch.float32
    assert torch.equal(out, loss_kd(s.float(), t.float(), 3.0))
    naive_s = torch.log_softmax(s / 3.0, dim=1)
    naive_t = torch.log_softmax(t / 3.0, dim=1)
    naive = ((naive_t.exp() * (naive_t - naive_s)).sum(1).mean() * 9).float()
    assert not torch.allclose(naive, out, rtol=0.05)
