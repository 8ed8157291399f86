"""Models: preprocessors, necks, heads, losses, distillation classifiers and
the stage adapters of the backbone families they read."""
from .classifiers import *  # noqa: F401,F403
from .data_preprocessors import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .necks import *  # noqa: F401,F403
from .stages import *  # noqa: F401,F403
