"""DistillClassifier: default preprocessors and the mixing check, for every
method."""
import pytest
from mmpretrain.registry import MODELS

import mixskd_mm  # noqa: F401
from mixskd_mm.models.data_preprocessors import MixSKDDataPreprocessor

BACKBONE = dict(type='ResNet_CIFAR', depth=18, base_channels=8)
HEAD = dict(type='LinearClsHead', num_classes=5, in_channels=64)
# Never loaded: the preprocessor is checked before the teacher is built.
TEACHER = dict(config=dict(type='ImageClassifier'), checkpoint='none.pth')
MIX = dict(type='MixSKDDataPreprocessor')
PLAIN = dict(type='ClsDataPreprocessor')


def cfg(kind, **kwargs):
    backbone = dict(BACKBONE)
    if kind in ('MixSKDClassifier', 'FRSKDClassifier'):
        backbone['out_indices'] = (0, 1, 2, 3)
    if kind in ('KDClassifier', 'MixKDClassifier'):
        kwargs['teacher'] = TEACHER
    return dict(type=kind, backbone=backbone, head=HEAD, **kwargs)


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
