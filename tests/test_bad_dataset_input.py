"""Bad dataset files are named with their fix.

- An empty ``meta/train.txt`` raises ``EmptyDatasetError`` naming the file
  (mmengine alone: ``ValueError: need at least one array to concatenate``).
- A zero-byte or truncated image raises ``UnreadableImageError`` naming the
  file, the reason and the fix (mmcv alone: a ``cv2.error`` naming no file);
  ``ignore_empty=True`` on ``LoadImageFromFile`` skips it with a warning and
  a count. Through the real dataset class and pipeline and through
  tools/train.py.
"""
import importlib
from pathlib import Path

import numpy as np
import pytest
from mmpretrain.datasets import CustomDataset
from PIL import Image

import mixskd_mm  # noqa: F401  (applies the guards)
from mixskd_mm.datasets import (EmptyDatasetError, UnreadableImageError,
                                skipped_images)
from mixskd_mm.datasets import unreadable_images

from tiny_train_project import train_py, write_config, write_image_set

N = 6


def write_set(root: Path, broken: str = '', empty_meta: bool = False):
    """``N`` 24-px images of two classes; image 3 broken as asked.

    Args:
        root (Path): Where to write ``train/`` and ``meta/train.txt``.
        broken (str): '' (none), 'zero.png' (0 bytes), 'cut.png' or
            'cut.jpg' (first 60 % of a valid file).
        empty_meta (bool): Write an empty ``meta/train.txt``.

    Returns:
        Path: The broken file, or None.
    """
    names = [f'{i}.png' for i in range(N)]
    if broken:
        names[3] = f'3.{broken.split(".")[-1]}'
    write_image_set(root, [i % 2 for i in range(N)], names=names)
    if empty_meta:
        (root / 'meta' / 'train.txt').write_text('')
    if not broken:
        return None
    bad = root / 'train' / names[3]
    data = bad.read_bytes()
    bad.write_bytes(b'' if broken.startswith('zero') else
                    data[:int(len(data) * 0.6)])
    return bad


def train_py_on_data(tmp_path: Path, *args):
    """tools/train.py on the set at ``tmp_path/data``, one epoch."""
    write_config(tmp_path / 'tiny.py', tmp_path / 'data')
    return train_py(tmp_path, *args)


def dataset(root: Path, ignore_empty: bool = False, test_mode=False):
    return CustomDataset(
        data_root=str(root), ann_file='meta/train.txt', data_prefix='train',
        test_mode=test_mode,
        pipeline=[dict(type='LoadImageFromFile', ignore_empty=ignore_empty),
                  dict(type='PackInputs')])


# --------------------------------------------------------------------------
# Empty annotation file
# --------------------------------------------------------------------------
def test_an_empty_ann_file_is_named(tmp_path):
    write_set(tmp_path, empty_meta=True)
    with pytest.raises(EmptyDatasetError) as info:
        dataset(tmp_path)
    msg = str(info.value)
    assert msg.startswith(
        f'CustomDataset has no samples: its annotation file '
        f'{tmp_path / "meta" / "train.txt"} is empty: it lists no images.')
    assert 'Fix: write the samples into it' in msg
    assert isinstance(info.value, ValueError)  # what mmengine raised


def test_train_py_names_an_empty_ann_file(tmp_path):
    write_set(tmp_path / 'data', empty_meta=True)
    proc = train_py_on_data(tmp_path)
    assert proc.returncode != 0
    assert ('EmptyDatasetError: CustomDataset has no samples: its '
            f'annotation file {tmp_path / "data" / "meta" / "train.txt"} is '
            'empty: it lists no images.') in proc.stderr
    assert 'need at least one array' not in proc.stderr


def test_a_dataset_with_samples_still_builds(tmp_path):
    write_set(tmp_path)
    assert len(dataset(tmp_path)) == N


# --------------------------------------------------------------------------
# Unreadable images
# --------------------------------------------------------------------------
REASONS = {
    'zero.png': 'is empty (0 bytes)',
    'cut.png': 'cannot be decoded as an image (truncated or corrupt',
    'cut.jpg': 'cannot be decoded as an image (truncated or corrupt',
}


@pytest.mark.parametrize('broken', sorted(REASONS))
def test_an_unreadable_image_is_named_with_the_fix(tmp_path, broken):
    bad = write_set(tmp_path, broken)
    ds = dataset(tmp_path)
    assert ds[2]['inputs'].shape == (3, 24, 24)  # the good ones load
    with pytest.raises(UnreadableImageError) as info:
        ds[3]
    msg = str(info.value)
    assert msg.startswith(f'cannot read image {bad}: the file '
                          f'{REASONS[broken]}')
    assert 'Fix: replace or delete the file' in msg
    assert 'train_dataloader.dataset.pipeline.0.ignore_empty=True' in msg


def test_a_missing_image_is_named(tmp_path):
    write_set(tmp_path)
    (tmp_path / 'train' / '1.png').unlink()
    with pytest.raises(UnreadableImageError, match='1.png: the file does '
                       'not exist'):
        dataset(tmp_path)[1]


@pytest.mark.parametrize('broken', sorted(REASONS))
def test_ignore_empty_skips_with_a_warning_and_a_count(tmp_path, broken,
                                                       monkeypatch):
    bad = write_set(tmp_path, broken)
    logged = []
    monkeypatch.setattr(unreadable_images, 'print_log',
                        lambda msg, **kw: logged.append((msg, kw)))
    before = len(skipped_images())
    ds = dataset(tmp_path, ignore_empty=True)
    ds._rand_another = lambda: 4  # mmengine's refetch, made deterministic
    sample = ds[3]
    assert sample['inputs'].shape == (3, 24, 24)  # another sample instead
    assert sample['data_samples'].img_path == str(tmp_path / 'train/4.png')
    assert skipped_images()[before:] == [str(bad)]
    (msg, kw), = logged
    assert msg.startswith(f'skipped unreadable image {bad}: the file '
                          f'{REASONS[broken]}')
    assert f'{before + 1} skipped so far' in msg
    assert kw['level'] == 30  # logging.WARNING


@pytest.mark.parametrize('scope', ['mmpretrain', 'mmdet', 'mmseg'])
def test_every_scope_loads_through_the_guard(tmp_path, scope):
    """The LoadImageFromFile of the mmdet and mmseg configs is guarded."""
    transforms = importlib.import_module(f'{scope}.registry').TRANSFORMS
    loader = transforms.build(dict(type='LoadImageFromFile'))
    empty = tmp_path / 'empty.jpg'
    empty.write_bytes(b'')
    with pytest.raises(UnreadableImageError, match='empty.jpg: the file is '
                       r'empty \(0 bytes\)'):
        loader(dict(img_path=str(empty)))


def test_an_unreadable_label_map_of_mmseg_is_named(tmp_path):
    from mmseg.registry import TRANSFORMS
    loader = TRANSFORMS.build(dict(type='LoadAnnotations'))
    good = tmp_path / 'good.png'
    Image.fromarray(np.eye(8, dtype=np.uint8)).save(good)
    out = loader(dict(seg_map_path=str(good), reduce_zero_label=False,
                      seg_fields=[]))
    assert out['gt_seg_map'].shape == (8, 8)
    cut = tmp_path / 'cut.png'
    cut.write_bytes(good.read_bytes()[:40])
    with pytest.raises(UnreadableImageError, match='cannot read label map '
                       f'{cut}: the file cannot be decoded'):
        loader(dict(seg_map_path=str(cut), reduce_zero_label=False,
                    seg_fields=[]))
    # an error that is not about the file passes through unchanged
    with pytest.raises(KeyError, match='reduce_zero_label'):
        loader(dict(seg_map_path=str(good), seg_fields=[]))


def test_train_py_names_an_unreadable_image(tmp_path):
    bad = write_set(tmp_path / 'data', 'zero.png')
    proc = train_py_on_data(tmp_path)
    assert proc.returncode != 0
    assert (f'UnreadableImageError: cannot read image {bad}: the file is '
            'empty (0 bytes)') in proc.stderr
    assert 'imdecode_' not in proc.stderr.splitlines()[-1]


def test_train_py_skips_unreadable_images_on_request(tmp_path):
    bad = write_set(tmp_path / 'data', 'cut.jpg')
    proc = train_py_on_data(tmp_path, '--cfg-options',
                    'train_dataloader.dataset.pipeline.0.ignore_empty=True')
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert out.count(f'skipped unreadable image {bad}') == 1
    assert '(ignore_empty=True; 1 skipped so far in this process)' in out
