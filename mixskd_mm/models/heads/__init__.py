"""Classification heads."""
from .virtual_softmax_head import VirtualSoftmaxHead

__all__ = ['VirtualSoftmaxHead']
