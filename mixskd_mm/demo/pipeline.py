"""The demo pipeline: pretrain, export, transfer, evaluate, report.

For each method (``baseline`` and ``mixskd`` by default) it pretrains a
ResNet-18 on the generated classification set, exports its backbone, and
fine-tunes Faster R-CNN (COCO-format set) and DeepLabV3 (VOC-format set)
from it. Every stage is a ``tools/train.py`` run of a config under
``configs/demo/``, so the real Runner, dataset classes and evaluators are
used; the metric of a stage is the evaluation the run ends with.

A finished stage writes ``result.json`` in its work dir and is reused on the
next run unless ``restart=True``. At the end it writes ``report.md``,
``results.json`` and PNG plots under the work root.
"""
import json
import os
import os.path as osp
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

from .data import write_demo_data

__all__ = [
    'METHODS', 'SIZES', 'Stage', 'plan_stages', 'run_pipeline',
    'read_scalars'
]

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

#: Pretraining demo config of each method (the real recipe, demo data).
METHODS = {
    name: f'configs/demo/{name}_r18_demo.py'
    for name in ('baseline', 'mixskd', 'frskd', 'cutnmix', 'mixkd', 'kd',
                 'mixup', 'cutmix')
}
#: Methods whose pretraining distils from a frozen teacher: the demo uses the
#: baseline's pretrained ResNet-18 as that teacher.
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

#: The metric each stage kind reports, as mmengine logs it.
METRIC_KEYS = dict(
    pretrain=('accuracy/top1', 'top-1 (%)'),
    det=('coco/bbox_mAP', 'bbox mAP'),
    seg=('mIoU', 'mIoU (%)'))


@dataclass
class Stage:
    """One training run of the pipeline."""
    kind: str  # 'pretrain', 'det' or 'seg'
    method: str
    config: str
    cfg_options: List[str] = field(default_factory=list)
    #: Name of the stage whose checkpoint is this stage's frozen teacher.
    teacher_stage: Optional[str] = None

    @property
    def name(self) -> str:
        return f'{self.kind}_{self.method}'


def backbone_path(work_root: str, method: str) -> str:
    return osp.join(work_root, f'pretrain_{method}', 'backbone.pth')


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


def plan_stages(methods: List[str], size: str, work_root: str,
                data_root: str) -> List[Stage]:
    """All stages, pretraining first, then detection, then segmentation."""
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
    schedule = SIZES[size]
    stages = []
    # The baseline first: it is the teacher of the teacher-student methods.
    for method in sorted(methods, key=lambda m: m != 'baseline'):
        options = schedule['pretrain'] + data_options('pretrain', data_root)
        teacher = 'pretrain_baseline' if method in NEEDS_TEACHER else None
        stages.append(
            Stage('pretrain', method, METHODS[method], options, teacher))
    for kind, config in (('det', DET_CONFIG), ('seg', SEG_CONFIG)):
        for method in methods:
            ckpt = backbone_path(work_root, method)
            stages.append(
                Stage(kind, method, config,
                      schedule[kind] + data_options(kind, data_root) +
                      [f'model.backbone.init_cfg.checkpoint={ckpt}']))
    return stages


def read_scalars(work_dir: str) -> List[dict]:
    """The records of mmengine's ``vis_data/scalars.json`` of a run."""
    records = []
    for run in sorted(os.listdir(work_dir)):
        path = osp.join(work_dir, run, 'vis_data', 'scalars.json')
        if osp.isfile(path):
            with open(path) as f:
                records += [json.loads(line) for line in f if line.strip()]
    return records


def _last_checkpoint(work_dir: str) -> str:
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


_PROGRESS = re.compile(r'(Epoch|Iter)\((train|val)\)|Saving checkpoint')


def _run_train(stage: Stage, work_dir: str, log: Callable[[str],
                                                          None]) -> None:
    """``tools/train.py`` in a subprocess; progress lines are echoed."""
    cmd = [
        sys.executable,
        osp.join(ROOT, 'tools', 'train.py'), stage.config, '--work-dir',
        work_dir
    ]
    if stage.cfg_options:
        cmd += ['--cfg-options'] + stage.cfg_options
    env = dict(os.environ, PYTHONUNBUFFERED='1')
    with open(osp.join(work_dir, 'stage.log'), 'w') as out, \
            subprocess.Popen(cmd, cwd=ROOT, env=env, text=True,
                             stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT) as proc:
        for line in proc.stdout:
            out.write(line)
            if _PROGRESS.search(line):
                message = line.split(' - INFO - ')[-1].strip()
                log(f'  [{stage.name}] {message}')
    if proc.returncode != 0:
        raise RuntimeError(
            f'demo stage {stage.name} failed (exit {proc.returncode}); its '
            f'log is {osp.join(work_dir, "stage.log")}')


def run_stage(stage: Stage,
              work_root: str,
              restart: bool,
              log: Callable[[str], None],
              done: Optional[Dict[str, dict]] = None) -> dict:
    """Train (unless already done) and return the stage's result.

    ``done`` holds the results of the earlier stages (for the teacher).
    """
    work_dir = osp.join(work_root, stage.name)
    result_file = osp.join(work_dir, 'result.json')
    if not restart and osp.isfile(result_file):
        with open(result_file) as f:
            result = json.load(f)
        log(f'[demo] {stage.name}: reusing the finished run in {work_dir}')
        return result
    if osp.isdir(work_dir):
        shutil.rmtree(work_dir)
    os.makedirs(work_dir)
    if stage.teacher_stage:
        teacher_ckpt = (done or {})[stage.teacher_stage]['checkpoint']
        stage.cfg_options.append(f'model.teacher.checkpoint={teacher_ckpt}')
    log(f'[demo] {stage.name}: training {stage.config}')
    start = time.time()
    _run_train(stage, work_dir, log)
    key, _ = METRIC_KEYS[stage.kind]
    evaluated = [r for r in read_scalars(work_dir) if key in r]
    if not evaluated:
        raise RuntimeError(f'demo stage {stage.name} ended without a {key} '
                           f'evaluation; see {work_dir}/stage.log')
    result = dict(
        stage=stage.name,
        kind=stage.kind,
        method=stage.method,
        metric=float(evaluated[-1][key]),
        metric_name=key,
        wall_s=round(time.time() - start, 1),
        checkpoint=_last_checkpoint(work_dir))
    if stage.kind == 'pretrain':
        from mixskd_mm.tools_lib import export_backbone
        info = export_backbone(result['checkpoint'],
                               backbone_path(work_root, stage.method))
        log(f'[demo] {stage.name}: exported {info["kept"]} backbone tensors'
            f' ({info["dropped"]} training-only tensors dropped)')
    with open(result_file, 'w') as f:
        json.dump(result, f, indent=2)
    log(f'[demo] {stage.name}: {key} = {result["metric"]:.4g} '
        f'in {result["wall_s"]:.0f} s')
    return result


def run_pipeline(methods: Optional[List[str]] = None,
                 size: str = 'default',
                 work_root: str = 'work_dirs/demo',
                 data_root: str = 'data/demo',
                 restart: bool = False,
                 log: Callable[[str], None] = print) -> Dict[str, dict]:
    """Run every stage and write the report; returns the results by stage.
    """
    methods = methods or ['baseline', 'mixskd']
    if methods[0] != 'baseline' and 'baseline' in methods:
        methods = ['baseline'] + [m for m in methods if m != 'baseline']
    work_root = osp.abspath(work_root)
    stages = plan_stages(methods, size, work_root, data_root)
    if restart and osp.isdir(work_root):
        shutil.rmtree(work_root)
    os.makedirs(work_root, exist_ok=True)
    _prepare_data(data_root, SIZES[size]['data'], restart, log)
    results = {}
    for i, stage in enumerate(stages, 1):
        log(f'[demo] stage {i}/{len(stages)}: {stage.name}')
        results[stage.name] = run_stage(stage, work_root, restart, log,
                                        results)
    from .report import write_report
    write_report(results, methods, work_root, log)
    return results


def _prepare_data(data_root: str, size: str, restart: bool,
                  log: Callable[[str], None]) -> None:
    """Write the demo data unless the same size is already there."""
    marker = osp.join(data_root, 'demo_size.txt')
    if not restart and osp.isfile(marker):
        with open(marker) as f:
            if f.read().strip() == size:
                log(f'[demo] reusing the {size} demo data in {data_root}')
                return
    log(f'[demo] writing the {size} demo data to {data_root}')
    write_demo_data(data_root, size=size, overwrite=True)
    with open(marker, 'w') as f:
        f.write(size)
