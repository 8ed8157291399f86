"""Every recipe starts from the authors' initialisation (issue 11.2).

The authors' models (Self-KD-Lib ``models/resnet_mixskd.py`` for CIFAR,
``models/resnet_imagenet_mixskd.py`` for ImageNet) zero no residual BN and
keep PyTorch's default ``nn.Linear`` init in every head; the CIFAR model
keeps PyTorch's default convolution init, the ImageNet one draws Kaiming
fan-out. mmpretrain's defaults differ on all three; the recipes say so
explicitly and ``--cfg-options`` brings mmpretrain's back. Each model is
built from the real config (narrower: ``base_channels=8``, 5 classes) and
its weights are checked after ``init_weights()``.
"""
import glob
import math
import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmpretrain.models.backbones.resnet import BasicBlock, Bottleneck

import distill_test_utils as dtu
from repo import ROOT

# The recipes on the authors' ResNets. Those on other backbones
# ({mixskd,baseline}_<backbone>_imagenet.py) start like mmpretrain's own
# recipe for the backbone (tests/test_modern_recipes.py).
RECIPES = sorted(
    osp.basename(p)[:-3]
    for pattern in ('*_r18_cifar100.py', '*_r50_imagenet.py')
    for p in glob.glob(osp.join(ROOT, 'configs', pattern)))
# What --cfg-options gives mmpretrain's initialisation back (README).
MMPRETRAIN_INIT = {
    'model.backbone.zero_init_residual': True,
    'model.head.init_cfg.type': 'Normal',
    'model.head.init_cfg.std': 0.01,
}
MMPRETRAIN_CIFAR_CONVS = {'model.backbone.init_cfg.0.type': 'Kaiming'}


def narrow_recipe(name, tmp_path, options=None):
    """The recipe with 8 base channels and 5 classes, built and initialised.
    """
    cfg = dtu.recipe(name)
    if options:
        cfg.merge_from_dict(options)
    model = cfg.model
    model.backbone.base_channels = 8
    expansion = 4 if model.backbone.depth >= 50 else 1
    model.head.in_channels = 8 * 8 * expansion
    if 'teacher' in model:
        path = tmp_path / 'teacher.pth'
        dtu.with_tiny_teacher(cfg, dtu.save_teacher(path), path)
    return dtu.build(model)


def trained_parts(net):
    """Every part that trains from its initialisation (not a frozen teacher).
    """
    return [(n, m) for n, m in net.named_children() if n != 'teacher']


def residual_blocks(net):
    for name, part in trained_parts(net):
        for mod_name, m in part.named_modules():
            if isinstance(m, (BasicBlock, Bottleneck)):
                yield f'{name}.{mod_name}', m


def heads_linear(net):
    for name, part in trained_parts(net):
        for mod_name, m in part.named_modules():
            if isinstance(m, nn.Linear) and 'head' in f'{name}.{mod_name}':
                yield f'{name}.{mod_name}', m


def convs_of(net, skip=('self_teacher', )):
    for name, part in trained_parts(net):
        if name in skip:
            continue
        for mod_name, m in part.named_modules():
            if isinstance(m, nn.Conv2d) and m.weight.numel() >= 500:
                yield f'{name}.{mod_name}', m


def fans(w):
    receptive = w[0, 0].numel()
    return w.size(1) * receptive, w.size(0) * receptive


def torch_default_std(w):
    """std of ``kaiming_uniform_(a=sqrt(5))``: 1 / sqrt(3 * fan_in)."""
    return 1 / math.sqrt(3 * fans(w)[0])


def kaiming_fan_out_std(w):
    return math.sqrt(2 / fans(w)[1])


def assert_std(name, w, want):
    got = w.detach().std().item()
    assert got == pytest.approx(want, rel=0.2), (name, got, want)


@pytest.mark.parametrize('name', RECIPES)
def test_recipes_start_like_the_authors(name, tmp_path):
    net = narrow_recipe(name, tmp_path)
    blocks = list(residual_blocks(net))
    assert blocks
    for block_name, block in blocks:
        last = block.norm3 if isinstance(block, Bottleneck) else block.norm2
        assert torch.equal(last.weight, torch.ones_like(last.weight)), \
            block_name
    linears = list(heads_linear(net))
    assert linears
    for lin_name, lin in linears:
        fan_in = lin.in_features
        assert_std(lin_name, lin.weight, 1 / math.sqrt(3 * fan_in))
        assert lin.weight.abs().max() <= 1 / math.sqrt(fan_in)
        if lin.bias is not None:  # VirtualSoftmaxHead has none by default
            assert lin.bias.abs().max() <= 1 / math.sqrt(fan_in)
            assert lin.bias.abs().min() > 0, lin_name  # drawn, not zeroed
    cifar = 'cifar100' in name
    for conv_name, conv in convs_of(net):
        w = conv.weight
        if cifar:  # PyTorch's default: uniform within 1 / sqrt(fan_in)
            assert_std(conv_name, w, torch_default_std(w))
            assert w.abs().max() <= 1 / math.sqrt(fans(w)[0])
        else:
            assert_std(conv_name, w, kaiming_fan_out_std(w))


def test_branches_and_self_teacher_of_mixskd(tmp_path):
    """Branches copy the backbone's init rules; the self-teacher's 1x1
    convolution and head keep PyTorch's defaults (the authors' too)."""
    for name, want in [('mixskd_r18_cifar100', torch_default_std),
                       ('mixskd_r50_imagenet', kaiming_fan_out_std)]:
        net = narrow_recipe(name, tmp_path)
        convs = [m for _, m in net.branches.named_modules()
                 if isinstance(m, nn.Conv2d) and m.weight.numel() >= 500]
        assert len(convs) >= 6
        for conv in convs:
            assert_std(name, conv.weight, want(conv.weight))
        reduce = net.self_teacher.reduce.weight
        assert_std(name, reduce, torch_default_std(reduce))
        assert reduce.abs().max() <= 1 / math.sqrt(fans(reduce)[0])
        # The branches' weights are their own draws, not the backbone's.
        own = net.branches[2].layers[0][0].conv1.weight
        assert not torch.equal(own, net.backbone.layer4[0].conv1.weight)


@pytest.mark.parametrize('name',
                         ['mixskd_r18_cifar100', 'baseline_r50_imagenet'])
def test_mmpretrain_init_is_an_option(name, tmp_path):
    options = dict(MMPRETRAIN_INIT)
    if 'cifar100' in name:
        options.update(MMPRETRAIN_CIFAR_CONVS)
    net = narrow_recipe(name, tmp_path, options)
    for block_name, block in residual_blocks(net):
        last = block.norm3 if isinstance(block, Bottleneck) else block.norm2
        if block_name.startswith('backbone.'):
            assert torch.count_nonzero(last.weight) == 0, block_name
        else:  # the branches never zero their residual BN
            assert torch.equal(last.weight, torch.ones_like(last.weight))
    for lin_name, lin in heads_linear(net):
        assert_std(lin_name, lin.weight, 0.01)
        if lin.bias is not None:
            assert torch.count_nonzero(lin.bias) == 0
    for conv_name, conv in convs_of(net):
        assert_std(conv_name, conv.weight, kaiming_fan_out_std(conv.weight))


def test_torch_default_init_needs_layers():
    from mixskd_mm.engine.torch_default_init import TorchDefaultInit
    with pytest.raises(ValueError, match='needs `layer`'):
        TorchDefaultInit()
    lin = nn.Linear(400, 3)
    nn.init.zeros_(lin.weight)
    TorchDefaultInit(layer='Linear')(lin)
    assert_std('lin', lin.weight, 1 / math.sqrt(3 * 400))
