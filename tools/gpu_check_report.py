"""The report of tools/gpu_check.py: ``gpu_check.json`` and ``gpu_check.md``.

The markdown has one row per step (status, time, figures or the error) and,
per benchmark, a table of every setting: images per second and peak memory
of MixSKD and of the plain classifier, and their ratios.
"""
import json
import os.path as osp

__all__ = ['merge_reports', 'write_report']


def merge_reports(out, result):
    """``result`` with the steps of ``out/gpu_check.json`` it did not run.

    Steps keep the order of the earlier report, new ones come after; the
    wall time adds up.
    """
    path = osp.join(out, 'gpu_check.json')
    if not osp.isfile(path):
        return result
    with open(path) as f:
        earlier = json.load(f)
    if (earlier['device'], earlier['quick']) != (result['device'],
                                                 result['quick']):
        raise SystemExit(
            f"--append: {path} is a --device {earlier['device']} "
            f"(quick={earlier['quick']}) report; use another --out or drop "
            '--append')
    steps = dict(earlier['steps'])
    steps.update(result['steps'])
    return dict(result, wall_s=round(earlier['wall_s'] + result['wall_s'], 1),
                budget_s=earlier['budget_s'] + result['budget_s'],
                steps=steps,
                failed=[n for n, s in steps.items() if s['status'] != 'ok'])


def _figures_text(name, step):
    figures = step.get('figures', {})
    if name.startswith('benchmark'):
        return (f"{figures['device_name']}, {len(figures['settings'])} "
                f"settings, batch {figures['batch']} at "
                f"{figures['img_size']} px (table below)")
    if name == 'check_env':
        return (f"GPUs: {', '.join(figures['gpus']) or 'none'}; mmcv CUDA: "
                f"{figures['mmcv_cuda']}; problems: "
                f"{len(figures['problems'])}")
    return ', '.join(f'{k} {v:.4g}' if isinstance(v, float) else f'{k} {v}'
                     for k, v in figures.items())


def write_report(result, out):
    """``gpu_check.json`` and the table of ``gpu_check.md``."""
    with open(osp.join(out, 'gpu_check.json'), 'w') as f:
        json.dump(result, f, indent=1)
    mode = ' --quick' if result['quick'] else ''
    lines = [f"# gpu_check --device {result['device']}{mode}", '',
             f"{result['wall_s']} s in all (budget {result['budget_s']:.0f} "
             f"s); failed: {', '.join(result['failed']) or 'none'}.", '',
             '| step | status | time (s) | figures |', '|---|---|---|---|']
    for name, step in result['steps'].items():
        text = (_figures_text(name, step) if step['status'] == 'ok' else
                step.get('error', ''))
        if step.get('note'):
            text += f" ({step['note']})"
        lines.append(f"| {name} | {step['status']} | {step['wall_s']} | "
                     f"{text.replace('|', '/')} |")
    for name, step in result['steps'].items():
        if not name.startswith('benchmark') or step['status'] != 'ok':
            continue
        lines += ['', f"## {name}: {step['figures']['device_name']}, torch "
                  f"{step['figures']['torch']}", '',
                  '| precision | channels-last | with_cp | MixSKD img/s | '
                  'plain img/s | MixSKD MB | plain MB | time x | memory x |',
                  '|---|---|---|---|---|---|---|---|---|']
        for r in step['figures']['settings']:
            lines.append(
                f"| {r['precision']} | {'on' if r['channels_last'] else 'off'}"
                f" | {r['with_cp']} | {r['mixskd_images_per_s']:.1f} | "
                f"{r['plain_images_per_s']:.1f} | {r['mixskd_peak_mb']:.0f} | "
                f"{r['plain_peak_mb']:.0f} | {r['step_time_ratio']:.2f} | "
                f"{r['memory_ratio']:.2f} |")
    with open(osp.join(out, 'gpu_check.md'), 'w') as f:
        f.write('\n'.join(lines) + '\n')
