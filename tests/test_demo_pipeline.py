"""The demo pipeline end to end at its smallest size."""
import json
import os.path as osp
import re
import subprocess
import sys

import pytest

from mixskd_mm.demo.pipeline import plan_stages
from mixskd_mm.demo.report import differences, format_table, loss_terms
from mixskd_mm.demo.runs import EMPTY_DETECTIONS, metric_of_run
from mixskd_mm.demo.stats import paired_difference, summarize

from repo import ROOT


def run_demo(work, data, *extra):
    return subprocess.run([
        sys.executable, 'tools/demo.py', '--size', 'tiny', '--work-dir',
        str(work), '--data-root',
        str(data), *extra
    ],
                          cwd=ROOT,
                          capture_output=True,
                          text=True,
                          timeout=900)


def table_of(stdout):
    """The metric columns of the printed table (times differ run to run)."""
    return [r.split('|')[1:5] for r in stdout.splitlines()
            if r.startswith('| ')]


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
    # It says what does not carry over to another machine.
    assert 'repeat on this machine, not on another' in report
    for png in ('val_curves.png', 'loss_terms.png', 'metrics.png'):
        assert (work / png).read_bytes()[:4] == b'\x89PNG'
    for name, r in results.items():
        # Fields the report and the plots read.
        assert r['seed'] == 0 and r['empty_result'] in (False, True)
        assert r['curve'] and r['curve'][-1][1] == r['metric'], name
        if r['kind'] == 'seg':
            # ClasswiseIoUMetric: the IoU of every class of the VOC set.
            assert sorted(r['per_class']) == sorted(
                ['background', 'circle', 'cross', 'square', 'star',
                 'triangle']), r['per_class']
    # MixSKD's own loss terms reach the logs that the loss plot reads.
    mixskd_log = (work / 'pretrain_mixskd' / 'stage.log').read_text()
    for term in ('loss_ce', 'loss_mix_ce', 'loss_teacher_kd', 'loss_feat'):
        assert term in mixskd_log

    # Run again: every stage is reused, nothing retrains.
    again = run_demo(work, data)
    assert again.returncode == 0, again.stderr[-3000:]
    assert again.stdout.count('reusing the finished run') == 6
    assert 'Epoch(train)' not in again.stdout

    # The same command in a fresh work dir retrains everything and prints
    # the same numbers: every stage is seeded.
    fresh = run_demo(tmp_path / 'work2', data)
    assert fresh.returncode == 0, fresh.stdout[-3000:] + fresh.stderr[-3000:]
    assert 'Epoch(train)' in fresh.stdout
    results2 = json.loads((tmp_path / 'work2' / 'results.json').read_text())
    assert {n: r['metric'] for n, r in results2.items()} == {
        n: r['metric'] for n, r in results.items()}
    assert {n: r['per_class'] for n, r in results2.items()} == {
        n: r['per_class'] for n, r in results.items()}
    assert table_of(fresh.stdout) == table_of(out.stdout)


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


def test_plan_runs_each_seed_with_its_own_backbone():
    stages = plan_stages(['baseline', 'kd'], 'tiny', 'w', 'd', seeds=[0, 1])
    names = [s.name for s in stages]
    assert names == [
        'pretrain_baseline', 'pretrain_kd', 'pretrain_baseline_seed1',
        'pretrain_kd_seed1', 'det_baseline', 'det_kd', 'det_baseline_seed1',
        'det_kd_seed1', 'seg_baseline', 'seg_kd', 'seg_baseline_seed1',
        'seg_kd_seed1'
    ]
    by_name = {s.name: s for s in stages}
    assert 'randomness.seed=1' in by_name['det_kd_seed1'].cfg_options
    assert 'randomness.seed=0' in by_name['pretrain_kd'].cfg_options
    # The teacher of a seed is the baseline of the same seed.
    assert by_name['pretrain_kd_seed1'].teacher_stage == (
        'pretrain_baseline_seed1')
    assert any('pretrain_kd_seed1/backbone.pth' in o
               for o in by_name['seg_kd_seed1'].cfg_options)
    with pytest.raises(ValueError, match='distinct non-negative'):
        plan_stages(['baseline'], 'tiny', 'w', 'd', seeds=[0, 0])


def test_detector_without_boxes_is_an_map_of_zero():
    # mmdet's CocoMetric logs this and returns no coco/bbox_mAP when the
    # detector found nothing: a result of 0, not a crashed demo.
    records = [{'loss': 1.0, 'step': 1}, {'coco/bbox_mAP': 0.1, 'step': 1}]
    log = ('Epoch(val) [1][2/2]  coco/bbox_mAP: 0.1000\n'
           f'ERROR - {EMPTY_DETECTIONS}.\nEpoch(val) [2][2/2] time: 1\n')
    r = metric_of_run('det', records, log, 'det_x')
    assert r['metric'] == 0.0 and r['empty_result'] is True
    # An evaluation after the empty one counts as usual.
    log2 = log + 'Epoch(val) [3][2/2]  coco/bbox_mAP: 0.2000\n'
    records2 = records + [{'coco/bbox_mAP': 0.2, 'coco/star_precision': 0.5,
                           'step': 3}]
    r2 = metric_of_run('det', records2, log2, 'det_x')
    assert r2['metric'] == 0.2 and r2['empty_result'] is False
    assert r2['per_class'] == {'star': 0.5}
    assert r2['curve'] == [[1, 0.1], [3, 0.2]]
    # Any other run without its evaluation is still an error.
    with pytest.raises(RuntimeError, match='ended without a mIoU'):
        metric_of_run('seg', [{'loss': 1.0}], '', 'seg_x')


def test_summaries_and_paired_interval_by_hand():
    s = summarize([1.0, 2.0, 3.0])
    assert s['mean'] == 2.0 and s['std'] == 1.0
    assert summarize([4.0])['std'] is None
    # Differences 1, 2, 0.5: mean 7/6, sample std 0.7638, t(0.975, 2) =
    # 4.303, half-width 4.303 * 0.7638 / sqrt(3) = 1.8975.
    d = paired_difference([1, 2, 3], [2, 4, 3.5])
    assert abs(d['mean'] - 7 / 6) < 1e-12
    assert abs(d['high'] - d['mean'] - 1.8975) < 1e-3
    assert abs(d['mean'] - d['low'] - 1.8975) < 1e-3
    with pytest.raises(ValueError, match='equal counts'):
        paired_difference([1], [1, 2])


def test_report_says_what_the_interval_shows():
    def res(kind, method, seed, metric):
        name = f'{kind}_{method}' + (f'_seed{seed}' if seed else '')
        return name, dict(metric=metric, wall_s=10.0)

    results = {}
    for seed, (a, b) in enumerate([(10, 20), (11, 22), (12, 21)]):
        for kind in ('pretrain', 'det', 'seg'):
            results.update([res(kind, 'baseline', seed, a),
                            res(kind, 'mixskd', seed, b)])
    lines = differences(results, ['baseline', 'mixskd'], [0, 1, 2])
    assert len(lines) == 3
    assert 'mixskd is higher on this data and schedule' in lines[0]
    assert '+10.000' in lines[0]
    table = format_table(results, ['baseline', 'mixskd'], [0, 1, 2])
    assert '| mixskd | 21.000 +- 1.000 |' in table
    # Overlapping runs: the interval contains 0 and the report says so.
    results['pretrain_mixskd_seed1']['metric'] = 0.0
    lines = differences(results, ['baseline', 'mixskd'], [0, 1, 2])
    assert 'cannot tell the two apart' in lines[0]


def test_demo_data_from_an_older_world_is_rewritten(tmp_path, monkeypatch):
    from mixskd_mm.demo import pipeline
    from mixskd_mm.demo.data import DATA_VERSION
    writes, logs = [], []
    monkeypatch.setattr(pipeline, 'write_demo_data',
                        lambda root, size, overwrite: writes.append(size))
    marker = tmp_path / 'demo_size.txt'
    marker.write_text('default')  # written before the world was versioned
    pipeline._prepare_data(str(tmp_path), 'default', False, logs.append)
    assert writes == ['default']
    assert 'older demo world' in logs[0]
    assert marker.read_text() == f'default {DATA_VERSION}'
    # Now current: reused, not rewritten.
    pipeline._prepare_data(str(tmp_path), 'default', False, logs.append)
    assert writes == ['default'] and 'reusing' in logs[-1]
    # Another size is written, whatever the version.
    pipeline._prepare_data(str(tmp_path), 'small', False, logs.append)
    assert writes == ['default', 'small']
    # An empty (truncated) marker is rewritten, not a crash.
    marker.write_text('')
    pipeline._prepare_data(str(tmp_path), 'small', False, logs.append)
    assert writes == ['default', 'small', 'small']


def test_finished_stage_is_reused_only_while_its_inputs_are_unchanged(
        tmp_path, monkeypatch):
    from mixskd_mm.demo import runs
    from mixskd_mm.demo.stages import Stage

    class Trains(Exception):
        pass

    def train(*args):
        raise Trains

    monkeypatch.setattr(runs, '_run_train', train)
    config, ckpt = tmp_path / 'cfg.py', tmp_path / 'backbone.pth'
    config.write_text('model = dict(depth=18)\n')
    ckpt.write_bytes(b'weights 1')
    stage = Stage('seg', 'baseline', str(config),
                  [f'model.backbone.init_cfg.checkpoint={ckpt}'])
    work = tmp_path / 'work'
    result_file = work / stage.name / 'result.json'
    stamp = 'default world-2'

    def finish(fingerprint):
        result_file.parent.mkdir(parents=True, exist_ok=True)
        result = dict(stage=stage.name, metric=12.5)
        if fingerprint is not None:
            result['fingerprint'] = fingerprint
        result_file.write_text(json.dumps(result))
        return result

    def run(data_stamp=stamp, the_stage=stage):
        logs = []
        try:
            return runs.run_stage(the_stage, str(work), False, logs.append,
                                  data_stamp=data_stamp), logs
        except Trains:
            return 'trained', logs

    fingerprint = runs.stage_fingerprint(stage, stage.cfg_options, stamp)
    assert fingerprint == runs.stage_fingerprint(stage, stage.cfg_options,
                                                 stamp)
    result = finish(fingerprint)
    assert run() == (result, [
        f'[demo] {stage.name}: reusing the finished run in '
        f'{work / stage.name}'
    ])
    # Data from another world, another option, another backbone, another
    # config, or a result written before fingerprints: trained again.
    other_option = Stage('seg', 'baseline', str(config),
                         stage.cfg_options + ['train_cfg.max_iters=7'])
    cases = [dict(data_stamp='default world-3'),
             dict(the_stage=other_option)]
    for kwargs in cases:
        finish(fingerprint)
        outcome, logs = run(**kwargs)
        assert outcome == 'trained'
        assert 'training it again' in logs[0], logs
    finish(fingerprint)
    ckpt.write_bytes(b'weights 2')
    assert run()[0] == 'trained'
    ckpt.write_bytes(b'weights 1')
    finish(fingerprint)
    config.write_text('model = dict(depth=34)\n')
    assert run()[0] == 'trained'
    config.write_text('model = dict(depth=18)\n')
    finish(None)
    assert run()[0] == 'trained'
    finish(fingerprint)
    assert run()[0] == result


def test_loss_plot_terms_of_single_and_multi_term_methods():
    # The baseline logs only 'loss' (its CE): that is its one plotted term,
    # not an empty panel; MixSKD's own terms replace the summed 'loss'.
    baseline = [dict(step=10, loss=3.0, lr=0.1), dict(step=20, loss=2.5)]
    mixskd = [dict(step=10, loss=9.0, loss_ce=3.0, loss_feat=0.5),
              dict(step=20, loss=8.0, loss_mix_ce=2.0)]
    assert loss_terms(baseline) == ['loss']
    assert loss_terms(mixskd) == ['loss_ce', 'loss_feat', 'loss_mix_ce']
    assert loss_terms([dict(step=10, lr=0.1)]) == []
