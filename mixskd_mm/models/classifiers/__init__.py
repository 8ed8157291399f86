from .base import DistillClassifier
from .mixskd import MixSKDClassifier

__all__ = ['DistillClassifier', 'MixSKDClassifier']
