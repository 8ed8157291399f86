"""MixSKD on every backbone family with a stage adapter (issue 26).

For each family (tiny architectures, small inputs): the adapter reads the
stages the backbone returns; MixSKD's branches end with the last stage's
shape; one training step gives finite terms and gradients in every branch,
branch head and the self-teacher; ``with_cp='all'`` changes nothing but the
memory; the trained model's backbone is the plain classifier's (same keys,
so it exports like one). Backbones without an adapter, or returning what the
methods cannot read, are refused with the fix.
"""
import pytest
import torch

import mixskd_mm  # noqa: F401  (registers the models)
from mixskd_mm.models.stages import (ConvNeXtStages, MobileNetV2Stages,
                                     ResNetStages, SwinStages, stage_adapter)

import distill_test_utils as dtu

SIZE = 64  # the images' side: stride-32 stages end at 2 x 2

#: family -> (backbone config returning every stage, adapter, last width).
FAMILIES = {
    'convnext': (dict(type='ConvNeXt',
                      arch=dict(depths=[1, 1, 2, 1],
                                channels=[8, 16, 24, 32]),
                      out_indices=(0, 1, 2, 3),
                      gap_before_final_norm=False), ConvNeXtStages, 32),
    'swin': (dict(type='SwinTransformer',
                  arch=dict(embed_dims=8, depths=[1, 1, 2, 1],
                            num_heads=[1, 1, 2, 2]),
                  img_size=SIZE, window_size=4, pad_small_map=True,
                  out_indices=(0, 1, 2, 3)), SwinStages, 64),
    'regnet': (dict(type='RegNet',
                    arch=dict(w0=8, wa=8.0, wm=2.0, group_w=8, depth=6,
                              bot_mul=1.0),
                    out_indices=(0, 1, 2, 3), stem_channels=8),
               ResNetStages, None),
    'resnext': (dict(type='ResNeXt', depth=50, groups=4, width_per_group=2,
                     base_channels=8, stem_channels=8,
                     out_indices=(0, 1, 2, 3)), ResNetStages, 256),
    'mobilenet_v2': (dict(type='MobileNetV2', widen_factor=0.25,
                          out_indices=(1, 2, 4, 7)), MobileNetV2Stages,
                     1280),
}


def backbone_of(family):
    return dict(FAMILIES[family][0])


def last_width(family):
    from mmpretrain.registry import MODELS
    width = FAMILIES[family][2]
    if width is None:  # RegNet's widths follow from its arch
        width = stage_adapter(MODELS.build(backbone_of(family))).channels[-1]
    return width


def mixskd(family, **overrides):
    cfg = dtu.tiny_mixskd(**overrides)
    cfg['backbone'] = backbone_of(family)
    cfg['head'] = dtu.tiny_head(in_channels=last_width(family))
    return cfg


@pytest.fixture(scope='module', params=sorted(FAMILIES))
def family(request):
    return request.param


def test_adapter_reads_the_returned_stages(family):
    model = dtu.build(mixskd(family))
    adapter = stage_adapter(model.backbone)
    assert type(adapter) is FAMILIES[family][1]
    assert adapter.num_stages == 4
    model.eval()
    with torch.no_grad():
        outs = model.backbone(torch.randn(2, 3, SIZE, SIZE))
    assert [o.shape[1] for o in outs] == adapter.channels
    assert [o.shape[-1] for o in outs] == [SIZE // s for s in (4, 8, 16, 32)]
    # Each branch maps its stage's output to what the last stage returns.
    with torch.no_grad():
        for k, branch in enumerate(model.branches):
            out = branch(outs[k])
            assert out.shape == outs[-1].shape, (family, k)


def test_one_training_step_reaches_every_branch(family):
    model = dtu.build(mixskd(family))
    model.train()
    losses = dtu.losses_of(model, dtu.batch(n=4, size=SIZE))
    assert set(losses) == {
        'loss_ce', 'loss_mix_ce', 'loss_teacher_mix_ce', 'loss_mutual_kd',
        'loss_teacher_kd', 'loss_feat'
    }
    for name, value in losses.items():
        assert torch.isfinite(value), (family, name)
    sum(losses.values()).backward()
    for part in ('backbone', 'head', 'self_teacher', 'branches.0',
                 'branches.1', 'branches.2', 'branch_heads.0',
                 'branch_heads.1', 'branch_heads.2'):
        grads = [
            p.grad for n, p in model.named_parameters()
            if n.startswith(part + '.')
        ]
        assert grads and all(g is not None for g in grads), (family, part)
        assert sum(g.abs().sum() for g in grads) > 0, (family, part)


def test_checkpointing_changes_nothing_but_memory(family):
    plain = dtu.build(mixskd(family))
    cp = dtu.build(mixskd(family, with_cp='all'))
    assert list(plain.state_dict()) == list(cp.state_dict())
    results = []
    for model in (plain, cp):
        model.train()
        saved = []

        def pack(t, saved=saved):
            saved.append(t)
            return t

        torch.manual_seed(1)  # the same stochastic-depth draws
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            losses = dtu.losses_of(model, dtu.batch(n=4, size=SIZE))
        sum(losses.values()).backward()
        grads = {n: p.grad for n, p in model.named_parameters()}
        buffers = {n: b.clone() for n, b in model.named_buffers()}
        results.append((losses, grads, buffers, len(saved)))
    (lp, gp, bp, sp), (lc, gc, bc, sc) = results
    for k in lp:
        assert torch.equal(lp[k], lc[k]), (family, k)
    for n in gp:
        assert torch.equal(gp[n], gc[n]), (family, n)
    # BN statistics once per step (LayerNorm families have none to keep).
    for n in bp:
        assert torch.equal(bp[n], bc[n]), (family, n)
    assert sc < sp


def test_backbone_is_the_plain_classifiers(family):
    model = dtu.build(mixskd(family))
    plain = dtu.build(
        dtu.plain_classifier(backbone_of(family),
                             dtu.tiny_head(in_channels=last_width(family))))
    ours = {k: v.shape for k, v in model.state_dict().items()
            if k.startswith('backbone.')}
    theirs = {k: v.shape for k, v in plain.state_dict().items()
              if k.startswith('backbone.')}
    assert ours == theirs


@pytest.mark.parametrize('kind', ['FRSKDClassifier', 'BYOTClassifier'])
@pytest.mark.parametrize('fam', ['convnext', 'swin', 'mobilenet_v2'])
def test_other_stage_methods_step(kind, fam):
    cfg = dict(type=kind, backbone=backbone_of(fam),
               head=dtu.tiny_head(in_channels=last_width(fam)))
    if kind == 'BYOTClassifier' and fam == 'mobilenet_v2':
        # Its stages 3 and 4 are two inverted-residual layers each: a copy
        # keeps the first block of both (the released counts are ResNet's).
        cfg['branch_blocks'] = ((5, 4), (4, ))
    model = dtu.build(cfg)
    model.train()
    losses = dtu.losses_of(model, dtu.batch(n=4, size=SIZE))
    assert losses
    for name, value in losses.items():
        assert torch.isfinite(value), (kind, fam, name)


def test_manifold_mixup_mixes_a_swin_stage():
    cfg = dict(type='ManifoldMixupClassifier', backbone=backbone_of('swin'),
               head=dtu.tiny_head(in_channels=64), mix_points=['layer2'])
    model = dtu.build(cfg)
    seen = []
    stage = model.backbone.stages[1]
    stage.register_forward_hook(lambda m, a, out: seen.append(out))
    model.train()
    losses = dtu.losses_of(model, dtu.batch(n=4, size=SIZE))
    assert torch.isfinite(losses['loss_mix_ce'])
    # The hook ran on the (tokens, hw_shape) the stage returns.
    assert isinstance(seen[0], tuple) and seen[0][0].dim() == 3


def test_backbone_without_adapter_is_refused():
    cfg = mixskd('convnext')
    cfg['backbone'] = dict(type='MobileNetV3', arch='small')
    cfg['head'] = dtu.tiny_head(in_channels=576)
    with pytest.raises(TypeError) as err:
        dtu.build(cfg)
    message = str(err.value)
    assert 'MobileNetV3 has no stage adapter' in message
    for family in ('ConvNeXt', 'Swin Transformer', 'MobileNetV2', 'ResNeXt',
                   'RegNet', 'STAGE_ADAPTERS.register_module'):
        assert family in message


def test_block_counts_that_break_a_stage_are_refused():
    cfg = dict(type='BYOTClassifier', backbone=backbone_of('mobilenet_v2'),
               head=dtu.tiny_head(in_channels=1280))
    with pytest.raises(ValueError, match='a copy needs at least 5'):
        dtu.build(cfg)


@pytest.mark.parametrize('family,change,fix', [
    ('convnext', dict(gap_before_final_norm=True),
     'gap_before_final_norm=False'),
    ('swin', dict(out_after_downsample=True), 'out_after_downsample=False'),
    ('convnext', dict(out_indices=(3, )), 'out_indices=(0, 1, 2, 3)'),
    ('mobilenet_v2', dict(out_indices=(7, )), 'out_indices=(1, 2, 4, 7)'),
])
def test_unreadable_outputs_are_refused(family, change, fix):
    cfg = mixskd(family)
    cfg['backbone'].update(change)
    with pytest.raises(ValueError, match=fix.replace('(', r'\(').replace(
            ')', r'\)')):
        dtu.build(cfg)
