"""Hooks that stop or warn on what would otherwise pass silently."""
from .label_range_hook import *  # noqa: F401,F403
from .non_finite_loss_hook import *  # noqa: F401,F403
from .preemption_hook import *  # noqa: F401,F403
from .resume_check_hook import *  # noqa: F401,F403
from .runtime_guards import *  # noqa: F401,F403
from .safe_checkpoint_hook import *  # noqa: F401,F403
