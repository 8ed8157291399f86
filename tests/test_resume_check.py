"""``--resume`` with nothing to resume says that training starts from
scratch and why (ResumeCheckHook, :func:`mixskd_mm.engine.resume_problem`).
"""
import pytest
import torch

from mixskd_mm.engine import resume_problem

from tiny_train_project import train_py, write_config, write_image_set


def test_resume_with_nothing_to_resume_says_so(tmp_path):
    write_config(tmp_path / 'tiny.py',
                 write_image_set(tmp_path / 'data', [0, 1] * 3))
    proc = train_py(tmp_path, '--resume')
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    work = tmp_path / 'work'
    assert (f'--resume: nothing to resume, so training starts from '
            f'scratch: the work_dir {work} has no last_checkpoint file') in out
    assert out.index('training starts from scratch') < out.index(
        'Auto resumed from the latest checkpoint None')


def test_resume_names_checkpoints_left_without_last_checkpoint(tmp_path):
    torch.save({}, tmp_path / 'iter_1.pth')
    msg = resume_problem(str(tmp_path))
    assert 'training starts from scratch' in msg
    assert f'--resume {tmp_path / "iter_1.pth"}' in msg
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_1.pth'))
    assert resume_problem(str(tmp_path)) is None


def test_resume_refuses_a_last_checkpoint_that_is_gone(tmp_path):
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_9.pth'))
    with pytest.raises(FileNotFoundError, match='iter_9.pth, which does not '
                       'exist'):
        resume_problem(str(tmp_path))
