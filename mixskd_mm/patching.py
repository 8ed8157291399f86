"""How a patch of :mod:`mixskd_mm.patches` is made, applied and undone.

:class:`Patch` records one change to upstream code; :func:`swap` builds the
usual kind, which replaces attributes (or mapping entries) and keeps the
originals so that undoing puts the very same objects back. The list of what
is patched, and why, is :data:`mixskd_mm.patches.PATCHES`.
"""
import importlib
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Tuple

__all__ = ['Patch', 'MISSING', 'swap', 'attr']

#: Stands for "the attribute was not there" (``np.in1d`` on numpy >= 2.4).
MISSING = object()

#: name -> what each site held before the swap, for the applied patches.
#: The record, not a marker on the replacement, says whether a patch is
#: active: a wrapper that is never recorded twice is never wrapped twice.
_SAVED: Dict[str, List[Any]] = {}

Sites = Callable[[], List[Tuple[Any, str]]]


@dataclass(frozen=True)
class Patch:
    """One change to upstream code.

    Args:
        name (str): Short identifier, as :func:`active_patches` lists it.
        target (str): The upstream objects replaced, as dotted names.
        why (str): What fails without the patch.
        upstream (str): The upstream issue, PR or commit, and its status.
        when (str): The condition under which ``import mixskd_mm`` applies
            it.
        needed (callable): ``needed() -> bool``, that condition; it may
            import the upstream module it checks.
        install (callable): Makes the change; called only when inactive.
        uninstall (callable): Puts the replaced objects back; called only
            when active.
        installed (callable): ``installed() -> bool``, whether the change
            is in place.
    """

    name: str
    target: str
    why: str
    upstream: str
    when: str
    needed: Callable[[], bool]
    install: Callable[[], None]
    uninstall: Callable[[], None]
    installed: Callable[[], bool]

    def is_active(self) -> bool:
        """Whether the patch is in place now."""
        return bool(self.installed())

    def apply(self) -> bool:
        """Apply the patch if its condition holds and it is not applied.

        Returns:
            bool: True when this call changed upstream code.
        """
        if self.is_active() or not self.needed():
            return False
        self.install()
        return True

    def undo(self) -> bool:
        """Put back exactly the objects the patch replaced.

        Returns:
            bool: True when this call changed something back.
        """
        if not self.is_active():
            return False
        self.uninstall()
        return True


# ---------------------------------------------------------------------------
# Attribute (and mapping entry) swaps
# ---------------------------------------------------------------------------
def _get(owner: Any, key: str) -> Any:
    """What ``owner`` itself holds under ``key`` (not what it inherits)."""
    held = owner if isinstance(owner, dict) else vars(owner)
    return held.get(key, MISSING)


def _put(owner: Any, key: str, value: Any) -> None:
    """Store ``value`` under ``key``; :data:`MISSING` deletes the entry."""
    if isinstance(owner, dict):
        if value is MISSING:
            del owner[key]
        else:
            owner[key] = value
    elif value is MISSING:
        delattr(owner, key)
    else:
        setattr(owner, key, value)


def swap(name: str, target: str, why: str, upstream: str, when: str,
          sites: Sites, new: Callable[[Any], Any],
          needed: Callable[[], bool] = lambda: True) -> Patch:
    """A :class:`Patch` that replaces objects and records the originals.

    Args:
        name, target, why, upstream, when, needed: As in :class:`Patch`.
        sites (callable): ``sites() -> [(owner, key)]``: modules, classes
            or dicts and the names to replace in them. Resolved at each
            call, so that nothing is imported before it is needed and a
            dict that upstream rebinds (``CheckpointLoader._schemes``) is
            the current one.
        new (callable): ``new(current) -> replacement``; ``current`` is what
            the site resolves to now (inherited or absent: None).
    """

    def install() -> None:
        saved = []
        for owner, key in sites():
            saved.append(_get(owner, key))
            current = (owner.get(key) if isinstance(owner, dict) else
                       getattr(owner, key, None))
            _put(owner, key, new(current))
        _SAVED[name] = saved

    def uninstall() -> None:
        for (owner, key), old in zip(sites(), _SAVED.pop(name)):
            _put(owner, key, old)

    return Patch(name, target, why, upstream, when, needed, install,
                 uninstall, lambda: name in _SAVED)


def attr(module: str, *names: str) -> Any:
    """``module.names[0].names[1]...``, importing ``module``."""
    obj = importlib.import_module(module)
    for name in names:
        obj = getattr(obj, name)
    return obj
