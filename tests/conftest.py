"""Test isolation for mmengine's process-wide state."""
import pytest
from mmengine.logging import MessageHub
from mmengine.registry import DefaultScope


@pytest.fixture(autouse=True)
def restore_mmengine_instances():
    """Undo the default scopes and message hubs that a test created.

    mmengine keeps every ``DefaultScope`` and ``MessageHub`` in a
    class-level dict by name. The newest scope is the current one, so a
    test that ran an mmdet Runner would otherwise make later
    ``MODELS.build`` calls look in the mmdet registry. A Runner built from a
    dict config names its message hub after the second it started, so two
    tests' Runners started within one second would share one hub and its
    history (a later test would read the earlier one's losses).
    """
    saved = [(cls, cls._instance_dict.copy())
             for cls in (DefaultScope, MessageHub)]
    yield
    for cls, before in saved:
        cls._instance_dict.clear()
        cls._instance_dict.update(before)
