"""Export the backbone of a classification checkpoint for mmdet/mmseg.

Usage:
    python tools/export_backbone.py CKPT OUT [--prefix backbone.]
        [--trust-checkpoint]

Takes a training checkpoint of any classifier of this project (MixSKD,
FRSKD, KD, a plain ImageClassifier ...; the EMA weights when EMAHook was
used), the authors' released MixSKD weights (``{'net': ...}``) or a
torchvision-keyed ResNet state dict, keeps the backbone (``--prefix``
removed, a classifier ``fc`` inside it dropped) and writes
``{'state_dict', 'meta'}`` to OUT, ready for
``init_cfg=dict(type='StrictPretrained', checkpoint=OUT)`` in the configs
under ``configs/det`` and ``configs/seg``. Exits with status 1 and a message
saying what to do when the input is missing, corrupt, unsafe to unpickle,
not a classification checkpoint, or has an incomplete or non-finite
backbone. The logic is :func:`mixskd_mm.checkpoint.export_backbone`.
"""
import argparse
import sys


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Export the backbone of a classification checkpoint '
        "(this project's training checkpoints, the authors' MixSKD "
        'release, torchvision ResNet weights) for detection/segmentation '
        'fine-tuning.')
    parser.add_argument('checkpoint', help='training checkpoint (.pth)')
    parser.add_argument('out', help='output backbone checkpoint (.pth)')
    parser.add_argument(
        '--prefix',
        default='backbone.',
        help='name of the backbone module in the classifier '
        '(default: backbone.)')
    parser.add_argument(
        '--trust-checkpoint',
        action='store_true',
        default=None,
        help='unpickle the checkpoint fully (runs any code it holds); '
        'only for files you trust. Same as MIXSKD_TRUST_CHECKPOINTS=1')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    # Imported here so that --help works without loading the whole stack.
    from mixskd_mm.checkpoint import (FORMATS, CheckpointFormatError,
                                      export_backbone)
    try:
        info = export_backbone(
            args.checkpoint, args.out, prefix=args.prefix,
            trust=args.trust_checkpoint)
    except (CheckpointFormatError, FileNotFoundError) as err:
        print(f'export_backbone.py: error: {err}', file=sys.stderr)
        return 1
    groups = ', '.join(f'{name} ({count})'
                       for name, count in info['dropped_groups'].items())
    print(f'Read {FORMATS[info["format"]]}.')
    print(f'Kept {info["kept"]} backbone tensors '
          f'({"EMA" if info["ema"] else "raw, no EMA"} weights; '
          f'{info["check"]}).')
    print(f'Dropped {info["dropped"]} tensors: {groups or "none"}.')
    print(f'Wrote {info["out_path"]}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
