"""Stage adapters: how the stage-reading methods see each backbone family."""
from .base import STAGE_ADAPTERS, Stage, StageAdapter, stage_adapter
from .convnext import ConvNeXtStages
from .mobilenet_v2 import MobileNetV2Stages
from .resnet import ResNetStages
from .swin import SwinStages

__all__ = [
    'STAGE_ADAPTERS', 'Stage', 'StageAdapter', 'stage_adapter',
    'ResNetStages', 'ConvNeXtStages', 'SwinStages', 'MobileNetV2Stages'
]
