"""Package-level helpers that are not models, data or engine parts."""
from .paths import MIM_ITEMS, resource_path, resource_root

__all__ = ['MIM_ITEMS', 'resource_path', 'resource_root']
