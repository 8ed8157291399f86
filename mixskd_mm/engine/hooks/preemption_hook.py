"""Stop on a scheduler's signal with a checkpoint; resume at the next batch.

Slurm sends SIGTERM before it kills a preempted job, and the signal of
``--signal`` (SIGUSR1 in ``tools/slurm_train.sh``) before the time limit.
Without a handler the process dies and the epoch's work is lost.

:class:`PreemptionHook` turns those signals into a flag. After the
iteration that is running when the signal arrives, every rank agrees on the
flag, rank 0 writes ``preempted_iter_<N>.pth`` (model, optimizer, schedulers,
message hub; ``meta`` epoch = the unfinished epoch, iter = N iterations done)
and points ``last_checkpoint`` at it, and the process exits with
:data:`PREEMPTED_EXIT_CODE` (75, ``EX_TEMPFAIL`` of ``sysexits.h``: "try
again"), which differs from being killed by the signal (143 for SIGTERM).

Resuming (``--resume``) from that checkpoint, mmengine's
``EpochBasedTrainLoop`` would restart the epoch at its first batch. In the
resumed epoch this hook skips the batches already trained, in the same
order, so each sample of the epoch is seen once and the run has as many
iterations as an uninterrupted one:

- with torch's ``BatchSampler`` (every config without a ``batch_sampler``)
  the sampler skips their indices, so nothing is loaded for them;
- with another batch sampler (mmdet's ``AspectRatioBatchSampler``) the
  batches are loaded and dropped, as mmengine's ``IterBasedTrainLoop`` does
  for every resume.

``IterBasedTrainLoop`` already advances its data on resume; this hook then
only saves and exits. When training ends normally, ``preempted_iter_*.pth``
files that ``last_checkpoint`` no longer names are removed.
"""
import glob
import itertools
import logging
import os
import os.path as osp
import signal
import threading
from typing import Dict, Optional, Sequence, Union

import torch
from mmengine.config import Config
from mmengine.dist import all_reduce, barrier, get_world_size, \
    is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.registry import HOOKS
from mmengine.runner import EpochBasedTrainLoop
from torch.utils.data import BatchSampler, Sampler

from ..atomic_checkpoint import write_last_checkpoint

__all__ = ['PREEMPTED_EXIT_CODE', 'PreemptionHook', 'TrainingPreempted',
           'add_preemption_hook']

#: Exit status of a run stopped by :class:`PreemptionHook`.
PREEMPTED_EXIT_CODE = 75
#: ``meta`` key of a preemption checkpoint: batches of its epoch trained.
META_KEY = 'preempted_epoch_batches'


class TrainingPreempted(SystemExit):
    """Raised after the preemption checkpoint is written; exits the process
    with the hook's exit code."""


class _SkipFirst(Sampler):
    """The wrapped sampler's indices after the first ``count``.

    ``len()`` stays the wrapped sampler's, so ``len(dataloader)`` (the
    logger's ``[i/len]``, ``end_of_epoch``) is the full epoch's.
    """

    def __init__(self, sampler, count: int):
        self.sampler = sampler
        self.count = count

    def __iter__(self):
        return itertools.islice(iter(self.sampler), self.count, None)

    def __len__(self) -> int:
        return len(self.sampler)


def _signal_number(name: Union[str, int]) -> signal.Signals:
    """``'SIGTERM'``, ``'TERM'``, ``'USR1'`` or a number, as a signal."""
    try:
        if isinstance(name, int):
            return signal.Signals(name)
        name = name.upper()
        return signal.Signals[name if name.startswith('SIG') else f'SIG{name}']
    except (KeyError, ValueError):
        raise ValueError(
            f'PreemptionHook: {name!r} is not a signal of this platform; '
            "give names such as 'SIGTERM' or 'SIGUSR1' (slurm's --signal "
            'USR1), e.g. signals=["SIGTERM", "SIGUSR1"].') from None


@HOOKS.register_module()
class PreemptionHook(Hook):
    """Checkpoint and exit after the current iteration on a signal.

    Args:
        signals (Sequence[str | int]): The signals to handle. Defaults to
            ``('SIGTERM', 'SIGUSR1')``: Slurm's preemption and the
            ``--signal`` of ``tools/slurm_train.sh``.
        exit_code (int): Exit status after the checkpoint. Defaults to
            :data:`PREEMPTED_EXIT_CODE` (75).
        filename_tmpl (str): Checkpoint name in the work_dir, formatted with
            the number of iterations done. Defaults to
            ``'preempted_iter_{}.pth'``.
    """

    priority = 'LOWEST'  # after the logger and CheckpointHook of the iter

    def __init__(self,
                 signals: Sequence[Union[str, int]] = ('SIGTERM', 'SIGUSR1'),
                 exit_code: int = PREEMPTED_EXIT_CODE,
                 filename_tmpl: str = 'preempted_iter_{}.pth') -> None:
        if isinstance(signals, (str, int)):
            signals = [signals]
        self.signals = [_signal_number(s) for s in signals]
        if not self.signals:
            raise ValueError('PreemptionHook: signals is empty; give at least '
                             "one, e.g. signals=['SIGTERM'], or remove the "
                             'hook from custom_hooks.')
        if not isinstance(exit_code, int) or not 1 <= exit_code <= 255:
            raise ValueError(
                f'PreemptionHook: exit_code={exit_code!r}; give an integer in '
                '1..255 (0 would tell the scheduler the job finished).')
        if '{}' not in filename_tmpl or not filename_tmpl.endswith('.pth'):
            raise ValueError(
                f'PreemptionHook: filename_tmpl={filename_tmpl!r} needs a '
                "'{}' for the iteration and the .pth suffix, e.g. "
                "'preempted_iter_{}.pth'.")
        self.exit_code = exit_code
        self.filename_tmpl = filename_tmpl
        self.received: Optional[signal.Signals] = None
        self._previous: Dict[signal.Signals, object] = {}
        self._loaded_meta: Optional[dict] = None
        self._skip = 0
        self._patched = None

    # signals -------------------------------------------------------------
    def _on_signal(self, signum, frame) -> None:
        # Only a flag: the iteration in progress finishes first.
        self.received = signal.Signals(signum)

    def before_train(self, runner) -> None:
        """Install the handlers; find how much of the epoch is done."""
        if threading.current_thread() is threading.main_thread():
            for sig in self.signals:
                self._previous[sig] = signal.signal(sig, self._on_signal)
        else:
            print_log('PreemptionHook: not in the main thread, so no signal '
                      'handler is installed; a preemption kills the run.',
                      logger='current', level=logging.WARNING)
        self._skip = self._batches_to_skip(runner)

    def after_train(self, runner) -> None:
        """Restore the handlers; drop preemption checkpoints not needed."""
        self._restore_handlers()
        if not is_main_process():
            return
        pointer = osp.join(runner.work_dir, 'last_checkpoint')
        latest = ''
        if osp.isfile(pointer):
            with open(pointer) as f:
                latest = f.read().strip()
        for path in self._preempted_files(runner):
            if not latest or osp.abspath(path) != osp.abspath(latest):
                os.remove(path)

    def _restore_handlers(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    # resume --------------------------------------------------------------
    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Remember the loaded ``meta``; ``before_train`` uses it."""
        self._loaded_meta = dict(checkpoint.get('meta') or {})

    def _batches_to_skip(self, runner) -> int:
        """Batches of the resumed epoch that the preempted run trained."""
        meta = self._loaded_meta or {}
        done = meta.get(META_KEY, 0)
        if not done or not getattr(runner, '_resume', False):
            return 0  # not a preemption checkpoint, or only load_from
        if not isinstance(runner.train_loop, EpochBasedTrainLoop):
            return 0  # IterBasedTrainLoop advances its dataloader itself
        if (meta.get('epoch'), meta.get('iter')) != (runner.epoch,
                                                     runner.iter):
            return 0
        total = len(runner.train_dataloader)
        if done > total:
            raise ValueError(
                f'the resumed checkpoint says {done} batches of epoch '
                f'{runner.epoch + 1} were trained, but the train dataloader '
                f'has {total} per epoch: resume with the batch size, data and '
                'number of GPUs of the preempted run.')
        print_log(f'resuming epoch {runner.epoch + 1} at batch {done + 1} of '
                  f'{total}: skipping the {done} batches trained before the '
                  'preemption', logger='current', level=logging.INFO)
        return done

    def before_train_epoch(self, runner) -> None:
        """Start the resumed epoch after its trained batches."""
        if not self._skip:
            return
        loop, skip = runner.train_loop, self._skip
        self._skip = 0
        batch_sampler = loop.dataloader.batch_sampler
        run_iter = loop.run_iter
        if type(batch_sampler) is BatchSampler:
            sampler = batch_sampler.sampler
            batch_sampler.sampler = _SkipFirst(sampler,
                                               skip * batch_sampler.batch_size)
            self._patched = (batch_sampler, sampler)

            def skipped_run_iter(idx, data_batch):
                run_iter(idx + skip, data_batch)
        else:

            def skipped_run_iter(idx, data_batch):
                if idx >= skip:
                    run_iter(idx, data_batch)

        loop.run_iter = skipped_run_iter

    def after_train_epoch(self, runner) -> None:
        """Undo :meth:`before_train_epoch` after the resumed epoch."""
        loop = runner.train_loop
        if 'run_iter' in vars(loop):
            del loop.run_iter
        if self._patched is not None:
            batch_sampler, sampler = self._patched
            batch_sampler.sampler = sampler
            self._patched = None

    # stop ----------------------------------------------------------------
    def _requested(self) -> bool:
        """Whether any rank received a signal (all ranks must stop)."""
        flag = self.received is not None
        if get_world_size() > 1:
            data = torch.tensor([float(flag)])
            all_reduce(data, op='max')
            flag = bool(data.item())
        return flag

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        """Checkpoint and exit when a signal came during this iteration."""
        if not self._requested():
            return
        done = runner.iter + 1
        name = self.filename_tmpl.format(done)
        what = self.received.name if self.received else 'another rank'
        runner.logger.warning(
            f'{what} received: saving {name} after iteration {done} and '
            f'exiting with status {self.exit_code}; train again with '
            '--resume (tools/slurm_train.sh does) to continue at iteration '
            f'{done + 1}')
        meta = {}
        if isinstance(runner.train_loop, EpochBasedTrainLoop):
            meta[META_KEY] = batch_idx + 1
        runner.save_checkpoint(
            runner.work_dir, name, meta=meta, by_epoch=False,
            save_optimizer=True, save_param_scheduler=True)
        if is_main_process():
            path = osp.join(runner.work_dir, name)
            write_last_checkpoint(runner.work_dir, path)
            for old in self._preempted_files(runner):
                if old != path:
                    os.remove(old)  # an earlier preemption's, now replaced
        barrier()  # other ranks exit only once rank 0 has written it
        self._restore_handlers()
        raise TrainingPreempted(self.exit_code)

    def _preempted_files(self, runner):
        pattern = self.filename_tmpl.replace('{}', '*')
        return sorted(glob.glob(osp.join(runner.work_dir, pattern)))


def add_preemption_hook(cfg: Config) -> Config:
    """Append a :class:`PreemptionHook` to ``cfg.custom_hooks`` if absent.

    A ``PreemptionHook`` the config lists (e.g. with its own ``signals``)
    is kept as it is.

    Args:
        cfg (Config): The config; changed in place.

    Returns:
        Config: ``cfg``.
    """
    hooks = list(cfg.get('custom_hooks') or [])
    names = {str(h.get('type', '')).split('.')[-1] for h in hooks}
    if 'PreemptionHook' not in names:
        hooks.append(dict(type='PreemptionHook'))
    cfg.custom_hooks = hooks
    return cfg
