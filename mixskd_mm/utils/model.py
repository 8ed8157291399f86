"""Reaching the model inside the wrappers a Runner puts around it."""
import torch.nn as nn
from mmengine.model import BaseTTAModel, is_model_wrapper

__all__ = ['unwrap_model']


def unwrap_model(model: nn.Module) -> nn.Module:
    """The model itself: without a DDP/FSDP wrapper and a TTA wrapper.

    Hooks and checkpoint checks need the model's own modules and state dict
    keys; ``tools/test.py --tta`` wraps it in a ``BaseTTAModel`` whose
    ``module`` is the model (inside any distributed wrapper).

    Args:
        model (nn.Module): ``runner.model`` or any module.

    Returns:
        nn.Module: The innermost model.
    """
    if is_model_wrapper(model):
        model = model.module
    if isinstance(model, BaseTTAModel):
        model = model.module
    return model
