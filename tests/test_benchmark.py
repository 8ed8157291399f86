"""tools/benchmark.py runs and prints both ratios (figures, not timings)."""
import os.path as osp
import re
import subprocess
import sys

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def test_benchmark_prints_flop_and_time_ratios():
    out = subprocess.run([
        sys.executable, 'tools/benchmark.py', '--config',
        'configs/mixskd_r18_cifar100.py', '--img-size', '16', '--batch', '4',
        '--iters', '1', '--warmup', '0', '--branch-depth', 'light', '--device',
        'cpu'
    ],
                         cwd=ROOT,
                         capture_output=True,
                         text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    flop = re.search(r'FLOP ratio \(MixSKD / plain\): ([\d.]+)', out.stdout)
    time = re.search(r'step-time ratio \(MixSKD / plain\): ([\d.]+)',
                     out.stdout)
    assert flop and time, out.stdout
    # MixSKD doubles the batch and adds three branches: it must cost more
    # than twice the plain step's FLOPs.
    assert float(flop.group(1)) > 2
    assert float(time.group(1)) > 0
