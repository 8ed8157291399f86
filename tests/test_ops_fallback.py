"""The torchvision fallback for mmcv's nms/roi_align gives mmcv's results.

mmcv always has its CPU kernels, so the fallback is exercised by routing CPU
tensors to torchvision (``routes=lambda t: True``) through the very
functions mmdet calls (``mmcv.ops.batched_nms``, ``nms``, the ``RoIAlign``
module its RoI extractors build) and comparing with mmcv's own CPU kernels
on the same inputs. Which state ``import mixskd_mm`` left depends on the
machine (a GPU, a CPU-only or a CUDA mmcv); the tests that depend on it say
so, and the ``gpu`` ones run where a GPU is visible.
"""
import importlib

import pytest
import torch
from mmcv import ops as mmcv_ops

from mixskd_mm.ops import (TorchvisionFallbackExt, fallback_active,
                           install_torchvision_fallback, mmcv_has_cuda_kernels,
                           tv_nms, tv_roi_align_forward,
                           uninstall_torchvision_fallback)
from mixskd_mm.ops.cuda_archs import kernel_archs, mmcv_ext_path
from mixskd_mm.ops.fallback import enable_cuda_fallback_if_needed

#: ``import mixskd_mm`` installs the fallback exactly here: a GPU meets an
#: mmcv without CUDA kernels.
FALLBACK_AT_IMPORT = torch.cuda.is_available() and not mmcv_has_cuda_kernels()


def _ext(module):
    """The ``ext_module`` that mmcv's module ``module`` calls now."""
    return importlib.import_module(module).ext_module


def _route_all(tensor):
    return True


@pytest.fixture(autouse=True)
def keep_import_state():
    """Put back the fallback ``import mixskd_mm`` installed, if any."""
    yield
    if FALLBACK_AT_IMPORT and not fallback_active():
        install_torchvision_fallback()


@pytest.fixture
def fallback():
    """Install the fallback for CPU tensors; always uninstall."""
    install_torchvision_fallback(routes=_route_all)
    yield
    uninstall_torchvision_fallback()


def _random_boxes(n, seed):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g) * 60
    wh = torch.rand(n, 2, generator=g) * 30 + 2
    scores = torch.rand(n, generator=g)
    return torch.cat([xy, xy + wh], 1), scores


def test_import_installed_the_fallback_only_for_a_gpu_and_cpu_only_mmcv():
    # mmcv's own answer agrees with the kernels in its shared object.
    assert mmcv_has_cuda_kernels() == bool(kernel_archs(mmcv_ext_path()))
    assert fallback_active() == FALLBACK_AT_IMPORT
    assert isinstance(_ext('mmcv.ops.nms'),
                      TorchvisionFallbackExt) == FALLBACK_AT_IMPORT
    assert enable_cuda_fallback_if_needed(cuda_available=False) is False
    assert fallback_active() == FALLBACK_AT_IMPORT


def test_enable_installs_and_warns_only_with_a_cpu_only_mmcv():
    uninstall_torchvision_fallback()
    if mmcv_has_cuda_kernels():
        # A CUDA mmcv is never patched, GPU or not.
        assert enable_cuda_fallback_if_needed(cuda_available=True) is False
        assert not fallback_active()
        return
    try:
        with pytest.warns(UserWarning, match='torchvision'):
            assert enable_cuda_fallback_if_needed(cuda_available=True)
        assert fallback_active()
        ext = _ext('mmcv.ops.nms')
        assert isinstance(ext, TorchvisionFallbackExt)
        # CPU tensors still go to mmcv's kernel; only CUDA ones are routed.
        assert not ext._routes(torch.zeros(1))
        assert enable_cuda_fallback_if_needed(cuda_available=True) is False
    finally:
        uninstall_torchvision_fallback()
    assert not isinstance(_ext('mmcv.ops.nms'),
                          TorchvisionFallbackExt)


@pytest.mark.gpu
def test_nms_and_roi_align_on_the_gpu_match_the_cpu():
    # Native CUDA kernels or the fallback, whichever this machine has.
    boxes, scores = _random_boxes(300, seed=7)
    _, ref_keep = mmcv_ops.nms(boxes, scores, 0.5)
    _, keep = mmcv_ops.nms(boxes.cuda(), scores.cuda(), 0.5)
    assert keep.is_cuda and 5 < len(ref_keep) < 300
    assert torch.equal(keep.cpu(), ref_keep)
    feats, rois = _feats_and_rois(seed=9)
    layer = mmcv_ops.RoIAlign((7, 7), 0.5, 0, aligned=True)
    ref = layer(feats, rois)
    out = layer(feats.cuda(), rois.cuda())
    assert out.is_cuda and ref.abs().sum() > 0
    torch.testing.assert_close(out.cpu(), ref, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize('offset', [0, 1])
@pytest.mark.parametrize('thr', [0.3, 0.5, 0.7])
def test_nms_same_kept_boxes(offset, thr):
    boxes, scores = _random_boxes(200, seed=int(thr * 10) + offset)
    ref_dets, ref_keep = mmcv_ops.nms(boxes, scores, thr, offset=offset)
    keep = tv_nms(boxes, scores, thr, offset=offset)
    assert 5 < len(keep) < 200
    assert torch.equal(keep, ref_keep)
    install_torchvision_fallback(routes=_route_all)
    try:
        dets, keep2 = mmcv_ops.nms(boxes, scores, thr, offset=offset)
    finally:
        uninstall_torchvision_fallback()
    assert torch.equal(keep2, ref_keep)
    assert torch.equal(dets, ref_dets)


def test_batched_nms_as_mmdet_calls_it():
    boxes, scores = _random_boxes(300, seed=3)
    idxs = torch.arange(300) % 4
    cfg = dict(type='nms', iou_threshold=0.5)
    ref_dets, ref_keep = mmcv_ops.batched_nms(boxes, scores, idxs, cfg)
    install_torchvision_fallback(routes=_route_all)
    try:
        from mmdet.models.layers import multiclass_nms  # noqa: F401
        dets, keep = mmcv_ops.batched_nms(boxes, scores, idxs, cfg)
        # score_threshold and max_num are still mmcv's own handling.
        _, keep_thr = mmcv_ops.nms(boxes, scores, 0.5, score_threshold=0.5,
                                   max_num=7)
    finally:
        uninstall_torchvision_fallback()
    assert torch.equal(keep, ref_keep) and torch.equal(dets, ref_dets)
    _, ref_thr = mmcv_ops.nms(boxes, scores, 0.5, score_threshold=0.5,
                              max_num=7)
    assert len(keep_thr) == 7 and torch.equal(keep_thr, ref_thr)


def _feats_and_rois(seed):
    g = torch.Generator().manual_seed(seed)
    feats = torch.randn(2, 3, 16, 20, generator=g)
    xy = torch.rand(12, 2, generator=g) * 50
    wh = torch.rand(12, 2, generator=g) * 40 + 0.3  # some RoIs under 1 px
    idx = (torch.arange(12) % 2).float()[:, None]
    return feats, torch.cat([idx, xy, xy + wh], 1)


@pytest.mark.parametrize('aligned', [True, False])
@pytest.mark.parametrize('sampling_ratio', [0, 2])
@pytest.mark.parametrize('scale', [0.25, 0.5])
def test_roi_align_same_features_and_grads(aligned, sampling_ratio, scale):
    feats, rois = _feats_and_rois(seed=sampling_ratio + int(aligned))
    layer = mmcv_ops.RoIAlign((7, 7), scale, sampling_ratio, aligned=aligned)
    x_ref = feats.clone().requires_grad_()
    ref = layer(x_ref, rois)
    direct = tv_roi_align_forward(feats, rois, 7, 7, scale, sampling_ratio,
                                  aligned)
    torch.testing.assert_close(direct, ref, atol=1e-5, rtol=1e-5)
    w = torch.randn_like(ref)
    (ref * w).sum().backward()

    x_fb = feats.clone().requires_grad_()
    install_torchvision_fallback(routes=_route_all)
    try:
        out = layer(x_fb, rois)
        (out * w).sum().backward()
    finally:
        uninstall_torchvision_fallback()
    assert out.shape == (12, 3, 7, 7)
    assert ref.abs().sum() > 0
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(x_fb.grad, x_ref.grad, atol=1e-5, rtol=1e-5)


def test_mmdet_roi_extractor_goes_through_fallback(fallback):
    from mmdet.models.roi_heads.roi_extractors import SingleRoIExtractor
    extractor = SingleRoIExtractor(
        roi_layer=dict(type='RoIAlign', output_size=7, sampling_ratio=0),
        out_channels=3, featmap_strides=[4, 8])
    feats, rois = _feats_and_rois(seed=5)
    feats = (feats, feats[:, :, ::2, ::2].contiguous())
    calls = []
    ext = _ext('mmcv.ops.roi_align')
    assert isinstance(ext, TorchvisionFallbackExt)
    ext._routes = lambda t: calls.append(t.shape) or True
    out = extractor(feats, rois)
    assert out.shape == (12, 3, 7, 7) and len(calls) >= 1


def test_max_pool_mode_refused_with_fix(fallback):
    feats, rois = _feats_and_rois(seed=1)
    layer = mmcv_ops.RoIAlign((2, 2), 0.5, 0, pool_mode='max')
    with pytest.raises(NotImplementedError, match="pool_mode='avg'"):
        layer(feats, rois)


def test_nms_offset_refused():
    boxes, scores = _random_boxes(4, seed=0)
    with pytest.raises(ValueError, match='offset must be 0 or 1'):
        tv_nms(boxes, scores, 0.5, offset=2)
