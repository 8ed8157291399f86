"""Where the checkout's folders are, for the tests (not a test module)."""
import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

#: The checkout: the folder that holds ``configs/``, ``tools/`` and ``tests/``.
ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / 'configs'
TOOLS = ROOT / 'tools'


def import_tool(name: str) -> ModuleType:
    """Import ``tools/<name>.py`` (``tools/`` is not a package).

    Each call executes the file afresh as module ``mixskd_tools_<name>``,
    without adding it to ``sys.modules`` or ``tools/`` to ``sys.path``.
    """
    spec = importlib.util.spec_from_file_location(f'mixskd_tools_{name}',
                                                  TOOLS / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_tiny_demo_data(out) -> str:
    """Run ``tools/make_demo_data.py --out OUT --size tiny`` as a user runs
    it (a subprocess of this interpreter); fail if it fails.

    Returns:
        str: ``out``.
    """
    subprocess.run(
        [sys.executable, str(TOOLS / 'make_demo_data.py'), '--out', str(out),
         '--size', 'tiny'], check=True, stdout=subprocess.DEVNULL)
    return str(out)
