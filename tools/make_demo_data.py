"""Write the generated demo data (classification, detection, segmentation).

Example::

    python tools/make_demo_data.py --out data/demo --size default
    python tools/make_demo_data.py --size tiny --det-train 10 --overwrite

See :mod:`mixskd_mm.demo.data` for the world and the formats.
"""
import argparse
import os.path as osp
import time
from typing import List, Optional

from mixskd_mm.demo.data import COUNT_KEYS, SIZES, write_demo_data


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line.

    Args:
        argv (list[str], optional): Arguments; ``sys.argv[1:]`` if None.

    Returns:
        argparse.Namespace: Parsed arguments.
    """
    parser = argparse.ArgumentParser(
        description='Write the mixskd_mm demo data sets.')
    parser.add_argument(
        '--out', default='data/demo', help='output folder (data/demo)')
    parser.add_argument(
        '--size',
        choices=tuple(SIZES),
        default='default',
        help='size preset (default)')
    parser.add_argument('--seed', type=int, default=0, help='seed (0)')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='replace previously generated files')
    size_names = '/'.join(SIZES)
    for key in COUNT_KEYS:
        per_class = ' per class' if key.startswith('cls') else ''
        presets = '/'.join(str(SIZES[size][key]) for size in SIZES)
        parser.add_argument(
            '--' + key.replace('_', '-'),
            type=int,
            default=None,
            help=f'number of {key} images{per_class} instead of the '
            f'preset\'s ({presets} for {size_names})')
    return parser.parse_args(argv)


def summary(result: dict, seconds: float) -> List[str]:
    """Lines describing what :func:`write_demo_data` wrote.

    Args:
        result (dict): Its return value.
        seconds (float): Time taken.

    Returns:
        list[str]: Human-readable lines.
    """
    cls, det, seg = result['cls'], result['det'], result['seg']
    return [
        f"Wrote demo data (size={result['size']}, seed={result['seed']}) "
        f"to {result['root']} in {seconds:.1f} s",
        f"  classification: {cls['num_train']} train / {cls['num_val']} val "
        f"images, {len(cls['classes'])} classes, {cls['image_size']} px",
        f"    {osp.join(cls['root'], 'meta', 'train.txt')}",
        f"    {osp.join(cls['root'], 'meta', 'val.txt')}",
        f"  detection: {det['num_train']} train / {det['num_val']} val "
        f"images, {det['num_train_instances']} / "
        f"{det['num_val_instances']} boxes, {len(det['classes'])} classes",
        f"    {osp.join(det['root'], det['ann_files']['train'])}",
        f"    {osp.join(det['root'], det['ann_files']['val'])}",
        f"  segmentation: {seg['num_train']} train / {seg['num_val']} val "
        f"images, {len(seg['classes'])} classes incl. background",
        f"    {seg['data_root']} (JPEGImages, SegmentationClass, "
        'ImageSets/Segmentation)',
    ]


def main(argv: Optional[List[str]] = None) -> dict:
    """Entry point.

    Args:
        argv (list[str], optional): Arguments; ``sys.argv[1:]`` if None.

    Returns:
        dict: The result of :func:`write_demo_data`.
    """
    args = parse_args(argv)
    counts = {key: getattr(args, key) for key in COUNT_KEYS}
    start = time.perf_counter()
    try:
        result = write_demo_data(
            args.out,
            size=args.size,
            seed=args.seed,
            overwrite=args.overwrite,
            counts=counts)
    except (FileExistsError, NotADirectoryError, TypeError,
            ValueError) as error:
        raise SystemExit(f'make_demo_data: error: {error}')
    print('\n'.join(summary(result, time.perf_counter() - start)))
    return result


if __name__ == '__main__':
    main()
