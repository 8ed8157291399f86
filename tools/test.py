#!/usr/bin/env python
"""Evaluate a checkpoint with an mmpretrain, mmdet or mmseg config.

::

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR]
        [--out FILE|DIR [--out-item {metrics,pred}]] [--show] [--show-dir DIR]
        [--wait-time S] [--interval N] [--tta] [--cfg-options KEY=VALUE ...]
    bash tools/dist_test.sh CONFIG CHECKPOINT NUM_PROCS [ARGS]

The arguments are those of the OpenMMLab packages' own ``tools/test.py``,
with their meaning in the config's scope (``--out``: see :func:`out_kind`).
A checkpoint that lacks tensors of the model is refused
(``--cfg-options load_strict=False`` loads it partially on purpose). The
config handling shared with ``tools/train.py`` is
:mod:`mixskd_mm.engine.runner_setup`.
"""
import argparse
import copy
import os
import os.path as osp
import sys
from typing import Any, Dict, List, Optional

# First: registers mixskd_mm and applies mixskd_mm.compat even when the
# config forgets `custom_imports`.
import mixskd_mm  # noqa: F401,I001
from mmengine.config import Config, ConfigDict
from mmengine.dist import is_main_process
from mmengine.evaluator import DumpResults
from mmengine.fileio import dump
from mmengine.runner import Runner

from mixskd_mm.engine.distributed import distributed_run
from mixskd_mm.engine.runner_setup import (add_common_args, apply_local_rank,
                                           build_runner, import_scope,
                                           set_work_dir)
from mixskd_mm.utils import to_plain

METRICS_SUFFIXES = ('.json', '.yaml', '.yml')
PREDICTIONS_SUFFIXES = ('.pkl', '.pickle')
OUT_ITEMS = ('metrics', 'pred')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line (the union of mmdet's, mmseg's and
    mmpretrain's ``tools/test.py`` arguments).

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
        '--out',
        help='metrics.json (or .yaml): the metrics; preds.pkl: the '
        'predictions (mmdet: DumpDetResults, else DumpResults); with an '
        'mmseg config any other path is a folder for the predicted masks '
        '(PNG per image), as in mmseg.')
    parser.add_argument(
        '--out-item', choices=OUT_ITEMS,
        help='what --out holds, as in mmpretrain (default: from its '
        'suffix).')
    parser.add_argument(
        '--show', action='store_true',
        help='show each drawn prediction in a window (needs a display)')
    parser.add_argument(
        '--show-dir',
        help='save drawn predictions in this directory. mmdet puts a '
        'relative path under work_dir/<timestamp>/, mmpretrain and mmseg '
        'under the current directory, as their own tools do.')
    parser.add_argument(
        '--wait-time', type=float, default=2,
        help='seconds each shown image stays (--show)')
    parser.add_argument(
        '--interval', type=int,
        help='draw every N-th test iteration. Defaults to 1 with '
        'mmpretrain configs (as its tool) and to the hook\'s own interval '
        'otherwise (mmseg: 50; mmdet draws every image).')
    parser.add_argument(
        '--tta', action='store_true',
        help='test-time augmentation: the config\'s tta_model and '
        'tta_pipeline; mmpretrain and mmdet configs without them get '
        'flip TTA, as in their own tools.')
    add_common_args(parser, 'the logs')
    args = parser.parse_args(argv)
    if not osp.isfile(args.config):
        parser.error(f'config file {args.config!r} does not exist')
    if '://' not in args.checkpoint and not osp.isfile(args.checkpoint):
        parser.error(f'checkpoint {args.checkpoint!r} does not exist; give '
                     'the .pth that tools/train.py saved in its work_dir')
    if args.out_item is not None and args.out is None:
        parser.error('--out-item needs --out, the file to write it to')
    apply_local_rank(args)
    return args


def out_kind(out: str, out_item: Optional[str], scope: Optional[str]) -> str:
    """What ``--out`` writes: 'metrics', 'pred' (a pickle) or 'masks'.

    ``--out-item`` decides when given; else the suffix (.json/.yaml/.yml:
    metrics; .pkl/.pickle: predictions); else, for mmseg, a folder of
    predicted masks.

    Args:
        out (str): The ``--out`` path.
        out_item (str, optional): ``--out-item``.
        scope (str, optional): The config's default scope.

    Returns:
        str: 'metrics', 'pred' or 'masks'.

    Raises:
        ValueError: If the kind cannot be told or does not fit the path.
    """
    if out_item == 'metrics':
        return 'metrics'
    if out.endswith(PREDICTIONS_SUFFIXES):
        return 'pred'
    if out_item is None and out.endswith(METRICS_SUFFIXES):
        return 'metrics'
    if scope == 'mmseg':
        return 'masks'
    raise ValueError(
        f'--out {out!r}: write the metrics to a .json (or .yaml) file, or '
        'the predictions to a .pkl file (mmseg configs also take a folder '
        'for the predicted masks)')


def show_predictions(cfg: Config, args: argparse.Namespace) -> None:
    """Turn on the visualization hook of the config's scope.

    Args:
        cfg (Config): The config; changed in place.
        args (argparse.Namespace): ``show``, ``show_dir``, ``wait_time``,
            ``interval`` (None: mmpretrain 1, others the hook's own).

    Raises:
        ValueError: If ``default_hooks.visualization`` is missing.
    """
    hook = cfg.get('default_hooks', {}).get('visualization')
    if hook is None:
        raise ValueError(
            '--show/--show-dir need default_hooks.visualization in the '
            "config, e.g. visualization=dict(type='VisualizationHook') "
            "(mmpretrain), 'DetVisualizationHook' (mmdet) or "
            "'SegVisualizationHook' (mmseg).")
    if args.show:
        hook.update(show=True, wait_time=args.wait_time)
    scope = cfg.get('default_scope')
    if args.interval is not None:
        hook.update(interval=args.interval)
    if scope == 'mmpretrain':
        hook.update(enable=True, interval=args.interval or 1)
        if args.show_dir is not None:
            hook.update(out_dir=args.show_dir)
        return
    hook.update(draw=True)
    if args.show_dir is None:
        return
    if scope == 'mmdet':
        hook.update(test_out_dir=args.show_dir)
    else:  # mmseg: the hook draws into the visualizer's save_dir
        cfg.setdefault('visualizer', ConfigDict())['save_dir'] = args.show_dir


def _innermost_dataset(dataset_cfg: ConfigDict) -> ConfigDict:
    """The dataset inside wrappers (``dataset=dict(dataset=...)``)."""
    while 'dataset' in dataset_cfg:
        dataset_cfg = dataset_cfg['dataset']
    return dataset_cfg


def _flip_tta_pipeline(pipeline: list, pack: dict) -> list:
    """The test pipeline with its last step replaced by flip TTA."""
    flip = dict(
        type='TestTimeAug',
        transforms=[[dict(type='RandomFlip', prob=1.),
                     dict(type='RandomFlip', prob=0.)], [pack]])
    return copy.deepcopy(pipeline)[:-1] + [flip]


def use_tta(cfg: Config) -> None:
    """Wrap the model in ``cfg.tta_model`` and test on ``cfg.tta_pipeline``.

    Without them, mmpretrain configs get ``AverageClsScoreTTA`` and mmdet
    configs ``DetTTAModel`` (NMS 0.5, 100 per image), both on a
    horizontal-flip pipeline, as their tools do; mmseg configs need both
    keys (mmseg's ``default_runtime`` and dataset bases define them).

    Args:
        cfg (Config): The config; changed in place.

    Raises:
        ValueError: If an mmseg (or unscoped) config lacks them.
    """
    scope = cfg.get('default_scope')
    dataset = _innermost_dataset(cfg.test_dataloader.dataset)
    if scope == 'mmpretrain':
        cfg.setdefault('tta_model', dict(type='mmpretrain.AverageClsScoreTTA'))
        if 'tta_pipeline' not in cfg:
            cfg.tta_pipeline = _flip_tta_pipeline(dataset.pipeline,
                                                  dataset.pipeline[-1])
    elif scope == 'mmdet':
        cfg.setdefault('tta_model', dict(
            type='DetTTAModel',
            tta_cfg=dict(nms=dict(type='nms', iou_threshold=0.5),
                         max_per_img=100)))
        if 'tta_pipeline' not in cfg:
            pack = dict(type='PackDetInputs', meta_keys=(
                'img_id', 'img_path', 'ori_shape', 'img_shape',
                'scale_factor', 'flip', 'flip_direction'))
            cfg.tta_pipeline = _flip_tta_pipeline(dataset.pipeline, pack)
    missing = [k for k in ('tta_model', 'tta_pipeline') if k not in cfg]
    if missing:
        raise ValueError(
            f'--tta needs {" and ".join(missing)} in the config, e.g. from '
            "mmseg's _base_/default_runtime.py (tta_model) and a dataset "
            'base such as _base_/datasets/pascal_voc12.py (tta_pipeline).')
    cfg.model = ConfigDict(**cfg.tta_model, module=cfg.model)
    dataset.pipeline = cfg.tta_pipeline


def merge_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Merge the command line into the config.

    ``--cfg-options`` goes first (as in mmdet and mmseg), so the dedicated
    flags win over it.

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
    if args.show or args.show_dir is not None:
        show_predictions(cfg, args)
    if args.tta:
        use_tta(cfg)
    if args.out is not None and out_kind(
            args.out, args.out_item, cfg.get('default_scope')) == 'masks':
        # mmseg's IoUMetric writes one PNG of class indices per image.
        cfg.test_evaluator['output_dir'] = args.out
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
        dump_metric = DumpDetResults(out_file_path=out)
    else:
        dump_metric = DumpResults(out_file_path=out)
    runner.test_evaluator.metrics.append(dump_metric)


def write_metrics(metrics: Dict[str, Any], out: str) -> None:
    """Write the metrics on the main process (format from the suffix).

    Args:
        metrics (dict): What ``Runner.test()`` returned.
        out (str): A .json, .yaml/.yml or .pkl path; its folder is created.
    """
    if not is_main_process():
        return
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    kwargs = dict(indent=2) if out.endswith('.json') else {}
    # Metric values are numpy or tensor scalars: plain types for JSON/YAML.
    dump(to_plain(metrics), out, **kwargs)


def run_test(cfg: Config, predictions: Optional[str],
             scope: Optional[str]) -> Dict[str, Any]:
    """Build the Runner and test; the Runner is freed on return.

    Args:
        cfg (Config): The final config.
        predictions (str, optional): A .pkl path for the predictions.
        scope (str, optional): The default scope.

    Returns:
        dict: The metrics.
    """
    runner = build_runner(cfg)
    if predictions is not None:
        add_prediction_dump(runner, predictions, scope)
    return runner.test()


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
    """Test from the command line.

    Args:
        argv (list[str], optional): See :func:`parse_args`.

    Returns:
        dict: The metrics.
    """
    args = parse_args(argv)
    cfg = merge_args(Config.fromfile(args.config), args)
    # The test set's labels against the model's classes: the metrics would
    # skip or miscount a label the model has no class for.
    # (mmengine's root HOOKS registry: found from every scope.)
    hooks = list(cfg.get('custom_hooks') or [])
    if not any(isinstance(h, dict) and str(h.get('type', '')).endswith(
            'LabelRangeCheckHook') for h in hooks):
        hooks.append(dict(type='LabelRangeCheckHook'))
    cfg.custom_hooks = hooks
    scope = import_scope(cfg)
    kind = None if args.out is None else out_kind(
        args.out, args.out_item, scope)
    with distributed_run(cfg):
        metrics = run_test(cfg, args.out if kind == 'pred' else None, scope)
        if kind == 'metrics':  # inside: the rank is known until teardown
            write_metrics(metrics, args.out)
    return metrics


if __name__ == '__main__':
    main(sys.argv[1:])
