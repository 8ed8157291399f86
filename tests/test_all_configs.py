"""Every shipped config builds its train, val and test dataloaders.

The configs under ``configs/`` are found by glob, so a config added later is
covered. Each loader's ``data_root`` is pointed at small generated data in
the layout that root names (:data:`LAYOUTS`): the demo sets of
``tools/make_demo_data.py --size tiny``, copied into the ImageNet, COCO,
Pascal VOC (with the aug split), ADE20K and COCO-Stuff layouts, and a
CIFAR-100 set of random images in the python-pickle format. Building the
dataset and fetching one batch is enough: it runs every transform of the
pipeline once. A config whose ``data_root`` has no generated layout fails
with the root's name.
"""
import glob
import json
import os
import os.path as osp
import pickle
import shutil

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

import mixskd_mm  # noqa: F401
from mixskd_mm.engine.runner_setup import import_scope

from repo import ROOT, make_tiny_demo_data

CONFIGS = sorted(
    osp.relpath(path, ROOT)
    for path in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'),
                          recursive=True)
    if '_base_' not in path.split(os.sep))
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
COCO_NAMES = ('person', 'bicycle', 'car', 'motorcycle', 'airplane')
DEMO_ROOT = 'data/demo'


# ----------------------------------------------------------- layout writers
def _cifar100(root, demo):
    """CIFAR-100's python pickles (random 32x32 images, 4 per split)."""
    folder = osp.join(root, 'cifar-100-python')
    os.makedirs(folder)
    rng = np.random.default_rng(0)
    for split in ('train', 'test'):
        entry = dict(
            data=rng.integers(0, 256, (4, 3 * 32 * 32), dtype=np.uint8),
            fine_labels=[0, 0, 99, 99], coarse_labels=[0, 0, 19, 19])
        with open(osp.join(folder, split), 'wb') as f:
            pickle.dump(entry, f)
    with open(osp.join(folder, 'meta'), 'wb') as f:
        pickle.dump(dict(fine_label_names=[f'c{i}' for i in range(100)]), f)


def _imagenet(root, demo):
    """The demo's classification set is ImageNet's layout already."""
    shutil.copytree(osp.join(demo, 'cls'), root)


def _coco(root, demo):
    """COCO 2017 names; the demo's shapes renamed to COCO categories."""
    for split in ('train', 'val'):
        shutil.copytree(osp.join(demo, 'det', split),
                        osp.join(root, f'{split}2017'))
        with open(osp.join(demo, 'det', 'annotations',
                           f'instances_{split}.json')) as f:
            ann = json.load(f)
        for cat, name in zip(ann['categories'], COCO_NAMES):
            cat['name'] = name
        os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
        with open(osp.join(root, 'annotations',
                           f'instances_{split}2017.json'), 'w') as f:
            json.dump(ann, f)


def _voc_aug(root, demo):
    """VOC2012 plus the aug split (SegmentationClassAug, aug.txt)."""
    shutil.copytree(osp.join(demo, 'seg', 'VOC2012'), root)
    shutil.copytree(osp.join(root, 'SegmentationClass'),
                    osp.join(root, 'SegmentationClassAug'))
    sets = osp.join(root, 'ImageSets', 'Segmentation')
    shutil.copy(osp.join(sets, 'train.txt'), osp.join(sets, 'aug.txt'))


def _seg_folders(root, demo, img_dirs, ann_dirs, suffix):
    """Images and label maps in per-split folders (ADE20K, COCO-Stuff)."""
    voc = osp.join(demo, 'seg', 'VOC2012')
    for split, img_dir, ann_dir in zip(('train', 'val'), img_dirs, ann_dirs):
        os.makedirs(osp.join(root, img_dir))
        os.makedirs(osp.join(root, ann_dir))
        with open(osp.join(voc, 'ImageSets', 'Segmentation',
                           f'{split}.txt')) as f:
            names = f.read().split()
        for name in names:
            shutil.copy(osp.join(voc, 'JPEGImages', f'{name}.jpg'),
                        osp.join(root, img_dir, f'{name}.jpg'))
            shutil.copy(osp.join(voc, 'SegmentationClass', f'{name}.png'),
                        osp.join(root, ann_dir, f'{name}{suffix}'))


def _ade20k(root, demo):
    _seg_folders(root, demo, ('images/training', 'images/validation'),
                 ('annotations/training', 'annotations/validation'), '.png')


def _coco_stuff(root, demo):
    _seg_folders(root, demo, ('images/train2017', 'images/val2017'),
                 ('annotations/train2017', 'annotations/val2017'),
                 '_labelTrainIds.png')


#: data_root of a shipped config -> the writer of that layout.
LAYOUTS = {
    'data/cifar100': _cifar100,
    'data/imagenet': _imagenet,
    'data/coco': _coco,
    'data/VOCdevkit/VOC2012': _voc_aug,
    'data/ade/ADEChallengeData2016': _ade20k,
    'data/coco_stuff164k': _coco_stuff,
}


@pytest.fixture(scope='module')
def data_roots(tmp_path_factory):
    """Config data_root -> folder with generated data in its layout."""
    base = tmp_path_factory.mktemp('all_configs')
    demo = make_tiny_demo_data(base / 'demo')
    roots = {DEMO_ROOT: demo}
    for data_root, write in LAYOUTS.items():
        path = str(base / data_root.replace('/', '_'))
        write(path, demo)
        roots[data_root] = path
    return roots


def _redirect(node, roots, where):
    """Point every dataset ``data_root`` in ``node`` at generated data."""
    if isinstance(node, dict):
        root = node.get('data_root')
        if isinstance(root, str):
            root = root.rstrip('/')
            if root == DEMO_ROOT or root.startswith(DEMO_ROOT + '/'):
                node['data_root'] = roots[DEMO_ROOT] + root[len(DEMO_ROOT):]
            elif root in roots:
                node['data_root'] = roots[root]
            else:
                pytest.fail(f'{where}: no generated data for data_root '
                            f'{root!r} (dataset {node.get("type")}): add a '
                            'writer of that layout to LAYOUTS in '
                            'tests/test_all_configs.py')
        for value in node.values():
            _redirect(value, roots, where)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _redirect(value, roots, where)


@pytest.fixture
def trusted_cifar(monkeypatch):
    """The generated CIFAR files cannot match the release's md5 sums."""
    from mmpretrain.datasets import CIFAR10
    monkeypatch.setattr(CIFAR10, '_check_integrity', lambda self: True)


def test_configs_are_found():
    assert len(CONFIGS) >= 31
    for part in ('configs/demo/', 'configs/det/', 'configs/seg/'):
        assert any(c.startswith(part) for c in CONFIGS), part


@pytest.mark.parametrize('config', CONFIGS)
def test_dataloaders_build_and_load_a_batch(config, data_roots,
                                            trusted_cifar):
    cfg = Config.fromfile(osp.join(ROOT, config))
    scope = import_scope(cfg)
    init_default_scope(scope)
    built = {}
    for name in LOADERS:
        loader_cfg = cfg[name].to_dict()
        _redirect(loader_cfg['dataset'], data_roots, f'{config} {name}')
        loader_cfg.update(batch_size=2, num_workers=0,
                          persistent_workers=False)
        key = repr(loader_cfg)
        if key in built:  # test_dataloader is often val_dataloader
            continue
        loader = Runner.build_dataloader(loader_cfg, seed=0)
        assert len(loader.dataset) > 0, (config, name)
        batch = next(iter(loader))
        assert len(batch['inputs']) == 2, (config, name)
        assert len(batch['data_samples']) == 2, (config, name)
        built[key] = name
