"""Rotate checkpoints only after the new one is safely on disk.

mmengine 0.10.7's ``CheckpointHook._save_checkpoint_with_step`` removes the
oldest kept checkpoint *before* it writes the new one ("remove other
checkpoints before save"), and ``_save_best_checkpoint`` removes the previous
best before writing the next. With ``max_keep_ckpts=1`` a write that fails
(disk full, file-size quota, a job killed mid-write) leaves no checkpoint.

:class:`SafeCheckpointHook` keeps the hook's arguments and its
``max_keep_ckpts`` / ``published_keys`` / ``save_best`` behaviour, and
changes the order to

1. write the new checkpoint (atomically: ``.epoch_N.pth.<pid>.tmp`` renamed
   into place, :mod:`mixskd_mm.engine.atomic_checkpoint`);
2. point ``last_checkpoint`` at it (also through a rename);
3. only then remove the checkpoints that fell out of ``max_keep_ckpts`` and
   a replaced best checkpoint.

If step 1 raises, nothing was removed, ``last_checkpoint`` still names the
previous checkpoint and the hook's bookkeeping is restored.

``tools/train.py`` swaps it in for a config's ``CheckpointHook``
(:func:`use_safe_checkpoint_hook`), keeping every argument.
"""
import contextlib
import logging
from typing import List

from mmengine.config import Config
from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.logging import print_log
from mmengine.registry import HOOKS

from ..atomic_checkpoint import write_last_checkpoint

__all__ = ['SafeCheckpointHook', 'use_safe_checkpoint_hook']


class _DeferredRemoval:
    """A file back end whose ``remove``/``rmtree`` only record the path.

    Everything else goes to the wrapped back end. ``_save_best_checkpoint``
    removes through ``self.file_backend``; with this in its place the
    removal waits until the new best checkpoint is written.
    """

    def __init__(self, backend):
        self._backend = backend
        self.pending: List[str] = []

    def remove(self, path) -> None:
        self.pending.append(str(path))

    def rmtree(self, path) -> None:
        self.pending.append(str(path))

    def __getattr__(self, name):
        return getattr(self._backend, name)


@HOOKS.register_module()
class SafeCheckpointHook(CheckpointHook):
    """``CheckpointHook`` that removes old checkpoints only after a save.

    Same arguments as mmengine's ``CheckpointHook``. Registered in mmengine's
    root ``HOOKS``, so every scope (mmpretrain, mmdet, mmseg) builds it.
    """

    def _remove(self, path: str) -> None:
        """Remove a checkpoint file (or a DeepSpeed folder) if present."""
        backend = self.file_backend
        if isinstance(backend, _DeferredRemoval):
            backend.remove(path)
        elif backend.isfile(path):
            backend.remove(path)
        elif backend.isdir(path):
            backend.rmtree(path)

    def _save_checkpoint_with_step(self, runner, step, meta):
        """Save ``step``'s checkpoint, then rotate the kept ones."""
        old_ids = list(getattr(self, 'keep_ckpt_ids', []))
        old_last = self.last_ckpt
        to_remove: List[int] = []
        if self.max_keep_ckpts > 0 and not (old_ids and old_ids[-1] == step):
            # Recorded before the save, as mmengine does, so the checkpoint's
            # message hub lists what will be kept after it.
            new_ids = old_ids + [step]
            to_remove = new_ids[:-self.max_keep_ckpts]
            self.keep_ckpt_ids.append(step)  # a deque(maxlen=max_keep_ckpts)
            runner.message_hub.update_info('keep_ckpt_ids',
                                           list(self.keep_ckpt_ids))
        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir,
                                                     ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        try:
            runner.save_checkpoint(
                self.out_dir,
                ckpt_filename,
                self.file_client_args,
                save_optimizer=self.save_optimizer,
                save_param_scheduler=self.save_param_scheduler,
                meta=meta,
                by_epoch=self.by_epoch,
                backend_args=self.backend_args,
                **self.args)
        except BaseException:
            self._restore(runner, old_ids, old_last)
            raise
        if not is_main_process():
            return
        write_last_checkpoint(runner.work_dir, self.last_ckpt)
        for old_step in to_remove:
            self._remove(
                self.file_backend.join_path(
                    self.out_dir, self.filename_tmpl.format(old_step)))

    def _restore(self, runner, old_ids: List[int], old_last) -> None:
        """Undo the bookkeeping of a save that failed."""
        if self.max_keep_ckpts > 0:
            self.keep_ckpt_ids.clear()
            self.keep_ckpt_ids.extend(old_ids)
            runner.message_hub.update_info('keep_ckpt_ids', old_ids)
        self.last_ckpt = old_last
        if old_last is not None:
            runner.message_hub.update_info('last_ckpt', old_last)

    def _save_best_checkpoint(self, runner, metrics) -> None:
        """mmengine's best-checkpoint logic, removing the old best last."""
        real_backend = self.file_backend
        deferred = _DeferredRemoval(real_backend)
        self.file_backend = deferred
        try:
            super()._save_best_checkpoint(runner, metrics)
        finally:
            self.file_backend = real_backend
        for path in deferred.pending:
            if path in self._best_paths():
                continue  # overwritten in place by the new save, keep it
            with contextlib.suppress(FileNotFoundError):
                self._remove(path)

    def _best_paths(self) -> List[str]:
        """The best checkpoint path(s) the hook now records."""
        paths = [getattr(self, 'best_ckpt_path', None)]
        paths += list(getattr(self, 'best_ckpt_path_dict', {}).values())
        return [str(p) for p in paths if p is not None]


def use_safe_checkpoint_hook(cfg: Config) -> Config:
    """Make ``cfg.default_hooks.checkpoint`` a :class:`SafeCheckpointHook`.

    A ``CheckpointHook`` (mmengine's, with or without a scope prefix) is
    replaced, keeping all its arguments; any other type (a project's own
    hook, ``SafeCheckpointHook`` already) and a disabled (None) entry are
    left as they are.

    Args:
        cfg (Config): The config; changed in place.

    Returns:
        Config: ``cfg``.
    """
    hook = (cfg.get('default_hooks') or {}).get('checkpoint')
    if hook is None:
        return cfg
    hook_type = hook.get('type', '')
    name = hook_type.__name__ if isinstance(hook_type, type) else \
        str(hook_type).split('.')[-1]
    if name == 'CheckpointHook':
        hook['type'] = 'SafeCheckpointHook'
        print_log('default_hooks.checkpoint: SafeCheckpointHook (removes old '
                  'checkpoints only after the new one is written)',
                  logger='current', level=logging.INFO)
    return cfg
