"""tools/test.py with the arguments of mmpretrain's, mmdet's and mmseg's own.

A demo classifier, detector and segmentor train for an epoch or two
iterations on the tiny demo data (``tools/make_demo_data.py --size tiny``)
with ``tools/train.py``; ``tools/test.py`` then evaluates each checkpoint as
a subprocess with ``--out`` (metrics, predictions, masks), ``--out-item``,
``--show-dir``/``--interval``, ``--tta`` and ``--work-dir``. The config
changes behind the flags are checked in process first.
"""
import argparse
import json
import os
import os.path as osp
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from mmengine.config import Config
from PIL import Image

import mixskd_mm  # noqa: F401

from repo import ROOT, TOOLS, import_tool, make_tiny_demo_data

DEMO = osp.join(ROOT, 'configs', 'demo')
CLS_CONFIG = osp.join(DEMO, 'baseline_r18_demo.py')
DET_CONFIG = osp.join(DEMO, 'faster-rcnn_r18_fpn_demo.py')
SEG_CONFIG = osp.join(DEMO, 'deeplabv3_r18-d8_demo.py')
TIMEOUT = 600

test_tool = import_tool('test')


# ------------------------------------------------------ in process, quick
def _args(**kwargs):
    defaults = dict(show=False, show_dir=None, wait_time=2, interval=None,
                    tta=False, out=None, out_item=None, cfg_options=None,
                    launcher='none', work_dir='w', config='c.py',
                    checkpoint='x.pth')
    return argparse.Namespace(**dict(defaults, **kwargs))


@pytest.mark.parametrize('out,item,scope,kind', [
    ('m.json', None, 'mmdet', 'metrics'),
    ('m.yaml', None, 'mmseg', 'metrics'),
    ('m.pkl', 'metrics', 'mmpretrain', 'metrics'),
    ('p.pkl', None, 'mmpretrain', 'pred'),
    ('p.pickle', 'pred', 'mmdet', 'pred'),
    ('masks', None, 'mmseg', 'masks'),
    ('m.json', 'pred', 'mmseg', 'masks'),
])
def test_out_kind(out, item, scope, kind):
    assert test_tool.out_kind(out, item, scope) == kind


@pytest.mark.parametrize('out,item', [('masks', None), ('m.json', 'pred')])
def test_out_kind_refuses_what_the_scope_cannot_write(out, item):
    with pytest.raises(ValueError, match='a .json'):
        test_tool.out_kind(out, item, 'mmdet')


def test_parse_args_upstream_flags_and_errors(tmp_path, capsys,
                                              monkeypatch):
    monkeypatch.delenv('LOCAL_RANK', raising=False)
    ckpt = tmp_path / 'c.pth'
    ckpt.write_bytes(b'')
    args = test_tool.parse_args([
        CLS_CONFIG, str(ckpt), '--show', '--show-dir', 'v', '--wait-time',
        '0.5', '--tta', '--out', 'p.pkl', '--out-item', 'pred',
        '--work-dir', 'w', '--launcher', 'none', '--local_rank', '2',
        '--cfg-options', 'a=1'])
    assert (args.show, args.show_dir, args.wait_time, args.tta) == (
        True, 'v', 0.5, True)
    assert (args.out, args.out_item, args.work_dir) == ('p.pkl', 'pred', 'w')
    assert args.cfg_options == dict(a=1)
    assert os.environ['LOCAL_RANK'] == '2'
    with pytest.raises(SystemExit):
        test_tool.parse_args([CLS_CONFIG, str(ckpt), '--out-item', 'pred'])
    assert '--out-item needs --out' in capsys.readouterr().err


def test_show_flags_per_scope():
    hooks = dict(visualization=dict(type='V'))
    cfg = Config(dict(default_scope='mmpretrain', default_hooks=hooks))
    test_tool.show_predictions(cfg, _args(show=True, show_dir='v',
                                          interval=5))
    assert cfg.default_hooks.visualization == dict(
        type='V', show=True, wait_time=2, enable=True, interval=5,
        out_dir='v')
    cfg = Config(dict(default_scope='mmdet', default_hooks=hooks))
    test_tool.show_predictions(cfg, _args(show_dir='v'))
    assert cfg.default_hooks.visualization == dict(
        type='V', draw=True, test_out_dir='v')
    cfg = Config(dict(default_scope='mmseg', default_hooks=hooks,
                      visualizer=dict(type='S')))
    test_tool.show_predictions(cfg, _args(show_dir='v', interval=1))
    assert cfg.default_hooks.visualization == dict(type='V', interval=1,
                                                   draw=True)
    assert cfg.visualizer.save_dir == 'v'
    with pytest.raises(ValueError, match='default_hooks.visualization'):
        test_tool.show_predictions(Config(dict(default_hooks={})),
                                   _args(show=True))


def test_tta_defaults_per_scope():
    pipeline = [dict(type='Load'), dict(type='Pack')]
    loader = dict(dataset=dict(type='Repeat', dataset=dict(
        type='D', pipeline=pipeline)))
    cfg = Config(dict(default_scope='mmpretrain', model=dict(type='M'),
                      test_dataloader=loader))
    test_tool.use_tta(cfg)
    assert cfg.model == dict(type='mmpretrain.AverageClsScoreTTA',
                             module=dict(type='M'))
    inner = cfg.test_dataloader.dataset.dataset.pipeline
    assert inner[0] == dict(type='Load')
    assert inner[1].type == 'TestTimeAug'
    assert inner[1].transforms[1] == [dict(type='Pack')]
    cfg = Config(dict(default_scope='mmdet', model=dict(type='M'),
                      test_dataloader=loader))
    test_tool.use_tta(cfg)
    assert cfg.model.type == 'DetTTAModel'
    assert cfg.model.tta_cfg.nms.iou_threshold == 0.5
    pack = cfg.test_dataloader.dataset.dataset.pipeline[1].transforms[1][0]
    assert pack.type == 'PackDetInputs' and 'flip' in pack.meta_keys
    cfg = Config(dict(default_scope='mmseg', model=dict(type='M'),
                      test_dataloader=loader))
    with pytest.raises(ValueError, match='tta_model and tta_pipeline'):
        test_tool.use_tta(cfg)


# ---------------------------------------------------- the real tools, slow
def _run(tool, *args):
    env = {k: v for k, v in os.environ.items() if k != 'LOCAL_RANK'}
    proc = subprocess.run(
        [sys.executable, osp.join(TOOLS, tool), *map(str, args)], cwd=ROOT,
        env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        timeout=TIMEOUT)
    assert proc.returncode == 0, f'{tool} {args}:\n{proc.stdout[-5000:]}'
    return proc.stdout


@pytest.fixture(scope='module')
def demo(tmp_path_factory):
    base = tmp_path_factory.mktemp('test_tool')
    make_tiny_demo_data(base / 'data')
    return base


def _data_options(root, ann=None):
    opts = [f'{loader}.dataset.data_root={root}'
            for loader in ('train_dataloader', 'val_dataloader',
                           'test_dataloader')]
    if ann is not None:
        opts += [f'val_evaluator.ann_file={ann}',
                 f'test_evaluator.ann_file={ann}']
    return opts


def _trained(config, work_dir, options, checkpoint):
    _run('train.py', config, '--work-dir', work_dir, '--cfg-options',
         *options)
    path = osp.join(work_dir, checkpoint)
    assert osp.isfile(path)
    return path


@pytest.fixture(scope='module')
def classifier(demo):
    options = _data_options(demo / 'data' / 'cls') + [
        'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
        'default_hooks.checkpoint.interval=1']
    return _trained(CLS_CONFIG, demo / 'cls_train', options,
                    'epoch_1.pth'), options


def test_classifier_metrics_json_show_dir_interval(classifier, tmp_path):
    ckpt, options = classifier
    out, shown = tmp_path / 'm.json', tmp_path / 'shown'
    log = _run('test.py', CLS_CONFIG, ckpt, '--work-dir', tmp_path / 'w',
               '--out', out, '--show-dir', shown, '--interval', '5',
               '--cfg-options', *options)
    metrics = json.loads(out.read_text())
    assert list(metrics) == ['accuracy/top1']
    assert f'accuracy/top1: {metrics["accuracy/top1"]:.4f}' in log
    assert len(list(shown.glob('*.png'))) == 4  # 20 val images, every 5th
    assert (tmp_path / 'w').is_dir()


def test_test_set_label_out_of_range_is_named(classifier, tmp_path):
    """The metric would count label 77 of a 20-class model as a miss."""
    ckpt, options = classifier
    root = Path(options[0].split('=', 1)[1])
    data = tmp_path / 'cls'
    shutil.copytree(root, data)
    ann = data / 'meta' / 'val.txt'
    lines = ann.read_text().splitlines()
    lines[2] = lines[2].rsplit(maxsplit=1)[0] + ' 77'
    ann.write_text('\n'.join(lines) + '\n')
    env = {k: v for k, v in os.environ.items() if k != 'LOCAL_RANK'}
    proc = subprocess.run(
        [sys.executable, osp.join(TOOLS, 'test.py'), CLS_CONFIG, str(ckpt),
         '--work-dir', str(tmp_path / 'w'), '--cfg-options',
         *_data_options(data)], cwd=ROOT, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=TIMEOUT)
    assert proc.returncode != 0
    assert 'LabelOutOfRangeError: test dataset: label 77 at ' in proc.stdout
    assert f'{ann}:3: ' in proc.stdout
    assert 'accuracy/top1' not in proc.stdout


def test_classifier_tta_predictions_and_metrics_item(classifier, tmp_path):
    ckpt, options = classifier
    out = tmp_path / 'p.pkl'
    _run('test.py', CLS_CONFIG, ckpt, '--work-dir', tmp_path / 'w', '--tta',
         '--out', out, '--cfg-options', *options)
    with open(out, 'rb') as f:
        preds = pickle.load(f)
    assert len(preds) == 20
    assert preds[0]['pred_score'].shape == (20, )
    assert float(preds[0]['pred_score'].sum()) == pytest.approx(1, abs=1e-4)
    out = tmp_path / 'm.pkl'
    _run('test.py', CLS_CONFIG, ckpt, '--work-dir', tmp_path / 'w',
         '--out', out, '--out-item', 'metrics', '--cfg-options', *options)
    with open(out, 'rb') as f:
        assert list(pickle.load(f)) == ['accuracy/top1']


@pytest.fixture(scope='module')
def detector(demo):
    root = demo / 'data' / 'det'
    options = _data_options(
        root, root / 'annotations' / 'instances_val.json') + [
            'model.backbone.init_cfg=None', 'train_cfg.max_epochs=1',
            'train_cfg.val_interval=1', 'default_hooks.checkpoint.interval=1']
    return _trained(DET_CONFIG, demo / 'det_train', options,
                    'epoch_1.pth'), options


def test_detector_pickle_show_dir_and_tta(detector, tmp_path):
    ckpt, options = detector
    out = tmp_path / 'det.pkl'
    log = _run('test.py', DET_CONFIG, ckpt, '--work-dir', tmp_path / 'w',
               '--out', out, '--show-dir', 'shown', '--cfg-options',
               *options)
    assert 'coco/bbox_mAP' in log
    with open(out, 'rb') as f:
        preds = pickle.load(f)  # DumpDetResults: one dict per image
    assert len(preds) == 2
    assert preds[0]['pred_instances']['bboxes'].shape[1] == 4
    # mmdet's rule: a relative --show-dir goes under work_dir/<timestamp>/.
    assert len(list((tmp_path / 'w').glob('*/shown/*.jpg'))) == 2
    out = tmp_path / 'tta.pkl'
    log = _run('test.py', DET_CONFIG, ckpt, '--work-dir', tmp_path / 'w',
               '--tta', '--out', out, '--cfg-options', *options)
    assert 'coco/bbox_mAP' in log
    with open(out, 'rb') as f:
        assert len(pickle.load(f)) == 2


@pytest.fixture(scope='module')
def segmentor(demo):
    options = _data_options(demo / 'data' / 'seg' / 'VOC2012') + [
        'model.backbone.init_cfg=None', 'train_cfg.max_iters=2',
        'train_cfg.val_interval=2', 'default_hooks.checkpoint.interval=2']
    return _trained(SEG_CONFIG, demo / 'seg_train', options,
                    'iter_2.pth'), options


def test_segmentor_mask_folder_and_show_dir(segmentor, demo, tmp_path):
    ckpt, options = segmentor
    masks, shown = tmp_path / 'masks', tmp_path / 'shown'
    log = _run('test.py', SEG_CONFIG, ckpt, '--work-dir', tmp_path / 'w',
               '--out', masks, '--show-dir', shown, '--interval', '1',
               '--cfg-options', *options)
    assert 'mIoU' in log
    voc = demo / 'data' / 'seg' / 'VOC2012'
    names = (voc / 'ImageSets' / 'Segmentation' / 'val.txt').read_text()
    names = names.split()
    assert sorted(p.stem for p in masks.iterdir()) == sorted(names)
    for name in names:  # class indices at the image's size
        mask = np.array(Image.open(masks / f'{name}.png'))
        image = Image.open(voc / 'JPEGImages' / f'{name}.jpg')
        assert mask.shape == image.size[::-1]
        assert mask.max() < 6
    # mmseg draws every --interval-th image into the visualizer's save_dir.
    assert len(list(shown.rglob('*.png'))) == 2
