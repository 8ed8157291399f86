"""Loss terms: shared ones in ``functional``, the others per method.

Every function that computes a loss-dict entry is named after its key
(``loss_feat`` -> :func:`mixskd_losses.loss_feat`). The shared terms
(``loss_ce``, ``loss_mix_ce``, ``loss_kd``) and primitives are exported
here, and so are the loss modules a head can use as its ``loss`` (the
softmax focal and maximum-entropy losses); the per-method modules share
key names (``loss_mutual_kd`` of MixSKD and of Cut^nMix, ``loss_kd`` of
BYOT), so import their functions from the module.
"""
from . import (bake_losses, byot_losses, cskd_losses, cutnmix_losses,
               ddgsd_losses, dks_losses, frskd_losses, functional,
               mixskd_losses, pskd_losses, sad_losses, tfkd_losses)
from .focal_loss import SoftmaxFocalLoss, softmax_focal_loss
from .functional import *  # noqa: F401,F403
from .maxent_loss import MaxEntropyLoss, max_entropy_loss

#: The per-method modules, imported as modules (their key names overlap).
METHOD_LOSSES = [
    'bake_losses', 'byot_losses', 'cskd_losses', 'cutnmix_losses',
    'ddgsd_losses', 'dks_losses', 'frskd_losses', 'mixskd_losses',
    'pskd_losses', 'sad_losses', 'tfkd_losses'
]
__all__ = functional.__all__ + METHOD_LOSSES + [
    'SoftmaxFocalLoss', 'softmax_focal_loss', 'MaxEntropyLoss',
    'max_entropy_loss'
]
