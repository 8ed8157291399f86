"""Class labels outside the model's classes are named before training."""
from pathlib import Path

import pytest

from mixskd_mm.datasets import LabelOutOfRangeError, check_class_labels

from tiny_train_project import train_py, write_config, write_image_set


def dataset(root: Path):
    from mmpretrain.datasets import CustomDataset
    return CustomDataset(data_root=str(root), ann_file='meta/train.txt',
                         data_prefix='train', pipeline=[])


def test_a_label_out_of_range_names_file_line_and_range(tmp_path):
    write_image_set(tmp_path, [0, 1, 0, 99, 1, 7])
    with pytest.raises(LabelOutOfRangeError) as info:
        check_class_labels(dataset(tmp_path), 2, 'train')
    msg = str(info.value)
    ann = tmp_path / 'meta' / 'train.txt'
    assert f"label 99 at {ann}:4: '3.png 99'" in msg
    assert "classes 0..1 (model.head.num_classes=2)" in msg
    assert '2 of 6 samples' in msg and 'Fix:' in msg


def test_labels_in_range_pass(tmp_path):
    write_image_set(tmp_path, [0, 1, 1, 0])
    check_class_labels(dataset(tmp_path), 2, 'train')
    # And the last class is in range; one fewer class makes it out.
    with pytest.raises(LabelOutOfRangeError, match="label 1 at .*:2: "):
        check_class_labels(dataset(tmp_path), 1, 'val')


def test_train_py_names_the_bad_line_before_the_first_step(tmp_path):
    data = write_image_set(tmp_path / 'data', [0, 1, 0, 99])
    write_config(tmp_path / 'tiny.py', data)
    proc = train_py(tmp_path)
    assert proc.returncode != 0
    err = proc.stdout + proc.stderr
    assert 'LabelOutOfRangeError: train dataset: label 99 at ' in err
    assert "train.txt:4: '3.png 99'" in err
    assert 'Target 99 is out of bounds' not in err
    assert 'Epoch(train)' not in err  # stopped before the first step
