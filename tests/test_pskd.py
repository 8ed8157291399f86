"""PSKDClassifier, its loss terms, its prediction store and its recipes."""
import uuid

import pytest
import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub
from mmengine.optim import build_optim_wrapper
from mmengine.runner.checkpoint import load_checkpoint, save_checkpoint
from mmpretrain.models.losses import CrossEntropyLoss, LabelSmoothLoss

from mixskd_mm.engine.strict_load import (CheckpointMismatchError,
                                          check_checkpoint_fits)
from mixskd_mm.models.classifiers import pskd as pskd_module
from mixskd_mm.models.losses.pskd_losses import (loss_soft_ce, pskd_alpha,
                                                 pskd_soft_targets)

import distill_test_utils as dtu

C = dtu.NUM_CLASSES
TINY = dict(
    type='PSKDClassifier',
    backbone=dtu.tiny_backbone(),
    head=dtu.tiny_head(),
    alpha_T=0.8,
    num_samples=12,
    data_preprocessor=dict(type='ClsDataPreprocessor', **dtu.NORM))


@pytest.fixture
def hub():
    """A fresh current MessageHub, as RuntimeInfoHook fills it."""
    hub = MessageHub.get_instance(f'test_pskd_{uuid.uuid4().hex}')
    hub.update_info('max_epochs', 10)
    return hub


def pskd_batch(indices, seed=0, size=16):
    """A raw batch whose samples carry ``sample_idx`` like PackInputs'."""
    data = dtu.batch(len(indices), size, seed=seed)
    for sample, idx, label in zip(data['data_samples'], indices,
                                  [3, 0, 4, 1, 2, 0][:len(indices)]):
        sample.set_gt_label(label).set_metainfo(dict(sample_idx=idx))
    return data


def released_pskd(logits, labels, indices, epoch, store, alpha_T, epochs):
    """Self-KD-Lib's PSKD (methods/ps_kd.py) in plain torch; mutates store."""
    alpha_t = max(0, alpha_T * ((epoch + 1) / epochs))
    one_hot = torch.eye(store.size(1))[labels]
    if epoch == 0:
        store[indices] = one_hot
    soft = (1 - alpha_t) * one_hot + alpha_t * store[indices]
    loss = (-soft * F.log_softmax(logits, dim=1)).mean(0).sum()
    store[indices] = F.softmax(logits, dim=1).detach()
    return loss


# --- terms -------------------------------------------------------------------
def test_alpha_grows_linearly_to_alpha_T():
    assert pskd_alpha(0.8, 0, 200) == pytest.approx(0.004)
    assert pskd_alpha(0.8, 99, 200) == pytest.approx(0.4)
    assert pskd_alpha(0.8, 199, 200) == pytest.approx(0.8)
    with pytest.raises(ValueError, match='max_epochs'):
        pskd_alpha(0.8, 0, 0)


def test_soft_targets_blend_and_fall_back_to_one_hot():
    labels = torch.tensor([1, 2])
    prev = torch.tensor([[0.5, 0.25, 0.25], [0., 0., 0.]])
    q = pskd_soft_targets(labels, prev, torch.tensor([True, False]), 0.4, 3)
    torch.testing.assert_close(
        q, torch.tensor([[0.2, 0.7, 0.1], [0., 0., 1.]]))
    torch.testing.assert_close(q.sum(1), torch.ones(2))


@pytest.mark.parametrize('module', [CrossEntropyLoss(), LabelSmoothLoss(0.)])
def test_loss_soft_ce_is_the_released_soft_cross_entropy(module):
    g = torch.Generator().manual_seed(0)
    z = torch.randn(4, C, generator=g, requires_grad=True)
    q = torch.softmax(torch.randn(4, C, generator=g), dim=1)
    ours = loss_soft_ce(module, z, q)
    (g_ours, ) = torch.autograd.grad(ours, z)
    ref = (-q * F.log_softmax(z, dim=1)).mean(0).sum()
    (g_ref, ) = torch.autograd.grad(ref, z)
    torch.testing.assert_close(ours, ref)
    torch.testing.assert_close(g_ours, g_ref)


# --- the classifier ----------------------------------------------------------
def test_loss_and_gradients_equal_the_released_pskd_over_two_epochs(hub):
    """Fixed weights and batch: epoch 0 (one-hot targets) then epoch 1
    (targets from the stored epoch-0 softmax); loss, gradients and store."""
    model = dtu.build(dict(TINY, num_samples=8))
    model.train()
    indices = [5, 1, 7, 2]
    data = model.data_preprocessor(pskd_batch(indices), True)
    labels = torch.cat([s.gt_label for s in data['data_samples']])
    store = torch.zeros(8, C)
    for epoch in (0, 1):
        hub.update_info('epoch', epoch)
        model.zero_grad()
        ours = model(**data, mode='loss')['loss_soft_ce']
        ours.backward()
        g_ours = {n: p.grad.clone() for n, p in model.named_parameters()}
        model.zero_grad()
        logits = model(data['inputs'], mode='tensor')
        ref = released_pskd(logits, labels, torch.tensor(indices), epoch,
                            store, 0.8, 10)
        ref.backward()
        torch.testing.assert_close(ours, ref)
        for n, p in model.named_parameters():
            torch.testing.assert_close(g_ours[n], p.grad, msg=n)
        torch.testing.assert_close(model.prediction_store[indices],
                                   store[indices])
    assert model.prediction_store[[0, 3, 4, 6]].abs().sum() == 0


def test_train_step_is_finite_and_updates_the_network(hub):
    hub.update_info('epoch', 3)
    model = dtu.build(TINY)
    optim = build_optim_wrapper(
        model, dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9)))
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    log = model.train_step(pskd_batch([4, 0, 9]), optim)
    dtu.assert_finite_terms([{k: float(v) for k, v in log.items()}],
                            {'loss_soft_ce'})
    params = dict(model.named_parameters())
    # (The tiny backbone zero-initialises each block's last BN, so only
    # the stem, those BNs and the head get a gradient in the first step.)
    for name in ('backbone.conv1.weight', 'backbone.layer4.1.bn2.weight',
                 'head.fc.weight'):
        assert not torch.equal(before[name], params[name]), name
    # The batch's rows are softmaxes now, the others still empty.
    store = model.prediction_store
    assert store.shape == (12, C)
    torch.testing.assert_close(store[[4, 0, 9]].sum(1), torch.ones(3))
    assert store.sum() == pytest.approx(3.0)


def test_store_survives_a_checkpoint_and_a_resume(hub, tmp_path):
    hub.update_info('epoch', 0)
    model = dtu.build(TINY)
    model.train()
    model(**model.data_preprocessor(pskd_batch([2, 11, 6]), True),
          mode='loss')
    path = str(tmp_path / 'epoch_1.pth')
    save_checkpoint({'state_dict': model.state_dict()}, path)
    # As Runner.resume loads it (mmengine's load_checkpoint), into a
    # model freshly built from the same config.
    fresh = dtu.build(TINY, seed=3)
    assert fresh.prediction_store.abs().sum() == 0
    load_checkpoint(fresh, path, strict=True)
    torch.testing.assert_close(fresh.prediction_store,
                               model.prediction_store)
    assert (fresh.prediction_store.sum(1) > 0.5).sum() == 3
    half = dtu.build(dict(TINY, store_dtype='float16'))
    load_checkpoint(half, path, strict=True)
    assert half.prediction_store.dtype == torch.float16
    # The project's strict check (tools/train.py --resume) accepts it.
    check_checkpoint_fits(fresh, torch.load(path, weights_only=False), path)
    with pytest.raises(CheckpointMismatchError, match='shape mismatch'):
        check_checkpoint_fits(dtu.build(dict(TINY, num_samples=20)),
                              torch.load(path, weights_only=False), path)


def test_ddp_gathers_every_rank_into_every_store(hub, monkeypatch):
    """Two simulated ranks with batches of 3 and 2 samples: each rank's
    store gets both ranks' rows (mmengine.dist patched to 2 processes)."""
    hub.update_info('epoch', 1)
    batches = {0: pskd_batch([0, 4, 6], seed=0), 1: pskd_batch([3, 1],
                                                               seed=1)}
    models = {r: dtu.build(dict(TINY, num_samples=8)) for r in (0, 1)}
    local = {}
    for r, m in models.items():  # each rank's own indices and softmax
        m.train()
        d = m.data_preprocessor(batches[r], True)
        with torch.no_grad():
            probs = m(d['inputs'], mode='tensor').softmax(1)
        local[r] = [torch.tensor([len(probs)]),
                    torch.tensor([s.sample_idx for s in d['data_samples']]),
                    probs]

    def fake_all_gather(rank):
        calls = iter(range(3))

        def gather(t):
            k = next(calls)
            out = []
            for r in (0, 1):
                other = local[r][k] if r != rank else t
                if k > 0:  # padded to the largest batch, as the caller does
                    pad = t.new_zeros((3, *t.shape[1:]))
                    pad[:len(local[r][k])] = other[:len(local[r][k])]
                    other = pad
                out.append(other)
            return out
        return gather

    monkeypatch.setattr(pskd_module, 'get_world_size', lambda: 2)
    for r, m in models.items():
        monkeypatch.setattr(pskd_module, 'all_gather', fake_all_gather(r))
        m(**m.data_preprocessor(batches[r], True), mode='loss')
    for m in models.values():
        store = m.prediction_store
        torch.testing.assert_close(store[[0, 4, 6]], local[0][2])
        torch.testing.assert_close(store[[3, 1]], local[1][2])
        assert store[[2, 5, 7]].abs().sum() == 0


def test_a_repeated_index_keeps_its_first_prediction():
    model = dtu.build(TINY)
    probs = torch.tensor([[1., 0, 0, 0, 0], [0, 1., 0, 0, 0],
                          [0, 0, 1., 0, 0]])
    model.record(torch.tensor([7, 2, 7]), probs)
    torch.testing.assert_close(model.prediction_store[[7, 2]], probs[:2])


def test_gather_is_a_no_op_on_one_process():
    a, b = torch.arange(3), torch.rand(3, 2)
    out = pskd_module.gather_across_ranks(a, b)
    assert out[0] is a and out[1] is b


def test_bad_indices_are_explained_and_no_epoch_means_one_hot(hub):
    model = dtu.build(TINY)
    with pytest.raises(IndexError, match='model.num_samples=12'):
        dtu.losses_of(model, pskd_batch([3, 12]))
    with pytest.raises(KeyError, match="'sample_idx' in the PackInputs"):
        dtu.losses_of(model, dtu.batch(2))
    # Outside a train loop (no epoch in the hub): one-hot targets, i.e. the
    # head's CE, as in the first epoch; the store is still written.
    empty = MessageHub.get_instance(f'test_pskd_{uuid.uuid4().hex}')
    assert empty.get_info('epoch') is None
    model.prediction_store[[0, 1]] = torch.full((2, C), 1.0 / C)
    model.train()
    data = model.data_preprocessor(pskd_batch([0, 1]), True)
    loss = model(**data, mode='loss')['loss_soft_ce']
    labels = torch.cat([s.gt_label for s in data['data_samples']])
    torch.testing.assert_close(
        loss, F.cross_entropy(model(data['inputs'], mode='tensor'), labels))
    assert model._warned_no_epoch


@pytest.mark.parametrize('overrides, match', [
    (dict(alpha_T=1.5), r'model.alpha_T must be a finite number in \[0, 1\]'),
    (dict(alpha_T=-0.1), 'model.alpha_T'),
    (dict(num_samples=0), 'model.num_samples must be an int >= 1'),
    (dict(num_samples=None), 'model.num_samples'),
    (dict(num_samples=2.5), 'model.num_samples'),
    (dict(store_dtype='int8'), "model.store_dtype must be one of"),
    (dict(loss_weights=dict(soft_ce=-1.0)), 'model.loss_weights.soft_ce'),
])
def test_bad_hyper_parameters_are_refused(overrides, match):
    with pytest.raises(ValueError, match=match):
        dtu.build(dict(TINY, **overrides))


def test_prediction_is_a_plain_image_classifier(hub):
    model = dtu.build(TINY)
    plain = dtu.build(dtu.plain_classifier(dtu.tiny_backbone(),
                                           dtu.tiny_head()))
    plain.load_state_dict(dtu.deployable_state_dict(model), strict=True)
    model.eval()
    plain.eval()
    x = torch.randn(2, 3, 16, 16)
    torch.testing.assert_close(model(x), plain(x))


# --- recipes -----------------------------------------------------------------
def test_cifar_recipe_trains(hub):
    hub.update_info('epoch', 0)
    cfg = dtu.recipe('pskd_r18_cifar100')
    assert cfg.model.num_samples == 50000 and cfg.model.alpha_T == 0.8
    cfg.model.backbone.base_channels = 8  # the tests' width
    cfg.model.head.in_channels = 64
    model = dtu.build(cfg.model)
    assert model.prediction_store.shape == (50000, C)
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    log = model.train_step(pskd_batch([49999, 7, 0, 3]), optim)
    dtu.assert_finite_terms([{k: float(v) for k, v in log.items()}],
                            {'loss_soft_ce'})


@pytest.mark.parametrize('dataset', ['cifar100', 'imagenet'])
def test_recipes_share_the_mixskd_schedule(dataset):
    cfg, ref = dtu.recipe_pair('pskd', dataset)
    dtu.assert_same_schedule(cfg, ref)
    assert cfg.model.type == 'PSKDClassifier'
    pipeline = cfg.train_dataloader.dataset.pipeline
    pack = [t for t in pipeline if t['type'] == 'PackInputs'][0]
    assert 'meta_keys' not in pack  # the default keys carry sample_idx
