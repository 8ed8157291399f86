"""Hooks that stop or warn on what would otherwise pass silently."""
from .non_finite_loss_hook import *  # noqa: F401,F403
from .resume_check_hook import *  # noqa: F401,F403
from .runtime_guards import *  # noqa: F401,F403
