"""Say plainly when ``--resume`` finds nothing to resume.

With ``resume=True`` and no ``load_from`` (``tools/train.py --resume``),
mmengine reads ``<work_dir>/last_checkpoint``; when there is none it logs
"Auto resumed from the latest checkpoint None." and trains from scratch,
which reads like a successful resume. :class:`ResumeCheckHook` runs in
``before_run``, before the Runner loads anything, and

- warns that training starts from scratch and why (no ``last_checkpoint``
  in the work_dir), listing checkpoints that are there all the same and the
  ``--resume PATH`` that would use one;
- raises ``FileNotFoundError`` when ``last_checkpoint`` names a file that
  is gone (mmengine would fail later with only the path).
"""
import glob
import logging
import os.path as osp
from typing import Optional

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.registry import HOOKS

__all__ = ['ResumeCheckHook', 'resume_problem']


def _latest(work_dir: str) -> Optional[str]:
    """The path ``<work_dir>/last_checkpoint`` names, or None."""
    pointer = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(pointer):
        return None
    with open(pointer) as f:
        return f.read().strip() or None


def resume_problem(work_dir: str) -> Optional[str]:
    """Why auto-resume from ``work_dir`` would start from scratch, or None.

    Args:
        work_dir (str): The run's work_dir.

    Returns:
        str, optional: The warning to log; None when ``last_checkpoint``
        names an existing file (or a remote one, not checked).

    Raises:
        FileNotFoundError: If ``last_checkpoint`` names a missing local file.
    """
    latest = _latest(work_dir)
    if latest is not None:
        if '://' not in latest and not osp.isfile(latest):
            raise FileNotFoundError(
                f'--resume: {osp.join(work_dir, "last_checkpoint")} names '
                f'{latest}, which does not exist. Resume from an existing '
                'checkpoint with --resume PATH, or delete last_checkpoint to '
                'train from scratch.')
        return None
    found = sorted(glob.glob(osp.join(work_dir, '*.pth')), key=osp.getmtime)
    msg = (f'--resume: nothing to resume, so training starts from scratch: '
           f'the work_dir {work_dir} has no last_checkpoint file (it is '
           'written with each checkpoint).')
    if found:
        msg += (f' It holds {len(found)} checkpoint(s), the newest '
                f'{found[-1]}: to resume from it, stop and pass '
                f'--resume {found[-1]}.')
    else:
        msg += (' Check --work-dir: it must be the work_dir of the run to '
                'resume.')
    return msg


@HOOKS.register_module()
class ResumeCheckHook(Hook):
    """Warn (or refuse) when auto-resume would silently start over.

    Registered in mmengine's root ``HOOKS``; ``tools/train.py`` adds it to
    every config (:func:`mixskd_mm.engine.add_runtime_guard_hooks`).
    """

    priority = 'VERY_HIGH'

    def before_run(self, runner) -> None:
        """Check the work_dir when resuming without a checkpoint path."""
        resume = getattr(runner, '_resume', runner.cfg.get('resume', False))
        load_from = getattr(runner, '_load_from', runner.cfg.get('load_from'))
        if not resume or load_from is not None:
            return
        msg = resume_problem(runner.work_dir)
        if msg is not None:
            print_log(msg, logger='current', level=logging.WARNING)
