"""DistillClassifier: default preprocessors and the mixing check, for every
method."""
import copy

import pytest
import torch
from mmpretrain.registry import MODELS

import mixskd_mm  # noqa: F401
from mixskd_mm.models.data_preprocessors import MixSKDDataPreprocessor

import distill_test_utils as dtu

# Never loaded: the preprocessor is checked before the teacher is built.
TEACHER = dict(config=dict(type='ImageClassifier'), checkpoint='none.pth')
MIX = dict(type='MixSKDDataPreprocessor')
PLAIN = dict(type='ClsDataPreprocessor')


def cfg(kind, **kwargs):
    return dtu.method_config(kind, TEACHER, **kwargs)


@pytest.mark.parametrize('kind,kwargs', [
    ('MixSKDClassifier', {}),
    ('CutnMixOnlineDistiller', {}),
    ('MixKDClassifier', {}),
    ('FRSKDClassifier', dict(train_on='mixed')),
])
def test_mixing_methods_refuse_a_plain_preprocessor(kind, kwargs):
    with pytest.raises(ValueError, match=f'{kind} trains on the mixed batch'
                       r'.*got ClsDataPreprocessor'):
        MODELS.build(cfg(kind, data_preprocessor=PLAIN, **kwargs))


@pytest.mark.parametrize('kind,kwargs', [
    ('KDClassifier', {}),
    ('FRSKDClassifier', dict(train_on='original')),
])
def test_original_batch_methods_refuse_a_mixing_preprocessor(kind, kwargs):
    with pytest.raises(ValueError, match=f'{kind} trains on the original '
                       'batch here and would ignore'):
        MODELS.build(cfg(kind, data_preprocessor=MIX, **kwargs))


@pytest.mark.parametrize('kind,kwargs,mode', [
    ('MixSKDClassifier', {}, 'mixup'),
    ('CutnMixOnlineDistiller', {}, 'cutnmix'),
    ('FRSKDClassifier', dict(train_on='mixed'), 'mixup'),
    ('FRSKDClassifier', dict(train_on='original'), None),
])
def test_default_preprocessor_per_method(kind, kwargs, mode):
    # A dict without `type` keeps its settings and gets the method's default.
    model = MODELS.build(
        cfg(kind, data_preprocessor=dict(mean=[1.] * 3, std=[2.] * 3),
            **kwargs))
    pre = model.data_preprocessor
    assert pre.mean.flatten().tolist() == [1.] * 3
    if mode is None:
        assert not isinstance(pre, MixSKDDataPreprocessor)
    else:
        assert pre.mix_mode == mode


ALL_KINDS = [('MixSKDClassifier', {}), ('CutnMixOnlineDistiller', {}),
             ('MixKDClassifier', {}), ('KDClassifier', {}),
             ('FRSKDClassifier', dict(train_on='mixed')),
             ('FRSKDClassifier', dict(train_on='original'))]


@pytest.mark.parametrize('kind,kwargs', ALL_KINDS)
def test_a_head_loss_the_terms_cannot_honour_is_refused(kind, kwargs):
    head = dict(dtu.tiny_head(),
                loss=dict(type='CrossEntropyLoss', use_soft=True))
    with pytest.raises(ValueError, match=f'{kind} cannot honour '
                       r'model\.head\.loss=CrossEntropyLoss: use_soft'):
        MODELS.build(dict(cfg(kind, **kwargs), head=head))


# The supervised terms of each method (and their keys, which say whether
# the batch is mixed); every other term has no label and must not move.
CE_TERMS = {
    'MixSKDClassifier': {'loss_ce', 'loss_mix_ce', 'loss_teacher_mix_ce'},
    'CutnMixOnlineDistiller': {'loss_mix_ce'},
    'MixKDClassifier': {'loss_mix_ce'},
    'KDClassifier': {'loss_ce'},
    'FRSKDClassifier': {'loss_ce', 'loss_teacher_ce'},
}


@pytest.mark.parametrize('kind,kwargs', ALL_KINDS)
def test_every_supervised_term_goes_through_the_head_loss(
        kind, kwargs, tmp_path):
    """A head ``loss_weight`` of 3 triples exactly the CE terms (branch,
    teacher and peer heads included), and nothing else."""
    base = cfg(kind, **kwargs)
    if 'teacher' in base:
        base['teacher'] = dtu.teacher_spec(tmp_path / 't.pth')[0]
    pre = dict(mean=[127.5] * 3, std=[64.] * 3)
    if kind != 'KDClassifier' and kwargs.get('train_on') != 'original':
        pre.update(type='MixSKDDataPreprocessor', seed=0)
    base['data_preprocessor'] = pre
    heavy = copy.deepcopy(base)
    heavy['head'] = dict(dtu.tiny_head(),
                         loss=dict(type='CrossEntropyLoss', loss_weight=3.0))
    ref = dtu.losses_of(dtu.build(base), dtu.batch())
    got = dtu.losses_of(dtu.build(heavy), dtu.batch())
    terms = set(CE_TERMS[kind])
    if kwargs.get('train_on') == 'mixed':
        terms = {'loss_mix_ce', 'loss_teacher_mix_ce'}
    assert terms <= set(got) and set(got) == set(ref)
    for key in got:
        factor = 3.0 if key in terms else 1.0
        torch.testing.assert_close(got[key], factor * ref[key], msg=key)
