"""Runtime pieces: the strict backbone loader and the CPU mixed-precision wrapper."""
from .cpu_amp import *  # noqa: F401,F403
from .strict_pretrained import *  # noqa: F401,F403
