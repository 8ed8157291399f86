"""KDClassifier (classic teacher-student KD), its terms and recipes."""
import math

import pytest
import torch

from mixskd_mm.models.losses import loss_kd

import distill_test_utils as dtu

TERMS = {'loss_ce', 'loss_kd'}
LN3 = math.log(3.0)


def tiny(teacher: dict, **overrides) -> dict:
    cfg = dict(
        type='KDClassifier',
        backbone=dtu.tiny_backbone(),
        head=dtu.tiny_head(),
        teacher=teacher,
        data_preprocessor=dict(type='ClsDataPreprocessor', **dtu.NORM))
    cfg.update(overrides)
    return cfg


@pytest.fixture
def teacher(tmp_path):
    return dtu.teacher_spec(tmp_path / 'teacher.pth')


def test_loss_on_the_originals(teacher):
    spec, _ = teacher
    model = dtu.build(tiny(spec))
    data = model.data_preprocessor(dtu.batch(), True)
    assert 'mix' not in data
    losses = model(**data, mode='loss')
    assert set(losses) == TERMS
    labels = model.gt_labels(data['data_samples'])
    logits = model.head(model.extract_feat(data['inputs']))
    teacher_logits = model.teacher(data['inputs'])
    # loss_ce is what the head's own loss gives a plain ImageClassifier.
    plain = model.head.loss(model.extract_feat(data['inputs']),
                            data['data_samples'])['loss']
    torch.testing.assert_close(losses['loss_ce'], 0.1 * plain)
    torch.testing.assert_close(
        losses['loss_ce'],
        0.1 * torch.nn.functional.cross_entropy(logits, labels))
    torch.testing.assert_close(losses['loss_kd'],
                               0.9 * loss_kd(logits, teacher_logits, 4.0))


def test_head_loss_label_smoothing_changes_loss_ce(teacher):
    spec, _ = teacher
    smooth = dict(
        dtu.tiny_head(),
        loss=dict(type='LabelSmoothLoss', label_smooth_val=0.5,
                  loss_weight=7.0))
    model = dtu.build(tiny(spec, head=smooth))
    data = model.data_preprocessor(dtu.batch(), True)
    losses = model(**data, mode='loss')
    logits = model.head(model.extract_feat(data['inputs']))
    labels = model.gt_labels(data['data_samples'])
    k = logits.size(1)
    target = 0.5 * torch.nn.functional.one_hot(labels, k) + 0.5 / k
    expected = -(target * logits.log_softmax(1)).sum(1).mean()
    torch.testing.assert_close(losses['loss_ce'], 0.1 * 7.0 * expected)


@pytest.mark.parametrize('term', sorted(TERMS))
def test_terms_reach_the_student_only(teacher, term):
    spec, _ = teacher
    model = dtu.build(tiny(spec))
    loss = dtu.losses_of(model, dtu.batch())[term]
    assert dtu.grad_owners(model, loss) == {'backbone', 'head'}
    assert not model.teacher.training


def test_weights_and_temperature_are_configurable(teacher):
    spec, _ = teacher
    model = dtu.build(
        tiny(spec, temperature=1.0, loss_weights=dict(ce=1.0, kd=5.0)))
    assert model.loss_weights == dict(ce=1.0, kd=5.0)
    assert model.temperature == 1.0
    assert dtu.build(tiny(spec)).loss_weights == dict(ce=0.1, kd=0.9)


@pytest.mark.parametrize(
    'overrides, error, match',
    [(dict(data_preprocessor=dict(type='MixSKDDataPreprocessor')), ValueError,
      'MixKDClassifier'), (dict(temperature=0.0), ValueError, 'temperature'),
     (dict(loss_weights=dict(alpha=1)), KeyError, 'alpha')])
def test_bad_config_values_are_refused(teacher, overrides, error, match):
    spec, _ = teacher
    with pytest.raises(error, match=match):
        dtu.build(tiny(spec, **overrides))


def test_deployable_model_is_a_plain_image_classifier(teacher):
    spec, _ = teacher
    model = dtu.build(tiny(spec))
    dtu.assert_deployable_like_plain(
        model, dtu.plain_classifier(dtu.tiny_backbone(), dtu.tiny_head()))


def test_cifar_recipe_trains(tmp_path):
    cfg = dtu.recipe_with_tiny_teacher('kd_r18_cifar100',
                                       tmp_path / 'teacher.pth')
    logs = dtu.train_steps(cfg, steps=2)
    dtu.assert_finite_terms(logs, TERMS)


@pytest.mark.parametrize('dataset', ['cifar100', 'imagenet'])
def test_recipes_share_the_mixskd_schedule_and_teacher(dataset):
    cfg, ref = dtu.recipe_pair('kd', dataset)
    dtu.assert_same_schedule(cfg, ref)
    mixkd, _ = dtu.recipe_pair('mixkd', dataset)
    assert cfg.model.teacher == mixkd.model.teacher
    assert cfg.model.data_preprocessor.type == 'ClsDataPreprocessor'
