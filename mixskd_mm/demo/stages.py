"""The demo's plan: which training runs (stages) it makes, in which order.

Every stage is a ``tools/train.py`` run of a config under ``configs/demo/``
with ``--cfg-options`` that point it at the demo data, set its schedule size
and its seed. Planning is pure: nothing here touches the disk.
"""
import os.path as osp
from dataclasses import dataclass, field
from typing import List, Optional, Sequence

__all__ = [
    'METHODS', 'NEEDS_TEACHER', 'SIZES', 'METRIC_KEYS', 'KINDS', 'Stage',
    'backbone_path', 'data_options', 'plan_stages', 'stage_name'
]

#: Pretraining demo config of each method (the real recipe, demo data).
METHODS = {
    name: f'configs/demo/{name}_r18_demo.py'
    for name in ('baseline', 'mixskd', 'frskd', 'cutnmix', 'mixkd', 'kd',
                 'mixup', 'cutmix', 'byot', 'dks', 'sad', 'tfkd', 'cskd',
                 'bake', 'pskd', 'ddgsd', 'manifold_mixup', 'labelsmooth',
                 'focal', 'virtualsoftmax', 'maxent', 'cutout',
                 'randomerasing', 'autoaugment', 'randaugment', 'augmix',
                 'trivialaugment')
}
#: Methods whose pretraining distils from a frozen teacher: the demo uses the
#: baseline's pretrained ResNet-18 (of the same seed) as that teacher.
NEEDS_TEACHER = ('mixkd', 'kd')

DET_CONFIG = 'configs/demo/faster-rcnn_r18_fpn_demo.py'
SEG_CONFIG = 'configs/demo/deeplabv3_r18-d8_demo.py'

#: Per size: the data preset and the schedule overrides of each stage kind.
SIZES = {
    'tiny':
    dict(
        data='tiny',
        pretrain=['train_cfg.max_epochs=1', 'train_cfg.val_interval=1'],
        det=['train_cfg.max_epochs=1', 'train_cfg.val_interval=1'],
        seg=['train_cfg.max_iters=2', 'train_cfg.val_interval=2']),
    'small':
    dict(
        data='small',
        pretrain=['train_cfg.max_epochs=2', 'train_cfg.val_interval=2'],
        det=['train_cfg.max_epochs=2', 'train_cfg.val_interval=2'],
        seg=['train_cfg.max_iters=20', 'train_cfg.val_interval=20']),
    'default':
    dict(data='default', pretrain=[], det=[], seg=[]),
}

KINDS = ('pretrain', 'det', 'seg')

#: The metric each stage kind reports (as mmengine logs it) and its label.
METRIC_KEYS = dict(
    pretrain=('accuracy/top1', 'top-1 (%)'),
    det=('coco/bbox_mAP', 'bbox mAP'),
    seg=('mIoU', 'mIoU (%)'))


def stage_name(kind: str, method: str, seed: int = 0) -> str:
    """``'<kind>_<method>'``, with ``'_seed<k>'`` for every seed but 0."""
    return f'{kind}_{method}' + (f'_seed{seed}' if seed else '')


@dataclass
class Stage:
    """One training run of the pipeline."""
    kind: str  # 'pretrain', 'det' or 'seg'
    method: str
    config: str
    cfg_options: List[str] = field(default_factory=list)
    #: Name of the stage whose checkpoint is this stage's frozen teacher.
    teacher_stage: Optional[str] = None
    seed: int = 0

    @property
    def name(self) -> str:
        return stage_name(self.kind, self.method, self.seed)


def backbone_path(work_root: str, method: str, seed: int = 0) -> str:
    """Where the pretraining stage of ``method`` exports its backbone."""
    return osp.join(work_root, stage_name('pretrain', method, seed),
                    'backbone.pth')


def data_options(kind: str, data_root: str) -> List[str]:
    """``--cfg-options`` pointing a demo config at ``data_root``."""
    sub = dict(pretrain='cls', det='det', seg='seg/VOC2012')[kind]
    root = osp.join(osp.abspath(data_root), sub)
    options = [
        f'{loader}.dataset.data_root={root}'
        for loader in ('train_dataloader', 'val_dataloader',
                       'test_dataloader')
    ]
    if kind == 'det':
        ann = osp.join(root, 'annotations', 'instances_val.json')
        options += [f'val_evaluator.ann_file={ann}',
                    f'test_evaluator.ann_file={ann}']
    return options


def _seed_options(seed: int) -> List[str]:
    # mmengine seeds python, numpy and torch (so the data order, the
    # augmentations, the initialisation and the mixing draws) from it.
    return [f'randomness.seed={seed}', 'randomness.diff_rank_seed=False']


def plan_stages(methods: List[str],
                size: str,
                work_root: str,
                data_root: str,
                seeds: Sequence[int] = (0, )) -> List[Stage]:
    """All stages: pretraining first, then detection, then segmentation.

    Every method runs once per seed; a seed's downstream stages start from
    the backbone that the same method pretrained with the same seed.
    """
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f'unknown demo method(s) {unknown}; choose from '
                         f'{sorted(METHODS)}')
    if size not in SIZES:
        raise ValueError(f'size must be one of {sorted(SIZES)}, got {size!r}')
    if any(m in NEEDS_TEACHER for m in methods) and 'baseline' not in methods:
        raise ValueError(
            f'{[m for m in methods if m in NEEDS_TEACHER]} distil from the '
            "baseline's pretrained network: add 'baseline' to the methods")
    seeds = list(seeds)
    if not seeds or len(set(seeds)) != len(seeds) or min(seeds) < 0:
        raise ValueError(f'seeds must be distinct non-negative integers, got '
                         f'{seeds}')
    schedule = SIZES[size]
    stages = []
    # The baseline first: it is the teacher of the teacher-student methods.
    ordered = sorted(methods, key=lambda m: m != 'baseline')
    for seed in seeds:
        for method in ordered:
            options = (schedule['pretrain'] + data_options(
                'pretrain', data_root) + _seed_options(seed))
            teacher = (stage_name('pretrain', 'baseline', seed)
                       if method in NEEDS_TEACHER else None)
            stages.append(
                Stage('pretrain', method, METHODS[method], options, teacher,
                      seed))
    for kind, config in (('det', DET_CONFIG), ('seg', SEG_CONFIG)):
        for seed in seeds:
            for method in methods:
                ckpt = backbone_path(work_root, method, seed)
                stages.append(
                    Stage(kind, method, config,
                          schedule[kind] + data_options(kind, data_root) +
                          _seed_options(seed) +
                          [f'model.backbone.init_cfg.checkpoint={ckpt}'],
                          seed=seed))
    return stages
