"""Build hook only; the metadata is in pyproject.toml.

A wheel ships ``configs/``, ``tools/`` and ``model-index.yml`` inside the
package, in ``mixskd_mm/.mim/``, as mmpretrain's, mmdet's and mmseg's setup
scripts do for mim: an installed package then has its recipes and scripts
without the checkout (``mixskd_mm.utils.paths`` finds them). An editable
install needs no copy: the same helper finds them in the checkout.
"""
import os
import os.path as osp
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = osp.dirname(osp.abspath(__file__))
# The same names as mixskd_mm.utils.paths.MIM_ITEMS (not imported: building
# must not import the package and its torch/mmcv dependencies).
MIM_ITEMS = ('configs', 'tools', 'model-index.yml')


class BuildPyWithMim(build_py):
    """``build_py`` that also copies :data:`MIM_ITEMS` to ``.mim/``."""

    def run(self):
        super().run()
        if self.editable_mode:
            return
        mim = osp.join(self.build_lib, 'mixskd_mm', '.mim')
        # A build folder left from an earlier build may hold files that the
        # checkout no longer has: start from an empty .mim.
        if osp.isdir(mim):
            shutil.rmtree(mim)
        os.makedirs(mim)
        for name in MIM_ITEMS:
            src = osp.join(HERE, name)
            if not osp.exists(src):
                raise FileNotFoundError(
                    f'{src} is missing: the wheel ships it in '
                    'mixskd_mm/.mim/. Build from a full checkout (or an '
                    'sdist made with MANIFEST.in).')
            dst = osp.join(mim, name)
            if osp.isdir(src):
                shutil.copytree(
                    src, dst,
                    ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
            else:
                shutil.copy2(src, dst)


setup(cmdclass={'build_py': BuildPyWithMim})
