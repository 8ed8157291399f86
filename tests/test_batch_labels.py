"""Detection and segmentation labels the model has no class for are named:
COCO categories before step 1, box labels and label maps at each batch."""
import json
import os
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmdet.structures import DetDataSample
from mmengine.runner import BaseLoop
from mmengine.structures import InstanceData, PixelData
from mmseg.structures import SegDataSample
from PIL import Image
from torch import nn

from mixskd_mm.datasets.batch_labels import (check_instance_labels,
                                             check_seg_labels)
from mixskd_mm.datasets.coco_categories import check_coco_categories
from mixskd_mm.datasets.label_range import LabelOutOfRangeError
from mixskd_mm.demo.formats import (write_coco_detection_set,
                                    write_voc_segmentation_set)
from mixskd_mm.demo.world import DET_CLASSES
from mixskd_mm.engine.hooks.label_range_hook import LabelRangeCheckHook
from mixskd_mm.utils.paths import resource_path


def seg_sample(values, path='ann/x.png'):
    sample = SegDataSample(metainfo=dict(seg_map_path=path))
    sample.gt_sem_seg = PixelData(
        data=torch.tensor(values, dtype=torch.int64).view(1, 1, -1))
    return sample


def det_sample(labels, path='img/x.jpg'):
    sample = DetDataSample(metainfo=dict(img_path=path))
    sample.gt_instances = InstanceData(
        labels=torch.tensor(labels, dtype=torch.int64),
        bboxes=torch.zeros(len(labels), 4))
    return sample


def test_seg_values_outside_classes_and_ignore_are_named():
    ok = seg_sample([0, 19, 255, 3])
    check_seg_labels([ok], 20, 255, 'train')
    bad = seg_sample([0, 20, 255, 31, 20], path='ann/b.png')
    with pytest.raises(LabelOutOfRangeError) as info:
        check_seg_labels([ok, bad], 20, 255, 'train')
    msg = str(info.value)
    assert 'label map ann/b.png holds value(s) [20, 31]' in msg
    assert 'classes 0..19 (model.decode_head.num_classes=20)' in msg
    assert 'ignore index 255' in msg and 'reduce_zero_label' in msg
    # Without an ignore index, 255 is out of range too.
    with pytest.raises(LabelOutOfRangeError, match=r'value\(s\) \[255\]'):
        check_seg_labels([ok], 20, None, 'val')


def test_box_labels_outside_the_head_are_named():
    check_instance_labels([det_sample([0, 2]), det_sample([])], 3, 'train')
    with pytest.raises(LabelOutOfRangeError) as info:
        check_instance_labels([det_sample([1, 3, 5, 3], 'img/7.jpg')], 3,
                              'val')
    msg = str(info.value)
    assert 'val batch: image img/7.jpg has box label(s) [3, 5]' in msg
    assert 'bbox_head.num_classes=3' in msg and 'Fix:' in msg


def coco_dataset(root, edit=None, classes=DET_CLASSES):
    from mmdet.datasets import CocoDataset
    info = write_coco_detection_set(str(root), num_train=3, num_val=1,
                                    image_size=32)
    ann_file = root / info['ann_files']['train']
    if edit is not None:
        data = json.loads(ann_file.read_text())
        edit(data)
        ann_file.write_text(json.dumps(data))
    return CocoDataset(data_root=str(root), ann_file=str(ann_file),
                       data_prefix=dict(img='train/'),
                       metainfo=dict(classes=classes), pipeline=[])


def test_coco_file_that_mmdet_would_read_wrongly_is_refused(tmp_path):
    assert check_coco_categories(coco_dataset(tmp_path / 'ok'),
                                 'train') == {}

    def unknown_id(data):
        data['annotations'][1]['category_id'] = 42

    dataset = coco_dataset(tmp_path / 'id', unknown_id)
    with pytest.raises(LabelOutOfRangeError) as info:
        check_coco_categories(dataset, 'train')
    msg = str(info.value)
    assert 'annotation id 2 (image id' in msg and 'category_id 42' in msg
    assert '1 of ' in msg and 'drop them' in msg

    # A misspelt class: mmdet would shift the later classes' labels.
    renamed = (DET_CLASSES[0], 'squre') + tuple(DET_CLASSES[2:])
    with pytest.raises(LabelOutOfRangeError, match=r"\['squre'\]"):
        check_coco_categories(coco_dataset(tmp_path / 'name', None,
                                           renamed), 'val')


def test_a_subset_of_classes_is_counted_not_refused(tmp_path):
    dataset = coco_dataset(tmp_path, classes=DET_CLASSES[:1])
    dropped = check_coco_categories(dataset, 'train')
    assert set(dropped) <= set(DET_CLASSES[1:]) and sum(dropped.values()) > 0


class Segmentor(nn.Module):

    def __init__(self):
        super().__init__()
        self.decode_head = nn.Module()
        self.decode_head.num_classes, self.decode_head.ignore_index = 4, 255


class CascadeDetector(nn.Module):

    def __init__(self):
        super().__init__()
        self.roi_head = nn.Module()
        heads = [nn.Module(), nn.Module()]
        heads[0].num_classes, heads[1].num_classes = 5, 3
        self.roi_head.bbox_head = nn.ModuleList(heads)


def test_hook_checks_each_batch_with_the_models_classes():
    hook = LabelRangeCheckHook()
    hook.before_run(SimpleNamespace(model=Segmentor()))
    batch = dict(inputs=[], data_samples=[seg_sample([0, 3, 255])])
    hook.before_train_iter(None, 0, batch)
    batch['data_samples'].append(seg_sample([4]))
    with pytest.raises(LabelOutOfRangeError, match='^val batch: .*num_cl'):
        hook.before_val_iter(None, 0, batch)

    hook = LabelRangeCheckHook()
    hook.before_run(SimpleNamespace(model=CascadeDetector()))
    hook.before_test_iter(None, 0, dict(data_samples=[det_sample([2])]))
    with pytest.raises(LabelOutOfRangeError, match='num_classes=3'):
        hook.before_train_iter(None, 0, dict(data_samples=[det_sample([4])]))


class Loop(BaseLoop):

    def __init__(self, dataset):  # only what the hook reads
        self.dataloader = SimpleNamespace(dataset=dataset)

    def run(self):
        pass


def test_hook_checks_the_test_set_before_testing(tmp_path):
    def unknown_id(data):
        data['annotations'][0]['category_id'] = 0

    runner = SimpleNamespace(
        model=CascadeDetector(),
        _test_loop=Loop(coco_dataset(tmp_path, unknown_id)))
    hook = LabelRangeCheckHook()
    hook.before_run(runner)
    with pytest.raises(LabelOutOfRangeError, match='^test dataset: .* 0,'):
        hook.before_test(runner)


def test_train_py_names_a_bad_label_map_before_the_forward(tmp_path):
    voc = write_voc_segmentation_set(
        str(tmp_path / 'seg'), num_train=2, num_val=1, image_size=32)
    voc_root = voc['data_root']
    label_map = os.path.join(voc_root, 'SegmentationClass',
                             'train_000001.png')
    values = np.array(Image.open(label_map))
    # A 6-class set: no class 30. The whole map, because the demo's
    # RandomResize + RandomCrop could cut a smaller patch out of the batch.
    values[:, :] = 30
    Image.fromarray(values).save(label_map)
    options = [f'{loader}.dataset.data_root={voc_root}'
               for loader in ('train_dataloader', 'val_dataloader',
                              'test_dataloader')]
    proc = subprocess.run(
        [sys.executable, resource_path('tools', 'train.py'),
         resource_path('configs', 'demo', 'deeplabv3_r18-d8_demo.py'),
         '--work-dir', str(tmp_path / 'work'), '--cfg-options',
         'model.backbone.init_cfg=None', 'train_cfg.max_iters=2',
         'train_dataloader.batch_size=2', *options],
        cwd=str(tmp_path), env=dict(os.environ, OMP_NUM_THREADS='1'),
        capture_output=True, text=True, timeout=300)
    err = proc.stdout + proc.stderr
    assert proc.returncode != 0, err[-2000:]
    assert 'LabelOutOfRangeError: train batch: label map ' in err
    assert 'train_000001.png holds value(s) [30]' in err
    assert 'decode_head.num_classes=6' in err
    assert 'out of bounds' not in err and 'Iter(train)' not in err
