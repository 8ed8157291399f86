"""Hyper-parameters are checked once, at build, for every method (issue 11.8,
17.3): the temperature, the loss weights and the mixing settings."""
import math
import os.path as osp
import subprocess
import sys

import pytest
from mmpretrain.registry import MODELS

import mixskd_mm  # noqa: F401
from mixskd_mm.utils.validate import check_number

import distill_test_utils as dtu
from repo import ROOT

WITH_T = ['MixSKDClassifier', 'FRSKDClassifier', 'CutnMixOnlineDistiller',
          'KDClassifier']
ALL = WITH_T + ['MixKDClassifier']
WEIGHT = dict(MixSKDClassifier='teacher_mix_ce', FRSKDClassifier='at',
              CutnMixOnlineDistiller='mix_ce', KDClassifier='kd',
              MixKDClassifier='kd')


@pytest.fixture(scope='module')
def teacher(tmp_path_factory):
    return dtu.teacher_spec(tmp_path_factory.mktemp('t') / 'teacher.pth')[0]


@pytest.mark.parametrize('kind', WITH_T)
@pytest.mark.parametrize('bad', [0, -1, 0.0, -3.5, math.inf, math.nan])
def test_temperature_is_refused_naming_the_key(kind, bad, teacher):
    with pytest.raises(ValueError,
                       match=r'model\.temperature must be a finite number '
                       '> 0'):
        MODELS.build(dtu.method_config(kind, teacher, temperature=bad))


@pytest.mark.parametrize('kind', WITH_T)
@pytest.mark.parametrize('bad', ['three', None, True])
def test_non_numbers_are_refused_as_temperature(kind, bad, teacher):
    with pytest.raises(ValueError,
                       match=r'model\.temperature must be a finite number '
                       '> 0'):
        MODELS.build(dtu.method_config(kind, teacher, temperature=bad))


@pytest.mark.parametrize('kind', WITH_T)
def test_a_good_temperature_is_kept_as_float(kind, teacher):
    model = MODELS.build(dtu.method_config(kind, teacher, temperature=2))
    assert model.temperature == 2.0 and isinstance(model.temperature, float)
    with pytest.raises(ValueError, match='model.temperature'):
        model.temperature = 0  # assigning checks too


@pytest.mark.parametrize('kind', ALL)
@pytest.mark.parametrize('bad', [-0.1, math.inf, math.nan, 'x', None])
def test_loss_weights_are_refused_naming_the_term(kind, bad, teacher):
    name = WEIGHT[kind]
    with pytest.raises(ValueError,
                       match=rf'model\.loss_weights\.{name} must be a '
                       'finite number >= 0'):
        MODELS.build(
            dtu.method_config(kind, teacher, loss_weights={name: bad}))


@pytest.mark.parametrize('kind', ALL)
def test_unknown_loss_weight_names_are_refused(kind, teacher):
    with pytest.raises(KeyError, match=r"Unknown loss weight\(s\) \['cee'\]"
                       '.*valid names'):
        MODELS.build(
            dtu.method_config(kind, teacher, loss_weights=dict(cee=1.0)))


def test_zero_weight_is_allowed(teacher):
    model = MODELS.build(
        dtu.method_config('MixSKDClassifier', teacher,
                          loss_weights=dict(feat=0)))
    assert model.loss_weights['feat'] == 0.0


PRE = dict(type='MixSKDDataPreprocessor')


@pytest.mark.parametrize('settings,match', [
    (dict(alpha=0), r'alpha must be a finite number > 0'),
    (dict(alpha=-0.2), r'alpha must be a finite number > 0'),
    (dict(alpha=math.nan), r'alpha must be a finite number > 0'),
    (dict(alpha=math.inf), r'alpha must be a finite number > 0'),
    (dict(alpha='0.2'), r'alpha must be a finite number > 0'),
    (dict(mix_mode='mixupp'), r'mix_mode must be one of'),
    (dict(mix_mode='cutnmix', num_patches=0), r'num_patches must be an int'),
    (dict(num_patches=2.5), r'num_patches must be an int'),
    (dict(mix_mode='partial_mixup', mixed_fraction=1.5),
     r'mixed_fraction .* \[0, 1\]'),
    (dict(mixed_fraction=-0.1), r'mixed_fraction .* \[0, 1\]'),
    (dict(seed=-1), r'seed must be an int >= 0 or None'),
    (dict(seed=1.5), r'seed must be an int >= 0 or None'),
    (dict(sample_with_replacement='yes'),
     r'sample_with_replacement must be True or False'),
    (dict(channels_last=1), r'channels_last must be True or False'),
])
def test_mixing_settings_are_refused_naming_the_key(settings, match):
    with pytest.raises(ValueError,
                       match=r'model\.data_preprocessor\.' + match):
        MODELS.build(dict(PRE, **settings))


def test_good_mixing_settings_build():
    pre = MODELS.build(
        dict(PRE, mix_mode='partial_mixup', alpha=1, mixed_fraction=0,
             seed=3, sample_with_replacement=True))
    assert pre.alpha == 1.0 and pre.mixed_fraction == 0.0
    MODELS.build(dict(PRE, mix_mode='cutnmix', num_patches=1,
                      mixed_fraction=1))


def test_check_number_returns_float_or_int():
    assert check_number(3, 'model.temperature', 0, low_open=True) == 3.0
    assert isinstance(check_number(3, 'k', 0), float)
    assert check_number(2, 'k', 1, integer=True) == 2
    assert check_number(None, 'k', 0, allow_none=True) is None
    with pytest.raises(ValueError, match=r'^k must be an int >= 1, got 2\.5$'):
        check_number(2.5, 'k', 1, integer=True)
    with pytest.raises(ValueError, match=r"in \[0, 1\], got 'x' \(str\): w"):
        check_number('x', 'k', 0, 1, why='w')


@pytest.mark.parametrize('value', [-1, 0])
@pytest.mark.parametrize('recipe', ['mixskd_r18_cifar100', 'kd_r18_cifar100',
                                    'frskd_r18_cifar100',
                                    'cutnmix_r18_cifar100'])
def test_recipes_refuse_a_bad_temperature_option(recipe, value, tmp_path):
    """What ``--cfg-options model.temperature=...`` does to the config."""
    cfg = dtu.recipe(recipe)
    cfg.merge_from_dict({'model.temperature': value})
    if 'teacher' in cfg.model:
        path = tmp_path / 'teacher.pth'
        dtu.with_tiny_teacher(cfg, dtu.save_teacher(path), path)
    with pytest.raises(ValueError,
                       match=r'model\.temperature must be a finite number '
                       rf'> 0, got {value}(\.0)?:'):
        MODELS.build(cfg.model)


@pytest.mark.parametrize('value', ['-1'])
def test_train_py_refuses_a_bad_temperature_at_build(value, tmp_path):
    """``--cfg-options model.temperature=...`` stops before training."""
    cfg = osp.join(ROOT, 'configs', 'mixskd_r18_cifar100.py')
    proc = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'train.py'), cfg,
         '--work-dir', str(tmp_path), '--cfg-options',
         f'model.temperature={value}'],
        capture_output=True, text=True, timeout=300, cwd=str(tmp_path),
        env=dict(__import__('os').environ, OMP_NUM_THREADS='1'))
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert (f'model.temperature must be a finite number > 0, got '
            f'{float(value)!r}' in out or
            f'model.temperature must be a finite number > 0, got {value}'
            in out), out[-2000:]
    assert 'Epoch(train)' not in out
