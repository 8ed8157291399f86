#!/usr/bin/env python
"""Train an mmpretrain, mmdet or mmseg config, with or without a GPU.

The config's ``default_scope`` decides which OpenMMLab package builds it::

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
        [--auto-scale-lr] [--cfg-options KEY=VALUE ...]
    bash tools/dist_train.sh CONFIG NUM_PROCS [ARGS]   # --launcher pytorch

On a machine without a GPU, ``--amp`` trains in bfloat16 autocast
(``CPUAmpOptimWrapper``) and ``--launcher pytorch`` runs gloo processes
(:func:`mixskd_mm.engine.distributed.setup_cpu_distributed`).
"""
import argparse
import importlib
import logging
import os
import os.path as osp
import sys
from typing import List, Optional

# First: registers mixskd_mm and applies mixskd_mm.compat even when the
# config forgets `custom_imports`.
import mixskd_mm  # noqa: F401,I001
import torch
from mmengine.config import Config, DictAction
from mmengine.logging import print_log
from mmengine.registry import RUNNERS, init_default_scope
from mmengine.runner import Runner

from mixskd_mm.engine.distributed import setup_cpu_distributed
from mixskd_mm.engine.cpu_amp import enable_amp

LAUNCHERS = ('none', 'pytorch', 'slurm', 'mpi')
AUTO_RESUME = 'auto'


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
        '--work-dir',
        help='directory for logs and checkpoints. Defaults to the config\'s '
        '`work_dir`, else ./work_dirs/<config name>.')
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
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config keys, e.g. train_cfg.max_iters=10 '
        '"model.backbone.depth=18". Lists as key="[a,b]" or key=a,b; '
        'quote values with spaces. Merged before the other options.')
    parser.add_argument(
        '--launcher', choices=LAUNCHERS, default='none', help='job launcher')
    # torch.distributed.launch passes --local-rank (torch >= 2.0) or
    # --local_rank; torchrun sets the LOCAL_RANK environment variable.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if not osp.isfile(args.config):
        parser.error(f'config file {args.config!r} does not exist; give the '
                     'path of a .py config, e.g. configs/...py')
    if args.resume not in (None, AUTO_RESUME) and '://' not in args.resume \
            and not osp.isfile(args.resume):
        parser.error(f'--resume checkpoint {args.resume!r} does not exist; '
                     'give an existing .pth, or pass --resume alone to '
                     'resume from the latest checkpoint in the work_dir.')
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def import_scope(cfg: Config) -> Optional[str]:
    """Register the modules of the package named by ``cfg.default_scope``.

    Calls ``{scope}.utils.register_all_modules(init_default_scope=False)``
    when the package has it (mmpretrain, mmdet and mmseg do); the Runner
    sets the default scope itself.

    Args:
        cfg (Config): The config.

    Returns:
        str, optional: The scope, or None when the config has none (then
        only mmengine's root registries and ``custom_imports`` are used).

    Raises:
        ImportError: If the scope's package is not installed.
    """
    scope = cfg.get('default_scope')
    if scope is None:
        print_log('the config has no default_scope: types resolve in '
                  'mmengine\'s root registries only', logger='current',
                  level=logging.WARNING)
        return None
    try:
        importlib.import_module(scope)
    except ModuleNotFoundError as err:
        if err.name != scope:
            raise
        raise ImportError(
            f'default_scope={scope!r} but the package {scope!r} is not '
            'installed: run bash tools/setup_env.sh, or fix default_scope '
            'in the config.') from err
    try:
        utils = importlib.import_module(f'{scope}.utils')
    except ModuleNotFoundError as err:
        if err.name != f'{scope}.utils':
            raise
        return scope  # no `utils`: its registries import their locations
    register = getattr(utils, 'register_all_modules', None)
    if register is not None:
        register(init_default_scope=False)
    return scope


def set_work_dir(cfg: Config, work_dir: Optional[str],
                 config_path: str) -> None:
    """Set ``cfg.work_dir``: the CLI, else the config, else the default.

    Args:
        cfg (Config): The config; changed in place.
        work_dir (str, optional): The ``--work-dir`` value.
        config_path (str): The config file, whose stem names the default
            ``./work_dirs/<stem>``.
    """
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        stem = osp.splitext(osp.basename(config_path))[0]
        cfg.work_dir = osp.join('./work_dirs', stem)


def set_amp(cfg: Config, amp: bool) -> None:
    """Apply ``--amp``; also make an AmpOptimWrapper config run on CPU.

    Args:
        cfg (Config): The config; changed in place.
        amp (bool): Whether ``--amp`` was given.
    """
    wrapper_type = cfg.get('optim_wrapper', {}).get('type')
    if amp:
        enable_amp(cfg)
    elif wrapper_type == 'AmpOptimWrapper' and not torch.cuda.is_available():
        # mmengine's AmpOptimWrapper asserts CUDA (see engine/cpu_amp.py).
        print_log('the config uses AmpOptimWrapper but CUDA is not '
                  'available: switching to CPUAmpOptimWrapper',
                  logger='current', level=logging.WARNING)
        enable_amp(cfg, cuda=False)


def set_auto_scale_lr(cfg: Config) -> None:
    """Enable ``auto_scale_lr`` (``--auto-scale-lr``).

    Args:
        cfg (Config): The config; changed in place.

    Raises:
        ValueError: If ``cfg.auto_scale_lr.base_batch_size`` is missing.
    """
    auto_scale_lr = cfg.get('auto_scale_lr')
    if not auto_scale_lr or 'base_batch_size' not in auto_scale_lr:
        raise ValueError(
            '--auto-scale-lr needs `auto_scale_lr = dict(base_batch_size=N)` '
            'in the config, N being the total batch size the learning rate '
            'was tuned for (e.g. 8 GPUs x 32 = 256).')
    auto_scale_lr.enable = True


def set_resume(cfg: Config, resume: Optional[str]) -> None:
    """Apply ``--resume``.

    Args:
        cfg (Config): The config; changed in place.
        resume (str, optional): None (no resume), 'auto' (latest checkpoint
            in the work_dir) or a checkpoint path.
    """
    if resume == AUTO_RESUME:
        cfg.resume = True
        cfg.load_from = None
    elif resume is not None:
        cfg.resume = True
        cfg.load_from = resume


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


def build_runner(cfg: Config) -> Runner:
    """Build the Runner, or ``cfg.runner_type`` from the scope's RUNNERS.

    Args:
        cfg (Config): The final config.

    Returns:
        Runner: The runner.
    """
    if 'runner_type' not in cfg:
        return Runner.from_cfg(cfg)
    # The root RUNNERS builds from the child registry of the default scope.
    # Not a temporary `DefaultScope.overwrite_default_scope`: leaving it
    # would also drop the scope instance the Runner creates while building.
    if cfg.get('default_scope') is not None:
        init_default_scope(cfg.default_scope)
    return RUNNERS.build(cfg)


def main(argv: Optional[List[str]] = None) -> None:
    """Train from the command line.

    Args:
        argv (list[str], optional): See :func:`parse_args`.
    """
    args = parse_args(argv)
    cfg = merge_args(Config.fromfile(args.config), args)
    mixskd_mm.engine.add_runtime_guard_hooks(cfg)
    import_scope(cfg)
    setup_cpu_distributed(cfg)
    build_runner(cfg).train()


if __name__ == '__main__':
    main(sys.argv[1:])
