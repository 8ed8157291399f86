"""The process group of a run: set-up without a GPU, teardown at the end.

mmengine 0.10.7 assumes CUDA under ``--launcher pytorch``;
:func:`setup_cpu_distributed` prepares the config and the process group so
that ``tools/dist_train.sh`` and ``tools/dist_test.sh`` run CPU processes
with gloo. mmengine never destroys the group it or we created, so
:func:`teardown_distributed` does, before the interpreter exits. Both tools
use them through :func:`distributed_run`::

    with distributed_run(cfg):
        build_runner(cfg).train()
"""
import contextlib
import datetime
import gc
import logging
import os
from typing import Any, Iterator, List, Optional

import torch
import torch.distributed as dist
from mmengine.config import Config
from mmengine.logging import print_log
# Imported for its registration in MODEL_WRAPPERS, looked up below.
from mmengine.model import MMDistributedDataParallel  # noqa: F401
from mmengine.registry import MODEL_WRAPPERS
from torch.nn.parallel import DistributedDataParallel

__all__ = [
    'distributed_run', 'setup_cpu_distributed', 'teardown_distributed',
    'SYNC_BN_TYPES'
]

#: Norm layer types (registry names) that DDP refuses in a CPU model.
SYNC_BN_TYPES = ('SyncBN', 'MMSyncBN', 'SyncBatchNorm')

#: Environment variables ``torchrun`` sets and a gloo process group needs.
_TORCHRUN_ENV = ('RANK', 'LOCAL_RANK', 'WORLD_SIZE', 'MASTER_ADDR',
                 'MASTER_PORT')


# mmengine 0.10.7 cannot train distributed on CPU. No upstream issue tracks
# it (searched open-mmlab/mmengine issues/PRs); the facts, from its source
# and checked by tests/test_tools.py::test_dist_train_two_cpu_processes:
# - `_init_dist_pytorch` (mmengine/dist/utils.py) calls
#   torch.cuda.set_device(LOCAL_RANK) unconditionally. Runner.setup_env only
#   calls init_dist when no process group exists, so we create the gloo group
#   first.
# - Runner.wrap_model passes device_ids=[LOCAL_RANK] to DDP (added by
#   open-mmlab/mmengine#973), which DDP refuses for a CPU module
#   (ValueError). It goes in as `default_args`, which a `model_wrapper_cfg`
#   key overrides, so `device_ids=None` there fixes it.
# - DDP refuses a CPU module with SyncBatchNorm layers ("ValueError:
#   SyncBatchNorm layers only work with GPU modules"), so SyncBN norm layers
#   go back to BN (the Runner does the same when not distributed).
def setup_cpu_distributed(cfg: Config,
                          launcher: Optional[str] = None) -> bool:
    """Prepare ``cfg`` and the process group for distributed CPU training.

    Does nothing (and returns False) unless the job is launched with
    ``launcher='pytorch'`` on a machine where CUDA is not available. Then it

    1. initialises the default process group with the ``gloo`` backend from
       the ``torchrun`` environment, before the Runner is built;
    2. sets ``env_cfg.dist_cfg.backend='gloo'``;
    3. sets ``model_wrapper_cfg`` to ``MMDistributedDataParallel`` with
       ``device_ids=None`` (keeping a user wrapper config and
       ``find_unused_parameters``);
    4. reverts SyncBN layers in ``cfg.model`` to BN and drops ``cfg.sync_bn``
       (DDP refuses SyncBN in a CPU model), logging a warning.

    Call it after the config is final and before ``Runner.from_cfg(cfg)``.

    Args:
        cfg (Config): The full config; changed in place.
        launcher (str, optional): 'none', 'pytorch', 'slurm' or 'mpi'.
            Defaults to None, which reads ``cfg.launcher`` (and 'none' when
            that is missing).

    Returns:
        bool: Whether the CPU distributed set-up was applied.

    Raises:
        RuntimeError: For the 'slurm' or 'mpi' launcher without CUDA, or when
            the ``torchrun`` environment variables are missing.
    """
    if launcher is None:
        launcher = cfg.get('launcher', 'none')
    if launcher == 'none' or torch.cuda.is_available():
        return False
    if launcher != 'pytorch':
        raise RuntimeError(
            f'--launcher {launcher} needs CUDA in mmengine 0.10.7 and no GPU '
            'is available. On a CPU machine launch with torchrun instead: '
            'bash tools/dist_train.sh CONFIG NUM_PROCS (--launcher pytorch).')
    _init_gloo_group(cfg)
    _use_gloo_backend(cfg)
    _use_cpu_model_wrapper(cfg)
    _revert_sync_bn(cfg)
    return True


# Why the teardown. A process that exits with its process group alive leaves
# the group's C++ objects (gloo's worker and transport threads, the store's
# client) to be destroyed during interpreter finalisation, in no fixed order
# with the objects they use. When a std::thread is still joinable there,
# its destructor calls std::terminate: the run has trained and evaluated,
# then aborts with "terminate called without an active exception" (SIGABRT,
# exit -6), which torchrun reports as a failed job. It is a race, so it hits
# some runs only (pytorch/pytorch#190489 reproduces it with gloo and no
# destroy_process_group; torch documents calling destroy_process_group
# before exit, "Shutdown" in torch.distributed's docs).
def teardown_distributed(succeeded: bool = True) -> bool:
    """Destroy the default process group (and every other) if one exists.

    After a successful run every rank waits at a barrier first, so that no
    rank shuts its group down while a peer still talks to it. After an
    error there is no barrier (the failed rank's peers may never reach it):
    the group is destroyed at once and the error goes on to the caller.
    Then a garbage collection frees the Runner and its DDP model when the
    caller holds no reference to them (build and run the Runner inside the
    ``with distributed_run(cfg)`` block, keep no reference after it).

    Args:
        succeeded (bool): Whether the run finished without an exception.
            Defaults to True.

    Returns:
        bool: Whether a process group was destroyed.
    """
    if not (dist.is_available() and dist.is_initialized()):
        return False
    if succeeded:
        dist.barrier()
    _log(f'destroying the process group ({dist.get_world_size()} '
         f'processes) before exit{"" if succeeded else " after an error"}')
    dist.destroy_process_group()
    # DDP's reducer still holds the group: free a model nobody references
    # any more now, while the interpreter is whole, not during finalisation.
    gc.collect()
    return True


@contextlib.contextmanager
def distributed_run(cfg: Config,
                    launcher: Optional[str] = None) -> Iterator[bool]:
    """Set up the CPU process group (when needed); always tear it down.

    ``with distributed_run(cfg): ...`` runs :func:`setup_cpu_distributed`
    and, when the block ends, :func:`teardown_distributed`, also when it
    raises (then without the barrier). The teardown also destroys a group
    that the Runner created (``--launcher pytorch`` with GPUs, slurm, mpi).

    Args:
        cfg (Config): The full config; changed in place by the set-up.
        launcher (str, optional): See :func:`setup_cpu_distributed`.

    Yields:
        bool: Whether the CPU distributed set-up was applied.
    """
    succeeded = False
    try:
        yield setup_cpu_distributed(cfg, launcher)
        succeeded = True
    finally:
        teardown_distributed(succeeded)


def _log(msg: str, level: int = logging.INFO) -> None:
    """Log ``msg`` on rank 0 only (every rank runs the same set-up).

    Args:
        msg (str): The message.
        level (int): A :mod:`logging` level. Defaults to ``logging.INFO``.
    """
    if not dist.is_initialized() or dist.get_rank() == 0:
        print_log(f'[mixskd_mm.distributed] {msg}', logger='current',
                  level=level)


def _init_gloo_group(cfg: Config) -> None:
    """Create the default gloo process group from the torchrun environment.

    Args:
        cfg (Config): Read for ``env_cfg.dist_cfg.timeout`` (seconds).

    Raises:
        RuntimeError: If a non-gloo group exists or a torchrun variable is
            missing.
    """
    if dist.is_initialized():
        backend = dist.get_backend()
        if backend != 'gloo':
            raise RuntimeError(
                f'A process group with backend {backend!r} already exists; '
                'CPU training needs gloo. Do not initialise the group before '
                'setup_cpu_distributed, or initialise it with gloo.')
        return
    missing = [name for name in _TORCHRUN_ENV if name not in os.environ]
    if missing:
        raise RuntimeError(
            f'--launcher pytorch needs the environment variables {missing} '
            'that torchrun sets. Start the job with tools/dist_train.sh '
            '(or torchrun --nproc_per_node=N tools/train.py CONFIG '
            '--launcher pytorch).')
    dist_cfg = cfg.get('env_cfg', {}).get('dist_cfg', {})
    kwargs = {}
    if dist_cfg.get('timeout') is not None:
        kwargs['timeout'] = datetime.timedelta(seconds=dist_cfg['timeout'])
    dist.init_process_group(backend='gloo', init_method='env://', **kwargs)
    _log(f'no GPU: initialised a gloo process group of '
         f'{dist.get_world_size()} CPU processes')


def _use_gloo_backend(cfg: Config) -> None:
    """Set ``cfg.env_cfg.dist_cfg.backend`` to 'gloo'.

    Args:
        cfg (Config): The config; changed in place.
    """
    env_cfg = cfg.setdefault('env_cfg', {})
    dist_cfg = env_cfg.setdefault('dist_cfg', {})
    if dist_cfg.get('backend', 'gloo') != 'gloo':
        _log(f'env_cfg.dist_cfg.backend {dist_cfg["backend"]!r} -> '
             "'gloo' (no GPU)")
    dist_cfg['backend'] = 'gloo'


def _use_cpu_model_wrapper(cfg: Config) -> None:
    """Make the model wrapper a DDP that keeps the model on the CPU.

    Without ``model_wrapper_cfg`` the Runner's own default is reproduced
    (``broadcast_buffers=False`` and ``cfg.find_unused_parameters``) with
    ``device_ids=None``. A given DDP-type wrapper config keeps its keys and
    gets ``device_ids=None``; other wrappers (FSDP, DeepSpeed) are left alone.

    Args:
        cfg (Config): The config; changed in place.
    """
    wrapper_cfg = cfg.get('model_wrapper_cfg')
    if wrapper_cfg is None:
        cfg.model_wrapper_cfg = dict(
            type='MMDistributedDataParallel',
            device_ids=None,
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
        return
    wrapper_type = wrapper_cfg.setdefault('type', 'MMDistributedDataParallel')
    if isinstance(wrapper_type, str):
        wrapper_type = MODEL_WRAPPERS.get(wrapper_type)
    if isinstance(wrapper_type, type) and issubclass(
            wrapper_type, DistributedDataParallel):
        if wrapper_cfg.get('device_ids') is not None:
            _log(f'model_wrapper_cfg.device_ids={wrapper_cfg.device_ids} '
                 '-> None: DDP needs None for a CPU model', logging.WARNING)
        wrapper_cfg['device_ids'] = None


def _revert_sync_bn(cfg: Config) -> None:
    """Replace SyncBN norm layers in ``cfg.model`` by BN; drop ``sync_bn``.

    Args:
        cfg (Config): The config; changed in place.
    """
    paths = _replace_sync_bn(cfg.get('model'), 'model')
    if paths:
        _log('no GPU: DDP refuses SyncBN in a CPU model, so these norm layers '
             f'train as BN (statistics are not synchronised across '
             f'processes): {", ".join(paths)}', logging.WARNING)
    if cfg.get('sync_bn') is not None:
        _log(f'no GPU: ignoring sync_bn={cfg.sync_bn!r}; BN layers stay BN '
             '(statistics are not synchronised across processes)',
             logging.WARNING)
        cfg.sync_bn = None


def _replace_sync_bn(node: Any, path: str) -> List[str]:
    """Recursively set ``type='BN'`` where a dict's type is a SyncBN.

    Args:
        node (Any): A config node: a dict, list, tuple or leaf.
        path (str): Dotted path of ``node``, for the log.

    Returns:
        list[str]: The paths of the replaced dicts.
    """
    found = []
    if isinstance(node, dict):
        if _is_sync_bn(node.get('type')):
            node['type'] = 'BN'
            found.append(path)
        for key, value in node.items():
            found += _replace_sync_bn(value, f'{path}.{key}')
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            found += _replace_sync_bn(value, f'{path}[{i}]')
    return found


def _is_sync_bn(layer_type: Any) -> bool:
    """Whether a config ``type`` names a SyncBN layer.

    Args:
        layer_type (Any): A registry name (optionally scoped, e.g.
            'mmcv.SyncBN') or a class.

    Returns:
        bool: True for SyncBN / MMSyncBN / SyncBatchNorm.
    """
    if isinstance(layer_type, type):
        layer_type = layer_type.__name__
    if not isinstance(layer_type, str):
        return False
    return layer_type.split('.')[-1] in SYNC_BN_TYPES
