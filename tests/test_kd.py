"""KDClassifier (classic teacher-student KD), its terms and recipes."""
import math
import os.path as osp
import sys

import pytest
import torch
from mmengine.config import Config

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
import distill_test_utils as dtu  # noqa: E402

from mixskd_mm.models.losses import kd_hard_ce, kd_soft_kl  # noqa: E402

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
    path = tmp_path / 'teacher.pth'
    saved = dtu.save_teacher(path)
    return dict(config=saved['config'], checkpoint=str(path)), saved


def test_kd_hard_ce():
    z = torch.tensor([[0., LN3]])  # softmax [1/4, 3/4]
    assert kd_hard_ce(z, torch.tensor([1])).item() == pytest.approx(
        math.log(4 / 3))


def test_kd_soft_kl_is_t2_kl_with_a_detached_teacher():
    s = torch.zeros(1, 2, requires_grad=True)
    t = torch.tensor([[0., 4 * LN3]], requires_grad=True)  # /4: [0, ln 3]
    loss = kd_soft_kl(s, t, temperature=4.0)
    p = [0.25, 0.75]
    assert loss.item() == pytest.approx(16 * sum(pi * math.log(pi / 0.5)
                                                 for pi in p))
    loss.backward()
    assert t.grad is None
    torch.testing.assert_close(s.grad, 4 * torch.tensor([[0.25, -0.25]]))


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
    torch.testing.assert_close(losses['loss_ce'],
                               0.1 * kd_hard_ce(logits, labels))
    torch.testing.assert_close(losses['loss_kd'],
                               0.9 * kd_soft_kl(logits, teacher_logits, 4.0))


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
    saved = dtu.save_teacher(tmp_path / 'teacher.pth')
    cfg = dtu.with_tiny_teacher(
        dtu.recipe('kd_r18_cifar100'), saved, tmp_path / 'teacher.pth')
    logs = dtu.train_steps(cfg, steps=2)
    for log in logs:
        assert TERMS < set(log)
        assert all(math.isfinite(v) for v in log.values())


@pytest.mark.parametrize('dataset', ['cifar100', 'imagenet'])
def test_recipes_share_the_mixskd_schedule_and_teacher(dataset):
    arch = 'r18' if dataset == 'cifar100' else 'r50'
    cfg = Config.fromfile(
        osp.join(dtu.ROOT, f'configs/kd_{arch}_{dataset}.py'))
    ref = Config.fromfile(
        osp.join(dtu.ROOT, f'configs/mixskd_{arch}_{dataset}.py'))
    for key in ('optim_wrapper', 'param_scheduler', 'train_cfg',
                'train_dataloader'):
        assert cfg[key] == ref[key], key
    mixkd = Config.fromfile(
        osp.join(dtu.ROOT, f'configs/mixkd_{arch}_{dataset}.py'))
    assert cfg.model.teacher == mixkd.model.teacher
    assert cfg.model.data_preprocessor.type == 'ClsDataPreprocessor'
