from .bake import BAKEClassifier
from .base import DistillClassifier
from .byot import BYOTClassifier
from .cskd import CSKDClassifier
from .cutnmix import CutnMixOnlineDistiller
from .ddgsd import DDGSDClassifier
from .dks import DKSClassifier
from .frskd import FRSKDClassifier
from .kd import KDClassifier
from .manifold_mixup import ManifoldMixupClassifier
from .mixkd import MixKDClassifier
from .mixskd import MixSKDClassifier
from .pskd import PSKDClassifier
from .sad import SADClassifier
from .tfkd import TfKDRegClassifier

__all__ = [
    'DistillClassifier', 'MixSKDClassifier', 'FRSKDClassifier',
    'CutnMixOnlineDistiller', 'MixKDClassifier', 'KDClassifier',
    'BYOTClassifier', 'DKSClassifier', 'SADClassifier', 'TfKDRegClassifier',
    'CSKDClassifier', 'BAKEClassifier', 'PSKDClassifier', 'DDGSDClassifier',
    'ManifoldMixupClassifier'
]
