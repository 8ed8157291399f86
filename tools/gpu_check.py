"""One acceptance run of the GPU path, bounded in time; writes JSON and a table.

    python tools/gpu_check.py --device cuda --out work_dirs/gpu_check
    python tools/gpu_check.py --device cpu --quick --out work_dirs/gpu_check

Every step is a subprocess with its own timeout, all of them within
``--budget-s`` (9 minutes by default): ``check_env`` (tools/check_env.py
--json); ``ops`` (mmcv's own nms/roi_align on the device against the
torchvision fallback of :mod:`mixskd_mm.ops` on the same boxes);
``benchmark_r18``/``benchmark_r50`` (tools/benchmark.py --sweep: fp32, bf16,
fp16 on CUDA, channels-last off/on, with_cp none/branches/all); ``demo_data``
(tools/make_demo_data.py); ``dist_train`` (tools/dist_train.sh with one
process, NCCL on CUDA and gloo on the CPU, of the MixSKD demo config with
--amp); ``export`` (tools/export_backbone.py of that run); ``faster_rcnn``
(a Faster R-CNN demo fine-tune from the exported backbone). A failed step is
recorded with its log tail and the later steps still run (those needing its
output fail, naming it). ``OUT/gpu_check.json`` holds every status, time
and figure, ``OUT/gpu_check.md`` the table. Exit status 1 if any step failed
or did not fit the budget. ``--quick`` runs each step at its smallest.
"""
import argparse
import glob
import json
import os
import os.path as osp
import re
import signal
import subprocess
import sys
import time

from gpu_check_report import merge_reports, write_report

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
STEPS = ('check_env', 'ops', 'benchmark_r18', 'benchmark_r50', 'demo_data',
         'dist_train', 'export', 'faster_rcnn')
#: Per step: timeout (s) of the full run, of --quick. The full run's add up
#: to more than the 540 s budget, which bounds them all; --quick runs in CI
#: on shared CPUs, where one import of the stack can take a minute.
TIMEOUTS = dict(check_env=(60, 300), ops=(60, 300), benchmark_r18=(90, 300),
                benchmark_r50=(150, 300), demo_data=(90, 300),
                dist_train=(150, 400), export=(40, 300),
                faster_rcnn=(120, 400))
#: Demo data sizes (tools/make_demo_data.py) and schedules; a demo
#: classification epoch is ceil(20 * cls_train / 32) iterations.
#: Full: 24 per class, 15 iterations an epoch, 20 epochs = 300 iterations.
DATA = dict(full=['--size', 'small', '--cls-train', '24'],
            quick=['--size', 'tiny'])
EPOCHS = dict(full=dict(pretrain=20, det=6), quick=dict(pretrain=1, det=1))
MIXSKD_CONFIG = 'configs/demo/mixskd_r18_demo.py'
DET_CONFIG = 'configs/demo/faster-rcnn_r18_fpn_demo.py'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--device', choices=['cuda', 'cpu'], default='cuda')
    parser.add_argument('--quick', action='store_true',
                        help='every step at its smallest size (CI)')
    parser.add_argument('--out', help='output folder (required)')
    parser.add_argument('--steps', nargs='+', choices=STEPS,
                        default=list(STEPS), help='a subset (default: all)')
    parser.add_argument('--budget-s', type=float, default=540,
                        help='wall-clock bound of all steps (default 540)')
    parser.add_argument(
        '--append', action='store_true',
        help="keep the steps of OUT/gpu_check.json that this run's --steps "
        'do not rerun (a check run in parts)')
    parser.add_argument('--note', default='',
                        help='a remark stored with each step of this run '
                        '(e.g. what else ran on the machine)')
    # The ops step's subprocess: compare on this many boxes, print JSON.
    parser.add_argument('--compare-ops', type=int, metavar='N',
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.compare_ops is None and not args.out:
        parser.error('--out DIR is required: the folder for gpu_check.json, '
                     'gpu_check.md and the steps\' logs')
    if args.budget_s <= 0:
        parser.error(f'--budget-s must be > 0, got {args.budget_s}')
    return args


def compare_ops(device: str, n: int) -> dict:
    """mmcv's kernels against the torchvision fallback on the same input."""
    import torch
    from mmcv.ops import nms, roi_align

    from mixskd_mm.ops import (tv_nms, tv_roi_align_backward,
                               tv_roi_align_forward,
                               uninstall_torchvision_fallback)
    # `import mixskd_mm` may have routed CUDA calls to torchvision: undo it,
    # so that "mmcv" below is mmcv's own kernel (or fails without one).
    uninstall_torchvision_fallback()
    g = torch.Generator().manual_seed(0)
    xy = torch.rand(n, 2, generator=g) * 200
    boxes = torch.cat([xy, xy + torch.rand(n, 2, generator=g) * 60 + 2], 1)
    scores = torch.rand(n, generator=g)
    boxes, scores = boxes.to(device), scores.to(device)
    _, keep_mmcv = nms(boxes, scores, 0.5)
    keep_tv = tv_nms(boxes, scores, 0.5)
    feats = torch.rand(2, 8, 64, 64, generator=g).to(device)
    rois = torch.cat([torch.randint(0, 2, (n // 4, 1), generator=g).float(),
                      xy[:n // 4] / 2, xy[:n // 4] / 2 + 20], 1).to(device)
    feats.requires_grad_(True)
    out_mmcv = roi_align(feats, rois, (7, 7), 0.25, 2, 'avg', True)
    grad_out = torch.rand(out_mmcv.shape, generator=g).to(device)
    (grad_mmcv, ) = torch.autograd.grad(out_mmcv, feats, grad_out)
    out_tv = tv_roi_align_forward(feats.detach(), rois, 7, 7, 0.25, 2, True)
    grad_tv = tv_roi_align_backward(grad_out, rois, feats.shape, 7, 7, 0.25,
                                    2, True)
    return dict(
        device=device, boxes=n, nms_kept=len(keep_mmcv),
        nms_same_indices=keep_mmcv.tolist() == keep_tv.tolist(),
        rois=len(rois),
        roi_align_max_abs_diff=float((out_mmcv - out_tv).abs().max()),
        roi_align_grad_max_abs_diff=float((grad_mmcv - grad_tv).abs().max()))


def mb(model_figures):
    return model_figures['peak_memory_bytes'] / 2**20


def read_scalars(work_dir):
    records = []
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                          'scalars.json'))):
        with open(path) as f:
            records += [json.loads(line) for line in f if line.strip()]
    return records


def last_checkpoint(work_dir):
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


class Check:
    """Runs the steps and records them in ``self.steps``."""

    def __init__(self, args):
        self.args, self.out = args, osp.abspath(args.out)
        self.size = 'quick' if args.quick else 'full'
        self.cuda = args.device == 'cuda'
        self.deadline = time.time() + args.budget_s
        self.steps = {}
        self.data = osp.join(self.out, 'data')

    def python(self, script, *args):
        return [sys.executable, osp.join(ROOT, 'tools', script), *args]

    def run(self, name, cmd, figures=None, needs=()):
        """Run one step's command; ``figures(stdout)`` -> dict of figures."""
        timeout = min(TIMEOUTS[name][self.args.quick],
                      self.deadline - time.time())
        missing = [n for n in needs
                   if self.steps.get(n, {}).get('status') != 'ok']
        record = dict(status='failed', wall_s=0.0, command=' '.join(cmd))
        if self.args.note:
            record['note'] = self.args.note
        self.steps[name] = record
        if missing:
            record['error'] = (f'needs the output of {", ".join(missing)}, '
                               'which did not succeed')
            return
        if timeout < 5:
            record.update(status='not run', error='the --budget-s of '
                          f'{self.args.budget_s:.0f} s was spent before it')
            return
        log_path = osp.join(self.out, 'logs', f'{name}.log')
        env = dict(os.environ, PYTHONUNBUFFERED='1')
        start = time.time()
        # A session of its own: a timeout ends the whole tree (torchrun and
        # its workers too), not only the direct child.
        proc = subprocess.Popen(cmd, cwd=self.out, env=env, text=True,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            output, _ = proc.communicate(timeout=timeout)
            rc = proc.returncode
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            output, rc = proc.communicate()[0], None
        record['wall_s'] = round(time.time() - start, 1)
        with open(log_path, 'w') as f:
            f.write(output)
        record['log'] = osp.relpath(log_path, self.out)
        if rc is None:
            record['error'] = f'timed out after {timeout:.0f} s'
        elif rc != 0:
            record['error'] = f'exit status {rc}'
        else:
            try:
                record['figures'] = figures(output) if figures else {}
                record['status'] = 'ok'
            except Exception as err:  # a run that ended without its figures
                record['error'] = f'{type(err).__name__}: {err}'
        if record['status'] != 'ok':
            record['log_tail'] = output[-1500:]

    def check_env(self):
        def figures(out):
            info = json.loads(out[out.index('{'):])
            return dict(gpus=info['gpus'], torch_cuda=info['torch_cuda'],
                        mmcv_cuda=info.get('mmcv_cuda'), ops=info['ops'],
                        problems=info['problems'])
        self.run('check_env', self.python('check_env.py', '--json'), figures)

    def ops(self):
        cmd = [sys.executable, osp.abspath(__file__), '--compare-ops',
               '200' if self.args.quick else '2000', '--device',
               self.args.device]

        def figures(out):
            result = json.loads(out.strip().splitlines()[-1])
            if not result['nms_same_indices']:
                raise AssertionError('mmcv and torchvision nms kept '
                                     'different boxes')
            worst = max(result['roi_align_max_abs_diff'],
                        result['roi_align_grad_max_abs_diff'])
            if worst > 1e-4:
                raise AssertionError(f'roi_align differs by {worst:.3g}')
            return result
        self.run('ops', cmd, figures)

    def benchmark(self, depth):
        name = f'benchmark_r{depth}'
        path = osp.join(self.out, f'{name}.json')
        # Quick: two settings, enough to run every field of the step.
        # bf16 only on CUDA: the CPU emulates it, about 17x slower than fp32.
        precisions = ['fp32', 'bf16'] if self.args.device == 'cuda' else \
            ['fp32']
        size = (['--img-size', '32', '--batch', '2', '--iters', '1',
                 '--warmup', '0', '--precision', *precisions,
                 '--channels-last', 'on', '--with-cp', 'none']
                if self.args.quick else
                ['--img-size', '224', '--batch', '32', '--iters', '5',
                 '--warmup', '2', '--sweep'])
        cmd = self.python('benchmark.py', '--config',
                          osp.join(ROOT, 'configs', 'mixskd_r50_imagenet.py'),
                          '--depth', str(depth), '--device',
                          self.args.device, '--json', path, *size)

        def figures(out):
            with open(path) as f:
                result = json.load(f)
            rows = [dict(precision=r['precision'],
                         channels_last=r['channels_last'],
                         with_cp=r['with_cp'],
                         mixskd_images_per_s=r['MixSKD']['images_per_s'],
                         plain_images_per_s=r['plain']['images_per_s'],
                         mixskd_peak_mb=mb(r['MixSKD']),
                         plain_peak_mb=mb(r['plain']),
                         step_time_ratio=r['step_time_ratio'],
                         memory_ratio=r['memory_ratio'],
                         flop_ratio=r['flop_ratio'])
                    for r in result['settings']]
            return dict(device_name=result['device_name'],
                        torch=result['torch'],
                        batch=result['batch'], img_size=result['img_size'],
                        json=osp.basename(path), settings=rows)
        self.run(name, cmd, figures)

    def demo_data(self):
        self.run('demo_data', self.python('make_demo_data.py', '--out',
                                          self.data, '--overwrite',
                                          *DATA[self.size]))

    def train_options(self, kind, epochs):
        from mixskd_mm.demo.stages import data_options
        return data_options(kind, self.data) + [
            f'train_cfg.max_epochs={epochs}',
            f'train_cfg.val_interval={epochs}']

    def dist_train(self):
        work = osp.join(self.out, 'dist_train')
        cmd = ['bash', osp.join(ROOT, 'tools', 'dist_train.sh'),
               osp.join(ROOT, MIXSKD_CONFIG), '1', '--amp', '--work-dir',
               work, '--cfg-options', *self.train_options(
                   'pretrain', EPOCHS[self.size]['pretrain'])]

        def figures(out):
            records = read_scalars(work)
            train = [r for r in records if 'loss' in r]
            times = sorted(r['time'] for r in train if 'time' in r)
            top1 = [r['accuracy/top1'] for r in records
                    if 'accuracy/top1' in r]
            if not train or not top1:
                raise RuntimeError('the run logged no loss or no accuracy')
            # Logged every 10 iterations at most (the demo's log interval).
            return dict(
                backend='nccl' if self.cuda else 'gloo',
                amp=re.search(r'AmpOptimWrapper', out) is not None,
                iterations=max(r['step'] for r in train),
                final_loss=train[-1]['loss'], top1=top1[-1],
                median_iter_s=times[len(times) // 2] if times else None,
                images_per_s=32 / times[len(times) // 2] if times else None)
        self.run('dist_train', cmd, figures, needs=('demo_data', ))

    def export(self):
        work = osp.join(self.out, 'dist_train')
        ckpt = (last_checkpoint(work) if osp.isfile(
            osp.join(work, 'last_checkpoint')) else osp.join(work, 'none'))
        cmd = self.python('export_backbone.py', ckpt,
                          osp.join(self.out, 'backbone.pth'))

        def figures(out):
            kept = re.search(r'Kept (\d+) backbone tensors', out)
            return dict(kept_tensors=int(kept.group(1)))
        self.run('export', cmd, figures, needs=('dist_train', ))

    def faster_rcnn(self):
        work = osp.join(self.out, 'faster_rcnn')
        epochs = EPOCHS[self.size]['det']
        cmd = self.python(
            'train.py', osp.join(ROOT, DET_CONFIG), '--work-dir', work,
            '--cfg-options', *self.train_options('det', epochs),
            'model.backbone.init_cfg.checkpoint=' +
            osp.join(self.out, 'backbone.pth'))

        def figures(out):
            records = read_scalars(work)
            maps = [r['coco/bbox_mAP'] for r in records
                    if 'coco/bbox_mAP' in r]
            empty = 'The testing results of the whole dataset is empty'
            if not maps and empty not in out:
                raise RuntimeError('the run ended without its evaluation')
            return dict(epochs=epochs, bbox_mAP=maps[-1] if maps else 0.0,
                        iterations=max((r['step'] for r in records
                                        if 'loss' in r), default=0))
        self.run('faster_rcnn', cmd, figures, needs=('export', ))

    def run_all(self):
        os.makedirs(osp.join(self.out, 'logs'), exist_ok=True)
        start = time.time()
        for name in self.args.steps:
            if name.startswith('benchmark_r'):
                self.benchmark(int(name[len('benchmark_r'):]))
            else:
                getattr(self, name)()
            print(f'[gpu_check] {name}: {self.steps[name]["status"]} '
                  f'({self.steps[name]["wall_s"]} s)', flush=True)
        return dict(device=self.args.device, quick=self.args.quick,
                    budget_s=self.args.budget_s,
                    wall_s=round(time.time() - start, 1),
                    failed=[n for n, s in self.steps.items()
                            if s['status'] != 'ok'],
                    steps=self.steps)


def main(argv=None):
    args = parse_args(argv)
    if args.compare_ops is not None:
        import mixskd_mm  # noqa: F401
        print(json.dumps(compare_ops(args.device, args.compare_ops)))
        return 0
    if args.device == 'cuda':
        import torch
        if not torch.cuda.is_available():
            raise SystemExit('--device cuda, but torch sees no CUDA device: '
                             'run on a GPU machine or pass --device cpu')
    sys.path.insert(0, ROOT)
    os.makedirs(args.out, exist_ok=True)
    result = Check(args).run_all()
    if args.append:
        result = merge_reports(args.out, result)
    write_report(result, args.out)
    print(f'[gpu_check] wrote {osp.join(args.out, "gpu_check.json")} and '
          f'gpu_check.md; failed: {", ".join(result["failed"]) or "none"}')
    return 1 if result['failed'] else 0


if __name__ == '__main__':
    sys.exit(main())
