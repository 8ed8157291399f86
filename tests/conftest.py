"""Test isolation for mmengine's process-wide state; the ``gpu`` marker."""
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


def pytest_collection_modifyitems(config, items):
    """Skip ``@pytest.mark.gpu`` tests where torch sees no GPU (the only
    skip the suite has; torch is imported only when such a test is
    collected)."""
    gpu_items = [item for item in items if item.get_closest_marker('gpu')]
    if not gpu_items:
        return
    import torch
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason='needs a CUDA GPU (none visible)')
    for item in gpu_items:
        item.add_marker(skip)
