"""The whole pipeline on the embedded demo data, on a laptop CPU.

Makes the demo data, pretrains a ResNet-18 with each method (default:
the plain baseline and MixSKD), exports the backbones, fine-tunes Faster
R-CNN and DeepLabV3 from each, evaluates, and prints one table. Plots and a
markdown report go to work_dirs/demo/. Finished stages are reused when run
again; --restart starts over. The same command prints the same numbers:
every stage is seeded. --seeds N runs every method with seeds 0..N-1 and
reports mean +- std and each method's paired difference to the baseline with
a 95 % interval.

    python tools/demo.py                          # the default size
    python tools/demo.py --seeds 3                # three seeds, intervals
    python tools/demo.py --methods baseline mixskd --size small
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from mixskd_mm.demo.pipeline import METHODS, SIZES, run_pipeline  # noqa


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--methods',
        nargs='+',
        default=['baseline', 'mixskd'],
        choices=sorted(METHODS),
        help='pretraining methods to compare (the first is the reference)')
    parser.add_argument(
        '--size',
        default='default',
        choices=sorted(SIZES),
        help='data and schedule size (tiny/small are for tests)')
    parser.add_argument(
        '--seeds',
        type=int,
        default=1,
        metavar='N',
        help='run every method with seeds 0..N-1 (default 1: seed 0)')
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--data-root', default='data/demo')
    parser.add_argument(
        '--restart',
        action='store_true',
        help='delete earlier results and data and start over')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.seeds < 1:
        raise SystemExit(f'--seeds must be >= 1, got {args.seeds}')
    run_pipeline(args.methods, args.size, args.work_dir, args.data_root,
                 args.restart, seeds=list(range(args.seeds)))


if __name__ == '__main__':
    main()
