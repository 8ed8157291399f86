"""mixskd_mm.patches: every patch of upstream code, applied, undone, reapplied.

For each patch: ``import mixskd_mm`` applied it exactly where its condition
holds on this machine; undoing it puts back the very upstream objects
(``is``); applying it again installs one layer (a wrapper wraps mmengine's
or mmcv's own function, never a wrapper) and a second apply does nothing.
The multimodal switch needs a stand-in transformers 5 and a fresh
interpreter: tests/test_import_guard.py covers it.
"""
import dataclasses
import importlib

import numpy as np
import pytest
import torch
from mmcv.transforms import LoadAnnotations, LoadImageFromFile
from mmengine.dataset import BaseDataset
from mmengine.runner import CheckpointLoader

import mixskd_mm  # noqa: F401  (applies the patches)
from mixskd_mm.datasets import UnreadableImageError, is_read_error
from mixskd_mm.ops import TorchvisionFallbackExt, mmcv_has_cuda_kernels
from mixskd_mm.patches import (PATCHES, active_patches, apply_patches,
                               get_patch, undo_patches)

MISSING = object()


def _module(name):
    return importlib.import_module(name)


#: name -> the objects at the sites the patch replaces, read now.
SITES = {
    'checkpoint_local_loader': lambda: [CheckpointLoader._schemes['']],
    'checkpoint_url_loader':
    lambda: [_module('mmengine.runner.checkpoint').load_url],
    'numpy_in1d': lambda: [getattr(np, 'in1d', MISSING)],
    'mmcv_ops_torchvision':
    lambda: [_module(m).ext_module for m in ('mmcv.ops.nms',
                                             'mmcv.ops.roi_align')],
    'empty_dataset_error': lambda: [vars(BaseDataset)['_serialize_data']],
    'unreadable_image_error':
    lambda: [vars(LoadImageFromFile)['transform']],
    'unreadable_label_map_error':
    lambda: [vars(LoadAnnotations)['transform']],
    'atomic_checkpoints':
    lambda: [_module(m).save_checkpoint for m in (
        'mmengine.runner.checkpoint', 'mmengine.runner.runner',
        'mmengine.runner')],
    'swin_strict_pretrained_guard':
    lambda: [vars(_module(m).SwinTransformer)['init_weights'] for m in (
        'mmdet.models.backbones.swin', 'mmseg.models.backbones.swin')],
}


def _defined_in(path_end, qualname):
    """A check that ``obj`` is upstream's own function."""

    def check(obj):
        return (obj.__code__.co_filename.endswith(path_end)
                and obj.__qualname__ == qualname)

    return check


#: name -> a check that a restored object is upstream's own.
UPSTREAM = {
    'checkpoint_local_loader': lambda obj: obj is _module(
        'mmengine.runner.checkpoint').load_from_local,
    'checkpoint_url_loader':
    lambda obj: obj is torch.hub.load_state_dict_from_url,
    'numpy_in1d': lambda obj: obj is MISSING,
    'mmcv_ops_torchvision':
    lambda obj: type(obj).__name__ == 'module' and 'mmcv._ext' in obj.__name__,
    'empty_dataset_error': _defined_in('mmengine/dataset/base_dataset.py',
                                       'BaseDataset._serialize_data'),
    'unreadable_image_error': _defined_in('mmcv/transforms/loading.py',
                                          'LoadImageFromFile.transform'),
    'unreadable_label_map_error': _defined_in('mmcv/transforms/loading.py',
                                              'LoadAnnotations.transform'),
    'atomic_checkpoints': _defined_in('mmengine/runner/checkpoint.py',
                                      'save_checkpoint'),
    'swin_strict_pretrained_guard': lambda obj: any(
        _defined_in(f'{pkg}/models/backbones/swin.py',
                    'SwinTransformer.init_weights')(obj)
        for pkg in ('mmdet', 'mmseg')),
}

#: The patches whose replacement wraps what it replaces.
WRAPPERS = ('empty_dataset_error', 'unreadable_image_error',
            'unreadable_label_map_error', 'swin_strict_pretrained_guard')

#: numpy 2.4 removed in1d (numpy/numpy#29978).
NUMPY_WITHOUT_IN1D = tuple(int(v) for v in np.__version__.split('.')[:2]) \
    >= (2, 4)

#: Applied by ``import mixskd_mm`` on this machine.
EXPECTED = {
    'mmpretrain_multimodal_off': False,  # this venv has no transformers
    'checkpoint_local_loader': True,
    'checkpoint_url_loader': True,
    'numpy_in1d': NUMPY_WITHOUT_IN1D,
    'mmcv_ops_torchvision':
    torch.cuda.is_available() and not mmcv_has_cuda_kernels(),
    'empty_dataset_error': True,
    'unreadable_image_error': True,
    'unreadable_label_map_error': True,
    'atomic_checkpoints': True,
    'swin_strict_pretrained_guard': True,  # mmdet and mmseg installed
}


@pytest.fixture(autouse=True)
def import_state():
    """Leave the patches as ``import mixskd_mm`` left them."""
    before = active_patches()
    yield
    apply_patches(before)
    undo_patches(set(p.name for p in PATCHES) - set(before))
    assert active_patches() == before


def test_every_patch_is_listed_with_its_reasons():
    assert [p.name for p in PATCHES] == list(EXPECTED)
    assert set(SITES) == set(EXPECTED) - {'mmpretrain_multimodal_off'}
    for patch in PATCHES:
        assert patch.target and patch.why and patch.upstream and patch.when
    with pytest.raises(KeyError, match='patches: mmpretrain_multimodal_off'):
        get_patch('nope')


def test_import_applied_exactly_the_patches_this_machine_needs():
    assert active_patches() == [n for n, on in EXPECTED.items() if on]
    assert apply_patches() == []  # each applies once


def _cycle(patch):
    """Undo, check upstream is back, reapply twice; return the objects."""
    patched = SITES[patch.name]()
    assert patch.undo() is True
    restored = SITES[patch.name]()
    assert not patch.is_active()
    assert all(UPSTREAM[patch.name](obj) for obj in restored), restored
    assert patch.undo() is False
    assert patch.apply() is True
    assert patch.apply() is False
    again = SITES[patch.name]()
    for obj, before, upstream in zip(again, patched, restored):
        if patch.name in WRAPPERS:
            assert obj.__wrapped__ is upstream  # one layer, not two
        elif patch.name == 'mmcv_ops_torchvision':
            assert obj._ext is upstream
        else:
            assert obj is before
    return restored


@pytest.mark.parametrize('name', [n for n, on in EXPECTED.items() if on])
def test_undo_restores_upstream_and_reapply_wraps_once(name):
    _cycle(get_patch(name))


def test_undo_and_apply_all_in_order():
    before = active_patches()
    assert undo_patches() == before[::-1]
    assert active_patches() == []
    assert CheckpointLoader._schemes[''] is _module(
        'mmengine.runner.checkpoint').load_from_local
    assert apply_patches() == before


def test_mmcv_fallback_patch_on_any_machine():
    # On a CPU machine (or with a CUDA mmcv) the condition is false; the
    # same install routes only CUDA tensors, so it is safe to cycle here.
    patch = get_patch('mmcv_ops_torchvision')
    if not EXPECTED[patch.name]:
        assert not patch.is_active() and patch.apply() is False
        patch = dataclasses.replace(patch, needed=lambda: True)
        with pytest.warns(UserWarning, match='torchvision'):
            assert patch.apply() is True
    ext = SITES[patch.name]()
    assert all(isinstance(e, TorchvisionFallbackExt) for e in ext)
    assert not ext[0]._routes(torch.zeros(1))  # CPU stays on mmcv
    with pytest.warns(UserWarning, match='torchvision'):
        _cycle(patch)


def test_a_patch_applied_on_another_condition_stays_undoable():
    # numpy < 2.4 keeps its own in1d: the patch must not replace it, and
    # an alias forced on must be removable again.
    patch = get_patch('numpy_in1d')
    patch.undo()
    had = getattr(np, 'in1d', MISSING)
    forced = dataclasses.replace(patch, needed=lambda: True)
    assert forced.apply() is True
    assert np.in1d is mixskd_mm.compat._in1d
    assert forced.undo() is True
    assert getattr(np, 'in1d', MISSING) is had


# ----------------------------------------------------- the image guard's net
@pytest.mark.parametrize('ignore_empty', [False, True])
def test_a_non_read_error_is_not_swallowed(ignore_empty):
    # Results without 'img_path' are a pipeline bug, not a bad file: before
    # the fix, ignore_empty skipped them as "unreadable image None".
    loader = LoadImageFromFile(ignore_empty=ignore_empty)
    with pytest.raises(KeyError, match='img_path'):
        loader(dict(img_shape=(1, 1)))


def test_a_non_read_error_while_decoding_keeps_its_type(tmp_path,
                                                        monkeypatch):
    import mmcv
    path = tmp_path / 'a.png'
    path.write_bytes(b'x')

    def broken(*args, **kwargs):
        raise KeyError('not about the file')

    monkeypatch.setattr(mmcv, 'imfrombytes', broken)
    with pytest.raises(KeyError, match='not about the file'):
        LoadImageFromFile()(dict(img_path=str(path)))


def test_read_errors_are_still_named_and_skipped(tmp_path):
    empty = tmp_path / 'empty.png'
    empty.write_bytes(b'')
    with pytest.raises(UnreadableImageError, match='is empty'):
        LoadImageFromFile()(dict(img_path=str(empty)))
    assert LoadImageFromFile(ignore_empty=True)(
        dict(img_path=str(empty))) is None


def test_which_errors_mean_an_unreadable_file():
    import cv2
    from PIL import UnidentifiedImageError
    for error in (OSError('x'), FileNotFoundError('x'), ValueError('x'),
                  cv2.error('x'), UnidentifiedImageError('x'),
                  AssertionError('failed to load image: a.png')):
        assert is_read_error(error), error
    for error in (KeyError('img_path'), TypeError('x'), RuntimeError('x'),
                  AssertionError('some other check')):
        assert not is_read_error(error), error
