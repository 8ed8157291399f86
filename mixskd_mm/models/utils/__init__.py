from . import (branches, discriminator, mixing, peer, stage_copy_branch,
               teacher)
from .branches import *  # noqa: F401,F403
from .discriminator import *  # noqa: F401,F403
from .mixing import *  # noqa: F401,F403
from .peer import *  # noqa: F401,F403
from .stage_copy_branch import *  # noqa: F401,F403
from .teacher import *  # noqa: F401,F403

__all__ = (branches.__all__ + discriminator.__all__ + mixing.__all__ +
           peer.__all__ + stage_copy_branch.__all__ + teacher.__all__)
