"""MixKDClassifier, its loss terms, FrozenTeacher and the MIX-KD recipes."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

from mmpretrain.models.losses import CrossEntropyLoss

from mixskd_mm.models.losses import (
    loss_kd, loss_mix_ce, std_normalize_logits)
from mixskd_mm.models.utils.teacher import FrozenTeacher

import distill_test_utils as dtu

TERMS = {'loss_mix_ce', 'loss_kd'}
CE = CrossEntropyLoss()


def std_mix_ce(z, labels, lam, index):
    """MixKDClassifier's ``loss_mix_ce`` (unweighted, default head loss)."""
    return loss_mix_ce([CE], [std_normalize_logits(z)], labels, lam, index)


def std_kd(s, t):
    """MixKDClassifier's ``loss_kd`` (unweighted)."""
    return loss_kd(std_normalize_logits(s), std_normalize_logits(t))


def tiny(teacher: dict, **overrides) -> dict:
    cfg = dict(
        type='MixKDClassifier',
        backbone=dtu.tiny_backbone(),
        head=dtu.tiny_head(),
        teacher=teacher,
        data_preprocessor=dict(
            type='MixSKDDataPreprocessor',
            mix_mode='partial_mixup',
            alpha=1.0,
            mixed_fraction=0.5,
            seed=0,
            **dtu.NORM))
    cfg.update(overrides)
    return cfg


@pytest.fixture
def teacher(tmp_path):
    """A saved tiny teacher: ``dict(config, checkpoint)`` and its weights."""
    return dtu.teacher_spec(tmp_path / 'teacher.pth')


# --- loss terms against hand computations ---------------------------------
def test_mix_ce_reads_the_std_normalised_logits():
    # [c, 0, 0] has unbiased std c / sqrt(3): normalised [sqrt(3), 0, 0]
    # for every scale c, softmax [e, 1, 1] / (e + 2) with e = exp(sqrt(3)).
    e = math.exp(math.sqrt(3))
    log_p = [math.log(e / (e + 2)), math.log(1 / (e + 2))]
    labels, lam, index = (torch.tensor([0, 2]), torch.tensor([1.0, 0.25]),
                          torch.tensor([1, 0]))
    # Row 0: -log p0; row 1: -(0.25 log p2 + 0.75 log p0 (partner label 0)).
    expected = -(log_p[0] + 0.25 * log_p[1] + 0.75 * log_p[0]) / 2
    for c in (math.log(2), 5.0):
        z = torch.tensor([[c, 0., 0.]] * 2)
        loss = std_mix_ce(z, labels, lam, index)
        assert loss.item() == pytest.approx(expected, rel=1e-6)
    # Not the CE of the raw logits (what this term was before).
    raw = loss_mix_ce([CE], [z], labels, lam, index)
    assert abs(raw.item() - expected) > 0.1


def test_mix_ce_equals_the_released_formula_value_and_gradient():
    g = torch.Generator().manual_seed(0)
    z = (3 * torch.randn(6, 10, generator=g)).requires_grad_()
    labels = torch.randint(0, 10, (6, ), generator=g)
    lam = torch.rand(6, generator=g)
    lam[::2] = 1.0  # unmixed samples
    index = torch.randperm(6, generator=g)
    loss = std_mix_ce(z, labels, lam, index)
    (grad, ) = torch.autograd.grad(loss, z)
    # MIXSTDLoss: -log_softmax(logit_s / stds) * target, summed, / batch.
    target = (lam[:, None] * F.one_hot(labels, 10) +
              (1 - lam[:, None]) * F.one_hot(labels[index], 10))
    stds = torch.std(z, dim=-1, keepdim=True)
    ref = (-F.log_softmax(z / stds, -1) * target).sum() / z.shape[0]
    (ref_grad, ) = torch.autograd.grad(ref, z)
    torch.testing.assert_close(loss, ref)
    torch.testing.assert_close(grad, ref_grad)


def test_kd_standardises_logits_without_temperature():
    s = torch.tensor([[1., -1.]], requires_grad=True)  # std sqrt(2)
    # Same direction, three times the scale: identical after standardising.
    assert std_kd(s, torch.tensor([[3., -3.]])).item() == (
        pytest.approx(0.0, abs=1e-6))
    t = torch.tensor([[-2., 2.]], requires_grad=True)
    a = 1 / math.sqrt(2)  # both become [+-a, -+a]
    p_s = [1 / (1 + math.exp(-2 * a)), 1 / (1 + math.exp(2 * a))]
    p_t = p_s[::-1]
    loss = std_kd(s, t)
    assert loss.item() == pytest.approx(
        sum(pt * math.log(pt / ps) for pt, ps in zip(p_t, p_s)), rel=1e-5)
    loss.backward()
    assert t.grad is None and s.grad.abs().sum() > 0


# --- FrozenTeacher ---------------------------------------------------------
def test_teacher_loads_its_checkpoint_even_after_init_weights(teacher):
    spec, saved = teacher
    frozen = FrozenTeacher(**spec)
    frozen.init_weights()  # what the Runner calls: must not re-randomise
    for key, value in frozen.model.state_dict().items():
        torch.testing.assert_close(value, saved['state_dict'][key])
    assert not any(p.requires_grad for p in frozen.parameters())
    frozen.train()
    assert not any(m.training for m in frozen.modules())


def test_teacher_from_a_config_file(tmp_path, teacher):
    spec, _ = teacher
    path = tmp_path / 'teacher_cfg.py'
    Config(dict(model=spec['config'],
                data_preprocessor=dtu.NORM)).dump(str(path))
    model = dtu.build(
        tiny(dict(config=str(path), checkpoint=spec['checkpoint'])))
    assert model.teacher.normalization == dtu.NORM
    assert model.teacher.source == str(path)


def test_missing_checkpoint_says_what_to_do(tmp_path, teacher):
    spec, _ = teacher
    with pytest.raises(FileNotFoundError, match='model.teacher.checkpoint'):
        FrozenTeacher(spec['config'], str(tmp_path / 'nowhere.pth'))


def test_mismatched_checkpoint_is_refused(tmp_path, teacher):
    spec, _ = teacher
    path = tmp_path / 'seven_classes.pth'
    dtu.save_teacher(path, num_classes=7)
    with pytest.raises(RuntimeError, match='does not match the teacher'):
        FrozenTeacher(spec['config'], str(path))


def test_teacher_with_other_classes_or_normalisation_is_refused(
        tmp_path, teacher):
    spec, _ = teacher
    path = tmp_path / 'seven_classes.pth'
    seven = dtu.save_teacher(path, num_classes=7)
    with pytest.raises(ValueError, match='7 classes'):
        dtu.build(tiny(dict(config=seven['config'], checkpoint=str(path))))
    other = dict(
        spec['config'], data_preprocessor=dict(mean=[0.] * 3, std=[1.] * 3))
    with pytest.raises(ValueError, match='same data_preprocessor'):
        dtu.build(tiny(dict(config=other, checkpoint=spec['checkpoint'])))


# --- the classifier ---------------------------------------------------------
def test_loss_is_computed_on_the_mixed_batch_for_both_networks(teacher):
    spec, _ = teacher
    model = dtu.build(tiny(spec))
    seen = []
    model.teacher.model.backbone.register_forward_pre_hook(
        lambda m, args: seen.append(args[0]))
    data = model.data_preprocessor(dtu.batch(), True)
    mix = data['mix']
    assert (mix.lam < 1).sum() == 2  # mixed_fraction 0.5 of 4, exactly
    losses = model(**data, mode='loss')
    assert set(losses) == TERMS
    assert torch.equal(seen[0], mix.mixed)
    labels = model.gt_labels(data['data_samples'])
    logits = model.head(model.extract_feat(mix.mixed))
    teacher_logits = model.teacher(mix.mixed)
    torch.testing.assert_close(
        losses['loss_mix_ce'],
        0.1 * std_mix_ce(logits, labels, mix.lam, mix.index))
    torch.testing.assert_close(losses['loss_kd'],
                               0.9 * std_kd(logits, teacher_logits))


@pytest.mark.parametrize('term', sorted(TERMS))
def test_terms_reach_the_student_only(teacher, term):
    spec, _ = teacher
    model = dtu.build(tiny(spec))
    loss = dtu.losses_of(model, dtu.batch())[term]
    assert dtu.grad_owners(model, loss) == {'backbone', 'head'}
    assert all(p.grad is None for p in model.teacher.parameters())


def test_train_step_never_changes_the_teacher(teacher):
    spec, saved = teacher
    model = dtu.build(tiny(spec))
    optim_wrapper = build_optim_wrapper(
        model,
        dict(
            optimizer=dict(type='SGD', lr=0.1, momentum=0.9,
                           weight_decay=0.1)))
    model.train()
    assert not model.teacher.training and model.training
    for step in range(2):
        model.train_step(dtu.batch(seed=step), optim_wrapper)
    for key, value in model.teacher.model.state_dict().items():
        torch.testing.assert_close(value, saved['state_dict'][key])
    state = optim_wrapper.optimizer.state
    assert not any(p in state for p in model.teacher.parameters())
    assert any(p in state for p in model.backbone.parameters())


def test_checkpoint_keeps_the_teacher_export_does_not(teacher):
    spec, _ = teacher
    model = dtu.build(tiny(spec))
    assert any(
        k.startswith('teacher.model.backbone.') for k in model.state_dict())
    dtu.assert_deployable_like_plain(
        model, dtu.plain_classifier(dtu.tiny_backbone(), dtu.tiny_head()))


def test_default_preprocessor_is_exact_ten_percent_partial_mixup(teacher):
    spec, _ = teacher
    cfg = tiny(spec, data_preprocessor=dict(**dtu.NORM))
    model = dtu.build(cfg)
    pre = model.data_preprocessor
    assert (pre.mix_mode, pre.alpha, pre.mixed_fraction,
            pre.sample_with_replacement) == ('partial_mixup', 1.0, 0.1, False)
    assert model.loss_weights == dict(mix_ce=0.1, kd=0.9)


@pytest.mark.parametrize(
    'overrides, error, match',
    [(dict(data_preprocessor=dict(type='ClsDataPreprocessor')), ValueError,
      'KDClassifier'), (dict(loss_weights=dict(gamma=1)), KeyError, 'gamma')])
def test_bad_config_values_are_refused(teacher, overrides, error, match):
    spec, _ = teacher
    with pytest.raises(error, match=match):
        dtu.build(tiny(spec, **overrides))


# --- recipes -----------------------------------------------------------------
def test_cifar_recipe_trains(tmp_path):
    cfg = dtu.recipe_with_tiny_teacher('mixkd_r18_cifar100',
                                       tmp_path / 'teacher.pth')
    logs = dtu.train_steps(cfg, steps=2)
    dtu.assert_finite_terms(logs, TERMS)


@pytest.mark.parametrize('dataset', ['cifar100', 'imagenet'])
def test_recipes_share_the_mixskd_schedule(dataset):
    cfg, ref = dtu.recipe_pair('mixkd', dataset)
    dtu.assert_same_schedule(cfg, ref)
    pre = cfg.model.data_preprocessor
    assert (pre.mix_mode, pre.mixed_fraction,
            pre.sample_with_replacement) == ('partial_mixup', 0.1, False)
    teacher_depth = 50 if dataset == 'cifar100' else 101
    assert cfg.model.teacher.config.backbone.depth == teacher_depth
    assert cfg.model.teacher.checkpoint.endswith('/teacher.pth')
