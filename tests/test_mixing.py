"""Tests of the mixing draws and of MixSKDDataPreprocessor."""
import numpy as np
import pytest
import torch
from mmpretrain.registry import MODELS

import mixskd_mm  # noqa: F401
from mixskd_mm.models.utils.mixing import (draw_cutmix, draw_cutnmix,
                                           draw_mixup, draw_partial_mixup,
                                           interpolate, paste_boxes,
                                           random_box, unbiased_round)

import distill_test_utils as dtu


def rng(seed=0):
    return np.random.default_rng(seed)


def test_interpolate_per_sample():
    t = torch.tensor([[1., 2.], [3., 4.], [5., 6.]])
    lam = torch.tensor([1.0, 0.25, 0.5])
    index = torch.tensor([2, 0, 1])
    out = interpolate(t, lam, index)
    expected = torch.tensor([[1., 2.],
                             [0.25 * 3 + 0.75 * 1, 0.25 * 4 + 0.75 * 2],
                             [0.5 * 5 + 0.5 * 3, 0.5 * 6 + 0.5 * 4]])
    assert torch.allclose(out, expected)


def test_mixup_one_lambda_and_a_permutation():
    x = torch.randn(6, 3, 4, 4)
    mix = draw_mixup(x, 0.2, rng())
    assert mix.lam.shape == (6, ) and torch.all(mix.lam == mix.lam[0])
    assert sorted(mix.index.tolist()) == list(range(6))
    lam = mix.lam[0].item()
    assert torch.allclose(mix.mixed, lam * x + (1 - lam) * x[mix.index])


def test_lambda_one_reproduces_the_originals():
    x = torch.randn(4, 3, 8, 8)
    mix = draw_mixup(x, 0.0, rng())  # alpha 0: no mixing
    assert torch.all(mix.lam == 1)
    assert torch.equal(mix.mixed, x)


def test_cutmix_lambda_is_the_area_left():
    x = torch.zeros(4, 1, 10, 10)
    x[1] = 1  # only sample 1 is ones
    mix = draw_cutmix(x, 1.0, rng(3))
    # The pasted fraction of every image is 1 - lam.
    pasted = (mix.mixed != x).float().mean(dim=(1, 2, 3))
    for i, j in enumerate(mix.index.tolist()):
        if torch.equal(x[i], x[j]):
            continue
        assert pasted[i].item() == pytest.approx(1 - mix.lam[i].item())


def test_paste_boxes_counts_overlaps_once():
    x = torch.arange(2.).view(2, 1, 1, 1).expand(2, 1, 4, 4).contiguous()
    index = torch.tensor([1, 0])
    mixed, lam = paste_boxes(x, index, [(0, 2, 0, 2), (1, 3, 1, 3)])
    # Union of the two 2x2 boxes is 7 pixels of 16.
    assert lam == pytest.approx(1 - 7 / 16)
    assert (mixed[0] == 1).sum().item() == 7


def test_random_box_area_and_bounds():
    y1, y2, x1, x2 = random_box(32, 32, 0.25, rng(1))
    assert 0 <= y1 <= y2 <= 32 and 0 <= x1 <= x2 <= 32
    assert (y2 - y1) * (x2 - x1) <= 16 * 16


def test_cutnmix_pastes_several_boxes():
    x = torch.zeros(2, 1, 32, 32)
    x[1] = 1
    mix = draw_cutnmix(x, 1.0, 4, rng(5))
    assert mix.mixed.shape == x.shape and mix.lam.shape == (2, )
    with pytest.raises(ValueError, match='num_patches'):
        draw_cutnmix(x, 1.0, 0, rng())


def test_unbiased_round_keeps_integers_and_rounds_up_by_the_fraction():
    for seed in range(20):
        assert unbiased_round(0.5 * 4, rng(seed)) == 2
        assert unbiased_round(0.1 * 30, rng(seed)) == 3  # 3.0000000000000004
    r = rng()
    draws = [unbiased_round(6.4, r) for _ in range(2000)]
    assert set(draws) == {6, 7}
    assert np.mean(draws) == pytest.approx(6.4, abs=0.05)


@pytest.mark.parametrize('n, low', [(64, 6), (16, 1)])
def test_partial_mixup_mixes_the_fraction_exactly_on_average(n, low):
    x = torch.randn(n, 3, 2, 2)
    r = rng()
    counts = [
        int((draw_partial_mixup(x, 1.0, 0.1, r).lam < 1).sum())
        for _ in range(400)
    ]
    # 0.1 * 64 = 6.4 -> 6 or 7; 0.1 * 16 = 1.6 -> 1 or 2 (not round()'s
    # 6 = 9.4 % and 2 = 12.5 %)
    assert set(counts) == {low, low + 1}
    assert np.mean(counts) / n == pytest.approx(0.1, abs=0.004)


def test_partial_mixup_released_sampling_and_bad_fraction():
    x = torch.randn(64, 3, 2, 2)
    # The released sampling (with replacement) leaves far more mixed.
    fractions = [
        float((draw_partial_mixup(x, 1.0, 0.1, rng(s), True).lam < 1)
              .float().mean())
        for s in range(50)
    ]
    assert np.mean(fractions) == pytest.approx((1 - 1 / 64)**57, abs=0.05)
    with pytest.raises(ValueError, match='mixed_fraction'):
        draw_partial_mixup(x, 1.0, 1.5, rng())


def _batch(n=4):
    """``n`` 8x8 images of 3 classes."""
    return dtu.batch(n, size=8, num_classes=3)


def test_preprocessor_mixes_only_in_training():
    pre = MODELS.build(
        dict(type='MixSKDDataPreprocessor', mean=[0.] * 3, std=[1.] * 3,
             alpha=1.0, seed=0))
    out = pre(_batch(), training=False)
    assert set(out) == {'inputs', 'data_samples'}
    out = pre(_batch(), training=True)
    mix = out['mix']
    assert mix.mixed.shape == out['inputs'].shape == (4, 3, 8, 8)
    assert torch.allclose(mix.mixed,
                          interpolate(out['inputs'], mix.lam, mix.index))
    # The originals are handed over unmixed.
    assert torch.equal(out['inputs'], pre(_batch(), training=False)['inputs'])


def test_preprocessor_draws_per_rank(monkeypatch):
    from mixskd_mm.models.data_preprocessors import mix_data_preprocessor
    cfg = dict(type='MixSKDDataPreprocessor', alpha=1.0, seed=7)
    draws = []
    for rank in (0, 1):
        monkeypatch.setattr(mix_data_preprocessor, 'get_rank', lambda: rank)
        pre = MODELS.build(cfg)
        draws.append(pre(_batch(16), training=True)['mix'])
    assert not torch.equal(draws[0].lam, draws[1].lam)


def test_preprocessor_rejects_bad_config():
    with pytest.raises(ValueError, match='mix_mode'):
        MODELS.build(dict(type='MixSKDDataPreprocessor', mix_mode='blend'))
    with pytest.raises(ValueError, match='batch_augments'):
        MODELS.build(
            dict(type='MixSKDDataPreprocessor',
                 batch_augments=dict(augments=dict(type='Mixup', alpha=1.))))


def test_preprocessor_channels_last_keeps_values():
    cfg = dict(type='MixSKDDataPreprocessor', mean=[0.] * 3, std=[1.] * 3,
               alpha=1.0, seed=3)
    plain = MODELS.build(cfg)(_batch(), training=True)
    fast = MODELS.build(dict(cfg, channels_last=True))(_batch(), training=True)
    for a, b in ((plain['inputs'], fast['inputs']),
                 (plain['mix'].mixed, fast['mix'].mixed)):
        assert torch.equal(a, b)
        assert b.is_contiguous(memory_format=torch.channels_last)
        assert not a.is_contiguous(memory_format=torch.channels_last)
    # Evaluation keeps the default format (bit-identical predictions).
    evaluated = MODELS.build(dict(cfg, channels_last=True))(_batch(), False)
    assert not evaluated['inputs'].is_contiguous(
        memory_format=torch.channels_last)
