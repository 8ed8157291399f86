#!/usr/bin/env python
"""Evaluate a checkpoint with an mmpretrain, mmdet or mmseg config.

::

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR]
        [--out metrics.json | predictions.pkl] [--show-dir DIR]
        [--cfg-options KEY=VALUE ...]
    bash tools/dist_test.sh CONFIG CHECKPOINT NUM_PROCS [ARGS]

Shares the config handling of ``tools/train.py`` (scope, work_dir, CPU
distributed set-up).
"""
import argparse
import json
import os
import os.path as osp
import sys
from numbers import Number
from typing import Any, Dict, List, Optional

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

# First: registers mixskd_mm and applies mixskd_mm.compat even when the
# config forgets `custom_imports`.
import mixskd_mm  # noqa: F401,E402,I001
from mmengine.config import Config, ConfigDict, DictAction  # noqa: E402
from mmengine.dist import is_main_process  # noqa: E402
from mmengine.evaluator import DumpResults  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from mixskd_mm.engine.distributed import setup_cpu_distributed  # noqa: E402,E501
from train import (LAUNCHERS, build_runner, import_scope,  # noqa: E402
                   set_work_dir)

METRICS_SUFFIXES = ('.json', )
PREDICTIONS_SUFFIXES = ('.pkl', '.pickle')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line.

    Args:
        argv (list[str], optional): Arguments without the program name.
            Defaults to None, which means ``sys.argv[1:]``.

    Returns:
        argparse.Namespace: The parsed arguments.
    """
    parser = argparse.ArgumentParser(
        description='Test a checkpoint (mmpretrain, mmdet or mmseg config).')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir',
        help='directory for the logs. Defaults to the config\'s `work_dir`, '
        'else ./work_dirs/<config name>.')
    parser.add_argument(
        '--out',
        help='write the metrics (a .json file) or the predictions (a .pkl '
        'file) here.')
    parser.add_argument(
        '--show-dir',
        help='save drawn predictions in this directory (every '
        '`interval`-th sample of the visualization hook). mmdet puts a '
        'relative path under work_dir/<timestamp>/, mmpretrain and mmseg '
        'under the current directory, as their own tools do.')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config keys, e.g. test_dataloader.batch_size=1.')
    parser.add_argument(
        '--launcher', choices=LAUNCHERS, default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if not osp.isfile(args.config):
        parser.error(f'config file {args.config!r} does not exist')
    if '://' not in args.checkpoint and not osp.isfile(args.checkpoint):
        parser.error(f'checkpoint {args.checkpoint!r} does not exist; give '
                     'the .pth that tools/train.py saved in its work_dir')
    if args.out is not None and not args.out.endswith(
            METRICS_SUFFIXES + PREDICTIONS_SUFFIXES):
        parser.error(f'--out {args.out!r}: use a .json file for the metrics '
                     'or a .pkl file for the predictions')
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def show_predictions(cfg: Config, show_dir: str) -> None:
    """Turn on the visualization hook of the config's scope.

    Args:
        cfg (Config): The config; changed in place.
        show_dir (str): Where to save the drawn images.

    Raises:
        ValueError: If ``default_hooks.visualization`` is missing.
    """
    hook = cfg.get('default_hooks', {}).get('visualization')
    if hook is None:
        raise ValueError(
            '--show-dir needs default_hooks.visualization in the config, e.g. '
            "visualization=dict(type='VisualizationHook') (mmpretrain), "
            "'DetVisualizationHook' (mmdet) or 'SegVisualizationHook' "
            '(mmseg).')
    scope = cfg.get('default_scope')
    if scope == 'mmpretrain':
        hook.update(enable=True, out_dir=show_dir)
    elif scope == 'mmdet':
        hook.update(draw=True, test_out_dir=show_dir)
    else:  # mmseg: the hook draws into the visualizer's save_dir
        hook.update(draw=True)
        cfg.setdefault('visualizer', ConfigDict())['save_dir'] = show_dir


def merge_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Merge the command line into the config.

    Args:
        cfg (Config): The loaded config; changed in place.
        args (argparse.Namespace): From :func:`parse_args`.

    Returns:
        Config: ``cfg``.
    """
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    set_work_dir(cfg, args.work_dir, args.config)
    cfg.load_from = args.checkpoint
    if args.show_dir is not None:
        show_predictions(cfg, args.show_dir)
    return cfg


def add_prediction_dump(runner: Runner, out: str,
                        scope: Optional[str]) -> None:
    """Append a metric that pickles the predictions to ``out``.

    Args:
        runner (Runner): The built runner.
        out (str): A .pkl path.
        scope (str, optional): The default scope. mmdet gets its
            ``DumpDetResults``, which stores masks RLE-encoded; the others
            mmengine's ``DumpResults``.
    """
    if scope == 'mmdet':
        from mmdet.evaluation import DumpDetResults
        dump = DumpDetResults(out_file_path=out)
    else:
        dump = DumpResults(out_file_path=out)
    runner.test_evaluator.metrics.append(dump)


def to_json(value: Any) -> Any:
    """Convert metric values (numpy, tensors) to JSON types.

    Args:
        value (Any): A metric value.

    Returns:
        Any: A float, int, str, bool, None, list or dict.
    """
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if hasattr(value, 'tolist'):  # numpy arrays/scalars and tensors
        return to_json(value.tolist())
    if isinstance(value, (str, bool)) or value is None:
        return value
    if isinstance(value, Number):
        return value if isinstance(value, int) else float(value)
    return str(value)


def write_metrics(metrics: Dict[str, Any], out: str) -> None:
    """Write the metrics as JSON (on the main process).

    Args:
        metrics (dict): What ``Runner.test()`` returned.
        out (str): The .json path; its folder is created.
    """
    if not is_main_process():
        return
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    with open(out, 'w') as f:
        json.dump(to_json(metrics), f, indent=2)


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
    """Test from the command line.

    Args:
        argv (list[str], optional): See :func:`parse_args`.

    Returns:
        dict: The metrics.
    """
    args = parse_args(argv)
    cfg = merge_args(Config.fromfile(args.config), args)
    scope = import_scope(cfg)
    setup_cpu_distributed(cfg)
    runner = build_runner(cfg)
    if args.out is not None and args.out.endswith(PREDICTIONS_SUFFIXES):
        add_prediction_dump(runner, args.out, scope)
    metrics = runner.test()
    if args.out is not None and args.out.endswith(METRICS_SUFFIXES):
        write_metrics(metrics, args.out)
    return metrics


if __name__ == '__main__':
    main(sys.argv[1:])
