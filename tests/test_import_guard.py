"""``import mixskd_mm`` survives transformers >= 5 (multimodal_guard).

A stand-in ``transformers`` package, written into tmp_path with its
dist-info (so mmpretrain's ``satisfy_requirement`` sees version 5.0.0) and
lacking the names transformers 5 removed from ``modeling_utils``, reproduces
the failure without any download. Every check runs in a fresh interpreter:
the guard must act before the first ``import mmpretrain``.
"""
import os
import subprocess
import sys
import textwrap

import pytest

from repo import ROOT

BROKEN = 'NoneType takes no arguments'


#: Modules mmpretrain 1.2.0 imports from transformers, besides
#: ``modeling_utils``; in the stand-in any name exists in them.
_GENERIC = ('__init__', 'activations', 'modeling_outputs', 'utils',
            'models/__init__', 'models/auto/__init__',
            'models/auto/auto_factory', 'models/bert/__init__',
            'models/bert/configuration_bert', 'models/opt/__init__',
            'models/opt/configuration_opt')
_ANY_NAME = '\n'.join([
    "__version__ = '5.0.0'",
    'class PreTrainedModel:',
    '    def __init__(self, *args, **kwargs):',
    '        pass',
    '    from_pretrained = from_config = classmethod(lambda c, *a, **k: c())',
    'PreTrainedModel.config_class = PreTrainedModel',
    'def __getattr__(name):',
    '    if name.startswith("__"):',
    '        raise AttributeError(name)',
    '    return type(name, (PreTrainedModel, ), {})', ''])


def _stand_in(root, complete):
    """Write a fake transformers 5.0.0 into ``root``; return ``root``.

    ``modeling_utils`` has ``PreTrainedModel`` and, only when ``complete``,
    the names transformers 5 moved away.
    """
    pkg = root / 'transformers'
    for mod in _GENERIC:
        path = pkg / f'{mod}.py'
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_ANY_NAME)
    names = ['class PreTrainedModel:\n    pass\n',
             'class GenerationConfig:\n    pass\n']
    if complete:
        names += [f'def {n}(*a):\n    pass\n' for n in (
            'apply_chunking_to_forward', 'find_pruneable_heads_and_indices',
            'prune_linear_layer')]
        names.append('class GenerationMixin:\n    pass\n')
    (pkg / 'modeling_utils.py').write_text('\n'.join(names))
    info = root / 'transformers-5.0.0.dist-info'
    info.mkdir()
    (info / 'METADATA').write_text(
        'Metadata-Version: 2.1\nName: transformers\nVersion: 5.0.0\n')
    return root


def _run(code, extra_path=None):
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONWARNINGS='default')
    if extra_path is not None:
        env['PYTHONPATH'] = str(extra_path)
    else:
        env.pop('PYTHONPATH', None)
    return subprocess.run([sys.executable, '-c', textwrap.dedent(code)],
                          env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope='module')
def broken_tf(tmp_path_factory):
    return _stand_in(tmp_path_factory.mktemp('tf5'), complete=False)


def test_stand_in_breaks_plain_mmpretrain(broken_tf):
    res = _run('import mmpretrain.models', broken_tf)
    assert res.returncode != 0
    assert BROKEN in res.stderr


def test_import_mixskd_mm_switches_multimodal_off(broken_tf):
    res = _run("""
        import mixskd_mm
        from mmpretrain.utils import dependency
        from mmpretrain.registry import MODELS
        assert dependency.WITH_MULTIMODAL is False
        assert MODELS.get('MixSKDClassifier') is not None
        try:
            MODELS.get('BlipCaption')()
        except ImportError as err:
            print('placeholder:', 'multi-modal' in str(err))
        """, broken_tf)
    assert res.returncode == 0, res.stderr[-3000:]
    assert 'placeholder: True' in res.stdout
    warns = [line for line in res.stderr.splitlines()
             if 'mixskd_mm: transformers 5.0.0 lacks' in line]
    assert len(warns) == 1, res.stderr[-3000:]
    assert 'apply_chunking_to_forward' in warns[0]
    assert 'prune_linear_layer' in warns[0]
    assert 'transformers>=4.28,<5' in res.stderr


def test_no_action_without_transformers():
    # This venv has no transformers: mmpretrain leaves multimodal off itself
    # and the guard has nothing to do.
    import importlib.util

    from mmpretrain.utils import dependency

    from mixskd_mm.multimodal_guard import _load_dependency_module
    assert importlib.util.find_spec('transformers') is None
    assert dependency.WITH_MULTIMODAL is False
    assert _load_dependency_module().WITH_MULTIMODAL is False


def test_no_action_when_transformers_has_the_names(tmp_path):
    good = _stand_in(tmp_path, complete=True)
    guard = ROOT / 'mixskd_mm' / 'multimodal_guard.py'
    res = _run(f"""
        import importlib.util, sys
        spec = importlib.util.spec_from_file_location('guard', {str(guard)!r})
        guard = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(guard)
        assert guard._load_dependency_module().WITH_MULTIMODAL is True
        assert guard.missing_multimodal_names() == []
        assert guard.disable_broken_multimodal() is False
        assert 'mmpretrain.utils.dependency' not in sys.modules
        print('untouched')
        """, good)
    assert res.returncode == 0, res.stderr[-3000:]
    assert 'untouched' in res.stdout and 'lacks' not in res.stderr


def test_the_patch_undoes_and_reapplies_after_import(broken_tf):
    # mmpretrain is imported by then: undo gives the flag its old value
    # and keeps the module mmpretrain holds; reapplying switches it off
    # again, once.
    res = _run("""
        import sys
        import mixskd_mm
        from mixskd_mm.patches import active_patches, apply_patches, get_patch
        patch = get_patch('mmpretrain_multimodal_off')
        dep = sys.modules['mmpretrain.utils.dependency']
        assert patch.is_active() and dep.WITH_MULTIMODAL is False
        assert 'mmpretrain_multimodal_off' in active_patches()
        assert patch.undo() and not patch.is_active()
        assert dep.WITH_MULTIMODAL is True
        assert sys.modules['mmpretrain.utils.dependency'] is dep
        assert patch.apply() and dep.WITH_MULTIMODAL is False
        assert patch.apply() is False and apply_patches() == []
        print('cycled')
        """, broken_tf)
    assert res.returncode == 0, res.stderr[-3000:]
    assert 'cycled' in res.stdout


def test_the_switch_undone_before_mmpretrain_leaves_no_trace(broken_tf):
    # Before `import mmpretrain`, undo also takes the module out of
    # sys.modules again, so mmpretrain would load its own.
    guard = ROOT / 'mixskd_mm' / 'multimodal_guard.py'
    res = _run(f"""
        import importlib.util, sys, warnings
        spec = importlib.util.spec_from_file_location('guard', {str(guard)!r})
        guard = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(guard)
        name = 'mmpretrain.utils.dependency'
        warnings.simplefilter('ignore')
        assert guard.disable_broken_multimodal() is True
        dep = sys.modules[name]
        assert dep.WITH_MULTIMODAL is False and guard.multimodal_switched_off()
        assert guard.disable_broken_multimodal() is False  # once
        guard.restore_multimodal()
        assert name not in sys.modules and dep.WITH_MULTIMODAL is True
        assert not guard.multimodal_switched_off()
        assert guard.disable_broken_multimodal() is True
        assert sys.modules[name] is dep and 'mmpretrain' not in sys.modules
        print('clean')
        """, broken_tf)
    assert res.returncode == 0, res.stderr[-3000:]
    assert 'clean' in res.stdout
