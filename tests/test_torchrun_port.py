"""tools/torchrun.sh stops on a busy or malformed PORT before torchrun."""
import os
import socket
import subprocess

import pytest

from repo import ROOT


@pytest.fixture
def held_port():
    """A port this test listens on for its duration."""
    with socket.socket() as sock:
        sock.bind(('', 0))
        sock.listen(1)
        yield sock.getsockname()[1]


def _run(script, args, **env):
    return subprocess.run(['bash', str(ROOT / 'tools' / script), *args],
                          env=dict(os.environ, **env), capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize('script,args', [
    ('dist_train.sh', ['configs/mixskd_r18_cifar100.py', '1']),
    ('dist_test.sh', ['configs/mixskd_r18_cifar100.py', 'x.pth', '1']),
])
def test_busy_port_named_with_the_variable(held_port, script, args):
    res = _run(script, args, PORT=str(held_port))
    assert res.returncode == 1
    assert f'PORT {held_port} is already in use' in res.stderr
    assert f'bash tools/{script}' in res.stderr
    # A free port is suggested, and it is not the busy one.
    suggested = res.stderr.split('e.g. PORT=')[1].split()[0]
    assert suggested.isdigit() and int(suggested) != held_port
    assert 'torch.distributed' not in res.stderr  # torchrun never started


@pytest.mark.parametrize('port', ['abc', '0', '70000'])
def test_malformed_port(port):
    res = _run('dist_train.sh', ['c.py', '1'], PORT=port)
    assert res.returncode == 2
    assert f"PORT must be a TCP port number (1-65535), got '{port}'" \
        in res.stderr
