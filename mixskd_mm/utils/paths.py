"""Where the package's ``configs/``, ``tools/`` and ``model-index.yml`` are.

An installed wheel (``pip install .``, ``mim install``) ships them in
``mixskd_mm/.mim/``, the layout OpenMMLab packages use for mim (``setup.py``
copies them there when the wheel is built). An editable install, or a
checkout on ``PYTHONPATH``, has no ``.mim`` folder: they are then the
checkout's own folders beside the package. Library code asks here instead
of counting ``dirname`` levels up from its own file.
"""
import os.path as osp

__all__ = ['MIM_ITEMS', 'resource_root', 'resource_path']

#: What a wheel ships in ``mixskd_mm/.mim/`` (``setup.py`` copies these).
MIM_ITEMS = ('configs', 'tools', 'model-index.yml')

_PACKAGE_DIR = osp.dirname(osp.dirname(osp.abspath(__file__)))


def resource_root() -> str:
    """The folder that holds ``configs/``, ``tools/`` and ``model-index.yml``.

    Returns:
        str: ``<site-packages>/mixskd_mm/.mim`` for an installed wheel, else
        the root of the checkout the package is imported from.

    Raises:
        FileNotFoundError: When neither exists (a wheel built without
            ``setup.py``'s hook, or a package copied without its checkout).
    """
    mim = osp.join(_PACKAGE_DIR, '.mim')
    if osp.isdir(mim):
        return mim
    checkout = osp.dirname(_PACKAGE_DIR)
    if all(osp.isdir(osp.join(checkout, d)) for d in ('configs', 'tools')):
        return checkout
    raise FileNotFoundError(
        f'mixskd_mm at {_PACKAGE_DIR} has neither a .mim folder (an '
        'installed wheel ships configs/ and tools/ there) nor a checkout '
        f'with configs/ and tools/ at {checkout}. Reinstall it with '
        '`pip install .` from a checkout (the wheel build copies them '
        'into mixskd_mm/.mim), or use `pip install -e .` in the checkout.')


def resource_path(*parts: str) -> str:
    """The absolute path of a shipped file, e.g. ``('tools', 'train.py')``.

    Args:
        *parts (str): Path components below :func:`resource_root`, or one
            relative path such as ``'configs/demo/mixskd_r18_demo.py'``.

    Returns:
        str: The existing file or folder.

    Raises:
        FileNotFoundError: When it does not exist there.
    """
    root = resource_root()
    path = osp.join(root, *parts)
    if not osp.exists(path):
        raise FileNotFoundError(
            f'{osp.join(*parts)} is not in {root}; give a path below it '
            f'(its {", ".join(MIM_ITEMS)}), e.g. tools/train.py')
    return path
