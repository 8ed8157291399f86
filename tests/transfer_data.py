"""Tiny generated data in the real ADE20K and COCO-Stuff-164K layouts, and
the ``--cfg-options`` that point the shipped transfer configs at tiny sets.

Not a test module; imported by ``tests/test_transfer_settings.py`` as
``transfer_data`` (pyproject.toml puts ``tests/`` on ``sys.path``).

The folders and label conventions are those that mmseg 1.2.2's dataset
classes and base configs read (``mmseg/datasets/ade.py``,
``mmseg/datasets/coco_stuff.py``, ``configs/_base_/datasets/ade20k.py`` and
``coco-stuff164k.py``):

* ADE20K (``ADE20KDataset``, ``data/ade/ADEChallengeData2016``):
  ``images/{training,validation}/ADE_*.jpg`` and
  ``annotations/{training,validation}/ADE_*.png``; a label PNG holds 0 for
  "other" and 1..150 for the classes. ``reduce_zero_label=True`` maps 0 to
  255 (ignored) and ``k`` to ``k - 1``, giving 150 classes.
* COCO-Stuff-164K (``COCOStuffDataset``, ``data/coco_stuff164k``):
  ``images/{train2017,val2017}/*.jpg`` and
  ``annotations/{train2017,val2017}/*_labelTrainIds.png`` (what mmseg's
  ``tools/dataset_converters/coco_stuff164k.py`` writes from the raw
  ``stuffthingmaps``): train ids 0..170, 255 unlabelled; 171 classes.

Each image is ``size x size`` pixels: a background region and a few
rectangles, each of one class, painted in a colour that depends on the
class plus noise. The class ids include both ends of the valid range and
the ignored value, so that a wrong convention shows in the labels.

COCO for Cascade R-CNN reuses ``downstream_utils.write_coco``.
"""
import os
import os.path as osp
from typing import Dict, List, Sequence

import numpy as np
from mmengine.config import Config
from PIL import Image

import downstream_utils as du

# The label values written into the PNGs (raw file values, not train ids).
ADE20K_LABELS = (0, 1, 7, 150)  # 0 = "other": ignored after reduction
COCO_STUFF_LABELS = (0, 13, 170, 255)  # 255 = unlabelled: ignored

ADE20K_SPLITS = {'train': 'training', 'val': 'validation'}
COCO_STUFF_SPLITS = {'train': 'train2017', 'val': 'val2017'}


def label_layout(labels: Sequence[int], size: int,
                 rng: np.random.Generator) -> np.ndarray:
    """A ``(size, size)`` uint8 label map that uses every value of
    ``labels``: ``labels[0]`` fills the background, each other value one
    axis-aligned rectangle (at least a quarter of the side in each
    direction), later rectangles drawn over earlier ones but never over
    a whole earlier one.
    """
    if size < 16:
        raise ValueError(f'size must be >= 16 pixels, got {size}')
    seg = np.full((size, size), labels[0], dtype=np.uint8)
    cells = len(labels) - 1
    for i, value in enumerate(labels[1:]):
        # One vertical band per rectangle keeps each one visible.
        x0 = i * size // cells
        x1 = (i + 1) * size // cells
        h = int(rng.integers(size // 4, size // 2 + 1))
        y0 = int(rng.integers(0, size - h + 1))
        seg[y0:y0 + h, x0:x1] = value
    return seg


def paint(seg: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An RGB uint8 image ``(H, W, 3)`` whose colour follows the label
    (a fixed colour per label value) plus Gaussian noise."""
    palette = np.random.default_rng(1234).integers(
        0, 256, size=(256, 3)).astype(np.float32)
    image = palette[seg] + rng.normal(0, 12, size=seg.shape + (3, ))
    return np.clip(image, 0, 255).astype(np.uint8)


def _write_pair(image_path: str, seg_path: str, seg: np.ndarray,
                rng: np.random.Generator) -> None:
    os.makedirs(osp.dirname(image_path), exist_ok=True)
    os.makedirs(osp.dirname(seg_path), exist_ok=True)
    Image.fromarray(paint(seg, rng)).save(image_path, quality=95)
    Image.fromarray(seg).save(seg_path)  # 8-bit grey PNG: raw values


def _write_set(root: str, splits: Dict[str, str], counts: Dict[str, int],
               labels: Sequence[int], size: int, seed: int, name_fn,
               seg_suffix: str) -> Dict[str, List[str]]:
    if any(n < 1 for n in counts.values()):
        raise ValueError(f'every split needs at least one image: {counts}')
    rng = np.random.default_rng(seed)
    names = {}
    for split, folder in splits.items():
        names[split] = []
        for index in range(counts[split]):
            name = name_fn(split, index)
            seg = label_layout(labels, size, rng)
            _write_pair(
                osp.join(root, 'images', folder, name + '.jpg'),
                osp.join(root, 'annotations', folder, name + seg_suffix),
                seg, rng)
            names[split].append(name)
    return names


def write_ade20k(root,
                 num_train: int = 2,
                 num_val: int = 2,
                 size: int = 64,
                 seed: int = 0) -> dict:
    """Write an ADE20K-layout set (ADEChallengeData2016) under ``root``.

    Returns:
        dict: ``data_root`` (str), ``names`` (``{split: [stem, ...]}``),
        ``labels`` (the raw PNG values used, ``ADE20K_LABELS``).
    """
    root = str(root)

    def name_fn(split, index):
        kind = 'train' if split == 'train' else 'val'
        return f'ADE_{kind}_{index + 1:08d}'

    names = _write_set(root, ADE20K_SPLITS,
                       dict(train=num_train, val=num_val), ADE20K_LABELS,
                       size, seed, name_fn, '.png')
    return dict(data_root=root, names=names, labels=ADE20K_LABELS)


def write_coco_stuff164k(root,
                         num_train: int = 2,
                         num_val: int = 2,
                         size: int = 64,
                         seed: int = 0) -> dict:
    """Write a COCO-Stuff-164K-layout set (mmseg's converted train ids).

    Returns:
        dict: ``data_root`` (str), ``names`` (``{split: [stem, ...]}``),
        ``labels`` (the PNG values used, ``COCO_STUFF_LABELS``).
    """
    root = str(root)

    def name_fn(split, index):
        offset = 0 if split == 'train' else 500000
        return f'{offset + index + 1:012d}'

    names = _write_set(root, COCO_STUFF_SPLITS,
                       dict(train=num_train, val=num_val), COCO_STUFF_LABELS,
                       size, seed, name_fn, '_labelTrainIds.png')
    return dict(data_root=root, names=names, labels=COCO_STUFF_LABELS)


# ---------------------------------------------------------------------------
# config overrides that point the shipped configs at these sets
# ---------------------------------------------------------------------------
def seg_overrides(data_root: str, checkpoint: str, work_dir: str,
                  size: int = 64) -> dict:
    """``--cfg-options`` for the ADE20K / COCO-Stuff configs: tiny data.

    The model stays the shipped ResNet-50 DeepLabV3; only the data, the
    image scale (``size`` px crops), the batch and the schedule change.
    """
    small = (size, size)
    options = {
        'work_dir': work_dir,
        'model.backbone.init_cfg.checkpoint': checkpoint,
        'model.data_preprocessor.size': small,
        'train_cfg.max_iters': 1,
        'train_cfg.val_interval': 1,
        'default_hooks.logger.interval': 1,
        'default_hooks.checkpoint.save_last': False,
        'train_dataloader.batch_size': 2,
        'train_dataloader.dataset.pipeline.2.scale': (2 * size, size),
        'train_dataloader.dataset.pipeline.3.crop_size': small,
        'val_dataloader.dataset.pipeline.1.scale': (2 * size, size),
    }
    for loader in ('train_dataloader', 'val_dataloader'):
        options.update({
            f'{loader}.dataset.data_root': data_root,
            f'{loader}.num_workers': 0,
            f'{loader}.persistent_workers': False,
        })
    return options


def cascade_overrides(coco: dict, checkpoint: str, work_dir: str) -> dict:
    """``--cfg-options`` for the Cascade R-CNN config: the Faster R-CNN
    tiny-data options of ``downstream_utils`` with the per-stage heads and
    samplers of the three cascade stages addressed one by one."""
    options = du.det_overrides(coco, checkpoint, work_dir, depth=50)
    del options['model.roi_head.bbox_head.num_classes']
    del options['model.train_cfg.rcnn.sampler.num']
    for stage in range(3):
        options[f'model.roi_head.bbox_head.{stage}.num_classes'] = len(
            coco['classes'])
        options[f'model.train_cfg.rcnn.{stage}.sampler.num'] = 64
    options['default_hooks.checkpoint.save_last'] = False
    options['default_hooks.checkpoint.interval'] = 2  # > max_epochs
    return options


def check_seg_pipelines(cfg: Config) -> None:
    """Fail clearly if mmseg moved the transforms the options address."""
    expected = {
        ('train_dataloader', 2): 'RandomResize',
        ('train_dataloader', 3): 'RandomCrop',
        ('val_dataloader', 1): 'Resize',
    }
    for (loader, index), transform in expected.items():
        actual = cfg[loader].dataset.pipeline[index].type
        assert actual == transform, (
            f'{loader}.dataset.pipeline.{index} is {actual}, expected '
            f'{transform}: update seg_overrides')
