from . import functional, mixskd_losses
from .functional import *  # noqa: F401,F403
from .mixskd_losses import *  # noqa: F401,F403

__all__ = functional.__all__ + mixskd_losses.__all__
