"""tools/train.py runs the MixSKD CIFAR recipe on small data.

mmpretrain's CIFAR100 class checks the md5 of the real CIFAR files, and
``--cfg-options`` cannot insert the ``LoadImageFromFile`` step an image-folder
dataset needs, so a three-line config inherits the recipe and swaps only the
dataset; everything else (schedule length, batch) goes through --cfg-options.
"""
import json
import os.path as osp
import subprocess
import sys

from mixskd_mm.demo.data import write_classification_set

from repo import ROOT

SMALL_DATA_CONFIG = '''
_base_ = '{recipe}'
# The recipe's CIFAR augmentation, after loading the image file.
_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomCrop', crop_size=32, padding=4),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(
    _delete_=True, type='ImageNet', data_root='{data}', split='train',
    pipeline=_pipeline))
val_dataloader = dict(dataset=dict(
    _delete_=True, type='ImageNet', data_root='{data}', split='val',
    pipeline=[dict(type='LoadImageFromFile'), dict(type='PackInputs')]))
'''


def test_train_mixskd_cifar_recipe_on_small_data(tmp_path):
    data = tmp_path / 'cls'
    write_classification_set(data, num_per_class_train=1,
                             num_per_class_val=1, image_size=32)
    config = tmp_path / 'mixskd_r18_small.py'
    config.write_text(SMALL_DATA_CONFIG.format(
        recipe=osp.join(ROOT, 'configs/mixskd_r18_cifar100.py'), data=data))
    options = [
        'train_dataloader.batch_size=8', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False', 'train_cfg.max_epochs=1',
        'train_cfg.val_interval=1', 'param_scheduler.0.end=1',
        'param_scheduler.1.begin=0', 'param_scheduler.1.end=1',
        'default_hooks.logger.interval=1'
    ]
    work = tmp_path / 'work'
    out = subprocess.run(
        [
            sys.executable, 'tools/train.py',
            str(config), '--work-dir',
            str(work), '--cfg-options'
        ] + options,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    records = [
        json.loads(line) for line in next(work.glob(
            '*/vis_data/scalars.json')).read_text().splitlines()
    ]
    train = [r for r in records if 'loss_teacher_kd' in r]
    assert len(train) == 3  # 20 images, batch 8, logged every iteration
    assert all(r['loss_ce'] > 0 for r in train)
    assert any('accuracy/top1' in r for r in records)
    assert (work / 'epoch_1.pth').is_file()
