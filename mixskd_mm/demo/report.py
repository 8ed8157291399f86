"""The demo's table, plots and markdown report.

With one seed the table shows each stage's metric; with several, the mean
+- standard deviation over seeds, and the report adds each method's paired
difference to the reference method (the first) with a 95 % interval.
"""
import json
import os.path as osp
from typing import Callable, Dict, List

from .runs import read_scalars
from .stages import KINDS, METRIC_KEYS, stage_name
from .stats import paired_difference, summarize

__all__ = ['format_table', 'differences', 'loss_terms', 'write_report']

#: Factor of each final metric in the shared bar panel of ``metrics.png``:
#: bbox mAP (0-1) is drawn x100, beside the percentages.
ON_ONE_AXIS = dict(pretrain=1.0, det=100.0, seg=1.0)
COLORS = ('0.45', 'tab:blue', 'tab:green', 'tab:orange', 'tab:red',
          'tab:purple', 'tab:brown', 'tab:pink')


def _values(results: Dict[str, dict], kind: str, method: str,
            seeds: List[int], field: str = 'metric') -> List[float]:
    return [results[stage_name(kind, method, s)][field] for s in seeds]


def _cell(values: List[float], digits: int = 3) -> str:
    s = summarize(values)
    if s['std'] is None:
        return f'{s["mean"]:.{digits}f}'
    return f'{s["mean"]:.{digits}f} +- {s["std"]:.{digits}f}'


def format_table(results: Dict[str, dict], methods: List[str],
                 seeds: List[int] = (0, )) -> str:
    """A markdown table: a row per method, metric and wall time per stage.

    With several seeds, each metric is ``mean +- std`` over them and each
    time the mean.
    """
    seeds = list(seeds)
    head = ['method'] + [METRIC_KEYS[k][1] for k in KINDS] + [
        f'{k} time (s)' for k in KINDS
    ]
    rows = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for m in methods:
        metrics = [_cell(_values(results, k, m, seeds)) for k in KINDS]
        times = [
            f'{summarize(_values(results, k, m, seeds, "wall_s"))["mean"]:.0f}'
            for k in KINDS
        ]
        rows.append('| ' + ' | '.join([m] + metrics + times) + ' |')
    return '\n'.join(rows)


def differences(results: Dict[str, dict], methods: List[str],
                seeds: List[int]) -> List[str]:
    """Each method against the first, per metric, said plainly."""
    if len(methods) < 2:
        return []
    ref = methods[0]
    lines = []
    for m in methods[1:]:
        for kind in KINDS:
            label = METRIC_KEYS[kind][1]
            d = paired_difference(
                _values(results, kind, ref, seeds),
                _values(results, kind, m, seeds))
            if d['low'] is None:
                word = ('higher' if d['mean'] > 0 else
                        'lower' if d['mean'] < 0 else 'equal')
                lines.append(
                    f'- {label}: {m} - {ref} = {d["mean"]:+.3f} ({word}; one '
                    'seed, so no interval: run with --seeds 3 or more).')
                continue
            if d['low'] > 0 or d['high'] < 0:
                verdict = (f'{m} is {"higher" if d["low"] > 0 else "lower"} '
                           'on this data and schedule')
            else:
                verdict = ('the interval contains 0: these runs cannot tell '
                           'the two apart')
            lines.append(
                f'- {label}: {m} - {ref} = {d["mean"]:+.3f}, 95 % interval '
                f'[{d["low"]:+.3f}, {d["high"]:+.3f}] over {d["n"]} paired '
                f'seeds: {verdict}.')
    return lines


def _plt():
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    return plt


def _save(fig, work_root: str, name: str) -> str:
    path = osp.join(work_root, name)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    _plt().close(fig)
    return path


def _plot_curves(results, methods, seeds, work_root) -> str:
    """Validation metric over training, a line per method and seed."""
    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    for ax, kind in zip(axes, KINDS):
        for color, m in zip(COLORS, methods):
            for i, s in enumerate(seeds):
                points = [p for p in results[stage_name(kind, m,
                                                        s)]['curve']
                          if p[0] is not None]
                if points:
                    ax.plot(*zip(*points), marker='o', color=color,
                            label=m if i == 0 else None)
        ax.set_title(f'{kind}: validation {METRIC_KEYS[kind][1]}')
        ax.set_xlabel('epoch' if kind != 'seg' else 'iteration')
        ax.legend()
    return _save(fig, work_root, 'val_curves.png')


def loss_terms(records: List[dict]) -> List[str]:
    """The loss keys to plot from a run's logged scalars.

    A method's own terms (``loss_*``); a single-term method (the baseline's
    CE) logs only ``loss``, which is then its one term.
    """
    terms = sorted({k for r in records for k in r if k.startswith('loss_')})
    if not terms and any('loss' in r for r in records):
        terms = ['loss']
    return terms


def _plot_loss_terms(methods, seeds, work_root) -> str:
    """Each method's pretraining loss terms over training (first seed)."""
    plt = _plt()
    fig, axes = plt.subplots(
        1, len(methods), figsize=(5 * len(methods), 4), squeeze=False)
    for ax, m in zip(axes[0], methods):
        records = read_scalars(
            osp.join(work_root, stage_name('pretrain', m, seeds[0])))
        terms = loss_terms(records)
        for term in terms:
            points = [(r['step'], r[term]) for r in records
                      if term in r and 'step' in r]
            ax.plot(*zip(*points), label=term)
        ax.set_title(f'pretrain {m}: loss terms (seed {seeds[0]})')
        ax.set_xlabel('iteration')
        ax.set_yscale('log')
        if terms:
            ax.legend(fontsize=7)
    return _save(fig, work_root, 'loss_terms.png')


def _plot_bars(results, methods, seeds, work_root) -> str:
    """Final metrics and per-class AP / IoU, error bars over seeds."""
    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(16, 4))
    width = 0.8 / len(methods)
    # Final metric per stage kind (first panel), per class (det, seg).
    panels = [('pretrain', None), ('det', 'per_class'),
              ('seg', 'per_class')]
    for ax, (kind, field) in zip(axes, panels):
        if field is None:
            labels = [METRIC_KEYS[k][1] + (f' x{ON_ONE_AXIS[k]:g}'
                                           if ON_ONE_AXIS[k] != 1 else '')
                      for k in KINDS]
        else:
            first = results[stage_name(kind, methods[0], seeds[0])]
            labels = list(first.get('per_class', {}))
        for j, (color, m) in enumerate(zip(COLORS, methods)):
            means, stds = [], []
            for label_i, label in enumerate(labels):
                if field is None:
                    kind_i = KINDS[label_i]
                    vals = [v * ON_ONE_AXIS[kind_i]
                            for v in _values(results, kind_i, m, seeds)]
                else:
                    vals = [results[stage_name(kind, m, s)].get(
                        'per_class', {}).get(label, 0.0) for s in seeds]
                s = summarize(vals)
                means.append(s['mean'])
                stds.append(s['std'] or 0.0)
            xs = [i + j * width for i in range(len(labels))]
            ax.bar(xs, means, width, yerr=stds if len(seeds) > 1 else None,
                   color=color, label=m, capsize=3)
        ax.set_xticks([i + 0.4 - width / 2 for i in range(len(labels))])
        ax.set_xticklabels(labels, rotation=30, fontsize=8)
        ax.set_title({'pretrain': 'final metric per stage',
                      'det': 'detection: AP per class',
                      'seg': 'segmentation: IoU (%) per class'}[kind])
        ax.legend(fontsize=7)
    return _save(fig, work_root, 'metrics.png')


def write_report(results: Dict[str, dict],
                 methods: List[str],
                 work_root: str,
                 log: Callable[[str], None] = print,
                 seeds: List[int] = (0, )) -> str:
    """Write results.json, the plots and report.md; print the table."""
    seeds = list(seeds)
    table = format_table(results, methods, seeds)
    with open(osp.join(work_root, 'results.json'), 'w') as f:
        json.dump(results, f, indent=2)
    plots = [
        _plot_curves(results, methods, seeds, work_root),
        _plot_loss_terms(methods, seeds, work_root),
        _plot_bars(results, methods, seeds, work_root),
    ]
    empty = sorted(n for n, r in results.items() if r.get('empty_result'))
    lines = [
        '# mixskd_mm demo report', '',
        'Each method pretrains a ResNet-18 on the generated 20-class '
        'shape x texture set, then its exported backbone initialises Faster '
        'R-CNN (COCO-format shapes) and DeepLabV3 (VOC-format shapes). Every '
        'number is the evaluation that ends the run, by the real metric '
        '(mmpretrain Accuracy, pycocotools bbox mAP, mmseg IoU); seeds '
        f'{seeds}.', '', table, '', '## What the numbers show', ''
    ] + differences(results, methods, seeds)
    if empty:
        lines += ['', f'Stages whose detector found no box (bbox mAP 0): '
                  f'{", ".join(empty)}.']
    lines += [
        '',
        'Minutes of CPU training per stage on small synthetic data: an '
        'interval that excludes 0 says which method did better here, with '
        'these schedules; it is not evidence about the paper\'s ImageNet, '
        'COCO or VOC results. All methods share one demo schedule and '
        'network, chosen so that the baseline and MixSKD both learn within '
        'it (configs/demo/_base_/pretrain_demo.py says how), not tuned per '
        'method. The numbers repeat on this machine, not on another: another '
        'CPU makes oneDNN pick other kernels, and minutes of training '
        'amplify the rounding differences, so a one-seed difference or a '
        'per-class value is not a result.', ''
    ] + [f'![{osp.splitext(osp.basename(p))[0]}]({osp.basename(p)})\n'
         for p in plots]
    path = osp.join(work_root, 'report.md')
    with open(path, 'w') as f:
        f.write('\n'.join(lines))
    log('\n' + table + '\n')
    for line in differences(results, methods, seeds):
        log(line)
    log(f'[demo] report: {path}; plots: {", ".join(plots)}')
    return path
