"""Time MixSKD training against the plain classifier, beside their FLOPs.

Both models are built from one MixSKD config (the plain one is an
``ImageClassifier`` with its backbone, neck and head) and trained, in this
one process, on the same random batch. For every setting (precision,
channels-last, branch checkpointing, ``torch.compile``) it measures per
model:

- step time: median of ``--iters`` steps after ``--warmup`` (synchronised
  on CUDA), and images per second (originals: ``--batch / step time``);
- FLOPs of one training step (forward + backward, by
  ``torch.utils.flop_counter`` as the step runs, so a checkpointed step
  includes its recomputation);
- peak memory of one step. CUDA: ``torch.cuda.max_memory_allocated()``.
  CPU: the peak bytes held by live tensors (parameters, optimizer state,
  activations, gradients, temporaries) per storage, by a
  ``TorchDispatchMode``; allocator caches and oneDNN scratch buffers are
  not tensors and not counted (nor is CUDA's caching reserve);

and the MixSKD / plain ratios. Time beyond the FLOP ratio is overhead that
code could remove. It prints one table; ``--json OUT`` writes every figure.

    python tools/benchmark.py                       # R18, 224 px, b32, fp32
    python tools/benchmark.py --depth 50 --batch 32 --device cuda --sweep
    python tools/benchmark.py --depth 50 --batch 8 --with-cp none branches all
    python tools/benchmark.py --config configs/mixskd_r18_cifar100.py \\
        --img-size 32 --batch 64 --precision fp32 bf16 --channels-last off on
    python tools/benchmark.py --backbone r50 convnext-t swin-t --batch 8

Precision: fp32; bf16 (autocast; CPU: ``CPUAmpOptimWrapper``, CUDA:
mmengine's ``AmpOptimWrapper(dtype='bfloat16')``); fp16 (CUDA only:
``AmpOptimWrapper`` with a dynamic ``GradScaler``).
"""
import argparse
import copy
import glob
import itertools
import json
import logging
import os.path as osp
import platform
import statistics
import sys
import time

import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.optim import OptimWrapper
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
import mixskd_mm  # noqa: E402,F401
from mmpretrain.registry import MODELS  # noqa: E402
from mmpretrain.structures import DataSample  # noqa: E402

from mixskd_mm.engine import CPUAmpOptimWrapper  # noqa: E402
from mixskd_mm.engine.memory import LiveTensorBytes  # noqa: E402
from mixskd_mm.models.data_preprocessors import to_channels_last  # noqa
from benchmark_table import print_backbones, print_row  # noqa: E402

PRECISIONS = ('fp32', 'bf16', 'fp16')
WITH_CP = ('none', 'branches', 'all')
#: Every figure a setting's JSON record has (``--json``).
MODEL_FIELDS = ('params', 'flops', 'step_time_s', 'step_times_s',
                'images_per_s', 'peak_memory_bytes')
RATIO_FIELDS = ('flop_ratio', 'step_time_ratio', 'memory_ratio',
                'overhead_beyond_flops_pct')
SETTING_FIELDS = ('precision', 'channels_last', 'with_cp', 'compile')
CONFIGS = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'configs')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', default='configs/mixskd_r50_imagenet.py',
                        help='a MixSKD config (default: the ImageNet recipe)')
    parser.add_argument('--depth', type=int, default=18,
                        help="the config's ResNet depth (default 18)")
    names = backbone_names()
    parser.add_argument(
        '--backbone', nargs='+', metavar='NAME', choices=names,
        help='instead of --config/--depth: the MixSKD ImageNet recipes '
        f'configs/mixskd_<NAME>_imagenet.py in turn ({", ".join(names)})')
    parser.add_argument('--img-size', type=int, default=224)
    parser.add_argument('--batch', type=int, default=32,
                        help='original images per step')
    parser.add_argument('--iters', type=int, default=5)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available()
                        else 'cpu')
    parser.add_argument('--branch-depth', choices=['full', 'light'],
                        help='override the config\'s branch depth')
    parser.add_argument('--precision', nargs='+', choices=PRECISIONS,
                        default=['fp32'], help='fp16 is CUDA-only')
    parser.add_argument('--channels-last', nargs='*', choices=['off', 'on'],
                        default=['off'],
        help='channels-last inputs for both models (MixSKD through '
        'MixSKDDataPreprocessor(channels_last=True)); alone: on')
    parser.add_argument('--with-cp', nargs='+', choices=WITH_CP,
                        default=['none'],
                        help='MixSKDClassifier(with_cp=...) checkpointing')
    parser.add_argument('--compile', action='store_true',
                        help='torch.compile the models\' forward (as '
                        'mmengine\'s compile=True)')
    parser.add_argument('--sweep', action='store_true',
                        help='every precision of this device, channels-last '
                        'off/on and with_cp none/branches/all')
    parser.add_argument('--json', metavar='OUT', help='write the figures')
    args = parser.parse_args(argv)
    args.channels_last = [v == 'on' for v in (args.channels_last or ['on'])]
    if args.sweep:
        args.precision = ['fp32', 'bf16'] + (
            ['fp16'] if args.device.startswith('cuda') else [])
        args.channels_last = [False, True]
        args.with_cp = list(WITH_CP)
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        parser.error('--device cuda, but torch sees no CUDA device')
    if 'fp16' in args.precision and not args.device.startswith('cuda'):
        parser.error('fp16 AMP needs CUDA (loss scaling with GradScaler); '
                     'use --precision bf16 on the CPU')
    return args


def backbone_names():
    """The backbones that have a MixSKD ImageNet recipe."""
    found = glob.glob(osp.join(CONFIGS, 'mixskd_*_imagenet.py'))
    return sorted(osp.basename(f)[7:-len('_imagenet.py')] for f in found)


def model_configs(args):
    """The MixSKD config and the plain ``ImageClassifier`` with its parts."""
    cfg = Config.fromfile(args.config).model
    if cfg.type != 'MixSKDClassifier':
        raise SystemExit(f'{args.config} is not a MixSKD config '
                         f'(model.type={cfg.type})')
    if cfg.backbone.type == 'ResNet' and not args.backbone:
        cfg.backbone.depth = args.depth
        cfg.head.in_channels = 512 * (4 if args.depth >= 50 else 1)
    if args.branch_depth:
        cfg.branch_depth = args.branch_depth
    plain = dict(
        type='ImageClassifier',
        # Only the last stage, as the MixSKD backbone's last output.
        backbone=dict(copy.deepcopy(cfg.backbone),
                      out_indices=tuple(cfg.backbone.out_indices)[-1:]),
        neck=copy.deepcopy(cfg.neck),
        head=copy.deepcopy(cfg.head),
        data_preprocessor={
            k: v
            for k, v in cfg.data_preprocessor.items()
            if k in ('num_classes', 'mean', 'std', 'to_rgb')
        })
    return cfg, Config(plain)


def build_model(cfg, channels_last, args, with_cp=None):
    """Build, initialise (seed 0) and move one model to the device."""
    cfg = copy.deepcopy(cfg)
    if with_cp is not None:  # MixSKD
        cfg.with_cp = False if with_cp == 'none' else with_cp
        cfg.data_preprocessor.channels_last = channels_last
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    if with_cp is None and channels_last:
        # The same conversion for the plain ClsDataPreprocessor's output.
        pre = model.data_preprocessor
        forward = pre.forward

        def forward_channels_last(data, training=False):
            out = forward(data, training)
            out['inputs'] = to_channels_last(out['inputs'])
            return out

        pre.forward = forward_channels_last
    model.init_weights()
    model.to(args.device)
    model.train()
    if args.compile:
        model.forward = torch.compile(model.forward)
    return model


def optim_wrapper(model, precision, device):
    """The wrapper ``tools/train.py`` would use for this precision."""
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    if precision == 'fp32':
        return OptimWrapper(optimizer)
    if not device.startswith('cuda'):
        return CPUAmpOptimWrapper(optimizer=optimizer)
    from mmengine.optim import AmpOptimWrapper
    dtype = 'float16' if precision == 'fp16' else 'bfloat16'
    return AmpOptimWrapper(
        optimizer=optimizer, loss_scale='dynamic', dtype=dtype)


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


def step_memory(model, wrapper, data, device) -> int:
    """Peak bytes of one training step (see the module docstring)."""
    if device.startswith('cuda'):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        train_step(model, wrapper, data)
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated()
    tracker = LiveTensorBytes()
    state = wrapper.optimizer.state.values()
    for t in itertools.chain(model.parameters(), model.buffers(),
                             (p.grad for p in model.parameters()),
                             (v for s in state for v in s.values())):
        tracker.track(t)
    with tracker:
        train_step(model, wrapper, data)
    return tracker.peak


def step_times(model, wrapper, data, args):
    times = []
    cuda = args.device.startswith('cuda')
    for i in range(args.warmup + args.iters):
        if cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        train_step(model, wrapper, data)
        if cuda:
            torch.cuda.synchronize()
        if i >= args.warmup:
            times.append(time.perf_counter() - start)
    return times


def measure(model, precision, data, args):
    """Every figure of one model in one setting."""
    wrapper = optim_wrapper(model, precision, args.device)
    flops = step_flops(model, wrapper, data)  # also the first warm-up step
    memory = step_memory(model, wrapper, data, args.device)
    times = step_times(model, wrapper, data, args)
    median = statistics.median(times)
    return dict(
        params=sum(p.numel() for p in model.parameters()),
        flops=flops,
        step_time_s=median,
        step_times_s=times,
        images_per_s=args.batch / median,
        peak_memory_bytes=memory)


def ratios(a, b):
    flop_ratio = a['flops'] / b['flops']
    time_ratio = a['step_time_s'] / b['step_time_s']
    return dict(
        flop_ratio=flop_ratio,
        step_time_ratio=time_ratio,
        memory_ratio=a['peak_memory_bytes'] / b['peak_memory_bytes'],
        overhead_beyond_flops_pct=100 * (time_ratio / flop_ratio - 1))


def memory_measure(device):
    return ('torch.cuda.max_memory_allocated' if device.startswith('cuda')
            else 'peak bytes of live CPU tensors')


def device_name(device):
    if device.startswith('cuda'):
        return torch.cuda.get_device_name(torch.device(device))
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or 'CPU'


def run(args):
    mixskd_cfg, plain_cfg = model_configs(args)
    data = make_batch(args, mixskd_cfg.head.num_classes)
    plain_cache, rows = {}, []
    for precision, cl, with_cp in itertools.product(
            args.precision, args.channels_last, args.with_cp):
        if (precision, cl) not in plain_cache:
            plain = build_model(plain_cfg, cl, args)
            plain_cache[precision, cl] = measure(plain, precision, data, args)
            del plain
        model = build_model(mixskd_cfg, cl, args, with_cp=with_cp)
        mixskd = measure(model, precision, data, args)
        del model
        plain = plain_cache[precision, cl]
        rows.append(dict(precision=precision, channels_last=cl,
                         with_cp=with_cp, compile=args.compile,
                         MixSKD=mixskd, plain=plain, **ratios(mixskd, plain)))
        print_row(rows[-1], header=len(rows) == 1)
    return dict(
        device=args.device,
        device_name=device_name(args.device),
        torch=torch.__version__,
        threads=torch.get_num_threads(),
        config=args.config,
        depth=args.depth,
        img_size=args.img_size,
        batch=args.batch,
        iters=args.iters,
        warmup=args.warmup,
        branch_depth=mixskd_cfg.branch_depth,
        memory_measure=memory_measure(args.device),
        command=' '.join(['python', 'tools/benchmark.py'] + sys.argv[1:]),
        settings=rows)


def main(argv=None):
    args = parse_args(argv)
    # Keep the table readable: no weight-initialisation log per model (and
    # the caller's logger as it was afterwards).
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        return report(args)
    finally:
        logger.setLevel(level)


def report(args):
    what = (', '.join(args.backbone)
            if args.backbone else f'ResNet-{args.depth}')
    print(f'{what} at {args.img_size} px, batch {args.batch} originals, '
          f'{args.device} ({device_name(args.device)}), torch threads '
          f'{torch.get_num_threads()}, compile {args.compile}; median of '
          f'{args.iters} steps after {args.warmup} (+1) warm-up; GFLOPs of '
          'one MixSKD step; x = MixSKD / plain', flush=True)
    if args.backbone:
        results = []
        for name in args.backbone:
            print(f'-- {name}', flush=True)
            args.config = osp.join(CONFIGS, f'mixskd_{name}_imagenet.py')
            results.append(dict(run(args), backbone=name))
        print_backbones(results)
        result = dict(backbones=results)
    else:
        result = run(args)
    print(f'memory: {memory_measure(args.device)}')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=2)
        print(f'wrote {args.json}')
    return result


if __name__ == '__main__':
    main()
