"""A MixSKD training step under CPU bf16 AMP (CPUAmpOptimWrapper)."""
import pytest
import torch

import mixskd_mm  # noqa: F401
from mixskd_mm.engine import CPUAmpOptimWrapper

import distill_test_utils as dtu

TERMS = {
    'loss', 'loss_ce', 'loss_mix_ce', 'loss_teacher_mix_ce', 'loss_mutual_kd',
    'loss_teacher_kd', 'loss_feat'
}


def tiny_mixskd(**overrides):
    """MixSKD on a ResNet_CIFAR-18 with 4 base and stem channels."""
    return dtu.build(
        dtu.tiny_mixskd(base_channels=4, stem_channels=4, **overrides))


@pytest.mark.parametrize('with_cp', [False, 'all'])
def test_bf16_mixskd_step_has_finite_terms(with_cp):
    model = tiny_mixskd(with_cp=with_cp)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    head_dtypes = []
    model.head.fc.register_forward_hook(
        lambda m, i, out: head_dtypes.append(out.dtype))
    wrapper = CPUAmpOptimWrapper(
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    log_vars = model.train_step(dtu.batch(), wrapper)
    # The forward really ran in bfloat16 autocast.
    assert head_dtypes and set(head_dtypes) == {torch.bfloat16}
    assert set(log_vars) == TERMS
    for name, value in log_vars.items():
        assert torch.isfinite(value).all(), name
    assert log_vars['loss_ce'] > 0 and log_vars['loss_feat'] > 0
    # Parameters stay float32 and every trained part moved.
    for name, p in model.named_parameters():
        assert p.dtype == torch.float32, name
    moved = {
        n.split('.')[0]
        for n, p in model.named_parameters()
        if not torch.equal(p, before[n])
    }
    assert {'backbone', 'head', 'branches', 'branch_heads', 'self_teacher',
            'teacher_head'} <= moved


def test_bf16_loss_close_to_fp32():
    """Every term is computed in float32 from bf16 activations."""
    model = tiny_mixskd()
    data = model.data_preprocessor(dtu.batch(), True)
    fp32 = model(**data, mode='loss')
    with torch.autocast('cpu', dtype=torch.bfloat16):
        bf16 = model(**data, mode='loss')
    for name in fp32:
        assert bf16[name].dtype == torch.float32, name
        # Relative: the KD terms are ~1e-3, where bf16 log-probabilities
        # gave values of the wrong sign before they were computed in fp32.
        assert torch.isclose(bf16[name], fp32[name], rtol=0.05, atol=1e-5), (
            name, float(bf16[name]), float(fp32[name]))
