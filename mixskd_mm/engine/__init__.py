"""Runtime pieces: the strict backbone loader, CPU mixed precision."""
from .atomic_checkpoint import *  # noqa: F401,F403
from .cpu_amp import *  # noqa: F401,F403
from .distributed import *  # noqa: F401,F403
from .hooks import *  # noqa: F401,F403
from .lr_warmup import *  # noqa: F401,F403
from .strict_load import *  # noqa: F401,F403
from .strict_pretrained import *  # noqa: F401,F403
from .torch_default_init import *  # noqa: F401,F403
