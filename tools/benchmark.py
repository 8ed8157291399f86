"""Time MixSKD training against the plain classifier, beside their FLOPs.

Both models are built from one MixSKD config (the plain one keeps only its
backbone, neck and head) and trained, in this one process, on the same
random batch. It prints per model: the training-step time (median of
``--iters`` steps after ``--warmup``), the FLOPs of one training step
(forward + backward, counted by ``torch.utils.flop_counter`` as the step
really runs), the memory (on CUDA the peak allocated; on CPU the bytes of
the parameters plus the activations saved for backward), and the two ratios.
Time beyond the FLOP ratio is overhead that could be removed.

    python tools/benchmark.py                       # ResNet-18, 224 px, b32
    python tools/benchmark.py --depth 50 --batch 16 --device cuda
    python tools/benchmark.py --config configs/mixskd_r18_cifar100.py \
        --img-size 32 --batch 64
"""
import argparse
import copy
import os.path as osp
import statistics
import sys
import time

import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import mixskd_mm  # noqa: E402,F401
from mmpretrain.registry import MODELS  # noqa: E402
from mmpretrain.structures import DataSample  # noqa: E402

from mixskd_mm.models.data_preprocessors import to_channels_last  # noqa: E402

PLAIN_ONLY = ('self_teacher', 'teacher_inputs', 'branch_depth', 'temperature',
              'loss_weights', 'adversarial')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--config',
        default='configs/mixskd_r50_imagenet.py',
        help='a MixSKD config (default: the ImageNet recipe)')
    parser.add_argument(
        '--depth', type=int, default=18, help='ResNet depth (default 18)')
    parser.add_argument('--img-size', type=int, default=224)
    parser.add_argument('--batch', type=int, default=32,
                        help='original images per step')
    parser.add_argument('--iters', type=int, default=5)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available()
                        else 'cpu')
    parser.add_argument('--branch-depth', choices=['full', 'light'],
                        help='override the config\'s branch depth')
    parser.add_argument(
        '--channels-last',
        action='store_true',
        help='channels-last inputs for both models (MixSKD through '
        'MixSKDDataPreprocessor(channels_last=True))')
    return parser.parse_args()


def build_models(args):
    """The MixSKD classifier and the plain one with the same parts."""
    cfg = Config.fromfile(args.config).model
    if cfg.type != 'MixSKDClassifier':
        raise SystemExit(f'{args.config} is not a MixSKD config '
                         f'(model.type={cfg.type})')
    if cfg.backbone.type == 'ResNet':
        cfg.backbone.depth = args.depth
        cfg.head.in_channels = 512 * (4 if args.depth >= 50 else 1)
    if args.branch_depth:
        cfg.branch_depth = args.branch_depth
    plain = copy.deepcopy(cfg)
    plain.type = 'ImageClassifier'
    for key in PLAIN_ONLY:
        plain.pop(key, None)
    plain.backbone.out_indices = (3, )
    plain.data_preprocessor = {
        k: v
        for k, v in cfg.data_preprocessor.items()
        if k in ('num_classes', 'mean', 'std', 'to_rgb')
    }
    cfg.data_preprocessor.channels_last = args.channels_last
    models = {'MixSKD': MODELS.build(cfg), 'plain': MODELS.build(plain)}
    if args.channels_last:
        # The same conversion for the plain ClsDataPreprocessor's output.
        pre = models['plain'].data_preprocessor
        forward = pre.forward

        def forward_channels_last(data, training=False):
            out = forward(data, training)
            out['inputs'] = to_channels_last(out['inputs'])
            return out

        pre.forward = forward_channels_last
    for model in models.values():
        model.init_weights()
        model.to(args.device)
    return models, cfg.head.num_classes


def make_batch(args, num_classes):
    g = torch.Generator().manual_seed(0)
    return dict(
        inputs=[
            torch.randint(0, 256, (3, args.img_size, args.img_size),
                          dtype=torch.uint8, generator=g)
            for _ in range(args.batch)
        ],
        data_samples=[
            DataSample().set_gt_label(i % num_classes)
            for i in range(args.batch)
        ])


def train_step(model, wrapper, data):
    return model.train_step(copy.copy(data), wrapper)


def step_flops(model, wrapper, data) -> int:
    with FlopCounterMode(display=False) as counter:
        train_step(model, wrapper, data)
    return counter.get_total_flops()


def step_memory(model, wrapper, data, device) -> float:
    """Bytes: CUDA peak, or CPU parameters + activations saved for backward.
    """
    if device.startswith('cuda'):
        torch.cuda.reset_peak_memory_stats()
        train_step(model, wrapper, data)
        return torch.cuda.max_memory_allocated()
    saved = []

    def pack(t):
        saved.append(t.numel() * t.element_size())
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        train_step(model, wrapper, data)
    params = sum(p.numel() * p.element_size() for p in model.parameters())
    return params + sum(saved)


def step_time(model, wrapper, data, args) -> float:
    times = []
    for i in range(args.warmup + args.iters):
        if args.device.startswith('cuda'):
            torch.cuda.synchronize()
        start = time.perf_counter()
        train_step(model, wrapper, data)
        if args.device.startswith('cuda'):
            torch.cuda.synchronize()
        if i >= args.warmup:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    args = parse_args()
    models, num_classes = build_models(args)
    data = make_batch(args, num_classes)
    results = {}
    for name, model in models.items():
        model.train()
        wrapper = OptimWrapper(
            torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9))
        results[name] = dict(
            flops=step_flops(model, wrapper, data),
            memory=step_memory(model, wrapper, data, args.device),
            time=step_time(model, wrapper, data, args),
            params=sum(p.numel() for p in model.parameters()))
    a, b = results['MixSKD'], results['plain']
    print(f'ResNet-{args.depth} at {args.img_size} px, batch {args.batch} '
          f'originals, {args.device}, torch threads '
          f'{torch.get_num_threads()}, channels-last '
          f'{args.channels_last}, branches '
          f'{models["MixSKD"].branches[0].layers[0].__len__()} block(s)/stage')
    print(f'{"model":8s} {"params(M)":>10s} {"GFLOPs/step":>12s} '
          f'{"step(s)":>9s} {"memory(MB)":>11s}')
    for name, r in results.items():
        print(f'{name:8s} {r["params"] / 1e6:10.2f} {r["flops"] / 1e9:12.1f} '
              f'{r["time"]:9.3f} {r["memory"] / 2**20:11.0f}')
    flop_ratio, time_ratio = a['flops'] / b['flops'], a['time'] / b['time']
    print(f'FLOP ratio (MixSKD / plain): {flop_ratio:.2f}')
    print(f'step-time ratio (MixSKD / plain): {time_ratio:.2f}')
    print(f'memory ratio (MixSKD / plain): {a["memory"] / b["memory"]:.2f}')
    overhead = 100 * (time_ratio / flop_ratio - 1)
    print(f'time overhead beyond FLOPs: {overhead:+.1f}%')


if __name__ == '__main__':
    main()
