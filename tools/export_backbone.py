"""Export the backbone of a classifier training checkpoint for mmdet/mmseg.

Usage:
    python tools/export_backbone.py CKPT OUT [--prefix backbone.]

Takes a training checkpoint of any classifier of this project (MixSKD,
FRSKD, KD, a plain ImageClassifier ...; the EMA weights when EMAHook was
used), keeps the tensors under ``--prefix`` with the prefix removed and
writes ``{'state_dict', 'meta'}`` to OUT, ready for
``init_cfg=dict(type='StrictPretrained', checkpoint=OUT)`` in the configs
under ``configs/det`` and ``configs/seg``. Exits with status 1 and a message
saying what to do when the input is missing, corrupt, not a classifier
checkpoint or has an incomplete backbone.
"""
import argparse
import sys


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Export the backbone of a classifier training '
        'checkpoint for detection/segmentation fine-tuning.')
    parser.add_argument('checkpoint', help='training checkpoint (.pth)')
    parser.add_argument('out', help='output backbone checkpoint (.pth)')
    parser.add_argument(
        '--prefix',
        default='backbone.',
        help='name of the backbone module in the classifier '
        '(default: backbone.)')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    # Imported here so that --help works without loading the whole stack.
    from mixskd_mm.tools_lib import CheckpointFormatError, export_backbone
    try:
        info = export_backbone(args.checkpoint, args.out, prefix=args.prefix)
    except (CheckpointFormatError, FileNotFoundError) as err:
        print(f'export_backbone.py: error: {err}', file=sys.stderr)
        return 1
    groups = ', '.join(f'{name} ({count})'
                       for name, count in info['dropped_groups'].items())
    print(f'Kept {info["kept"]} backbone tensors '
          f'({"EMA" if info["ema"] else "raw, no EMA"} weights; '
          f'{info["check"]}).')
    print(f'Dropped {info["dropped"]} tensors: {groups or "none"}.')
    print(f'Wrote {info["out_path"]}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
