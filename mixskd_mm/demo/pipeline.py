"""The demo pipeline: pretrain, export, transfer, evaluate, report.

For each method (``baseline`` and ``mixskd`` by default) and each seed it
pretrains a ResNet-18 on the generated classification set, exports its
backbone, and fine-tunes Faster R-CNN (COCO-format set) and DeepLabV3
(VOC-format set) from it. Every stage is a ``tools/train.py`` run of a config
under ``configs/demo/`` (:mod:`.stages` plans them, :mod:`.runs` runs one),
so the real Runner, dataset classes and evaluators are used. At the end it
writes ``report.md``, ``results.json`` and PNG plots under the work root
(:mod:`.report`).
"""
import os
import os.path as osp
import shutil
from typing import Callable, Dict, List, Optional, Sequence

from .data import DATA_VERSION, write_demo_data
from .report import write_report
from .runs import read_scalars, run_stage
from .stages import (METHODS, METRIC_KEYS, SIZES, Stage, backbone_path,
                     plan_stages)

__all__ = [
    'METHODS', 'SIZES', 'METRIC_KEYS', 'Stage', 'backbone_path',
    'plan_stages', 'read_scalars', 'run_stage', 'run_pipeline'
]


def run_pipeline(methods: Optional[List[str]] = None,
                 size: str = 'default',
                 work_root: str = 'work_dirs/demo',
                 data_root: str = 'data/demo',
                 restart: bool = False,
                 log: Callable[[str], None] = print,
                 seeds: Sequence[int] = (0, )) -> Dict[str, dict]:
    """Run every stage and write the report; returns the results by stage.

    The same arguments give the same numbers on the same machine: every
    stage is seeded (``randomness.seed``) and the data is generated
    deterministically.
    """
    methods = methods or ['baseline', 'mixskd']
    if methods[0] != 'baseline' and 'baseline' in methods:
        methods = ['baseline'] + [m for m in methods if m != 'baseline']
    work_root = osp.abspath(work_root)
    stages = plan_stages(methods, size, work_root, data_root, seeds)
    if restart and osp.isdir(work_root):
        shutil.rmtree(work_root)
    os.makedirs(work_root, exist_ok=True)
    data_stamp = _prepare_data(data_root, SIZES[size]['data'], restart, log)
    results = {}
    for i, stage in enumerate(stages, 1):
        log(f'[demo] stage {i}/{len(stages)}: {stage.name}')
        results[stage.name] = run_stage(stage, work_root, restart, log,
                                        results, data_stamp)
    write_report(results, methods, work_root, log, list(seeds))
    return results


def _prepare_data(data_root: str, size: str, restart: bool,
                  log: Callable[[str], None]) -> str:
    """Write the demo data unless the same size of the same world is there.

    The marker file names the size and :data:`~.data.DATA_VERSION`, so data
    written by an older version of the demo world is rewritten, not reused.
    Returns the marker's text: it is part of every stage's fingerprint, so
    stages trained on older data are trained again.
    """
    marker = osp.join(data_root, 'demo_size.txt')
    stamp = f'{size} {DATA_VERSION}'
    if not restart and osp.isfile(marker):
        with open(marker) as f:
            found = f.read().strip()
        if found == stamp:
            log(f'[demo] reusing the {size} demo data in {data_root}')
            return stamp
        if found.split()[:1] == [size]:
            log(f'[demo] the {size} demo data in {data_root} comes from an '
                f'older demo world ({found!r}, now {stamp!r}): rewriting it')
    log(f'[demo] writing the {size} demo data to {data_root}')
    write_demo_data(data_root, size=size, overwrite=True)
    with open(marker, 'w') as f:
        f.write(stamp)
    return stamp
