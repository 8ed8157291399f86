"""tools/gpu_check.py: every step runs, is recorded, and failures are reported.

``--device cpu --quick`` runs the same steps as on a GPU, at their smallest,
on the CPU (gloo instead of NCCL, bf16 autocast for --amp, fp32 only in the
benchmarks: the CPU emulates bf16).
"""
import json
import os
import os.path as osp
import subprocess
import sys

from repo import ROOT

STEPS = ['check_env', 'ops', 'benchmark_r18', 'benchmark_r50', 'demo_data',
         'dist_train', 'export', 'faster_rcnn']


def gpu_check(out, *args, timeout=1800):
    return subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'gpu_check.py'), '--device',
         'cpu', '--quick', '--out', str(out), *args],
        capture_output=True, text=True, timeout=timeout)


def test_quick_cpu_check_runs_every_step(tmp_path):
    # The budget is generous: CI machines are shared (the GPU run's is 540 s).
    proc = gpu_check(tmp_path, '--budget-s', '1500')
    report = json.loads((tmp_path / 'gpu_check.json').read_text())
    steps = report['steps']
    assert proc.returncode == 0, (proc.stdout[-2000:], {
        n: s.get('error', '') + s.get('log_tail', '')[-800:]
        for n, s in steps.items() if s['status'] != 'ok'})
    assert list(steps) == STEPS and report['failed'] == []
    for name, step in steps.items():
        assert step['status'] == 'ok' and step['wall_s'] > 0, name
        assert (tmp_path / step['log']).is_file(), name
    env = steps['check_env']['figures']
    assert env['gpus'] == [] and env['problems'] == []
    assert env['ops']['nms']['cpu'] == 'native'
    ops = steps['ops']['figures']
    assert ops['device'] == 'cpu' and ops['boxes'] == 200
    assert ops['nms_same_indices'] and 0 < ops['nms_kept'] <= 200
    assert ops['roi_align_max_abs_diff'] < 1e-4
    assert ops['roi_align_grad_max_abs_diff'] < 1e-4
    for depth in (18, 50):
        bench = steps[f'benchmark_r{depth}']['figures']
        assert bench['batch'] == 2 and bench['img_size'] == 32
        assert [(r['precision'], r['channels_last'], r['with_cp'])
                for r in bench['settings']] == [('fp32', True, 'none')]
        for row in bench['settings']:
            assert row['mixskd_images_per_s'] > 0
            assert row['plain_peak_mb'] > 0
            # MixSKD trains the branches and self-teacher too.
            assert row['memory_ratio'] > 1 and row['flop_ratio'] > 1
        assert (tmp_path / bench['json']).is_file()
    train = steps['dist_train']['figures']
    assert train['backend'] == 'gloo' and train['amp'] is True
    assert train['iterations'] == 2  # 40 tiny images, batch 32, one epoch
    assert 0 <= train['top1'] <= 100 and train['final_loss'] > 0
    assert steps['export']['figures']['kept_tensors'] > 100
    det = steps['faster_rcnn']['figures']
    assert det['epochs'] == 1 and 0 <= det['bbox_mAP'] <= 1

    md = (tmp_path / 'gpu_check.md').read_text().splitlines()
    assert md[0] == '# gpu_check --device cpu --quick'
    assert '| step | status | time (s) | figures |' in md
    rows = [line.split(' | ')[:2] for line in md if line.startswith('| ')]
    for name in STEPS:
        assert [f'| {name}', 'ok'] in rows, name
    assert '## benchmark_r50: ' in '\n'.join(md)


def test_failed_step_is_reported_and_later_steps_still_run(tmp_path):
    # The demo data cannot be written where a file stands: that step fails,
    # the steps that need its output say so, the next one still runs.
    (tmp_path / 'data').write_text('not a folder')
    proc = gpu_check(tmp_path, '--steps', 'demo_data', 'dist_train', 'ops',
                     timeout=900)
    assert proc.returncode == 1
    report = json.loads((tmp_path / 'gpu_check.json').read_text())
    steps = report['steps']
    assert report['failed'] == ['demo_data', 'dist_train']
    assert steps['demo_data']['error'].startswith('exit status ')
    assert 'Not a directory' in steps['demo_data']['log_tail']
    assert steps['dist_train']['error'] == (
        'needs the output of demo_data, which did not succeed')
    assert steps['ops']['status'] == 'ok'
    md = (tmp_path / 'gpu_check.md').read_text()
    assert '| demo_data | failed |' in md and '| ops | ok |' in md
    assert 'failed: demo_data, dist_train.' in md

    # A second part appended to the same report; a spent budget is a
    # failure, not a silent skip.
    again = gpu_check(tmp_path, '--steps', 'check_env', '--append',
                      '--budget-s', '1', timeout=300)
    assert again.returncode == 1
    merged = json.loads((tmp_path / 'gpu_check.json').read_text())
    assert list(merged['steps']) == ['demo_data', 'dist_train', 'ops',
                                     'check_env']
    assert merged['steps']['check_env']['status'] == 'not run'
    assert 'budget' in merged['steps']['check_env']['error']
    assert merged['failed'] == ['demo_data', 'dist_train', 'check_env']


def test_bad_arguments_name_the_fix(tmp_path):
    proc = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'gpu_check.py'), '--device',
         'cpu'], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and '--out DIR is required' in proc.stderr
    proc = gpu_check(tmp_path, '--budget-s', '0', timeout=120)
    assert proc.returncode == 2 and '--budget-s must be > 0' in proc.stderr


def test_device_script_dry_run_prints_the_route(tmp_path):
    script = osp.join(ROOT, 'tools', 'device_gpu_check.sh')
    assert subprocess.run(['bash', '-n', script]).returncode == 0
    wheels = tmp_path / 'whl'
    wheels.mkdir()
    (wheels / 'mmcv-2.1.0.tar.gz').write_bytes(b'')
    (wheels / 'mmengine-0.10.7-py3-none-any.whl').write_bytes(b'')
    env = dict(os.environ, OUT=str(tmp_path / 'out'), WHEELS=str(wheels),
               SITE=str(tmp_path / 'site'))
    proc = subprocess.run(['bash', script, '--dry-run'], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stdout.splitlines()
             if line.startswith('+ ')]
    assert '--no-index --no-deps' in lines[2] and 'mmengine' in lines[2]
    assert any('-std=c++17' in line for line in lines)
    checks = [line for line in lines if 'tools/gpu_check.py' in line]
    assert len(checks) == 2
    assert '--steps benchmark_r18 benchmark_r50' in checks[0]
    assert ('--append --steps check_env ops demo_data dist_train export '
            'faster_rcnn') in checks[1]
    assert all(f'--device cuda --out {tmp_path}/out/gpu_check' in line
               for line in checks)
    # Nothing was installed or written.
    assert not (tmp_path / 'site').exists()
    assert not (tmp_path / 'out').exists()
    # Without the wheels it says where to get them.
    env['WHEELS'] = str(tmp_path / 'none')
    proc = subprocess.run(['bash', script], env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 1
    assert 'cp ../shared/wheels/device-py312/* .whl/' in proc.stderr
