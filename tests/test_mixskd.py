"""MixSKDClassifier, SelfTeacherNeck and the MixSKD recipes."""
import copy
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmpretrain.registry import MODELS

import mixskd_mm  # noqa: F401
from mixskd_mm.models.utils.mixing import MixBatch

import distill_test_utils as dtu
from repo import ROOT

NUM_CLASSES = dtu.NUM_CLASSES
TINY = dtu.tiny_mixskd()


def build(**overrides):
    """The tiny MixSKD model with top-level keys replaced, seed 0."""
    return dtu.build(dict(TINY, **overrides))


TERMS = {
    'loss_ce', 'loss_mix_ce', 'loss_teacher_mix_ce', 'loss_mutual_kd',
    'loss_teacher_kd', 'loss_feat'
}


def test_loss_terms_are_separate_and_finite():
    model = build()
    losses = dtu.losses_of(model, dtu.batch(6))
    assert set(losses) == TERMS
    for name, value in losses.items():
        assert value.dim() == 0 and torch.isfinite(value), name
    assert losses['loss_ce'] > 0 and losses['loss_feat'] > 0


def _grad_owners(model, loss):
    model.zero_grad()
    loss.backward(retain_graph=True)
    owners = set()
    for name, p in model.named_parameters():
        if p.grad is not None and p.grad.abs().sum() > 0:
            owners.add(name.split('.')[0])
    return owners


def test_each_term_sends_gradient_where_the_method_says():
    model = build()
    losses = dtu.losses_of(model, dtu.batch(6))
    g = {k: _grad_owners(model, v) for k, v in losses.items()}
    parts = {'backbone', 'branches', 'branch_heads', 'head'}
    assert g['loss_ce'] == parts
    assert g['loss_mix_ce'] == parts
    # The self-teacher learns only from its own CE (row 3), which also
    # trains the network through its inputs.
    assert g['loss_teacher_mix_ce'] == {
        'backbone', 'branches', 'self_teacher', 'teacher_head'}
    # Row 4: branch heads only (the backbone head has no mutual term).
    assert g['loss_mutual_kd'] == {'backbone', 'branches', 'branch_heads'}
    # Row 5: the teacher side is detached.
    assert g['loss_teacher_kd'] == {'backbone', 'head'}
    # Row 6: feature maps, before any head.
    assert g['loss_feat'] == {'backbone', 'branches'}


def test_lambda_one_makes_consistency_terms_vanish():
    model = build()
    data = model.data_preprocessor(dtu.batch(6), True)
    x = data['inputs']
    n = x.size(0)
    mix = MixBatch(x.clone(), torch.ones(n), torch.randperm(n))
    losses = model(x, data['data_samples'], mode='loss', mix=mix)
    assert losses['loss_feat'].item() == pytest.approx(0, abs=1e-10)
    assert losses['loss_mutual_kd'].item() == pytest.approx(0, abs=1e-7)
    assert losses['loss_mix_ce'].item() == pytest.approx(
        losses['loss_ce'].item(), rel=1e-5)


def test_loss_weights_and_temperature_apply():
    data = build().data_preprocessor(dtu.batch(6), True)
    ref = build()(**data, mode='loss')
    model = build(loss_weights=dict(feat=0.0, ce=2.0))
    losses = model(**data, mode='loss')
    assert losses['loss_feat'].item() == 0
    assert losses['loss_ce'].item() == pytest.approx(
        2 * ref['loss_ce'].item(), rel=1e-5)
    with pytest.raises(KeyError, match='valid names'):
        build(loss_weights=dict(featt=1.0))


def test_missing_mix_is_a_clear_error():
    model = build()
    data = model.data_preprocessor(dtu.batch(6), False)
    with pytest.raises(ValueError, match='MixSKDDataPreprocessor'):
        model(**data, mode='loss')


def test_backbone_must_return_four_stages():
    with pytest.raises(ValueError, match='out_indices'):
        build(backbone=dict(type='ResNet_CIFAR', depth=18, base_channels=8,
                            out_indices=(3, )))


def test_deployable_weights_are_a_plain_image_classifier():
    model = build()
    # Train a step so BN statistics and weights are not at init.
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    model.train_step(dtu.batch(6), wrapper)
    plain_cfg = dict(
        type='ImageClassifier',
        backbone=dict(type='ResNet_CIFAR', depth=18, base_channels=8),
        neck=dict(type='GlobalAveragePooling'),
        head=TINY['head'],
        data_preprocessor=dict(mean=[127.5] * 3, std=[64.] * 3))
    plain = MODELS.build(plain_cfg)
    deploy = dtu.deployable_state_dict(model)
    assert set(deploy) == set(plain.state_dict())
    plain.load_state_dict(deploy, strict=True)
    model.eval()
    plain.eval()
    data = dtu.batch(6, seed=1)
    ours = model.val_step(copy.deepcopy(data))
    theirs = plain.val_step(copy.deepcopy(data))
    for a, b in zip(ours, theirs):
        assert torch.equal(a.pred_score, b.pred_score)


def test_adversarial_term_has_registered_trained_discriminators():
    model = build(adversarial=dict(hidden_channels=16, grl_coeff=1.0))
    assert any(k.startswith('discriminators.')
               for k in model.state_dict())
    losses = dtu.losses_of(model, dtu.batch(6))
    assert 'loss_adv' in losses
    owners = _grad_owners(model, losses['loss_adv'])
    assert owners == {'backbone', 'branches', 'discriminators'}


def test_bifpn_self_teacher_on_backbone_stages():
    model = build(
        self_teacher=dict(type='SelfTeacherNeck', fusion='bifpn'),
        teacher_inputs='backbone_stages')
    assert model.self_teacher.out_channels == 2 * 64
    losses = dtu.losses_of(model, dtu.batch(6))
    assert torch.isfinite(sum(losses.values()))
    # A fusion that cannot read the chosen maps is refused at build.
    with pytest.raises(ValueError, match="fusion='concat' cannot read "
                       "teacher_inputs='backbone_stages': use "
                       "fusion='bifpn'"):
        build(teacher_inputs='backbone_stages')
    with pytest.raises(ValueError, match="use fusion='concat', or "
                       "teacher_inputs='backbone_stages'"):
        build(self_teacher=dict(type='SelfTeacherNeck', fusion='bifpn'))


def test_full_and_light_branch_depth():
    full, light = build(branch_depth='full'), build(branch_depth='light')
    # ResNet-18 stages have 2 blocks; a light branch keeps one per stage.
    assert len(full.branches[0].layers[0]) == 2
    assert len(light.branches[0].layers[0]) == 1
    with pytest.raises(ValueError, match='branch depth'):
        build(branch_depth='deep')


def test_a_few_iterations_lower_the_loss():
    torch.manual_seed(0)
    model = build(data_preprocessor=dict(
        type='MixSKDDataPreprocessor', alpha=0.2, seed=0,
        mean=[127.5] * 3, std=[64.] * 3))
    wrapper = OptimWrapper(
        torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9))
    data = dtu.batch(10)
    totals = []
    for _ in range(12):
        log = model.train_step(copy.deepcopy(data), wrapper)
        totals.append(log['loss'].item())
    assert sum(totals[-3:]) < 0.7 * sum(totals[:3]), totals


@pytest.mark.parametrize('name',
                         ['mixskd_r50_imagenet', 'mixskd_r18_cifar100'])
def test_recipes_build_and_step_on_uint8_images(name):
    cfg = Config.fromfile(osp.join(ROOT, 'configs', f'{name}.py'))
    model = dtu.build(cfg.model)
    size = 64 if 'imagenet' in name else 32
    data = dtu.batch(2, size)
    losses = model(**model.data_preprocessor(data, True), mode='loss')
    assert set(losses) == TERMS
    assert all(torch.isfinite(v) for v in losses.values())
    # predict() equals the plain classifier built from the same weights.
    plain_cfg = copy.deepcopy(cfg.model)
    plain_cfg.update(type='ImageClassifier')
    for key in ('self_teacher', 'teacher_inputs', 'branch_depth',
                'temperature', 'loss_weights', 'adversarial'):
        plain_cfg.pop(key, None)
    plain_cfg.data_preprocessor.pop('alpha')
    plain_cfg.data_preprocessor.pop('mix_mode')
    plain_cfg.data_preprocessor.pop('channels_last')
    plain_cfg.data_preprocessor.type = 'ClsDataPreprocessor'
    plain = MODELS.build(plain_cfg)
    plain.load_state_dict(dtu.deployable_state_dict(model), strict=True)
    model.eval()
    plain.eval()
    ours, theirs = model.val_step(copy.deepcopy(data)), plain.val_step(data)
    assert torch.equal(ours[0].pred_score, theirs[0].pred_score)


def _recipe_with_head_loss(loss):
    """The CIFAR recipe's model, shrunk, with ``loss`` as its head loss."""
    cfg = Config.fromfile(osp.join(ROOT, 'configs/mixskd_r18_cifar100.py'))
    model = cfg.model
    model.backbone.base_channels = 8
    model.head.update(num_classes=NUM_CLASSES, in_channels=64)
    if loss is not None:
        model.head.loss = loss
    return dtu.build(model.to_dict())


def test_head_label_smoothing_changes_every_ce_term_by_hand():
    plain = _recipe_with_head_loss(None)
    smooth = _recipe_with_head_loss(
        dict(type='LabelSmoothLoss', label_smooth_val=0.5, loss_weight=7))
    assert type(plain.head.loss_module).__name__ == 'CrossEntropyLoss'
    g = torch.Generator().manual_seed(0)
    x, mixed = torch.randn(2, 6, 3, 16, 16, generator=g).unbind(0)
    mix = MixBatch(mixed, torch.rand(6, generator=g), torch.randperm(6))
    samples = dtu.batch(6)['data_samples']
    labels = torch.cat([s.gt_label for s in samples])
    ref = plain(x, samples, mode='loss', mix=mix)
    got = smooth(x, samples, mode='loss', mix=mix)
    assert abs(got['loss_ce'].item() - ref['loss_ce'].item()) > 0.1
    # By hand: 7 * CE against (1 - 0.5) * onehot + 0.5 / K, summed over
    # the four heads (row 1); mixed labels are smoothed alike (row 2).
    _, _, logits = smooth.forward_paths(torch.cat([x, mixed]))
    onehot = torch.nn.functional.one_hot(labels, NUM_CLASSES).float()
    y_mix = (mix.lam[:, None] * onehot +
             (1 - mix.lam[:, None]) * onehot[mix.index])

    def smoothed_ce(z, target):
        target = 0.5 * target + 0.5 / NUM_CLASSES
        return 7 * -(target * z.log_softmax(1)).sum(1).mean()

    torch.testing.assert_close(
        got['loss_ce'], sum(smoothed_ce(z[:6], onehot) for z in logits))
    torch.testing.assert_close(
        got['loss_mix_ce'], sum(smoothed_ce(z[6:], y_mix) for z in logits))
    # The terms without labels do not depend on the head loss.
    torch.testing.assert_close(got['loss_feat'], ref['loss_feat'])


def test_a_head_loss_the_terms_cannot_honour_is_refused_at_build():
    with pytest.raises(ValueError,
                       match=r'MixSKDClassifier cannot honour model\.head\.'
                       r'loss=CrossEntropyLoss: use_soft=True'):
        build(head=dict(TINY['head'],
                        loss=dict(type='CrossEntropyLoss', use_soft=True)))


def test_former_weight_name_teacher_ce_is_refused_naming_the_valid_ones():
    with pytest.raises(KeyError, match=r"Unknown loss weight\(s\) "
                       r"\['teacher_ce'\].*valid names: .*'teacher_mix_ce'"):
        build(loss_weights=dict(mix_ce=0, teacher_ce=0))
