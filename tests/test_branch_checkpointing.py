"""MixSKDClassifier(with_cp=...): same loss, gradients and BN statistics.

Checkpointed blocks recompute their activations in backward; the loss terms,
every parameter's gradient, the BN running statistics and the parameters
after optimizer steps must be bit-for-bit those of the plain model
(``torch.equal``), while fewer activations are stored for backward.
"""
import copy
import io

import pytest
import torch
from mmengine.optim import OptimWrapper
from mmpretrain.registry import MODELS

import mixskd_mm  # noqa: F401
from mixskd_mm.models.utils.checkpointing import (checkpointed_blocks,
                                                  enable_checkpointing,
                                                  frozen_running_stats)

import distill_test_utils as dtu


def tiny_cfg(depth: int) -> dict:
    """ResNet_CIFAR-18 (BasicBlock) or -50 (Bottleneck), 4 base channels."""
    return dtu.tiny_mixskd(depth=depth, base_channels=4, stem_channels=4,
                           branch_depth='full')


def build(depth: int, with_cp):
    return dtu.build(dict(tiny_cfg(depth), with_cp=with_cp))


def loss_and_grads(model):
    """Loss terms, gradients and the number of tensors saved for backward.
    """
    data = model.data_preprocessor(dtu.batch(), True)
    saved = []

    def pack(t):
        saved.append(t)
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        losses = model(**data, mode='loss')
    sum(losses.values()).backward()
    grads = {n: p.grad for n, p in model.named_parameters()}
    return losses, grads, len(saved)


def bn_buffers(model):
    return {
        n: b.clone()
        for n, b in model.named_buffers()
        if n.rsplit('.', 1)[-1] in ('running_mean', 'running_var',
                                    'num_batches_tracked')
    }


@pytest.mark.parametrize('depth', [18, 50])
@pytest.mark.parametrize('with_cp', ['branches', 'all'])
def test_same_loss_gradients_and_bn_stats(depth, with_cp):
    plain, cp = build(depth, False), build(depth, with_cp)
    for a, b in zip(plain.state_dict().values(), cp.state_dict().values()):
        assert torch.equal(a, b)
    plain.train()
    cp.train()
    losses_p, grads_p, saved_p = loss_and_grads(plain)
    losses_c, grads_c, saved_c = loss_and_grads(cp)
    assert losses_p.keys() == losses_c.keys()
    for k in losses_p:
        assert torch.equal(losses_p[k], losses_c[k]), k
    assert grads_p.keys() == grads_c.keys()
    for name in grads_p:
        assert grads_p[name] is not None, name
        assert torch.equal(grads_p[name], grads_c[name]), name
    # The recomputation did not update BN statistics a second time.
    stats_p, stats_c = bn_buffers(plain), bn_buffers(cp)
    assert stats_p.keys() == stats_c.keys()
    for name in stats_p:
        assert torch.equal(stats_p[name], stats_c[name]), name
    assert int(stats_c['branches.0.layers.0.0.bn1.num_batches_tracked']) == 1
    # Checkpointing really stored less for backward.
    assert saved_c < saved_p


def test_train_steps_keep_parameters_identical():
    models = [build(18, False), build(18, 'all')]
    for model in models:
        wrapper = OptimWrapper(
            torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9))
        for seed in range(2):
            model.train_step(dtu.batch(seed=seed), wrapper)
    sd_p, sd_c = (m.state_dict() for m in models)
    for name in sd_p:
        assert torch.equal(sd_p[name], sd_c[name]), name


def test_eval_and_state_dict_unchanged():
    plain, cp = build(18, False), build(18, 'all')
    assert list(plain.state_dict()) == list(cp.state_dict())
    plain.eval()
    cp.eval()
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        assert torch.equal(plain(x), cp(x))
    # A deep copy (EMA) and a pickled model keep the checkpointed forward of
    # the backbone stages, bound to their own stage.
    buffer = io.BytesIO()
    torch.save(cp, buffer)
    buffer.seek(0)
    for other in (copy.deepcopy(cp), torch.load(buffer, weights_only=False)):
        assert other.backbone.layer1.forward.stage is other.backbone.layer1
        other.train()
        plain.train()
        losses, _, saved = loss_and_grads(other)
        assert torch.isfinite(sum(losses.values()))
        assert saved < loss_and_grads(plain)[2]  # still checkpointing


def test_frozen_running_stats_restores_the_statistics():
    bn = torch.nn.BatchNorm2d(3)
    bn.train()
    x = torch.randn(4, 3, 2, 2)
    with frozen_running_stats(bn):
        out = bn(x)
        assert int(bn.num_batches_tracked) == 1  # computed as usual inside
    assert torch.equal(out, torch.nn.BatchNorm2d(3).train()(x))
    assert torch.equal(bn.running_mean, torch.zeros(3))
    assert torch.equal(bn.running_var, torch.ones(3))
    assert int(bn.num_batches_tracked) == 0


def test_checkpointed_blocks_without_grad_run_plainly():
    blocks = torch.nn.Sequential(torch.nn.Conv2d(3, 3, 1), torch.nn.ReLU())
    x = torch.randn(1, 3, 4, 4)
    with torch.no_grad():
        assert torch.equal(checkpointed_blocks(blocks, x), blocks(x))


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match='with_cp must be one of'):
        build(18, 'backbone')
    cfg = tiny_cfg(18)
    cfg['backbone']['with_cp'] = True
    with pytest.raises(ValueError, match="with_cp='all'"):
        MODELS.build(cfg)
    with pytest.raises(TypeError, match='nn.Sequential'):
        enable_checkpointing(torch.nn.Conv2d(3, 3, 1))
