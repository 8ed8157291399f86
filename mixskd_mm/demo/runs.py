"""Running one demo stage and reading back what it logged.

A stage is a ``tools/train.py`` subprocess; its metric is the evaluation the
run ends with, read from mmengine's ``vis_data/scalars.json``. A finished
stage writes ``result.json`` in its work dir, with the fingerprint of what it
started from (:func:`stage_fingerprint`), and is reused next time unless
``restart`` or that fingerprint changed.
"""
import hashlib
import json
import os
import os.path as osp
import re
import shutil
import subprocess
import sys
import time
from typing import Callable, Dict, List, Optional

from mmengine.config import Config

from ..checkpoint import export_backbone
from ..utils.paths import resource_path
from .stages import METRIC_KEYS, Stage, backbone_path

__all__ = [
    'read_scalars', 'metric_of_run', 'stage_fingerprint', 'run_stage'
]

#: What mmdet's CocoMetric logs when the detector found no box at all.
EMPTY_DETECTIONS = 'The testing results of the whole dataset is empty'

#: Per-class metric keys of the last evaluation, by stage kind: mmdet's
#: classwise CocoMetric logs ``coco/<class>_precision`` (AP of that class),
#: ``ClasswiseIoUMetric`` logs ``IoU.<class>``.
PER_CLASS = dict(
    pretrain=None,
    det=re.compile(r'^coco/(.+)_precision$'),
    seg=re.compile(r'^IoU\.(.+)$'))


def read_scalars(work_dir: str) -> List[dict]:
    """The records of mmengine's ``vis_data/scalars.json`` of a run."""
    records = []
    if not osp.isdir(work_dir):
        return records
    for run in sorted(os.listdir(work_dir)):
        path = osp.join(work_dir, run, 'vis_data', 'scalars.json')
        if osp.isfile(path):
            with open(path) as f:
                records += [json.loads(line) for line in f if line.strip()]
    return records


def metric_of_run(kind: str, records: List[dict], log_text: str,
                  name: str) -> dict:
    """The final metric, its curve and per-class values of a finished run.

    A detector that finds no box ends with mmdet's "testing results of the
    whole dataset is empty" and no ``coco/bbox_mAP``: that is an mAP of 0,
    reported as such (``empty_result=True``), not a failure.

    Raises:
        RuntimeError: When the run ended without its evaluation.
    """
    key, _ = METRIC_KEYS[kind]
    evaluated = [r for r in records if key in r]
    curve = [[r.get('step'), float(r[key])] for r in evaluated]
    last_key = log_text.rfind(f'{key}:')
    last_empty = log_text.rfind(EMPTY_DETECTIONS)
    if kind == 'det' and last_empty > last_key:
        return dict(metric=0.0, curve=curve + [[None, 0.0]], per_class={},
                    empty_result=True)
    if not evaluated:
        raise RuntimeError(f'demo stage {name} ended without a {key} '
                           'evaluation; see its stage.log')
    pattern = PER_CLASS[kind]
    per_class = {}
    if pattern is not None:
        for k, v in evaluated[-1].items():
            match = pattern.match(k)
            if match and isinstance(v, (int, float)):
                per_class[match.group(1)] = float(v)
    return dict(metric=float(evaluated[-1][key]), curve=curve,
                per_class=per_class, empty_result=False)


def _file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def stage_fingerprint(stage: Stage, options: List[str],
                      data_stamp: str) -> str:
    """SHA-256 of everything a stage's result depends on.

    That is the resolved config (its ``_base_`` files and upstream
    ``pkg::`` configs included), the ``--cfg-options``, the data (its
    marker: size and :data:`~.data.DATA_VERSION`) and the contents of every
    checkpoint an option points at (the backbone a transfer stage starts
    from, the teacher of a distillation stage). A finished stage is reused
    only while this is unchanged.
    """
    config = Config.fromfile(
        resource_path(stage.config), import_custom_modules=False)
    digest = hashlib.sha256()
    for part in [config.pretty_text, data_stamp] + list(options):
        digest.update(part.encode() + b'\0')
        value = part.split('=', 1)[-1]
        if value.endswith('.pth') and osp.isfile(value):
            digest.update(_file_sha256(value).encode())
    return digest.hexdigest()


def _last_checkpoint(work_dir: str) -> str:
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


_PROGRESS = re.compile(r'(Epoch|Iter)\((train|val)\)|Saving checkpoint')


def _run_train(stage: Stage, options: List[str], work_dir: str,
               log: Callable[[str], None]) -> str:
    """``tools/train.py`` in a subprocess; progress lines are echoed.

    ``options`` are the stage's ``--cfg-options`` plus what the run adds
    (the teacher's checkpoint).

    Returns:
        str: The whole log of the run (also written to ``stage.log``).
    """
    # The shipped tools/train.py and configs/ (mixskd_mm/.mim/ when
    # installed, the checkout's otherwise), run from the work dir so that
    # nothing is written inside an installed package.
    cmd = [
        sys.executable,
        resource_path('tools', 'train.py'),
        resource_path(stage.config), '--work-dir', work_dir
    ]
    if options:
        cmd += ['--cfg-options'] + options
    env = dict(os.environ, PYTHONUNBUFFERED='1')
    lines = []
    with open(osp.join(work_dir, 'stage.log'), 'w') as out, \
            subprocess.Popen(cmd, cwd=work_dir, env=env, text=True,
                             stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT) as proc:
        for line in proc.stdout:
            out.write(line)
            lines.append(line)
            if _PROGRESS.search(line):
                message = line.split(' - INFO - ')[-1].strip()
                log(f'  [{stage.name}] {message}')
    if proc.returncode != 0:
        raise RuntimeError(
            f'demo stage {stage.name} failed (exit {proc.returncode}); its '
            f'log is {osp.join(work_dir, "stage.log")}')
    return ''.join(lines)


def run_stage(stage: Stage,
              work_root: str,
              restart: bool,
              log: Callable[[str], None],
              done: Optional[Dict[str, dict]] = None,
              data_stamp: str = '') -> dict:
    """Train (unless already done) and return the stage's result.

    ``done`` holds the results of the earlier stages (for the teacher);
    ``data_stamp`` identifies the data (the pipeline's data marker). A
    finished run is reused only when its fingerprint (config, options, data,
    starting checkpoints: :func:`stage_fingerprint`) is the current one.
    """
    work_dir = osp.join(work_root, stage.name)
    result_file = osp.join(work_dir, 'result.json')
    options = list(stage.cfg_options)
    if stage.teacher_stage:
        teacher_ckpt = (done or {})[stage.teacher_stage]['checkpoint']
        options.append(f'model.teacher.checkpoint={teacher_ckpt}')
    fingerprint = stage_fingerprint(stage, options, data_stamp)
    if not restart and osp.isfile(result_file):
        with open(result_file) as f:
            result = json.load(f)
        if result.get('fingerprint') == fingerprint:
            log(f'[demo] {stage.name}: reusing the finished run in '
                f'{work_dir}')
            return result
        log(f'[demo] {stage.name}: the finished run in {work_dir} started '
            'from another config, data or checkpoint: training it again')
    if osp.isdir(work_dir):
        shutil.rmtree(work_dir)
    os.makedirs(work_dir)
    log(f'[demo] {stage.name}: training {stage.config}')
    start = time.time()
    log_text = _run_train(stage, options, work_dir, log)
    result = dict(
        stage=stage.name,
        kind=stage.kind,
        method=stage.method,
        seed=stage.seed,
        metric_name=METRIC_KEYS[stage.kind][0],
        wall_s=round(time.time() - start, 1),
        checkpoint=_last_checkpoint(work_dir),
        fingerprint=fingerprint)
    result.update(
        metric_of_run(stage.kind, read_scalars(work_dir), log_text,
                      stage.name))
    if result['empty_result']:
        log(f'[demo] {stage.name}: the detector found no box in the '
            'validation set: bbox mAP 0')
    if stage.kind == 'pretrain':
        info = export_backbone(
            result['checkpoint'],
            backbone_path(work_root, stage.method, stage.seed))
        log(f'[demo] {stage.name}: exported {info["kept"]} backbone tensors'
            f' ({info["dropped"]} training-only tensors dropped)')
    with open(result_file, 'w') as f:
        json.dump(result, f, indent=2)
    log(f'[demo] {stage.name}: {result["metric_name"]} = '
        f'{result["metric"]:.4g} in {result["wall_s"]:.0f} s')
    return result
