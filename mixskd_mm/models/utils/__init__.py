from . import branches, discriminator, mixing
from .branches import *  # noqa: F401,F403
from .discriminator import *  # noqa: F401,F403
from .mixing import *  # noqa: F401,F403

__all__ = branches.__all__ + discriminator.__all__ + mixing.__all__
