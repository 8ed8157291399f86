from .base import DistillClassifier
from .cutnmix import CutnMixOnlineDistiller
from .frskd import FRSKDClassifier
from .kd import KDClassifier
from .mixkd import MixKDClassifier
from .mixskd import MixSKDClassifier

__all__ = [
    'DistillClassifier', 'MixSKDClassifier', 'FRSKDClassifier',
    'CutnMixOnlineDistiller', 'MixKDClassifier', 'KDClassifier'
]
