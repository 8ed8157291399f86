"""torchvision kernels standing in for mmcv's ``nms`` and ``roi_align``.

mmcv's Python ops call a compiled extension module (``mmcv._ext``) held in a
module global, ``ext_module``, of ``mmcv/ops/nms.py`` and
``mmcv/ops/roi_align.py``. An mmcv built without CUDA (``FORCE_CUDA=0``, or
a CPU wheel) has only CPU kernels there, so the first NMS on a CUDA tensor
stops with ``nms_impl: implementation for device cuda:0 not found``.

:class:`TorchvisionFallbackExt` wraps the real extension module: the three
calls that Faster R-CNN needs (``nms``, ``roi_align_forward``,
``roi_align_backward``) go to torchvision's kernels for the tensors that
``routes`` selects (CUDA tensors by default) and to mmcv's own kernels for
every other tensor; every other attribute is mmcv's. Because it replaces the
extension below mmcv's Python code, ``mmcv.ops.nms``, ``batched_nms``
(what mmdet's RPN and RoI heads call), ``NMSop``, ``roi_align`` and the
``RoIAlign`` module that mmdet's RoI extractors build all keep their own
argument handling (score threshold, ``max_num``, output shapes, autograd).

Semantics carried over (the tests compare both on the same inputs):

- ``nms``: mmcv's ``offset`` (0 or 1) adds ``offset`` to widths and heights
  in both the areas and the intersection; adding it to ``x2, y2`` before
  torchvision's offset-free IoU gives the same IoU. Indices come back sorted
  by decreasing score, as mmcv's.
- ``roi_align``: mmcv's and torchvision's ``aligned`` flag, ``spatial_scale``
  and ``sampling_ratio`` (0: adaptive ``ceil(roi_size / output_size)``)
  mean the same; only average pooling exists in torchvision, so mmcv's
  ``pool_mode='max'`` raises here.
"""
from typing import Any, Callable

import torch
from torch import Tensor

__all__ = ['tv_nms', 'tv_roi_align_forward', 'tv_roi_align_backward',
           'TorchvisionFallbackExt', 'is_cuda']


def is_cuda(tensor: Tensor) -> bool:
    """Default route: tensors on a CUDA device."""
    return tensor.is_cuda


def tv_nms(bboxes: Tensor, scores: Tensor, iou_threshold: float,
           offset: int = 0) -> Tensor:
    """NMS with mmcv's semantics on torchvision's kernel.

    Args:
        bboxes (Tensor): Boxes ``(N, 4)`` as ``(x1, y1, x2, y2)``.
        scores (Tensor): Scores ``(N,)``.
        iou_threshold (float): Boxes overlapping a kept box by more than
            this IoU are dropped.
        offset (int): mmcv's box offset, 0 or 1. Defaults to 0.

    Returns:
        Tensor: Kept indices ``(K,)`` (int64), by decreasing score.
    """
    import torchvision
    if offset not in (0, 1):
        raise ValueError(f'nms offset must be 0 or 1, got {offset}')
    if offset:
        bboxes = bboxes.clone()
        bboxes[:, 2:] += offset
    return torchvision.ops.nms(bboxes, scores, float(iou_threshold))


def _check_avg(pool_mode: int) -> None:
    if pool_mode != 1:
        raise NotImplementedError(
            "RoIAlign(pool_mode='max') has no torchvision kernel: the "
            "torchvision fallback for mmcv built without CUDA only pools "
            "with 'avg'. Use pool_mode='avg' or build mmcv with its CUDA "
            'kernels (FORCE_SETUP=1 bash tools/setup_env.sh on the GPU '
            'machine).')


def tv_roi_align_forward(input: Tensor, rois: Tensor, aligned_height: int,
                         aligned_width: int, spatial_scale: float,
                         sampling_ratio: int, aligned: bool) -> Tensor:
    """RoIAlign (average pooling) with mmcv's semantics on torchvision.

    Args:
        input (Tensor): Feature map ``(B, C, H, W)``.
        rois (Tensor): ``(R, 5)`` rows ``(batch_index, x1, y1, x2, y2)`` in
            input-image coordinates (scaled by ``spatial_scale``).
        aligned_height (int): Output height.
        aligned_width (int): Output width.
        spatial_scale (float): Feature-map size over image size.
        sampling_ratio (int): Samples per bin side; 0 means adaptive.
        aligned (bool): Shift box coordinates by -0.5 pixel (Detectron2).

    Returns:
        Tensor: Pooled features ``(R, C, aligned_height, aligned_width)``.
    """
    import torchvision  # noqa: F401  (registers torch.ops.torchvision)
    return torch.ops.torchvision.roi_align(
        input, rois.to(input.dtype), float(spatial_scale),
        int(aligned_height), int(aligned_width), int(sampling_ratio),
        bool(aligned))


def tv_roi_align_backward(grad_output: Tensor, rois: Tensor,
                          input_shape: torch.Size, aligned_height: int,
                          aligned_width: int, spatial_scale: float,
                          sampling_ratio: int, aligned: bool) -> Tensor:
    """Gradient of :func:`tv_roi_align_forward` w.r.t. its input.

    Args:
        grad_output (Tensor): ``(R, C, aligned_height, aligned_width)``.
        rois (Tensor): The forward's ``(R, 5)`` RoIs.
        input_shape (torch.Size): The forward input's ``(B, C, H, W)``.
        aligned_height, aligned_width, spatial_scale, sampling_ratio,
        aligned: As in the forward.

    Returns:
        Tensor: Gradient ``(B, C, H, W)``.
    """
    import torchvision  # noqa: F401
    batch, channels, height, width = input_shape
    return torch.ops.torchvision._roi_align_backward(
        grad_output.contiguous(), rois.to(grad_output.dtype),
        float(spatial_scale), int(aligned_height), int(aligned_width),
        int(batch), int(channels), int(height), int(width),
        int(sampling_ratio), bool(aligned))


class TorchvisionFallbackExt:
    """mmcv's extension module with torchvision NMS/RoIAlign for some tensors.

    Args:
        ext (module): mmcv's loaded extension (``mmcv.ops.nms.ext_module``).
        routes (callable): ``routes(tensor) -> bool``: True sends the call
            to torchvision. Defaults to :func:`is_cuda`.
    """

    def __init__(self, ext: Any, routes: Callable[[Tensor], bool] = is_cuda):
        self._ext = ext
        self._routes = routes

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ext, name)

    def nms(self, bboxes: Tensor, scores: Tensor, iou_threshold: float,
            offset: int) -> Tensor:
        """``ext_module.nms``: kept indices ``(K,)``."""
        if self._routes(bboxes):
            return tv_nms(bboxes, scores, iou_threshold, offset)
        return self._ext.nms(
            bboxes, scores, iou_threshold=iou_threshold, offset=offset)

    def roi_align_forward(self, input: Tensor, rois: Tensor, output: Tensor,
                          argmax_y: Tensor, argmax_x: Tensor, **kw) -> None:
        """``ext_module.roi_align_forward``: fills ``output`` in place."""
        if not self._routes(input):
            return self._ext.roi_align_forward(input, rois, output, argmax_y,
                                               argmax_x, **kw)
        _check_avg(kw['pool_mode'])
        output.copy_(
            tv_roi_align_forward(input, rois, kw['aligned_height'],
                                 kw['aligned_width'], kw['spatial_scale'],
                                 kw['sampling_ratio'], kw['aligned']))

    def roi_align_backward(self, grad_output: Tensor, rois: Tensor,
                           argmax_y: Tensor, argmax_x: Tensor,
                           grad_input: Tensor, **kw) -> None:
        """``ext_module.roi_align_backward``: fills ``grad_input``."""
        if not self._routes(grad_output):
            return self._ext.roi_align_backward(grad_output, rois, argmax_y,
                                                argmax_x, grad_input, **kw)
        _check_avg(kw['pool_mode'])
        grad_input.copy_(
            tv_roi_align_backward(grad_output, rois, grad_input.shape,
                                  kw['aligned_height'], kw['aligned_width'],
                                  kw['spatial_scale'], kw['sampling_ratio'],
                                  kw['aligned']))
