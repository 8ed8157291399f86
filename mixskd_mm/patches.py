"""Every change ``import mixskd_mm`` makes to upstream code, in one place.

The plugin runs on mmengine 0.10.7, mmcv 2.1.0, mmpretrain 1.2.0, mmdet
3.3.0 and mmseg 1.2.2, which predate torch 2.6, numpy 2.4 and
transformers 5. :data:`PATCHES` lists each fix with what it replaces
(``target``), what breaks without it (``why``), where upstream tracks it
(``upstream``) and when it applies (``when``). The replacement functions
live next to the code they belong to; this module only installs and
removes them. ``import mixskd_mm`` calls :func:`apply_patches` once, first
thing (the multimodal switch must precede the first ``import mmpretrain``);
``python tools/check_env.py`` prints the active ones.

Each patch applies at most once (a second :func:`apply_patches` changes
nothing, so nothing is wrapped twice) and :meth:`Patch.undo` puts back the
very objects it replaced, e.g. to compare with upstream behaviour:

    >>> from mixskd_mm.patches import active_patches, get_patch
    >>> 'atomic_checkpoints' in active_patches()
    True
    >>> get_patch('atomic_checkpoints').undo()  # mmengine's writer again
    True
    >>> get_patch('atomic_checkpoints').apply()
    True
"""
from typing import Iterable, List, Optional, Tuple

from .patching import Patch
from .patching import attr as _attr
from .patching import swap as _swap

__all__ = ['Patch', 'PATCHES', 'apply_patches', 'undo_patches',
           'active_patches', 'get_patch', 'apply_patch']

# ---------------------------------------------------------------------------
# The patches, in the order they are applied
# ---------------------------------------------------------------------------
def _multimodal() -> Patch:
    # Imported from the module itself, not from mixskd_mm.__init__: this
    # must run before anything imports mmpretrain.
    from . import multimodal_guard as guard
    return Patch(
        name='mmpretrain_multimodal_off',
        target='mmpretrain.utils.dependency.WITH_MULTIMODAL',
        why=('transformers >= 5 moved names out of '
             'transformers.modeling_utils that mmpretrain 1.2.0\'s '
             'multimodal models import, so `import mmpretrain` dies with '
             '"TypeError: NoneType takes no arguments"'),
        upstream=('no upstream fix: mmpretrain has had no release since '
                  '1.2.0, which predates transformers 5'),
        when=('before the first `import mmpretrain`, when mmpretrain would '
              'turn its multimodal models on and transformers lacks the '
              'names they import'),
        needed=guard.multimodal_switch_needed,
        install=guard.switch_multimodal_off,
        uninstall=guard.restore_multimodal,
        installed=guard.multimodal_switched_off)


def _local_loader() -> Patch:
    # CheckpointLoader keeps its loaders in the class dict `_schemes`;
    # mmengine registers its own load_from_local under '' (any path), so
    # replacing that entry keeps the prefix order mmengine sorted.
    def new(_):
        from .compat import load_from_local
        return load_from_local

    return _swap(
        'checkpoint_local_loader',
        "mmengine.runner.CheckpointLoader._schemes[''] (load_from_local)",
        ('torch >= 2.6 loads with weights_only=True, which refuses the '
         'HistoryBuffer and numpy objects of mmengine checkpoints: '
         '--resume, load_from and init_cfg=Pretrained fail with '
         '"Weights only load failed"'),
        ('open-mmlab/mmengine#1655; fixed by 151a87ab (#1670), in no '
         'release (0.10.7 is the newest)'),
        'always (the replacement stays weights-only, see compat.py)',
        lambda: [(_attr('mmengine.runner', 'CheckpointLoader', '_schemes'),
                  '')], new)


def _url_loader() -> Patch:
    def new(_):
        from .checkpoint.safe_load import safe_load_url
        return safe_load_url

    return _swap(
        'checkpoint_url_loader', 'mmengine.runner.checkpoint.load_url',
        ('mmengine\'s http(s), torchvision://, open-mmlab:// and mmcls:// '
         'loaders call torch.hub.load_state_dict_from_url, whose default '
         'is still weights_only=False: a URL could run code'),
        ('same cause as open-mmlab/mmengine#1655; torch.hub keeps the '
         'unsafe default'),
        'always', lambda: [(_attr('mmengine.runner.checkpoint'), 'load_url')],
        new)


def _in1d() -> Patch:
    def new(_):
        from .compat import _in1d as in1d
        return in1d

    return _swap(
        'numpy_in1d', 'numpy.in1d',
        ('numpy 2.4 removed np.in1d, which mmpretrain 1.2.0\'s '
         'RetrievalRecall and RetrievalAveragePrecision call '
         '(AttributeError)'),
        'numpy/numpy#29978 removed it; mmpretrain not fixed (no release)',
        'numpy has no in1d (numpy >= 2.4)',
        lambda: [(_attr('numpy'), 'in1d')], new,
        needed=lambda: not hasattr(_attr('numpy'), 'in1d'))


def _mmcv_ops() -> Patch:
    from .ops import fallback
    return Patch(
        name='mmcv_ops_torchvision',
        target=', '.join(f'{m}.ext_module' for m in fallback.PATCHED_MODULES),
        why=('an mmcv built without CUDA kernels stops at the first nms or '
             'roi_align on a GPU: "nms_impl: implementation for device '
             'cuda:0 not found"'),
        upstream=('open-mmlab/mmdetection#6765 (closed), #10357 (open): '
                  'the answer is to rebuild mmcv with CUDA; meanwhile CUDA '
                  'tensors go to torchvision, CPU ones stay on mmcv'),
        when=('torch sees a GPU and mmcv.ops.get_compiling_cuda_version() '
              "is 'not available'"),
        needed=fallback.fallback_needed,
        install=fallback.install_fallback_and_warn,
        uninstall=fallback.uninstall_torchvision_fallback,
        installed=fallback.fallback_active)


def _empty_dataset() -> Patch:
    def new(current):
        from .datasets.empty_dataset import _guarded
        return _guarded(current)

    return _swap(
        'empty_dataset_error', 'mmengine.dataset.BaseDataset._serialize_data',
        ('a dataset with no samples stops with "ValueError: need at least '
         'one array to concatenate", naming neither dataset nor file; now '
         'EmptyDatasetError names the annotation file and the fix'),
        'open-mmlab/mmdetection#9610 (and its many duplicates); not fixed',
        'always',
        lambda: [(_attr('mmengine.dataset', 'BaseDataset'),
                  '_serialize_data')], new)


def _image_loading() -> Patch:
    def new(current):
        from .datasets.unreadable_images import _guarded
        return _guarded(current)

    return _swap(
        'unreadable_image_error',
        'mmcv.transforms.LoadImageFromFile.transform',
        ('a zero-byte or corrupt image stops with a cv2.error or "failed to '
         'load image" naming no file, and ignore_empty=True skips it '
         'silently; now UnreadableImageError names the file, or the skip is '
         'logged and counted. Only read and decode errors are handled'),
        ('open-mmlab/mmcv#1819 (catch and log unreadable images in '
         'LoadImageFromFile), open'),
        'always',
        lambda: [(_attr('mmcv.transforms', 'LoadImageFromFile'),
                  'transform')], new)


def _label_maps() -> Patch:
    def new(current):
        from .datasets.unreadable_images import _guarded_annotations
        return _guarded_annotations(current)

    return _swap(
        'unreadable_label_map_error',
        'mmcv.transforms.LoadAnnotations.transform (mmseg inherits it)',
        ('an unreadable segmentation label map fails deep in mmcv naming '
         'no file; now UnreadableImageError names it (other errors pass '
         'through unchanged)'),
        'same as unreadable_image_error; not fixed', 'always',
        lambda: [(_attr('mmcv.transforms', 'LoadAnnotations'), 'transform')],
        new)


def _atomic_saves() -> Patch:
    def new(_):
        from .engine.atomic_checkpoint import atomic_save_checkpoint
        return atomic_save_checkpoint

    # mmengine.runner and mmengine.runner.runner import the function by
    # name, so each module that calls it holds its own reference.
    return _swap(
        'atomic_checkpoints',
        'save_checkpoint in mmengine.runner.checkpoint, mmengine.runner.'
        'runner (Runner.save_checkpoint) and mmengine.runner '
        '(CheckpointHook)',
        ('save_checkpoint writes straight to epoch_N.pth: a job killed '
         'mid-write leaves a truncated file under the final name ("failed '
         'finding central directory" on --resume); now a temporary file is '
         'renamed over it'),
        'no upstream issue found; mmengine 0.10.7 writes in place',
        'always (remote back ends keep mmengine\'s writer)',
        lambda: [(_attr(m), 'save_checkpoint') for m in (
            'mmengine.runner.checkpoint', 'mmengine.runner.runner',
            'mmengine.runner')], new)


def _swin_strict_guard() -> Patch:
    def new(current):
        from .engine.swin_init_guard import _guarded
        return _guarded(current)

    def guarded_modules():  # imported when applied, after the multimodal one
        from .engine.swin_init_guard import guarded_modules as installed
        return installed()

    return _swap(
        'swin_strict_pretrained_guard',
        'SwinTransformer.init_weights in mmdet.models.backbones.swin and '
        'mmseg.models.backbones.swin',
        ('they load init_cfg[\'checkpoint\'] themselves with strict=False, '
         'so init_cfg type StrictPretrained never runs and a mismatched '
         'checkpoint loads silently; now IgnoredInitializerError names the '
         'cause and the fix (type=\'mmpretrain.SwinTransformer\')'),
        'none: upstream\'s own loading by design; StrictPretrained is ours',
        'mmdet or mmseg is installed (other init_cfg types pass unchanged)',
        lambda: [(_attr(m, 'SwinTransformer'), 'init_weights')
                 for m in guarded_modules()], new,
        needed=lambda: bool(guarded_modules()))


#: Every patch, in the order :func:`apply_patches` applies them.
PATCHES: Tuple[Patch, ...] = (_multimodal(), _local_loader(), _url_loader(),
                              _in1d(), _mmcv_ops(), _empty_dataset(),
                              _image_loading(), _label_maps(),
                              _atomic_saves(), _swin_strict_guard())

_BY_NAME = {patch.name: patch for patch in PATCHES}


def get_patch(name: str) -> Patch:
    """The :class:`Patch` called ``name``.

    Raises:
        KeyError: No patch has that name; the message lists the names.
    """
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f'no patch {name!r}; patches: '
                       f'{", ".join(_BY_NAME)}') from None


def _select(names: Optional[Iterable[str]]) -> List[Patch]:
    if names is None:
        return list(PATCHES)
    wanted = {get_patch(name).name for name in names}
    return [patch for patch in PATCHES if patch.name in wanted]


def apply_patch(name: str) -> bool:
    """Apply one patch (see :meth:`Patch.apply`)."""
    return get_patch(name).apply()


def apply_patches(names: Optional[Iterable[str]] = None) -> List[str]:
    """Apply the patches whose condition holds and that are not applied.

    Args:
        names (Iterable[str], optional): Only these. Defaults to all of
            :data:`PATCHES`.

    Returns:
        list[str]: The names this call applied, in order.
    """
    return [patch.name for patch in _select(names) if patch.apply()]


def undo_patches(names: Optional[Iterable[str]] = None) -> List[str]:
    """Undo applied patches, last applied first.

    Args:
        names (Iterable[str], optional): Only these. Defaults to all.

    Returns:
        list[str]: The names this call undid.
    """
    return [patch.name for patch in reversed(_select(names))
            if patch.undo()]


def active_patches() -> List[str]:
    """The names of the patches in place now, in :data:`PATCHES` order."""
    return [patch.name for patch in PATCHES if patch.is_active()]
