"""Package-level helpers that are not models, data or engine parts."""
from .model import unwrap_model
from .paths import MIM_ITEMS, resource_path, resource_root
from .plain import to_plain
from .validate import check_number, is_number

__all__ = [
    'MIM_ITEMS', 'resource_path', 'resource_root', 'unwrap_model',
    'to_plain', 'check_number', 'is_number'
]
