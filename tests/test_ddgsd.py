"""DDGSDClassifier, its two-view data flow, its loss terms and recipes."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmcv.transforms import Compose
from mmengine.dataset import default_collate, pseudo_collate
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from mixskd_mm.models.losses.ddgsd_losses import loss_mmd, loss_mutual_kd

import distill_test_utils as dtu

TINY = dict(
    type='DDGSDClassifier',
    backbone=dtu.tiny_backbone(),
    head=dtu.tiny_head(),
    data_preprocessor=dict(type='MultiViewClsDataPreprocessor', **dtu.NORM))
TERMS = {'loss_ce', 'loss_mutual_kd', 'loss_mmd'}


def two_view_batch(n=4, collate=pseudo_collate, seed=0):
    """Samples through the CIFAR recipe's MultiView pipeline, collated."""
    init_default_scope('mmpretrain')
    cfg = dtu.recipe('ddgsd_r18_cifar100')
    pipeline = Compose(cfg.train_dataloader.dataset.pipeline)
    rng = np.random.default_rng(seed)
    np.random.seed(seed)  # the pipeline's crops and flips
    samples = [
        pipeline(dict(img=rng.integers(0, 256, (32, 32, 3), dtype=np.uint8),
                      gt_label=i % dtu.NUM_CLASSES)) for i in range(n)
    ]
    return collate(samples)


def released_ddgsd(logits, feats, labels, T=4.0):
    """Self-KD-Lib's DDGSD (methods/ddsgd.py) after `net(inputs,
    embedding=True)`, in plain torch; returns loss_cls + loss_div."""
    n = labels.size(0)

    def distill_kl(s, t):  # utils.DistillKL
        return F.kl_div(F.log_softmax(s / T, 1), F.softmax(t / T, 1),
                        reduction='batchmean') * T**2

    loss_cls = F.cross_entropy(logits, torch.cat([labels, labels])) / 2
    loss_div = distill_kl(logits[:n], logits[n:].detach())
    loss_div = loss_div + distill_kl(logits[n:], logits[:n].detach())
    loss_div = loss_div + 5e-4 * (feats[:n].mean() - feats[n:].mean())**2
    return loss_cls + loss_div


# --- data flow ---------------------------------------------------------------
def test_both_collates_give_one_view_major_batch():
    model = dtu.build(TINY)
    raw = two_view_batch(3, pseudo_collate)
    # pseudo_collate transposes: 2 views of 3 images each.
    assert len(raw['inputs']) == 2 and len(raw['inputs'][0]) == 3
    out = model.data_preprocessor(raw, True)
    assert out['inputs'].shape == (6, 3, 32, 32)
    assert len(out['data_samples']) == 3
    # Row v * N + i is view v of sample i, normalised.
    mean, std = 127.5, 64.
    for v in range(2):
        for i in range(3):
            torch.testing.assert_close(
                out['inputs'][v * 3 + i],
                (raw['inputs'][v][i].float() - mean) / std)
    dflt = model.data_preprocessor(two_view_batch(3, default_collate), True)
    torch.testing.assert_close(dflt['inputs'], out['inputs'])
    # The two views are different distortions of the same image.
    assert not torch.equal(out['inputs'][:3], out['inputs'][3:])


def test_single_view_batches_are_processed_as_by_cls_preprocessor():
    model = dtu.build(TINY)
    plain = dtu.build(dict(dtu.plain_classifier(dtu.tiny_backbone(),
                                                dtu.tiny_head()),
                           data_preprocessor=dict(type='ClsDataPreprocessor',
                                                  **dtu.NORM)))
    raw = dtu.batch(3)
    torch.testing.assert_close(
        model.data_preprocessor(raw, False)['inputs'],
        plain.data_preprocessor(raw, False)['inputs'])


# --- terms -------------------------------------------------------------------
def test_mutual_kd_is_both_directions_with_detached_targets():
    a = torch.tensor([[0., 1., 2.]], requires_grad=True)
    b = torch.tensor([[1., 0., 0.]], requires_grad=True)
    loss = loss_mutual_kd(a, b, 2.0)
    pa, pb = F.softmax(a / 2, 1), F.softmax(b / 2, 1)
    ref = 4 * ((pb * (pb / pa).log()).sum() + (pa * (pa / pb).log()).sum())
    torch.testing.assert_close(loss, ref)
    (ga, gb) = torch.autograd.grad(loss, (a, b))
    # Only the student side of each direction: T * (softmax - target).
    torch.testing.assert_close(ga, 2 * (pa - pb).detach())
    torch.testing.assert_close(gb, 2 * (pb - pa).detach())


def test_mmd_scalar_as_released_and_per_channel():
    fa = torch.tensor([[1., 3.], [3., 5.]])
    fb = torch.tensor([[0., 0.], [2., 2.]])
    assert loss_mmd(fa, fb).item() == pytest.approx((3. - 1.)**2)
    assert loss_mmd(fa, fb, per_channel=True).item() == pytest.approx(
        ((2. - 1.)**2 + (4. - 1.)**2) / 2)


# --- the classifier ----------------------------------------------------------
def test_loss_and_gradients_equal_the_released_ddgsd():
    model = dtu.build(TINY)
    model.train()
    data = model.data_preprocessor(two_view_batch(4), True)
    labels = torch.cat([s.gt_label for s in data['data_samples']])
    losses = model(**data, mode='loss')
    assert set(losses) == TERMS
    ours = sum(losses.values())
    g_ours = torch.autograd.grad(ours, list(model.parameters()))
    feats = model.extract_feat(data['inputs'])[-1]  # (2N, D), pooled
    logits = model.head((feats, ))
    ref = released_ddgsd(logits, feats, labels)
    g_ref = torch.autograd.grad(ref, list(model.parameters()))
    torch.testing.assert_close(ours, ref)
    for (name, _), a, b in zip(model.named_parameters(), g_ours, g_ref):
        torch.testing.assert_close(a, b, msg=name)
    # Each term on its own: the released split into its three parts.
    n = 4
    torch.testing.assert_close(
        losses['loss_ce'],
        F.cross_entropy(logits, labels.repeat(2)) / 2)
    torch.testing.assert_close(
        losses['loss_mmd'],
        5e-4 * (feats[:n].mean() - feats[n:].mean())**2)


def test_one_view_in_training_says_to_use_multiview():
    model = dtu.build(TINY)
    with pytest.raises(ValueError, match="dict\\(type='MultiView'"):
        dtu.losses_of(model, dtu.batch(4))


@pytest.mark.parametrize('overrides, error, match', [
    (dict(temperature=0), ValueError, 'model.temperature'),
    (dict(mmd_per_channel='yes'), ValueError, 'model.mmd_per_channel'),
    (dict(loss_weights=dict(mmd=-1.)), ValueError, 'model.loss_weights.mmd'),
    (dict(loss_weights=dict(kd=1.)), KeyError, 'valid names'),
    (dict(data_preprocessor=dict(type='ClsDataPreprocessor')), ValueError,
     'MultiViewClsDataPreprocessor'),
    (dict(data_preprocessor=dict(type='MultiViewClsDataPreprocessor',
                                 batch_augments=dict(augments=[]))),
     ValueError, 'batch_augments'),
])
def test_bad_hyper_parameters_are_refused(overrides, error, match):
    with pytest.raises(error, match=match):
        dtu.build(dict(TINY, **overrides))


def test_default_preprocessor_is_the_multi_view_one():
    cfg = dict(TINY)
    cfg['data_preprocessor'] = dict(**dtu.NORM)  # no type: merged
    model = dtu.build(cfg)
    assert type(model.data_preprocessor).__name__ == \
        'MultiViewClsDataPreprocessor'


# --- recipes -----------------------------------------------------------------
def test_cifar_recipe_trains_on_default_collated_views():
    cfg = dtu.recipe('ddgsd_r18_cifar100')
    # The recipe's model at the tests' width (a CPU step of the full
    # ResNet-18 on two views costs seconds).
    cfg.model.backbone.base_channels = 8
    cfg.model.head.in_channels = 64
    model = dtu.build(cfg.model)
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    log = model.train_step(two_view_batch(4, default_collate), optim)
    dtu.assert_finite_terms([{k: float(v) for k, v in log.items()}], TERMS)


@pytest.mark.parametrize('dataset', ['cifar100', 'imagenet'])
def test_recipes_keep_the_schedule_and_make_two_views(dataset):
    cfg, ref = dtu.recipe_pair('ddgsd', dataset)
    for key in ('optim_wrapper', 'param_scheduler', 'train_cfg'):
        assert cfg[key] == ref[key], key
    assert cfg.model.type == 'DDGSDClassifier'
    assert cfg.model.data_preprocessor.type == 'MultiViewClsDataPreprocessor'
    assert cfg.model.loss_weights == dict(ce=0.5, mutual_kd=1.0, mmd=5e-4)
    pipeline = cfg.train_dataloader.dataset.pipeline
    multi = [t for t in pipeline if t['type'] == 'MultiView']
    assert len(multi) == 1 and multi[0]['num_views'] == 2
    # The augmentation inside MultiView is the reference recipe's.
    ref_aug = [t for t in ref.train_dataloader.dataset.pipeline
               if t['type'] not in ('LoadImageFromFile', 'PackInputs')]
    assert multi[0]['transforms'] == [ref_aug]
