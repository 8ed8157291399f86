"""What ``tools/train.py`` and ``tools/test.py`` share: config to Runner.

The config's ``default_scope`` names the OpenMMLab package that builds it
(:func:`import_scope`); the command line is merged into the config with the
same rules in both tools (:func:`add_common_args`, :func:`set_work_dir`,
:func:`set_amp`, :func:`set_resume`, ...); :func:`build_runner` builds the
config's Runner class with strict checkpoint loading
(:mod:`mixskd_mm.engine.strict_load`).
"""
import argparse
import importlib
import logging
import os
import os.path as osp
from typing import Optional

import torch
from mmengine.config import Config, DictAction
from mmengine.logging import print_log
from mmengine.registry import RUNNERS, init_default_scope
from mmengine.runner import Runner

from .cpu_amp import enable_amp
from .strict_load import with_strict_load

__all__ = [
    'LAUNCHERS', 'AUTO_RESUME', 'add_common_args', 'apply_local_rank',
    'import_scope', 'set_work_dir', 'set_amp', 'set_auto_scale_lr',
    'set_resume', 'runner_class', 'build_runner'
]

LAUNCHERS = ('none', 'pytorch', 'slurm', 'mpi')
AUTO_RESUME = 'auto'


def add_common_args(parser: argparse.ArgumentParser,
                    work_dir_help: str) -> None:
    """Add ``--work-dir``, ``--cfg-options``, ``--launcher``, ``--local_rank``.

    Args:
        parser (argparse.ArgumentParser): The tool's parser; changed.
        work_dir_help (str): What the work_dir holds, for ``--work-dir``.
    """
    parser.add_argument(
        '--work-dir',
        help=f'directory for {work_dir_help}. Defaults to the config\'s '
        '`work_dir`, else ./work_dirs/<config name>.')
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


def apply_local_rank(args: argparse.Namespace) -> None:
    """Export ``--local_rank`` as ``LOCAL_RANK`` unless torchrun set it.

    Args:
        args (argparse.Namespace): Parsed arguments with ``local_rank``.
    """
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))


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


def runner_class(cfg: Config) -> type:
    """The Runner class to build: ``cfg.runner_type`` or mmengine's Runner,
    with strict checkpoint loading.

    A ``runner_type`` name is looked up in the default scope's RUNNERS (the
    root registry builds from the scope's child registry), so the default
    scope is initialised first; it stays set, because the Runner reuses it.

    Args:
        cfg (Config): The final config.

    Returns:
        type: A Runner subclass whose ``load_checkpoint`` refuses
        checkpoints that miss model tensors (see :mod:`.strict_load`).

    Raises:
        KeyError: If ``runner_type`` names no registered Runner.
    """
    runner_type = cfg.get('runner_type')
    if runner_type is None:
        return with_strict_load(Runner)
    if isinstance(runner_type, str):
        if cfg.get('default_scope') is not None:
            init_default_scope(cfg.default_scope)
        cls = RUNNERS.get(runner_type)
        if cls is None:
            raise KeyError(
                f'runner_type={runner_type!r} is not a registered Runner '
                f'(scope {cfg.get("default_scope")!r}); import the module '
                'that registers it with custom_imports, or drop runner_type.')
        runner_type = cls
    return with_strict_load(runner_type)


def build_runner(cfg: Config) -> Runner:
    """Build the config's Runner (:func:`runner_class`) from ``cfg``.

    Args:
        cfg (Config): The final config.

    Returns:
        Runner: The runner.
    """
    return runner_class(cfg).from_cfg(cfg)
