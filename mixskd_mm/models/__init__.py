"""Models: data preprocessors, necks, losses and the distillation classifiers."""
from .classifiers import *  # noqa: F401,F403
from .data_preprocessors import *  # noqa: F401,F403
from .necks import *  # noqa: F401,F403
