"""CS-KD (CSKDClassifier) and IntraClassSampler: build, train, refusals,
faithfulness.

The faithfulness test re-computes Self-KD-Lib's ``CS_KD`` (``methods/
cs_kd.py``: anchors with gradient, partners under ``no_grad``, both in train
mode; ``CE + DistillKL(T=4)``) with plain torch ops on the batch laid out as
``PairBatchSampler`` yields it (anchors first, then partners) and checks our
terms, the gradient of their sum and BN's running statistics against it.
"""
import copy

import pytest
import torch
import torch.nn.functional as F
from mmengine.dataset import sampler as mmengine_sampler
from mmpretrain.structures import DataSample

import distill_test_utils as dtu
from mixskd_mm.datasets import IntraClassSampler

TERMS = {'loss_ce', 'loss_pair_kd'}


class Labelled:
    """A dataset of labels only, as mmpretrain's datasets expose them."""

    def __init__(self, labels, classes=None):
        self.labels = list(labels)
        self.metainfo = dict(classes=classes) if classes else {}

    def __len__(self):
        return len(self.labels)

    def get_gt_labels(self):
        return self.labels


def tiny(**overrides) -> dict:
    cfg = dict(
        type='CSKDClassifier',
        backbone=dtu.tiny_backbone(),
        head=dtu.tiny_head(),
        data_preprocessor=dict(type='ClsDataPreprocessor', **dtu.NORM))
    cfg.update(overrides)
    return cfg


def paired_batch(labels, size=16, seed=0) -> dict:
    """Raw data of pairs: each label twice in a row."""
    g = torch.Generator().manual_seed(seed)
    return dict(
        inputs=[torch.randint(0, 256, (3, size, size), dtype=torch.uint8,
                              generator=g) for _ in range(2 * len(labels))],
        data_samples=[DataSample().set_gt_label(c)
                      for c in labels for _ in range(2)])


def distill_kl(y_s, y_t, T):
    """Self-KD-Lib's ``DistillKL``."""
    p_s = F.log_softmax(y_s / T, dim=1)
    p_t = F.softmax(y_t / T, dim=1)
    return F.kl_div(p_s, p_t, reduction='batchmean') * T**2


# ------------------------------------------------------------- the sampler
def test_sampler_yields_same_class_pairs_and_covers_the_anchors():
    labels = [0, 0, 0, 1, 1, 2, 2, 2, 2, 1]
    sampler = IntraClassSampler(Labelled(labels), num_partners=1, seed=0)
    out = list(sampler)
    assert len(out) == len(sampler) == 2 * len(labels)
    anchors, partners = out[0::2], out[1::2]
    assert sorted(anchors) == list(range(len(labels)))
    for a, p in zip(anchors, partners):
        assert labels[a] == labels[p] and a != p
    # Reproducible for one (seed, epoch), different over epochs.
    assert list(sampler) == out
    sampler.set_epoch(1)
    assert list(sampler) != out


def test_sampler_partners_are_uniform_over_the_others():
    labels = [0] * 4 + [1] * 2
    sampler = IntraClassSampler(Labelled(labels), shuffle=False, seed=0)
    counts = torch.zeros(6, 6)
    for epoch in range(300):
        sampler.set_epoch(epoch)
        out = list(sampler)
        for a, p in zip(out[0::2], out[1::2]):
            counts[a, p] += 1
    assert counts.diagonal().sum() == 0
    # Anchor 0 picks 1, 2, 3 each about a third of the time.
    assert (counts[0, 1:4] / 300 - 1 / 3).abs().max() < 0.1
    assert counts[4, 5] == 300 and counts[5, 4] == 300


def test_sampler_shares_the_anchors_out_over_ranks(monkeypatch):
    labels = [i % 3 for i in range(9)]
    anchors = []
    for rank in range(2):
        monkeypatch.setattr(mmengine_sampler, 'get_dist_info',
                            lambda rank=rank: (rank, 2))
        sampler = IntraClassSampler(Labelled(labels), seed=4)
        out = list(sampler)
        assert len(out) == len(sampler) == 2 * 5  # ceil(9 / 2) anchors
        anchors.append(out[0::2])
    assert set(anchors[0]) | set(anchors[1]) == set(range(9))


def test_sampler_names_a_class_with_a_single_image():
    data = Labelled([0, 0, 1, 2, 2], classes=('cat', 'dog', 'owl'))
    with pytest.raises(ValueError, match=r"class 1 \('dog'\), image index 2"
                       r" has a single image"):
        IntraClassSampler(data, seed=0)
    with pytest.raises(ValueError, match='num_partners must be an int >= 1'):
        IntraClassSampler(Labelled([0, 0]), num_partners=0, seed=0)
    with pytest.raises(TypeError, match='get_gt_labels'):
        IntraClassSampler(list(range(4)), seed=0)


# ---------------------------------------------------------- the classifier
def test_recipes_set_the_pair_sampler():
    for name, per_step in (('cskd_r18_cifar100', 128),
                           ('cskd_r50_imagenet', 32)):
        cfg = dtu.recipe(name)
        assert cfg.model.type == 'CSKDClassifier'
        assert cfg.model.temperature == 4.0
        assert cfg.train_dataloader.batch_size == per_step
        assert cfg.train_dataloader.sampler.type == 'IntraClassSampler'
        assert cfg.train_dataloader.sampler.num_partners == 1
    model = dtu.build(dtu.recipe('cskd_r18_cifar100').model)
    assert model.loss_weights == dict(ce=1.0, pair_kd=1.0)


def test_one_train_step_has_finite_terms_and_gradients():
    model = dtu.build(tiny())
    losses = dtu.losses_of(model, paired_batch([0, 1, 2, 1]))
    assert set(losses) == TERMS
    assert all(torch.isfinite(v) and v > 0 for v in losses.values())
    assert dtu.grad_owners(model, sum(losses.values())) == {
        'backbone', 'head'}


@pytest.mark.parametrize('overrides, match', [
    (dict(temperature=0.0), 'model.temperature must be'),
    (dict(temperature=float('inf')), 'model.temperature must be'),
    (dict(loss_weights=dict(pair_kd=-0.5)), 'model.loss_weights.pair_kd'),
])
def test_bad_hyper_parameters_are_refused(overrides, match):
    with pytest.raises(ValueError, match=match):
        dtu.build(tiny(**overrides))


def test_a_batch_without_pairs_is_refused():
    model = dtu.build(tiny())
    with pytest.raises(ValueError, match='images 0 and 1 .* classes 0 and 1'
                       '.*IntraClassSampler'):
        dtu.losses_of(model, dtu.batch(4))
    with pytest.raises(ValueError, match='batch of 5 images'):
        dtu.losses_of(model, dtu.batch(5))


def test_matches_the_released_formula_gradient_and_bn_statistics():
    model = dtu.build(tiny(), seed=2)
    data = model.data_preprocessor(paired_batch([3, 0, 4, 0, 1], seed=7),
                                   True)
    reference = copy.deepcopy(model)

    losses = model(**data, mode='loss')
    model.zero_grad()
    sum(losses.values()).backward()

    # Self-KD-Lib's layout: B anchors, then their B partners.
    x, labels = data['inputs'], reference.gt_labels(data['data_samples'])
    inputs = torch.cat([x[0::2], x[1::2]])
    targets = torch.cat([labels[0::2], labels[1::2]])
    b = inputs.size(0) // 2

    def net(images):
        return reference.head(reference.extract_feat(images))

    logit = net(inputs[:b])
    with torch.no_grad():
        outputs_cls = net(inputs[b:])
    loss_cls = F.cross_entropy(logit, targets[:b])
    loss_div = distill_kl(logit, outputs_cls.detach(), 4.0)
    torch.testing.assert_close(losses['loss_ce'], loss_cls)
    torch.testing.assert_close(losses['loss_pair_kd'], loss_div)
    reference.zero_grad()
    (loss_cls + loss_div).backward()
    for (name, ours), theirs in zip(model.named_parameters(),
                                    reference.parameters()):
        torch.testing.assert_close(ours.grad, theirs.grad, msg=name)
    # Both passes ran in train mode and updated BN's running statistics.
    for (name, ours), theirs in zip(model.named_buffers(),
                                    reference.buffers()):
        torch.testing.assert_close(ours, theirs, msg=name)
    assert int(model.backbone.norm1.num_batches_tracked) == 2
