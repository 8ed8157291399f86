"""Comparing a checkpoint's state dict with the one a module expects.

One comparison serves the export's check against the backbone of the
training config and the ``StrictPretrained`` guard: the three lists that
``torch.nn.Module.load_state_dict(strict=True)`` reports (missing keys,
unexpected keys, shape mismatches), computed without loading so that the
message can name the most likely cause.
"""
from collections import OrderedDict
from typing import Dict, Iterable, List, Mapping, NamedTuple, Tuple

import torch

__all__ = [
    'KeyDiff', 'compare_state_dicts', 'is_counter', 'list_keys',
    'top_level_groups', 'split_classifier', 'CLASSIFIER_PREFIX'
]

#: The classifier that torchvision's ResNet (and the authors' ImageNet
#: MixSKD backbone, a torchvision ResNet) keeps inside the backbone.
CLASSIFIER_PREFIX = 'fc.'


class KeyDiff(NamedTuple):
    """How a source state dict fits a target one.

    Attributes:
        missing (list[str]): Target keys the source lacks.
        unexpected (list[str]): Source keys the target lacks.
        mismatched (list[str]): ``'key: checkpoint (shape) vs model
            (shape)'`` for keys in both with different shapes.
        loadable (OrderedDict): The source tensors that fit.
    """
    missing: List[str]
    unexpected: List[str]
    mismatched: List[str]
    loadable: 'OrderedDict[str, torch.Tensor]'

    @property
    def exact(self) -> bool:
        """Whether nothing is missing, unexpected or mismatched."""
        return not (self.missing or self.unexpected or self.mismatched)

    @property
    def complete(self) -> bool:
        """Whether every target tensor is in the source, with its shape
        (extra source keys allowed)."""
        return not (self.missing or self.mismatched)

    def counts(self) -> str:
        """``'N missing, M unexpected, K shape mismatch(es)'``."""
        return (f'{len(self.missing)} missing, {len(self.unexpected)} '
                f'unexpected, {len(self.mismatched)} shape mismatch(es)')

    def lines(self, target: str = 'model', groups: bool = False) -> List[str]:
        """One indented line per non-empty list, first keys only.

        The one rendering of a comparison, for the backbone checks, the
        ``StrictPretrained`` initializer and whole-model loading alike.

        Args:
            target (str): What the checkpoint was compared with, named in
                the shape mismatches. Defaults to 'model'.
            groups (bool): Also count the keys per top-level module
                (``'missing keys (6; backbone: 4, head: 2): ...'``), which
                tells a whole model's missing head from a missing backbone.
                Defaults to False.
        """
        mismatched = [m.replace('vs model', f'vs {target}')
                      for m in self.mismatched]
        lines = []
        for kind, keys, shown in (('missing keys', self.missing, 5),
                                  ('unexpected keys', self.unexpected, 5),
                                  ('shape mismatches', mismatched, 3)):
            if not keys:
                continue
            count = str(len(keys))
            if groups:
                count += '; ' + ', '.join(
                    f'{g}: {n}' for g, n in top_level_groups(keys).items())
            lines.append(f'  {kind} ({count}): {list_keys(keys, shown)}')
        return lines


def is_counter(key: str) -> bool:
    """BatchNorm's ``num_batches_tracked``: a step counter, not a weight.

    torchvision checkpoints omit it and mmengine's ``load_state_dict``
    does not report it missing, so the comparison ignores it too.
    """
    return key.endswith('num_batches_tracked')


def _shape(value) -> Tuple[int, ...]:
    return tuple(value.shape if torch.is_tensor(value) else value)


def compare_state_dicts(source: Mapping[str, torch.Tensor],
                        target: Mapping[str, object]) -> KeyDiff:
    """Compare ``source`` (a checkpoint) with ``target`` (a module's).

    Args:
        source (Mapping[str, Tensor]): The checkpoint's tensors.
        target (Mapping[str, Tensor | tuple]): The module's state dict, or
            its shapes.

    Returns:
        KeyDiff: Missing/unexpected keys (``num_batches_tracked`` ignored),
        shape mismatches and the tensors that fit (counters included).
    """
    missing = [k for k in target if k not in source and not is_counter(k)]
    unexpected = [k for k in source if k not in target and not is_counter(k)]
    mismatched, loadable = [], OrderedDict()
    for key, value in source.items():
        if key not in target:
            continue
        if _shape(value) != _shape(target[key]):
            mismatched.append(f'{key}: checkpoint {_shape(value)} vs model '
                              f'{_shape(target[key])}')
        else:
            loadable[key] = value
    return KeyDiff(missing, unexpected, mismatched, loadable)


def split_classifier(
    state_dict: Dict[str, torch.Tensor]
) -> Tuple['OrderedDict[str, torch.Tensor]', List[str]]:
    """Drop the ``fc.*`` classifier that a torchvision ResNet holds.

    Args:
        state_dict (dict): ResNet weights keyed like torchvision's.

    Returns:
        tuple: The weights without ``fc.*`` and the dropped keys.
    """
    kept = OrderedDict((k, v) for k, v in state_dict.items()
                       if not k.startswith(CLASSIFIER_PREFIX))
    return kept, [k for k in state_dict if k not in kept]


def list_keys(keys: Iterable[str], limit: int = 5) -> str:
    """The first ``limit`` keys, comma-separated, and how many more follow.
    """
    keys = list(keys)
    text = ', '.join(keys[:limit])
    if len(keys) > limit:
        text += f', ... ({len(keys) - limit} more)'
    return text


def top_level_groups(keys: Iterable[str]) -> 'OrderedDict[str, int]':
    """Count keys per top-level module name (the part before the first dot).

    Args:
        keys (Iterable[str]): State dict keys.

    Returns:
        OrderedDict: ``{group: count}`` in first-seen order.
    """
    groups = OrderedDict()
    for key in keys:
        group = key.split('.', 1)[0]
        groups[group] = groups.get(group, 0) + 1
    return groups
