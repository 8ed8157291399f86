from . import (cutnmix_losses, frskd_losses, functional, kd_losses,
               mixkd_losses, mixskd_losses)
from .cutnmix_losses import *  # noqa: F401,F403
from .frskd_losses import *  # noqa: F401,F403
from .functional import *  # noqa: F401,F403
from .kd_losses import *  # noqa: F401,F403
from .mixkd_losses import *  # noqa: F401,F403
from .mixskd_losses import *  # noqa: F401,F403

__all__ = (
    functional.__all__ + mixskd_losses.__all__ + frskd_losses.__all__ +
    cutnmix_losses.__all__ + mixkd_losses.__all__ + kd_losses.__all__)
