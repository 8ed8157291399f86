"""tools/benchmark.py: the table, the JSON figures and the CPU memory measure
(figures and their relations, never timings)."""
import json
import os.path as osp

import pytest
import torch

from mixskd_mm.engine.memory import LiveTensorBytes

from repo import ROOT, import_tool


def load_benchmark():
    return import_tool('benchmark')


@pytest.fixture(scope='module')
def bench():
    return load_benchmark()


# The CIFAR recipe with 4 base channels: a step in well under a second,
# also in bf16 on CPUs without native bf16 arithmetic.
RECIPE = osp.join(ROOT, 'configs/mixskd_r18_cifar100.py')
TINY_CONFIG = f"""_base_ = [{RECIPE!r}]
model = dict(
    backbone=dict(stem_channels=4, base_channels=4),
    head=dict(in_channels=32))
"""


@pytest.fixture()
def tiny_args(tmp_path):
    config = tmp_path / 'tiny_mixskd.py'
    config.write_text(TINY_CONFIG)
    return [
        '--config',
        str(config), '--img-size', '16', '--batch', '4', '--iters', '1',
        '--warmup', '0', '--branch-depth', 'light', '--device', 'cpu'
    ]


def test_json_has_every_field_and_table_is_printed(bench, tiny_args,
                                                   tmp_path, capsys):
    out = tmp_path / 'bench.json'
    bench.main(tiny_args + [
        '--precision', 'bf16', '--with-cp', 'none', 'all',
        '--channels-last', 'on', '--json',
        str(out)
    ])
    printed = capsys.readouterr().out
    result = json.loads(out.read_text())
    for key in ('device', 'device_name', 'torch', 'threads', 'config',
                'depth', 'img_size', 'batch', 'iters', 'warmup',
                'branch_depth', 'memory_measure', 'command', 'settings'):
        assert key in result, key
    assert result['device'] == 'cpu' and result['batch'] == 4
    rows = result['settings']
    settings = [(r['precision'], r['with_cp']) for r in rows]
    assert settings == [('bf16', 'none'), ('bf16', 'all')]
    for row in rows:
        for key in bench.SETTING_FIELDS + bench.RATIO_FIELDS:
            assert key in row, key
        assert row['channels_last'] is True and row['compile'] is False
        for model in ('MixSKD', 'plain'):
            figures = row[model]
            assert set(figures) == set(bench.MODEL_FIELDS)
            assert figures['flops'] > 0 and figures['step_time_s'] > 0
            assert figures['peak_memory_bytes'] > 0
            assert figures['images_per_s'] == pytest.approx(
                4 / figures['step_time_s'])
            assert len(figures['step_times_s']) == 1
        # MixSKD doubles the batch and adds branches: more than twice the
        # plain step's FLOPs, and more memory.
        assert row['flop_ratio'] > 2 and row['memory_ratio'] > 1
        assert row['flop_ratio'] == pytest.approx(
            row['MixSKD']['flops'] / row['plain']['flops'])
    # Checkpointing recomputes: more FLOPs per step, same plain model.
    none, cp = rows[0], rows[1]
    assert cp['MixSKD']['flops'] > none['MixSKD']['flops']
    assert cp['plain'] == none['plain']
    # One table: a header, then one line per setting.
    lines = printed.splitlines()
    header = next(i for i, ln in enumerate(lines) if 'FLOP x' in ln)
    table = [ln.split() for ln in lines[header + 1:header + 3]]
    assert [(cells[0], cells[2]) for cells in table] == [('bf16', 'none'),
                                                         ('bf16', 'all')]
    assert float(table[1][-4]) == pytest.approx(rows[1]['flop_ratio'],
                                                abs=0.01)


def test_fp16_and_missing_cuda_are_refused(bench):
    with pytest.raises(SystemExit):
        bench.parse_args(['--device', 'cpu', '--precision', 'fp16'])
    if not torch.cuda.is_available():
        with pytest.raises(SystemExit):
            bench.parse_args(['--device', 'cuda'])


def test_sweep_and_channels_last_flags(bench):
    args = bench.parse_args(['--device', 'cpu', '--sweep'])
    assert args.precision == ['fp32', 'bf16']
    assert args.channels_last == [False, True]
    assert args.with_cp == ['none', 'branches', 'all']
    assert bench.parse_args(['--device', 'cpu',
                             '--channels-last']).channels_last == [True]
    assert bench.parse_args(['--device', 'cpu']).channels_last == [False]


def test_live_tensor_bytes_counts_peak_and_frees(bench):
    tracker = LiveTensorBytes()
    kept = torch.zeros(1000)  # 4000 bytes, existed before
    tracker.track(kept)
    tracker.track(kept.view(10, 100))  # same storage: counted once
    with tracker:
        a = torch.ones(2000)  # +8000
        b = a * 2  # +8000 -> peak 20000
        del a, b
        c = torch.ones(500)  # +2000 after the frees
    assert tracker.peak == 4000 + 16000
    assert tracker.live == 4000 + 2000
    del c
    assert tracker.live == 4000


def test_backbone_runs_each_recipe_and_prints_its_ratios(bench, tmp_path,
                                                         capsys):
    assert 'r50' in bench.backbone_names()
    out = tmp_path / 'bench.json'
    bench.main([
        '--backbone', 'r50', '--img-size', '32', '--batch', '2', '--iters',
        '1', '--warmup', '0', '--branch-depth', 'light', '--device', 'cpu',
        '--json', str(out)
    ])
    result = json.loads(out.read_text())
    (r50, ) = result['backbones']
    assert r50['backbone'] == 'r50'
    assert r50['config'].endswith('configs/mixskd_r50_imagenet.py')
    row = r50['settings'][0]
    # The recipe's own ResNet-50 (--depth does not apply): 25.6 M params.
    assert 25.5e6 < row['plain']['params'] < 25.6e6
    summary = capsys.readouterr().out.splitlines()
    header = next(i for i, ln in enumerate(summary) if 'Mparams' in ln)
    cells = summary[header + 1].split()
    assert cells[0] == 'r50'
    assert float(cells[3]) == pytest.approx(row['flop_ratio'], abs=0.01)
    assert float(cells[5]) == pytest.approx(row['memory_ratio'], abs=0.01)
    with pytest.raises(SystemExit):
        bench.parse_args(['--backbone', 'vgg16'])
