"""Test isolation for mmengine's process-wide state."""
import pytest
from mmengine.registry import DefaultScope


@pytest.fixture(autouse=True)
def restore_default_scope():
    """Undo default scopes that a test's Runner or registry call created.

    mmengine keeps every ``DefaultScope`` in a class-level dict and treats the
    newest as current, so a test that ran an mmdet Runner would otherwise
    make later ``MODELS.build`` calls look in the mmdet registry.
    """
    before = DefaultScope._instance_dict.copy()
    yield
    DefaultScope._instance_dict.clear()
    DefaultScope._instance_dict.update(before)
