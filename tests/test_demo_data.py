"""Tests of the generated demo data (``mixskd_mm.demo.data``).

The sets are loaded with the real mmpretrain / mmdet / mmseg dataset
classes and pipelines and scored with the real metrics.
"""
import filecmp
import json
import os
import os.path as osp
import time

import cv2
import numpy as np
import pytest
import torch
from mmengine.registry import DefaultScope
from PIL import Image

from mixskd_mm.demo import data, scenes, world
from mixskd_mm.demo import (CLS_CLASSES, DET_CLASSES, SEG_CLASSES, SHAPES,
                            TEXTURES, class_names, coco_metainfo, dataset_cfg,
                            voc_metainfo, voc_palette,
                            write_classification_set, write_coco_detection_set,
                            write_demo_data, write_voc_segmentation_set)

from repo import import_tool


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    """The 'tiny' preset written once, with its write time."""
    root = tmp_path_factory.mktemp('demo') / 'tiny'
    start = time.perf_counter()
    result = write_demo_data(root, size='tiny', seed=0)
    result['seconds'] = time.perf_counter() - start
    return result


def _files(root):
    """Relative paths of all files under ``root``, sorted."""
    return sorted(
        osp.relpath(osp.join(d, f), root) for d, _, fs in os.walk(root)
        for f in fs)


def _build(scope, registry, cfg):
    """Build a dataset from a config dict in a default scope."""
    with DefaultScope.overwrite_default_scope(scope):
        return registry.build(cfg)


# ------------------------------------------------------------- the world
def test_class_names_and_metainfo():
    assert len(CLS_CLASSES) == len(SHAPES) * len(TEXTURES) == 20
    assert TEXTURES == ('checker', 'dots', 'solid', 'stripes')
    assert CLS_CLASSES[:5] == ('circle_checker', 'circle_dots', 'circle_solid',
                               'circle_stripes', 'cross_checker')
    assert list(CLS_CLASSES) == sorted(CLS_CLASSES)  # = folder-scan order
    assert DET_CLASSES == ('circle', 'cross', 'square', 'star', 'triangle')
    assert SEG_CLASSES == ('background', ) + DET_CLASSES
    assert class_names('seg') == SEG_CLASSES
    with pytest.raises(ValueError, match='task'):
        class_names('depth')
    assert coco_metainfo()['classes'] == DET_CLASSES
    assert coco_metainfo()['palette'][0] == (128, 0, 0)
    assert voc_metainfo() == dict(
        classes=SEG_CLASSES,
        palette=[[0, 0, 0], [128, 0, 0], [0, 128, 0], [128, 128, 0],
                 [0, 0, 128], [128, 0, 128]])


def test_voc_palette_matches_mmseg():
    from mmseg.datasets import PascalVOCDataset
    assert voc_palette(21) == PascalVOCDataset.METAINFO['palette']
    assert voc_palette()[255] == [224, 224, 192]
    with pytest.raises(ValueError):
        voc_palette(257)


@pytest.mark.parametrize('shape,num_vertices,area', [
    ('circle', 48, 48 / 2 * np.sin(2 * np.pi / 48)),
    ('square', 4, 2.0),
    ('triangle', 3, 3 * np.sqrt(3) / 4),
    ('star', 10, 5 * 0.45 * np.sin(np.pi / 5)),
    ('cross', 12, (4 * 0.3 * 2 - 4 * 0.3**2) / (1 + 0.3**2)),
])
def test_shape_polygon_and_rasterisation(shape, num_vertices, area):
    poly = world.shape_polygon(shape, (31.5, 30.0), 20.0, angle=0.3)
    assert poly.shape == (num_vertices, 2)
    dist = np.hypot(poly[:, 0] - 31.5, poly[:, 1] - 30.0)
    assert dist.max() == pytest.approx(20.0)
    coverage = world.rasterize_polygon(poly, 64, 64)
    assert coverage.dtype == np.float32 and coverage.shape == (64, 64)
    assert 0 <= coverage.min() and coverage.max() == 1.0
    # supersampled coverage integrates to the polygon area, plus at most a
    # 1/4-pixel boundary band (cv2.fillPoly fills boundary sub-pixels)
    perimeter = np.hypot(*(poly - np.roll(poly, 1, axis=0)).T).sum()
    assert area * 400 <= coverage.sum() <= area * 400 + perimeter / 4


def test_shape_errors():
    with pytest.raises(ValueError, match='shape'):
        world.shape_polygon('hexagon', (0, 0), 5)
    with pytest.raises(ValueError, match='radius'):
        world.shape_polygon('circle', (0, 0), 0)
    with pytest.raises(ValueError, match='polygon'):
        world.rasterize_polygon(np.zeros((2, 2)), 8, 8)


def test_texture_masks():
    stripes = world.texture_mask('stripes', 4, 16, period=8)
    assert stripes[0].tolist(
    ) == [True] * 4 + [False] * 4 + [True] * 4 + [False] * 4
    assert (stripes == stripes[0]).all()  # vertical stripes at angle 0
    vertical = world.texture_mask('stripes', 16, 4, 8, angle=np.pi / 2)
    assert vertical[:, 0].tolist() == stripes[0].tolist()
    checker = world.texture_mask('checker', 16, 16, period=8)
    assert checker[0, 0] and checker[8, 8] and not checker[0, 8]
    assert checker.mean() == 0.5
    dots = world.texture_mask('dots', 64, 64, period=8)
    assert dots[4, 4] and not dots[0, 0]
    # 21 of the 8 x 8 offsets lie within 0.3 periods of the dot centre
    assert dots.mean() == 21 / 64
    assert world.texture_mask('solid', 3, 5).all()
    painted = world.render_texture('checker', 2, 16,
                                   [[255, 0, 0], [0, 0, 255]])
    assert painted[0, 0].tolist() == [255, 0, 0]
    assert painted[0, 8].tolist() == [0, 0, 255]
    with pytest.raises(ValueError, match='texture'):
        world.texture_mask('plaid', 4, 4)
    with pytest.raises(ValueError, match='period'):
        world.texture_mask('dots', 4, 4, period=0)
    with pytest.raises(ValueError, match='colors'):
        world.render_texture('solid', 4, 4, [255, 0, 0])


def test_colour_is_independent_of_the_class():
    """Same generator state -> same colours and background for any class."""
    images = [
        scenes.render_classification_image(
            np.random.default_rng(7), shape, texture, 64)
        for shape, texture in [('circle',
                                'solid'), ('star',
                                           'solid'), ('square', 'stripes')]
    ]
    for image in images[1:]:
        assert (image[0, 0] == images[0][0, 0]).all()  # background
        assert (image[-1, -1] == images[0][-1, -1]).all()
    rng = np.random.default_rng(7)
    _, base = scenes.sample_background(rng, 64, 64)
    rng.uniform(0.24, 0.4)
    rng.uniform(-1, 1, size=2)
    colors = scenes.sample_colors(rng, base)
    assert np.linalg.norm(colors[0] - base) >= 100  # visible on background
    assert np.linalg.norm(colors[1] - colors[0]) >= 100
    # the solid objects have the primary colour at their centre
    ys, xs = np.nonzero(
        np.abs(images[0].astype(float) - colors[0].round()).max(-1) <= 8)
    assert len(ys) > 200


def test_scene_objects_do_not_overlap():
    rng = np.random.default_rng(3)
    for _ in range(20):
        _, objects = scenes.sample_scene(rng, 128, max_objects=4)
        assert 1 <= len(objects) <= 4
        for i, a in enumerate(objects):
            assert a.radius + 1 <= min(a.center) <= 127 - a.radius - 1 + 1e-9
            for b in objects[i + 1:]:
                gap = np.hypot(a.center[0] - b.center[0],
                               a.center[1] - b.center[1])
                assert gap >= a.radius + b.radius + 2


# -------------------------------------------------------- classification
def test_classification_files(tiny):
    cls = tiny['cls']
    root = cls['root']
    assert cls['classes'] == list(CLS_CLASSES)
    assert (cls['num_train'], cls['num_val']) == (40, 20)
    lines = open(osp.join(root, 'meta', 'train.txt')).read().splitlines()
    assert len(lines) == 40
    assert lines[0] == 'circle_checker/circle_checker_0000.JPEG 0'
    assert lines[-1] == 'triangle_stripes/triangle_stripes_0001.JPEG 19'
    val = open(osp.join(root, 'meta', 'val.txt')).read().splitlines()
    assert val[5] == 'cross_dots/cross_dots_0000.JPEG 5'
    assert open(osp.join(root,
                         'classes.txt')).read().split() == list(CLS_CLASSES)
    assert len([f for f in _files(root) if f.endswith('.JPEG')]) == 60
    image = cv2.imread(osp.join(root, 'train', lines[0].split()[0]))
    assert image.shape == (64, 64, 3) and image.dtype == np.uint8


def test_classification_loads_with_mmpretrain(tiny):
    from mmpretrain.datasets import ImageNet
    from mmpretrain.registry import DATASETS
    root = tiny['cls']['root']
    pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
    cfg = dataset_cfg('cls', root, 'train', pipeline)
    assert cfg['type'] == 'CustomDataset' and cfg['test_mode'] is False
    dataset = _build('mmpretrain', DATASETS, cfg)
    assert len(dataset) == 40
    assert dataset.metainfo['classes'] == CLS_CLASSES
    sample = dataset[7]
    assert sample['inputs'].shape == (3, 64, 64)
    assert sample['inputs'].dtype == torch.uint8
    assert sample['data_samples'].gt_label.tolist() == [3]
    assert dataset.get_data_info(7)['img_path'].endswith(
        'train/circle_stripes/circle_stripes_0001.JPEG')
    # a folder scan (no ann_file) finds the same classes and labels
    scanned = _build(
        'mmpretrain', DATASETS,
        dict(type='CustomDataset', data_root=root, data_prefix='train'))
    assert scanned.metainfo['classes'] == CLS_CLASSES
    assert [(d['img_path'], d['gt_label']) for d in scanned] == [
        (d['img_path'], d['gt_label']) for d in dataset.load_data_list()
    ]
    imagenet = ImageNet(
        data_root=root,
        split='val',
        metainfo=dict(classes=CLS_CLASSES),
        test_mode=True)
    assert len(imagenet) == 20
    assert [d['gt_label'] for d in imagenet] == list(range(20))


# ------------------------------------------------------------- detection
def test_coco_json_is_valid(tiny):
    from pycocotools import mask as mask_utils
    det = tiny['det']
    assert det['classes'] == DET_CLASSES
    path = osp.join(det['root'], 'annotations', 'instances_train.json')
    coco = json.load(open(path))
    assert [c['id'] for c in coco['categories']] == [1, 2, 3, 4, 5]
    assert [c['name'] for c in coco['categories']] == list(DET_CLASSES)
    assert [i['id'] for i in coco['images']] == [1, 2, 3, 4]
    assert coco['images'][0] == dict(
        id=1, file_name='000000.jpg', width=128, height=128)
    anns = coco['annotations']
    assert len(anns) == det['num_train_instances'] >= 4
    assert [a['id'] for a in anns] == list(range(1, len(anns) + 1))
    assert {a['image_id'] for a in anns} == {1, 2, 3, 4}
    for ann in anns:
        x, y, w, h = ann['bbox']
        assert x >= 0 and y >= 0 and x + w <= 128 and y + h <= 128
        assert w >= 10 and h >= 10 and ann['iscrowd'] == 0
        assert 1 <= ann['category_id'] <= 5
        assert ann['area'] <= w * h
        # the polygon rasterises to (almost) the annotated mask
        rle = mask_utils.frPyObjects(ann['segmentation'], 128, 128)
        mask = mask_utils.decode(mask_utils.merge(rle))
        assert mask.sum() == pytest.approx(ann['area'], rel=0.08)
        ys, xs = np.nonzero(mask)
        assert abs(xs.min() - x) <= 1 and abs(ys.min() - y) <= 1
        assert abs(xs.max() + 1 - (x + w)) <= 1
        assert abs(ys.max() + 1 - (y + h)) <= 1


def test_coco_object_pixels_differ_from_background(tiny):
    det = tiny['det']
    coco = json.load(
        open(osp.join(det['root'], 'annotations', 'instances_val.json')))
    ann = coco['annotations'][0]
    image = cv2.imread(osp.join(det['root'], 'val', '000000.jpg'))
    x, y, w, h = (int(v) for v in ann['bbox'])
    # rows just outside the box are background; the box holds the object
    box_mean = image[y:y + h, x:x + w].reshape(-1, 3).mean(0)
    ring = np.concatenate([
        image[max(y - 3, 0):y, x:x + w].reshape(-1, 3),
        image[y + h:y + h + 3, x:x + w].reshape(-1, 3)
    ])
    assert np.linalg.norm(box_mean - ring.mean(0)) > 20


def test_coco_loads_with_mmdet_and_gt_scores_map_1(tiny):
    from mmdet.evaluation import CocoMetric
    from mmdet.registry import DATASETS
    det = tiny['det']
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
        dict(type='PackDetInputs')
    ]
    cfg = dataset_cfg('det', det['root'], 'val', pipeline)
    assert cfg['type'] == 'CocoDataset'
    dataset = _build('mmdet', DATASETS, cfg)
    assert len(dataset) == det['num_val'] == 2
    assert dataset.metainfo['classes'] == DET_CLASSES
    coco = json.load(
        open(osp.join(det['root'], 'annotations', 'instances_val.json')))
    samples = [dataset[i]['data_samples'] for i in range(len(dataset))]
    assert dataset[0]['inputs'].shape == (3, 128, 128)
    gt0 = samples[0].gt_instances
    anns0 = [a for a in coco['annotations'] if a['image_id'] == 1]
    expected = [[x, y, x + w, y + h]
                for x, y, w, h in (a['bbox'] for a in anns0)]
    assert gt0.bboxes.tensor.tolist() == expected
    assert gt0.labels.tolist() == [a['category_id'] - 1 for a in anns0]
    assert len(gt0.masks) == len(anns0)

    def run(shift):
        metric = CocoMetric(
            ann_file=osp.join(det['root'], cfg['ann_file']),
            metric=['bbox', 'segm'])
        metric.dataset_meta = dataset.metainfo
        preds = []
        for sample in samples:
            gt = sample.gt_instances
            boxes = gt.bboxes.tensor.clone()
            boxes[:, 0::2] += shift * (boxes[:, 2:3] - boxes[:, 0:1])
            masks = torch.from_numpy(gt.masks.to_ndarray()).bool()
            preds.append(
                dict(
                    img_id=sample.img_id,
                    ori_shape=sample.ori_shape,
                    pred_instances=dict(
                        bboxes=boxes,
                        scores=torch.ones(len(boxes)),
                        labels=gt.labels,
                        masks=masks)))
        metric.process({}, preds)
        return metric.evaluate(len(preds))

    perfect = run(0.0)
    assert perfect['coco/bbox_mAP'] == 1.0
    assert perfect['coco/bbox_mAP_50'] == 1.0
    assert perfect['coco/segm_mAP'] == 1.0
    shifted = run(0.6)  # IoU 0.25 with the truth: no match
    assert shifted['coco/bbox_mAP'] == 0.0


# ---------------------------------------------------------- segmentation
def test_voc_files(tiny):
    seg = tiny['seg']
    voc = seg['data_root']
    assert seg['classes'] == SEG_CLASSES and seg['ignore_index'] == 255
    names = open(osp.join(voc, 'ImageSets', 'Segmentation',
                          'train.txt')).read().split()
    assert names == [
        'train_000000', 'train_000001', 'train_000002', 'train_000003'
    ]
    trainval = open(
        osp.join(voc, 'ImageSets', 'Segmentation',
                 'trainval.txt')).read().split()
    assert trainval == names + ['val_000000', 'val_000001']
    for name in trainval:
        png = Image.open(osp.join(voc, 'SegmentationClass', name + '.png'))
        assert png.mode == 'P' and png.size == (128, 128)
        assert png.getpalette()[:6] == [0, 0, 0, 128, 0, 0]
        labels = np.array(png)
        values = set(np.unique(labels).tolist())
        assert values <= {0, 1, 2, 3, 4, 5, 255}
        assert 0 in values and 255 in values and len(values) >= 3
        # the ignore band is exactly the 1-pixel ring around the objects
        inside = ((labels > 0) & (labels < 255)).astype(np.uint8)
        ring = cv2.dilate(inside, np.ones((3, 3), np.uint8)) - inside
        assert ((labels == 255) == ring.astype(bool)).all()
        image = cv2.imread(osp.join(voc, 'JPEGImages', name + '.jpg'))
        assert image.shape == (128, 128, 3)


def _seg_pred(gt):
    """An IoUMetric input whose prediction is ``gt``."""
    return dict(pred_sem_seg=dict(data=gt), gt_sem_seg=dict(data=gt))


def test_voc_loads_with_mmseg_and_gt_scores_miou_100(tiny):
    from mmseg.datasets import PascalVOCDataset
    from mmseg.evaluation import IoUMetric
    from mmseg.registry import DATASETS
    seg = tiny['seg']
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations'),
        dict(type='PackSegInputs')
    ]
    cfg = dataset_cfg('seg', seg['root'], 'train', pipeline)
    assert cfg['type'] == 'BaseSegDataset'
    dataset = _build('mmseg', DATASETS, cfg)
    assert len(dataset) == 4
    assert dataset.metainfo['classes'] == SEG_CLASSES
    assert dataset.metainfo['palette'] == voc_metainfo()['palette']
    assert dataset.metainfo['label_map'] is None
    gts = [dataset[i]['data_samples'].gt_sem_seg.data for i in range(4)]
    png = np.array(
        Image.open(
            osp.join(seg['data_root'], 'SegmentationClass',
                     'train_000000.png')))
    assert gts[0].shape == (1, 128, 128)
    assert (gts[0][0].numpy() == png).all()
    assert dataset[0]['inputs'].shape == (3, 128, 128)

    metric = IoUMetric(iou_metrics=['mIoU'])
    metric.dataset_meta = dataset.metainfo
    metric.process({}, [_seg_pred(gt) for gt in gts])
    assert metric.evaluate(4)['mIoU'] == 100.0

    # all-background prediction: IoU(bg) = bg / valid pixels, shapes 0
    stack = torch.cat(gts)
    valid = stack != 255
    bg_iou = ((stack == 0) & valid).sum().item() / valid.sum().item()
    present = len(set(stack[valid].unique().tolist()))
    metric = IoUMetric(iou_metrics=['mIoU'])
    metric.dataset_meta = dataset.metainfo
    metric.process({}, [
        dict(
            pred_sem_seg=dict(data=torch.zeros_like(gt)),
            gt_sem_seg=dict(data=gt)) for gt in gts
    ])
    assert metric.evaluate(4)['mIoU'] == pytest.approx(
        100 * bg_iou / present, abs=0.01)

    # the unchanged PascalVOCDataset reads the same files (VOC names) ...
    voc = PascalVOCDataset(
        data_root=seg['data_root'],
        data_prefix=cfg['data_prefix'],
        ann_file=cfg['ann_file'],
        pipeline=[])
    assert [d['seg_map_path'] for d in voc
            ] == [d['seg_map_path'] for d in dataset.load_data_list()]
    metric = IoUMetric(iou_metrics=['mIoU'])
    metric.dataset_meta = voc.metainfo
    metric.process({}, [_seg_pred(gt) for gt in gts])
    assert metric.evaluate(4)['mIoU'] == 100.0
    # ... but refuses shape names, hence BaseSegDataset + voc_metainfo()
    with pytest.raises(ValueError, match='subset'):
        PascalVOCDataset(
            data_root=seg['data_root'],
            data_prefix=cfg['data_prefix'],
            ann_file=cfg['ann_file'],
            metainfo=voc_metainfo())


# ----------------------------------------------------------- determinism
def test_tiny_preset_is_fast(tiny):
    assert tiny['seconds'] < 2.0
    assert tiny['counts'] == data.SIZES['tiny']


def test_same_seed_gives_identical_files(tiny, tmp_path):
    again = write_demo_data(tmp_path / 'again', size='tiny', seed=0)
    first, second = tiny['root'], again['root']
    files = _files(first)
    # cls: 60 JPEG + 3 txt; det: 6 jpg + 2 json; seg: 6 jpg + 6 png + 3 txt
    assert files == _files(second) and len(files) == 86
    for rel in files:
        a, b = osp.join(first, rel), osp.join(second, rel)
        if rel.lower().endswith(('.jpg', '.jpeg')):
            assert (cv2.imread(a) == cv2.imread(b)).all(), rel
        else:  # json, txt, png annotations: byte-identical
            assert filecmp.cmp(a, b, shallow=False), rel


def test_other_seed_and_prefix_stability(tiny, tmp_path):
    other = write_coco_detection_set(
        tmp_path / 'other', num_train=2, num_val=1, seed=1)
    fewer = write_coco_detection_set(
        tmp_path / 'fewer', num_train=2, num_val=1, seed=0)
    base = tiny['det']['root']

    def read(root, name='train/000001.jpg'):
        return cv2.imread(osp.join(root, name))

    # image i does not depend on how many images are written
    assert (read(fewer['root']) == read(base)).all()
    coco = json.load(
        open(osp.join(base, 'annotations', 'instances_train.json')))
    coco2 = json.load(
        open(osp.join(fewer['root'], 'annotations', 'instances_train.json')))
    assert coco2['images'] == coco['images'][:2]
    assert coco2['annotations'] == [
        a for a in coco['annotations'] if a['image_id'] <= 2
    ]
    # another seed gives other images
    assert np.abs(read(other['root']).astype(int) - read(base)).mean() > 10


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize('kwargs,error,match', [
    (dict(num_per_class_train=0), ValueError, 'num_per_class_train'),
    (dict(num_per_class_val=2.0), TypeError, 'num_per_class_val'),
    (dict(num_per_class_train=True), TypeError, 'num_per_class_train'),
    (dict(image_size=16), ValueError, 'image_size'),
    (dict(seed=-1), ValueError, 'seed'),
])
def test_classification_bad_input(tmp_path, kwargs, error, match):
    with pytest.raises(error, match=match):
        write_classification_set(tmp_path / 'x', **kwargs)
    assert not osp.exists(tmp_path / 'x')


def test_bad_sizes_and_counts(tmp_path):
    with pytest.raises(ValueError, match='size'):
        write_demo_data(tmp_path, size='huge')
    with pytest.raises(ValueError, match='counts key'):
        write_demo_data(tmp_path, size='tiny', counts=dict(cls_test=3))
    with pytest.raises(ValueError, match='det_val'):
        data.resolve_counts('tiny', dict(det_val=0))
    assert data.resolve_counts('small', dict(det_train=5))['det_train'] == 5
    with pytest.raises(ValueError, match='max_objects'):
        write_coco_detection_set(tmp_path / 'd', max_objects=0)
    with pytest.raises(ValueError, match='ignore_border'):
        write_voc_segmentation_set(tmp_path / 's', ignore_border=-1)
    with pytest.raises(ValueError, match='split'):
        dataset_cfg('det', tmp_path, 'test')
    assert os.listdir(tmp_path) == []


def test_overwrite(tmp_path):
    root = tmp_path / 'seg'
    write_voc_segmentation_set(root, num_train=3, num_val=1, image_size=32)
    with pytest.raises(FileExistsError, match='overwrite=True'):
        write_voc_segmentation_set(root, num_train=2, num_val=1)
    (root / 'mine.txt').write_text('kept')
    result = write_voc_segmentation_set(
        root, num_train=2, num_val=1, image_size=32, overwrite=True)
    images = sorted(os.listdir(osp.join(result['data_root'], 'JPEGImages')))
    assert images == [
        'train_000000.jpg', 'train_000001.jpg', 'val_000000.jpg'
    ]  # the stale third image is gone
    assert (root / 'mine.txt').read_text() == 'kept'
    (tmp_path / 'file').write_text('')
    with pytest.raises(NotADirectoryError):
        write_coco_detection_set(tmp_path / 'file')
    # write_demo_data checks all three sets before writing any of them
    with pytest.raises(FileExistsError, match='VOC2012'):
        write_demo_data(tmp_path, size='tiny')
    assert not osp.exists(tmp_path / 'cls')


# ------------------------------------------------------------------- CLI
def test_cli(tmp_path, capsys):
    cli = import_tool('make_demo_data')
    out = tmp_path / 'demo'
    result = cli.main([
        '--out',
        str(out), '--size', 'tiny', '--seed', '3', '--det-train', '3',
        '--cls-val', '2'
    ])
    text = capsys.readouterr().out
    assert 'size=tiny, seed=3' in text
    assert 'classification: 40 train / 40 val images, 20 classes' in text
    assert 'detection: 3 train / 2 val images' in text
    assert 'segmentation: 4 train / 2 val images, 6 classes' in text
    assert str(out / 'det' / 'annotations' / 'instances_train.json') in text
    assert result['det']['num_train'] == 3
    assert len(os.listdir(out / 'det' / 'train')) == 3
    with pytest.raises(SystemExit, match='--overwrite'):
        cli.main(['--out', str(out), '--size', 'tiny'])
