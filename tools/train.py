#!/usr/bin/env python
"""Train an mmpretrain, mmdet or mmseg config, with or without a GPU.

The config's ``default_scope`` decides which OpenMMLab package builds it::

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
        [--auto-scale-lr] [--cfg-options KEY=VALUE ...]
    bash tools/dist_train.sh CONFIG NUM_PROCS [ARGS]   # --launcher pytorch

On a machine without a GPU, ``--amp`` trains in bfloat16 autocast
(``CPUAmpOptimWrapper``) and ``--launcher pytorch`` runs gloo processes
(:mod:`mixskd_mm.engine.distributed`, which also tears the process group
down at the end). ``load_from`` and ``--resume`` refuse a checkpoint that
lacks tensors of the model (``--cfg-options load_strict=False`` allows it).
The checkpoint hook removes old checkpoints only after the new one is
written (``SafeCheckpointHook``); on SIGTERM or SIGUSR1 the run saves a
checkpoint after the current iteration and exits with status 75
(``PreemptionHook``), and ``--resume`` continues at the next iteration.
The shared config handling is :mod:`mixskd_mm.engine.runner_setup`.
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

# First: registers mixskd_mm and applies mixskd_mm.compat even when the
# config forgets `custom_imports`.
import mixskd_mm  # noqa: F401,I001
from mmengine.config import Config

from mixskd_mm.engine.distributed import distributed_run
from mixskd_mm.engine.runner_setup import (AUTO_RESUME, add_common_args,
                                           apply_local_rank, build_runner,
                                           import_scope, set_amp,
                                           set_auto_scale_lr, set_resume,
                                           set_work_dir)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line (mmdet's ``tools/train.py`` arguments).

    Args:
        argv (list[str], optional): Arguments without the program name.
            Defaults to None, which means ``sys.argv[1:]``.

    Returns:
        argparse.Namespace: The parsed arguments.
    """
    parser = argparse.ArgumentParser(
        description='Train a model (mmpretrain, mmdet or mmseg config).')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const=AUTO_RESUME,
        help='resume from the given checkpoint, or, with no value, from the '
        'latest checkpoint in the work_dir.')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='mixed precision: AmpOptimWrapper (float16, dynamic loss '
        'scale) on CUDA, CPUAmpOptimWrapper (bfloat16 autocast) without.')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate by the real batch size; needs '
        '`auto_scale_lr = dict(base_batch_size=N)` in the config.')
    add_common_args(parser, 'logs and checkpoints')
    args = parser.parse_args(argv)
    if not osp.isfile(args.config):
        parser.error(f'config file {args.config!r} does not exist; give the '
                     'path of a .py config, e.g. configs/...py')
    if args.resume not in (None, AUTO_RESUME) and '://' not in args.resume \
            and not osp.isfile(args.resume):
        parser.error(f'--resume checkpoint {args.resume!r} does not exist; '
                     'give an existing .pth, or pass --resume alone to '
                     'resume from the latest checkpoint in the work_dir.')
    apply_local_rank(args)
    return args


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
    set_amp(cfg, args.amp)
    if args.auto_scale_lr:
        set_auto_scale_lr(cfg)
    set_resume(cfg, args.resume)
    return cfg


def main(argv: Optional[List[str]] = None) -> None:
    """Train from the command line.

    Args:
        argv (list[str], optional): See :func:`parse_args`.
    """
    args = parse_args(argv)
    cfg = merge_args(Config.fromfile(args.config), args)
    mixskd_mm.engine.add_runtime_guard_hooks(cfg)
    # Old checkpoints go only after the new one is written; SIGTERM/SIGUSR1
    # checkpoint and exit with status 75 (mixskd_mm/engine/hooks/).
    mixskd_mm.engine.use_safe_checkpoint_hook(cfg)
    mixskd_mm.engine.add_preemption_hook(cfg)
    import_scope(cfg)
    with distributed_run(cfg):
        build_runner(cfg).train()


if __name__ == '__main__':
    main(sys.argv[1:])
