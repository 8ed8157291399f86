"""A frozen, pre-trained teacher for teacher-student distillation.

Shared by :class:`KDClassifier` (Hinton et al., 2015) and
:class:`MixKDClassifier` (Choi et al., WACV 2023): both read the logits of a
classifier that was trained before and must never change.
"""
import copy
import os.path as osp
from typing import Optional, Union

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.model import BaseModule
from mmengine.runner import load_checkpoint
from mmpretrain.registry import MODELS
from torch import Tensor

__all__ = ['FrozenTeacher']

# Keys of a teacher model config that only matter for training the teacher
# itself: its batch augments and its own input normalisation.
_TRAINING_ONLY_KEYS = ('data_preprocessor', 'train_cfg')


def _normalization(model_cfg: dict, root_cfg: Optional[Config]) -> dict:
    """The ``mean``/``std``/``to_rgb`` the teacher was trained with, if known.

    mmengine's Runner lets ``model.data_preprocessor`` win over a top-level
    ``data_preprocessor``; so does this.
    """
    preprocessor = model_cfg.get('data_preprocessor')
    if preprocessor is None and root_cfg is not None:
        preprocessor = root_cfg.get('data_preprocessor')
    return {
        k: v
        for k, v in dict(preprocessor or {}).items()
        if k in ('mean', 'std', 'to_rgb') and v is not None
    }


@MODELS.register_module()
class FrozenTeacher(BaseModule):
    """A classifier built from a config and a checkpoint that never trains.

    - **Built** from ``config``: a path to a config file (its ``model`` is
      used) or a model dict. Its ``data_preprocessor`` and ``train_cfg`` are
      dropped: the teacher reads the student's normalised (and possibly
      mixed) batch, so it must have been trained with the same normalisation
      (:meth:`check_compatible` compares them when the config says).
    - **Weights** from ``checkpoint`` with mmengine's ``load_checkpoint``,
      ``strict=True``: once when built, so a missing or mismatched file fails
      at build time, and again in :meth:`init_weights`, so that the Runner's
      ``model.init_weights()`` (or an ``init_cfg`` of an enclosing module)
      never leaves the teacher randomly initialised.
    - **Frozen**: ``requires_grad`` is False for every parameter (the
      optimiser never updates them: they never get a gradient), the forward
      pass runs under ``torch.no_grad()``, and :meth:`train` keeps the module
      in eval mode (BN uses the teacher's running statistics).
    - **Saved** with the student: its weights are part of the student's
      state dict (under ``teacher.model.*``), as in mmrazor's distillers, so
      a checkpoint records which teacher trained it and loads with
      ``strict=True``; ``tools/export_backbone.py`` keeps only
      ``backbone.*``. The checkpoint file must still exist when a run is
      built or resumed.

    Args:
        config (str | dict): Path of the teacher's config file, or its model
            dict (e.g. ``dict(type='ImageClassifier', backbone=..., ...)``).
        checkpoint (str): Its weights: a local path (or a URL mmengine can
            load), an mmengine checkpoint ``{'state_dict': ...}`` or a bare
            state dict with the model's keys (``backbone.*``, ``head.*``).

    Shapes:
        input: (N, C, H, W) normalised images.
        output: (N, num_classes) logits.
    """

    def __init__(self, config: Union[str, dict], checkpoint: str):
        super().__init__(init_cfg=None)
        if not isinstance(checkpoint, str) or not checkpoint:
            raise ValueError(
                'The teacher needs the path of its trained weights: set '
                f'teacher.checkpoint, got {checkpoint!r}')
        self.checkpoint = checkpoint
        model_cfg, root_cfg = self._model_config(config)
        self.source = config if isinstance(config, str) else 'a model dict'
        self.normalization = _normalization(model_cfg, root_cfg)
        for key in _TRAINING_ONLY_KEYS:
            model_cfg.pop(key, None)
        self.model = MODELS.build(model_cfg)
        self.load_weights()
        self.requires_grad_(False)
        self.train(False)

    @staticmethod
    def _model_config(config: Union[str, dict]):
        """``(model dict, whole config or None)`` of a path or model dict."""
        if isinstance(config, str):
            if not osp.isfile(config):
                raise FileNotFoundError(
                    f'Teacher config {config!r} not found; set '
                    'teacher.config to a config file (relative paths are '
                    'read from the working directory) or to a model dict.')
            root = Config.fromfile(config)
            if 'model' not in root:
                raise KeyError(f'Teacher config {config!r} has no `model`')
            return copy.deepcopy(root.model.to_dict()), root
        if isinstance(config, dict):
            return copy.deepcopy(dict(config)), None
        raise TypeError('teacher.config must be a config path or a model '
                        f'dict, got {type(config).__name__}')

    def load_weights(self) -> None:
        """Load ``checkpoint`` into the teacher, strictly.

        Raises:
            FileNotFoundError: When the local file does not exist.
            RuntimeError: When its keys or shapes do not match the model.
        """
        if '://' not in self.checkpoint and not osp.isfile(self.checkpoint):
            raise FileNotFoundError(
                f'Teacher checkpoint {self.checkpoint!r} not found. Train '
                f'the teacher first ({self.source}) and put its last '
                'checkpoint there, or set model.teacher.checkpoint=PATH.')
        try:
            load_checkpoint(
                self.model,
                self.checkpoint,
                map_location='cpu',
                strict=True,
                logger='current')
        except RuntimeError as err:
            raise RuntimeError(
                f'Teacher checkpoint {self.checkpoint!r} does not match the '
                f'teacher built from {self.source}: check that '
                'teacher.config is the config it was trained with (depth, '
                f'widths, num_classes). mmengine says: {err}') from err

    def init_weights(self) -> None:
        """Reload the checkpoint instead of initialising randomly."""
        self.load_weights()

    def train(self, mode: bool = True) -> 'FrozenTeacher':
        """Stay in eval mode whatever ``mode`` is asked for."""
        return super().train(False)

    @torch.no_grad()
    def forward(self, inputs: Tensor) -> Tensor:
        """The teacher's logits, (N, num_classes), without a graph."""
        return self.model(inputs, mode='tensor')

    def check_compatible(self, head: nn.Module,
                         data_preprocessor: nn.Module) -> None:
        """Refuse a student that the teacher cannot teach.

        Args:
            head (nn.Module): The student's head; its ``num_classes`` must be
                the teacher's.
            data_preprocessor (nn.Module): The student's preprocessor; when
                both it and the teacher's config normalise, ``mean``, ``std``
                and ``to_rgb`` must agree (the teacher reads its output).

        Raises:
            ValueError: Naming the values that differ.
        """
        teacher_classes = getattr(self.model.head, 'num_classes', None)
        student_classes = getattr(head, 'num_classes', None)
        if None not in (teacher_classes, student_classes) and (
                teacher_classes != student_classes):
            raise ValueError(
                f'The teacher ({self.source}) predicts {teacher_classes} '
                f'classes, the student head {student_classes}: use a '
                'teacher trained on the same dataset.')
        if not getattr(data_preprocessor, '_enable_normalize', False):
            return
        student = dict(
            mean=data_preprocessor.mean.flatten().tolist(),
            std=data_preprocessor.std.flatten().tolist(),
            to_rgb=bool(getattr(data_preprocessor, 'to_rgb', False)))
        for key, value in self.normalization.items():
            same = (
                value == student[key] if key == 'to_rgb' else
                np.allclose(value, student[key], rtol=1e-4, atol=1e-3))
            if not same:
                raise ValueError(
                    f'The teacher ({self.source}) was trained with '
                    f'{key}={value}, the student normalises with '
                    f'{key}={student[key]}. The teacher reads the '
                    "student's normalised batch: give both the same "
                    'data_preprocessor settings.')
