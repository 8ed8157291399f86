"""Loss terms: shared ones in ``functional``, the others per method.

Every function that computes a loss-dict entry is named after its key
(``loss_feat`` -> :func:`mixskd_losses.loss_feat`). The shared terms
(``loss_ce``, ``loss_mix_ce``, ``loss_kd``) and primitives are exported
here; the per-method modules share key names (``loss_mutual_kd`` of MixSKD
and of Cut^nMix), so import their functions from the module.
"""
from . import cutnmix_losses, frskd_losses, functional, mixskd_losses
from .functional import *  # noqa: F401,F403

__all__ = functional.__all__ + [
    'cutnmix_losses', 'frskd_losses', 'mixskd_losses'
]
