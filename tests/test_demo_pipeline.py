"""The demo pipeline end to end at its smallest size."""
import json
import os.path as osp
import re
import subprocess
import sys

import pytest

from mixskd_mm.demo.pipeline import plan_stages

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def run_demo(work, data):
    return subprocess.run([
        sys.executable, 'tools/demo.py', '--size', 'tiny', '--work-dir',
        str(work), '--data-root',
        str(data)
    ],
                          cwd=ROOT,
                          capture_output=True,
                          text=True,
                          timeout=900)


def test_demo_runs_end_to_end_and_reuses_finished_stages(tmp_path):
    work, data = tmp_path / 'work', tmp_path / 'data'
    out = run_demo(work, data)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    # Progress is visible while it runs.
    assert re.search(r'\[pretrain_mixskd\] Epoch\(train\)', out.stdout)
    # One table with a row per method.
    rows = [r for r in out.stdout.splitlines() if r.startswith('| ')]
    assert rows[0].startswith('| method | top-1 (%) | bbox mAP | mIoU (%)')
    assert [r.split('|')[1].strip()
            for r in rows[1:]] == ['baseline', 'mixskd']
    results = json.loads((work / 'results.json').read_text())
    assert len(results) == 6
    for name, r in results.items():
        # Every metric comes from a real evaluation: a finite number in the
        # metric's range, and a checkpoint that exists.
        top = 1.0 if r['kind'] == 'det' else 100.0
        assert 0.0 <= r['metric'] <= top, (name, r)
        assert osp.isfile(r['checkpoint'])
    for method in ('baseline', 'mixskd'):
        assert (work / f'pretrain_{method}' / 'backbone.pth').is_file()
    report = (work / 'report.md').read_text()
    assert '| mixskd |' in report and 'What the numbers show' in report
    for png in ('loss_curves.png', 'metrics.png'):
        assert (work / png).read_bytes()[:4] == b'\x89PNG'

    # Run again: every stage is reused, nothing retrains.
    again = run_demo(work, data)
    assert again.returncode == 0, again.stderr[-3000:]
    assert again.stdout.count('reusing the finished run') == 6
    assert 'Epoch(train)' not in again.stdout


def test_plan_rejects_unknown_methods_and_sizes(tmp_path):
    with pytest.raises(ValueError, match='unknown demo method'):
        plan_stages(['mixsdk'], 'tiny', str(tmp_path), str(tmp_path))
    with pytest.raises(ValueError, match='size must be one of'):
        plan_stages(['mixskd'], 'huge', str(tmp_path), str(tmp_path))
    stages = plan_stages(['baseline', 'mixskd'], 'tiny', 'w', 'd')
    assert [s.name for s in stages] == [
        'pretrain_baseline', 'pretrain_mixskd', 'det_baseline', 'det_mixskd',
        'seg_baseline', 'seg_mixskd'
    ]
    # Downstream stages load the exported backbone of their own method.
    assert any('pretrain_mixskd/backbone.pth' in o
               for o in stages[3].cfg_options)
