"""CutnMixOnlineDistiller, its loss terms and the Cut^nMix recipes."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmpretrain.models.losses import CrossEntropyLoss

from mixskd_mm.models.losses import loss_kd, loss_mix_ce
from mixskd_mm.models.losses.cutnmix_losses import (
    loss_ensemble_kd, loss_feat_mutual, loss_mutual_kd)

import distill_test_utils as dtu

TINY = dict(
    type='CutnMixOnlineDistiller',
    backbone=dtu.tiny_backbone(),
    head=dtu.tiny_head(),
    data_preprocessor=dict(
        type='MixSKDDataPreprocessor',
        mix_mode='cutnmix',
        alpha=1.0,
        num_patches=3,
        seed=0,
        **dtu.NORM))
TERMS = {
    'loss_mix_ce', 'loss_mutual_kd', 'loss_feat_mutual', 'loss_ensemble_kd'
}
CE = CrossEntropyLoss()
LN3 = math.log(3.0)


def kl(p, q):
    return sum(pi * math.log(pi / qi) for pi, qi in zip(p, q))


# --- loss terms against hand computations ---------------------------------
def test_loss_mix_ce_sums_over_peers():
    z = torch.tensor([[0., LN3], [LN3, 0.]])  # softmax [1/4, 3/4], [3/4, 1/4]
    labels, lam, index = (torch.tensor([1, 0]), torch.tensor([0.25, 0.25]),
                          torch.tensor([1, 0]))
    one = 0.25 * math.log(4 / 3) + 0.75 * math.log(4)
    assert loss_mix_ce([CE, CE], [z, z], labels, lam, index).item() == (
        pytest.approx(2 * one))


def test_loss_mutual_kd_averages_over_the_other_peers():
    u = torch.tensor([[0., LN3]])  # [1/4, 3/4]
    v = torch.tensor([[0., 0.]])  # [1/2, 1/2]
    p_u, p_v = [0.25, 0.75], [0.5, 0.5]
    # Two peers: KD(u <- v) + KD(v <- u).
    two = loss_mutual_kd([u, v], temperature=1.0)
    assert two.item() == pytest.approx(kl(p_v, p_u) + kl(p_u, p_v))
    # Three peers u, u, v: peers 0 and 1 get (0 + KD(u <- v)) / 2 each,
    # peer 2 gets (KD(v <- u) + KD(v <- u)) / 2.
    three = loss_mutual_kd([u, u, v], temperature=1.0)
    assert three.item() == pytest.approx(kl(p_v, p_u) + kl(p_u, p_v))
    # Temperature: T^2 KL of the softened distributions.
    hot = loss_mutual_kd([2 * u, v], temperature=2.0)
    assert hot.item() == pytest.approx(4 * (kl(p_v, p_u) + kl(p_u, p_v)))


def test_loss_mutual_kd_detaches_every_target():
    z0 = torch.tensor([[0., LN3]], requires_grad=True)
    z1 = torch.tensor([[1., -1.]], requires_grad=True)
    loss_mutual_kd([z0, z1], temperature=3.0).backward()
    # Peer 0's gradient is that of its own student term only.
    ref = z0.detach().clone().requires_grad_()
    loss_kd(ref, z1.detach(), 3.0).backward()
    torch.testing.assert_close(z0.grad, ref.grad)


def test_loss_feat_mutual_mse_and_attention():
    f0 = torch.zeros(1, 2, 2, 2, requires_grad=True)
    f1 = torch.ones(1, 2, 2, 2, requires_grad=True)
    loss = loss_feat_mutual([f0, f1], mode='mse')
    assert loss.item() == pytest.approx(2.0)  # MSE 1 in each direction
    loss.backward()
    # f0 only gets d/df0 MSE(f0, sg f1) = 2 (f0 - f1) / 8.
    torch.testing.assert_close(f0.grad, torch.full_like(f0, -0.25))
    # Attention: [1, 0] vs [1, 1] / sqrt(2) in both directions.
    a0 = torch.tensor([[[[1., 0.]]]])
    a1 = torch.tensor([[[[2., 2.]]]])
    a = 1 / math.sqrt(2)
    one_way = ((1 - a)**2 + a**2) / 2
    assert loss_feat_mutual([a0, a1]).item() == pytest.approx(2 * one_way)
    with pytest.raises(ValueError, match="'l1'"):
        loss_feat_mutual([a0, a1], mode='l1')
    with pytest.raises(ValueError, match='at least 2 peers'):
        loss_feat_mutual([a0])


def test_loss_ensemble_kd_uses_the_detached_mean_of_all_peers():
    z0 = torch.tensor([[0., LN3]], requires_grad=True)  # [1/4, 3/4]
    z1 = torch.tensor([[LN3, 0.]], requires_grad=True)  # [3/4, 1/4]
    # Mean logits [ln3 / 2, ln3 / 2]: the uniform distribution.
    loss = loss_ensemble_kd([z0, z1], temperature=1.0)
    assert loss.item() == pytest.approx(
        kl([0.5, 0.5], [0.25, 0.75]) + kl([0.5, 0.5], [0.75, 0.25]))
    loss.backward()
    # d/dz0 KL(u || softmax(z0)) = softmax(z0) - u; nothing via the mean.
    torch.testing.assert_close(z0.grad, torch.tensor([[-0.25, 0.25]]))


# --- the distiller ---------------------------------------------------------
def test_loss_terms_are_separate_and_finite():
    model = dtu.build(TINY)
    losses = dtu.losses_of(model, dtu.batch())
    assert set(losses) == TERMS
    for name, value in losses.items():
        assert value.dim() == 0 and torch.isfinite(value) and value > 0, name


PEER0 = {'backbone', 'head'}
PEER1 = {'peers.0.backbone', 'peers.0.head'}


@pytest.mark.parametrize(
    'term, owners', [('loss_mix_ce', PEER0 | PEER1),
                     ('loss_mutual_kd', PEER0 | PEER1),
                     ('loss_feat_mutual', {'backbone', 'peers.0.backbone'}),
                     ('loss_ensemble_kd', PEER0 | PEER1)])
def test_each_term_reaches_exactly_its_parameters(term, owners):
    model = dtu.build(TINY)
    loss = dtu.losses_of(model, dtu.batch())[term]
    assert dtu.grad_owners(model, loss) == owners


def test_all_peers_see_the_same_cutnmix_batch():
    model = dtu.build(dict(TINY, num_peers=3))
    seen = []
    for backbone in [model.backbone] + [p.backbone for p in model.peers]:
        backbone.register_forward_pre_hook(
            lambda m, args: seen.append(args[0]))
    data = model.data_preprocessor(dtu.batch(), True)
    assert model.data_preprocessor.mix_mode == 'cutnmix'
    model(**data, mode='loss')
    assert len(seen) == 3
    for x in seen:
        assert torch.equal(x, data['mix'].mixed)
    assert not torch.equal(data['mix'].mixed, data['inputs'])


def test_peers_are_independent_and_initialised_by_their_init_cfg():
    model = dtu.build(dict(TINY, num_peers=3))
    assert len(model.peers) == 2
    w0 = model.backbone.conv1.weight
    for peer in model.peers:
        assert not torch.equal(peer.backbone.conv1.weight, w0)
        # ResNet's init_weights zero-initialises the last BN of each block:
        # proof that the peers' own init_weights ran (mmengine ModuleList).
        assert peer.backbone.layer1[0].norm2.weight.abs().sum() == 0
    assert not torch.equal(model.peers[0].head.fc.weight,
                           model.peers[1].head.fc.weight)


def test_default_weights_and_feature_modes():
    model = dtu.build(TINY)
    assert model.loss_weights == dict(
        mix_ce=1.0, mutual_kd=1.0, feat_mutual=100.0, ensemble_kd=1.0)
    assert model.temperature == 3.0 and model.num_peers == 2
    mse = dtu.build(dict(TINY, feat_mode='mse'))
    assert mse.loss_weights['feat_mutual'] == 1.0
    chosen = dtu.build(
        dict(TINY, feat_mode='mse', loss_weights=dict(feat_mutual=3.0)))
    assert chosen.loss_weights['feat_mutual'] == 3.0
    # The MSE term on the last maps, by hand.
    data = mse.data_preprocessor(dtu.batch(), True)
    losses = mse(**data, mode='loss')
    x = data['mix'].mixed
    f0 = mse.backbone(x)[-1]
    f1 = mse.peers[0].backbone(x)[-1]
    torch.testing.assert_close(losses['loss_feat_mutual'],
                               2 * F.mse_loss(f0, f1))


def test_default_preprocessor_is_cutnmix():
    cfg = dict(TINY, data_preprocessor=dict(**dtu.NORM))
    pre = dtu.build(cfg).data_preprocessor
    assert (pre.mix_mode, pre.alpha, pre.num_patches) == ('cutnmix', 1.0, 3)


@pytest.mark.parametrize(
    'overrides, error, match',
    [(dict(num_peers=1), ValueError, 'num_peers >= 2'),
     (dict(num_peers=2.0), ValueError, 'num_peers >= 2'),
     (dict(temperature=-1), ValueError, 'temperature'),
     (dict(feat_mode='cosine'), ValueError, "'cosine'"),
     (dict(data_preprocessor=dict(type='ClsDataPreprocessor')), ValueError,
      "mix_mode='cutnmix'"), (dict(loss_weights=dict(kd=1)), KeyError, 'kd')])
def test_bad_config_values_are_refused(overrides, error, match):
    with pytest.raises(error, match=match):
        dtu.build(dict(TINY, **overrides))


def test_deployable_model_is_peer_zero_as_a_plain_image_classifier():
    model = dtu.build(TINY)
    dtu.losses_of(model, dtu.batch())
    dtu.assert_deployable_like_plain(
        model, dtu.plain_classifier(dtu.tiny_backbone(), dtu.tiny_head()))
    assert any(k.startswith('peers.0.backbone.') for k in model.state_dict())


# --- recipes -----------------------------------------------------------------
def test_cifar_recipe_trains():
    cfg = dtu.recipe('cutnmix_r18_cifar100')
    logs = dtu.train_steps(cfg, steps=2)
    dtu.assert_finite_terms(logs, TERMS)


@pytest.mark.parametrize('dataset', ['cifar100', 'imagenet'])
def test_recipes_share_the_mixskd_schedule(dataset):
    cfg, ref = dtu.recipe_pair('cutnmix', dataset)
    dtu.assert_same_schedule(cfg, ref)
    assert cfg.model.num_peers == 2
    assert cfg.model.data_preprocessor.mix_mode == 'cutnmix'


def test_former_weight_name_ce_is_refused_naming_the_valid_ones():
    with pytest.raises(KeyError, match=r"Unknown loss weight\(s\) \['ce'\]"
                       r".*valid names: .*'mix_ce'"):
        dtu.build(dict(TINY, loss_weights=dict(ce=1.0)))
