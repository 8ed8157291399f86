"""The tables ``tools/benchmark.py`` prints: one row per setting, then (with
``--backbone``) one row of ratios per backbone."""


COLUMNS = (('precision', 9), ('ch-last', 7), ('with_cp', 8), ('MixSKD s', 9),
           ('plain s', 8), ('MixSKD img/s', 12), ('plain img/s', 11),
           ('MixSKD MB', 10), ('plain MB', 9), ('GFLOPs', 8),
           ('FLOP x', 7), ('time x', 7), ('mem x', 6), ('beyond', 8))


def print_row(row, header=False):
    a, b = row['MixSKD'], row['plain']
    cells = (row['precision'], 'on' if row['channels_last'] else 'off',
             row['with_cp'], f'{a["step_time_s"]:.3f}',
             f'{b["step_time_s"]:.3f}', f'{a["images_per_s"]:.1f}',
             f'{b["images_per_s"]:.1f}',
             f'{a["peak_memory_bytes"] / 2**20:.0f}',
             f'{b["peak_memory_bytes"] / 2**20:.0f}',
             f'{a["flops"] / 1e9:.1f}', f'{row["flop_ratio"]:.2f}',
             f'{row["step_time_ratio"]:.2f}', f'{row["memory_ratio"]:.2f}',
             f'{row["overhead_beyond_flops_pct"]:+.1f}%')
    if header:
        print(' '.join(f'{name:>{w}s}' for name, w in COLUMNS), flush=True)
    print(' '.join(f'{c:>{w}s}' for c, (_, w) in zip(cells, COLUMNS)),
          flush=True)


def print_backbones(results):
    """One row per backbone: its first setting's MixSKD / plain ratios."""
    print(f'{"backbone":>20s} {"plain Mparams":>13s} {"MixSKD Mparams":>14s}'
          f' {"FLOP x":>7s} {"time x":>7s} {"mem x":>6s}')
    for result in results:
        row = result['settings'][0]
        print(f'{result["backbone"]:>20s} '
              f'{row["plain"]["params"] / 1e6:13.1f} '
              f'{row["MixSKD"]["params"] / 1e6:14.1f} '
              f'{row["flop_ratio"]:7.2f} {row["step_time_ratio"]:7.2f} '
              f'{row["memory_ratio"]:6.2f}')
