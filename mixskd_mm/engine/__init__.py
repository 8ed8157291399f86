"""Runtime pieces: the strict backbone loader, CPU mixed precision."""
from .cpu_amp import *  # noqa: F401,F403
from .distributed import *  # noqa: F401,F403
from .lr_warmup import *  # noqa: F401,F403
from .strict_pretrained import *  # noqa: F401,F403
