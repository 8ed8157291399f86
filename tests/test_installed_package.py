"""A non-editable install ships configs/, tools/ and model-index.yml and works
outside the checkout.

One wheel is built (``pip wheel --no-deps --no-build-isolation``) from a copy
of the checkout and installed with ``pip install --no-deps --target``; the
runs use it through ``PYTHONPATH`` from a folder outside the checkout, where
the checkout's ``configs/`` and ``tools/`` cannot be reached by a relative
path.
"""
import glob
import os
import os.path as osp
import shutil
import subprocess
import sys
import zipfile

import pytest

from repo import ROOT

MIM = 'mixskd_mm/.mim'


def _pip(*args, cwd=None):
    proc = subprocess.run([sys.executable, '-m', 'pip', *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]


@pytest.fixture(scope='module')
def installed(tmp_path_factory):
    """``(wheel, site)``: the built wheel and the folder it is installed in."""
    base = tmp_path_factory.mktemp('installed')
    src = base / 'src'
    # A copy, so that the build's build/ and egg-info stay out of the
    # checkout and no file of an earlier build is packaged.
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        '.venv', '.git', 'work_dirs', 'data', 'build', 'dist', '*.egg-info',
        '__pycache__', '.whl'))
    _pip('wheel', '--no-deps', '--no-build-isolation', '-q', '-w',
         str(base / 'wheel'), str(src))
    (wheel, ) = glob.glob(str(base / 'wheel' / '*.whl'))
    _pip('install', '--no-deps', '-q', '--target', str(base / 'site'), wheel)
    return wheel, str(base / 'site')


def _run(site, cwd, *args, timeout=900):
    env = dict(os.environ, PYTHONPATH=site, PYTHONUNBUFFERED='1')
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_wheel_ships_configs_tools_and_model_index(installed):
    import modelindex
    wheel, site = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ('configs/mixskd_r50_imagenet.py', 'tools/train.py',
                 'tools/dist_train.sh', 'model-index.yml',
                 'configs/demo/_base_/pretrain_demo.py',
                 'configs/metafiles/mixskd.yml'):
        assert f'{MIM}/{name}' in names, name
    assert not [n for n in names if '__pycache__' in n or n.endswith('.pyc')]
    # Every config and every tool of the checkout is in the wheel.
    for path in glob.glob(osp.join(ROOT, 'configs', '**', '*.*'),
                          recursive=True) + glob.glob(
                              osp.join(ROOT, 'tools', '*.*')):
        if '__pycache__' not in path:
            assert f'{MIM}/{osp.relpath(path, ROOT)}' in names, path

    # The model index loads, is valid, and every Config it names is shipped;
    # every recipe is listed once.
    mim = osp.join(site, MIM)
    index = modelindex.load(osp.join(mim, 'model-index.yml'))
    assert index.check(silent=True) == []
    configs = [m.config for m in index.models]
    assert len(configs) == len(set(configs))
    for config in configs:
        assert osp.isfile(osp.join(mim, config)), config
    shipped = {osp.relpath(p, mim) for p in glob.glob(
        osp.join(mim, 'configs', '**', '*.py'), recursive=True)
        if '/_base_/' not in p}
    assert set(configs) == shipped
    by_name = {m.name: m for m in index.models}
    mixskd = by_name['mixskd_r50_imagenet']
    assert mixskd.results[0].metrics == {'Top 1 Accuracy': 78.76}
    assert 'not measured' in mixskd.metadata.data['Results Source']
    # Results only where the source is named.
    for model in index.models:
        if model.results:
            assert 'Results Source' in model.metadata.data, model.name


def test_installed_package_trains_and_runs_the_demo_outside_checkout(
        installed, tmp_path):
    _, site = installed
    mim = osp.join(site, MIM)
    probe = _run(site, tmp_path, '-c',
                 'import mixskd_mm, mixskd_mm.utils as u; '
                 'print(mixskd_mm.__file__); print(u.resource_root())')
    assert probe.returncode == 0, probe.stderr[-2000:]
    package_file, root = probe.stdout.split()
    assert package_file.startswith(site) and root == mim

    # The demo at its tiny size through the installed tools/demo.py; its
    # stages run the installed tools/train.py on the installed configs.
    work, data = tmp_path / 'work', tmp_path / 'data'
    demo = _run(site, tmp_path, osp.join(mim, 'tools', 'demo.py'), '--size',
                'tiny', '--methods', 'baseline', '--work-dir', str(work),
                '--data-root', str(data))
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    rows = [r for r in demo.stdout.splitlines() if r.startswith('| ')]
    assert rows[0].startswith('| method | top-1 (%) | bbox mAP | mIoU (%)')
    assert [r.split('|')[1].strip() for r in rows[1:]] == ['baseline']
    for stage in ('pretrain_baseline', 'det_baseline', 'seg_baseline'):
        assert (work / stage / 'result.json').is_file(), stage

    # One epoch of the MixSKD demo config with the installed train.py, on
    # the data the demo wrote, from a folder outside the checkout.
    cls = data / 'cls'
    options = [f'{loader}.dataset.data_root={cls}'
               for loader in ('train_dataloader', 'val_dataloader',
                              'test_dataloader')]
    train = _run(site, tmp_path, osp.join(mim, 'tools', 'train.py'),
                 osp.join(mim, 'configs', 'demo', 'mixskd_r18_demo.py'),
                 '--work-dir', str(tmp_path / 'mixskd'), '--cfg-options',
                 'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
                 *options)
    assert train.returncode == 0, train.stdout[-3000:] + train.stderr[-3000:]
    assert 'Epoch(train) [1]' in train.stdout + train.stderr
    assert 'loss_teacher_kd' in train.stdout + train.stderr
    assert (tmp_path / 'mixskd' / 'epoch_1.pth').is_file()
    # Nothing was written into the installed package.
    assert not glob.glob(osp.join(site, 'mixskd_mm', '**', 'work_dirs'),
                         recursive=True)
