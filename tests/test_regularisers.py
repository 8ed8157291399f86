"""The regularisation baselines of Self-KD-Lib: losses, head, recipes.

Label smoothing, softmax focal loss, virtual softmax, maximum entropy (head
losses / head) are checked against the released formulas written with plain
torch ops; Cutout, Random Erasing, AutoAugment (CIFAR-10 policy against
torchvision's table), RandAugment, AugMix, TrivialAugment through the
pipelines of their recipes; every recipe builds its model and runs its train
pipeline on one generated image.
"""
import copy
import random

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.dataset import Compose
from mmpretrain.registry import MODELS, TRANSFORMS
from mmpretrain.structures import DataSample
from torchvision.transforms import AutoAugment, AutoAugmentPolicy

import mixskd_mm  # noqa: F401
import mixskd_mm.models.heads  # noqa: F401  (until models/__init__ has it)
from mixskd_mm.models.heads import VirtualSoftmaxHead
from mixskd_mm.models.losses.focal_loss import SoftmaxFocalLoss
from mixskd_mm.models.losses.maxent_loss import MaxEntropyLoss

from repo import CONFIGS

METHODS = ('labelsmooth', 'focal', 'virtualsoftmax', 'maxent', 'cutout',
           'randomerasing', 'autoaugment', 'randaugment', 'augmix',
           'trivialaugment')
AUGMENTS = METHODS[4:]
RECIPES = [f'{m}_{s}' for m in METHODS for s in ('r18_cifar100',
                                                 'r50_imagenet')]
#: The steps every recipe's pipeline shares; the rest is the augmentation.
BASE_STEPS = ('LoadImageFromFile', 'RandomCrop', 'RandomResizedCrop',
              'RandomFlip', 'PackInputs')


def recipe(name):
    return Config.fromfile(str(CONFIGS / f'{name}.py'))


def seed_all(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def image(h=32, w=32, seed=0):
    """A uint8 HWC image with structure (gradients) and noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([xx * 200 / w, yy * 200 / h, (xx + yy) * 100 / (h + w)],
                    axis=-1)
    return np.clip(base + rng.integers(0, 50, (h, w, 3)), 0,
                   255).astype(np.uint8)


def pipeline(steps):
    """Steps built in mmpretrain's registry (whatever the default scope)."""
    return Compose([TRANSFORMS.build(copy.deepcopy(t)) for t in steps])


def logits_labels(n=6, c=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    z = (3 * torch.randn(n, c, generator=g)).requires_grad_()
    y = torch.randint(0, c, (n, ), generator=g)
    return z, y


def grad_of(loss, z):
    return torch.autograd.grad(loss, z)[0]


# ------------------------------------------------------------------ losses
def released_focal(z, y, gamma=2):
    """methods/focal_loss.py: -(1 - p_y)^gamma log p_y, batch mean."""
    p = F.softmax(z, dim=1).gather(1, y.view(-1, 1))
    return (-(1 - p).pow(gamma) * p.log()).mean()


def test_focal_matches_released_values_and_gradients():
    z, y = logits_labels()
    ours = MODELS.build(dict(type='SoftmaxFocalLoss', gamma=2.0))
    got = ours(z, y, avg_factor=z.size(0))
    want = released_focal(z, y)
    torch.testing.assert_close(got, want)
    torch.testing.assert_close(grad_of(got, z), grad_of(want, z))
    # gamma 0 is the CE; a one-hot score target is the hard label.
    torch.testing.assert_close(SoftmaxFocalLoss(gamma=0.)(z, y),
                               F.cross_entropy(z, y))
    torch.testing.assert_close(ours(z, F.one_hot(y, 5).float()), got)
    w = torch.tensor([1., 0., 2., 1., 0., 1.])
    per = SoftmaxFocalLoss(reduction='none')(z, y)
    torch.testing.assert_close(ours(z, y, weight=w), (per * w).mean())


def test_maxent_matches_released_values_and_gradients():
    z, y = logits_labels(c=7)
    # main.py Maximum_entropy: CE + 0.5 * mean_{n,c}(p log p).
    want = F.cross_entropy(z, y) + 0.5 * (
        F.softmax(z, 1) * F.log_softmax(z, 1)).mean()
    ours = MODELS.build(dict(type='MaxEntropyLoss', entropy_weight=0.5 / 7))
    got = ours(z, y, avg_factor=z.size(0))
    torch.testing.assert_close(got, want)
    torch.testing.assert_close(grad_of(got, z), grad_of(want, z))
    assert MaxEntropyLoss(entropy_weight=0.)(z, y).item() == pytest.approx(
        F.cross_entropy(z, y).item())
    # The entropy is subtracted: log C off a uniform prediction, ~0 off a
    # confident one.
    beta1, label = MaxEntropyLoss(entropy_weight=1.), torch.tensor([0])
    assert beta1(torch.zeros(1, 3), label).item() == pytest.approx(0.,
                                                                   abs=1e-6)
    confident = torch.tensor([[20., 0., 0.]])
    assert beta1(confident, label).item() == pytest.approx(
        F.cross_entropy(confident, label).item(), abs=1e-6)


@pytest.mark.parametrize('cfg, match', [
    (dict(type='SoftmaxFocalLoss', gamma=-1.), 'gamma'),
    (dict(type='SoftmaxFocalLoss', gamma=float('nan')), 'gamma'),
    (dict(type='SoftmaxFocalLoss', reduction='avg'), 'reduction'),
    (dict(type='MaxEntropyLoss', entropy_weight=-0.1), 'entropy_weight'),
    (dict(type='MaxEntropyLoss', entropy_weight='0.5'), 'entropy_weight'),
])
def test_bad_loss_settings_are_refused(cfg, match):
    with pytest.raises(ValueError, match=match):
        MODELS.build(cfg)


def test_label_smoothing_recipe_is_the_released_target():
    """methods/label_smooth.py: 1 - eps on the class, eps / (C - 1) off."""
    loss_cfg = recipe('labelsmooth_r18_cifar100').model.head.loss
    c, eps = 100, 0.1
    z, y = logits_labels(n=8, c=c)
    target = torch.full((8, c), eps / (c - 1)).scatter_(1, y.view(-1, 1),
                                                        1 - eps)
    want = -(F.log_softmax(z, 1) * target).sum() / 8
    got = MODELS.build(loss_cfg)(z, y, avg_factor=8)
    torch.testing.assert_close(got, want)
    torch.testing.assert_close(grad_of(got, z), grad_of(want, z))


# -------------------------------------------------------------------- head
def head_and_feats(bias=False, seed=0):
    torch.manual_seed(seed)
    head = VirtualSoftmaxHead(num_classes=5, in_channels=8, bias=bias)
    x = torch.randn(6, 8, requires_grad=True)
    y = torch.tensor([0, 1, 2, 3, 4, 1])
    samples = [DataSample().set_gt_label(int(t)) for t in y]
    return head, x, y, samples


@pytest.mark.parametrize('bias', [False, True])
def test_virtual_softmax_matches_released(bias):
    head, x, y, samples = head_and_feats(bias)
    assert (head.fc.bias is not None) == bias
    loss = head.loss((x, ), samples)['loss']
    # models/resnet.py, loss_type='virtual_softmax'.
    w = head.fc.weight
    out = F.linear(x, w, head.fc.bias)
    virtual = w[y].pow(2).sum(1, keepdim=True).pow(0.5) * x.pow(2).sum(
        1, keepdim=True).pow(0.5)
    want = F.cross_entropy(torch.cat([out, virtual], 1), y)
    torch.testing.assert_close(loss, want)
    for ours, ref in zip(torch.autograd.grad(loss, (x, w)),
                         torch.autograd.grad(want, (x, w))):
        torch.testing.assert_close(ours, ref)
    # The virtual logit makes it harder than the plain CE.
    assert loss.item() > F.cross_entropy(out, y).item()
    # Prediction: the real classes only.
    assert head((x, )).shape == (6, 5)
    pred = head.predict((x, ))
    assert pred[0].pred_score.shape == (5, )


def test_virtual_softmax_refuses_soft_labels_and_bad_bias():
    head, x, _, samples = head_and_feats()
    for s in samples:
        s.set_gt_score(torch.full((5, ), 0.2))
    with pytest.raises(ValueError, match='hard labels'):
        head.loss((x, ), samples)
    with pytest.raises(ValueError, match='model.head.bias'):
        VirtualSoftmaxHead(num_classes=5, in_channels=8, bias=1)


# -------------------------------------------------------------- transforms
TV_TO_MMPRETRAIN = {
    'ShearX': ('Shear', 'horizontal'), 'ShearY': ('Shear', 'vertical'),
    'TranslateX': ('Translate', 'horizontal'),
    'TranslateY': ('Translate', 'vertical'), 'Color': ('ColorTransform', None)
}


def mm_magnitude(op):
    for key in ('magnitude', 'angle', 'bits', 'thr'):
        if key in op:
            return op[key]
    return None


def test_autoaugment_cifar_policy_is_torchvisions():
    cfg = recipe('autoaugment_r18_cifar100')
    ours = cfg.cifar10_policies
    tv = AutoAugment(AutoAugmentPolicy.CIFAR10)
    space = tv._augmentation_space(10, (32, 32))
    assert len(ours) == len(tv.policies) == 25
    for sub, tv_sub in zip(ours, tv.policies):
        assert len(sub) == len(tv_sub) == 2
        for op, (name, prob, level) in zip(sub, tv_sub):
            mm_type, direction = TV_TO_MMPRETRAIN.get(name, (name, None))
            assert op['type'] == mm_type, (op, name)
            assert op.get('direction') == direction, (op, name)
            assert op['prob'] == pytest.approx(prob)
            if level is None:
                assert mm_magnitude(op) is None, op
                continue
            want = float(space[name][0][level])
            if name.startswith('Translate'):  # whole pixels of 32
                want = int(want) / 32
            assert mm_magnitude(op) == pytest.approx(want, abs=1e-5), op
    step = [t for t in cfg.train_pipeline if t['type'] == 'AutoAugment'][0]
    built = TRANSFORMS.build(copy.deepcopy(step))
    # torchvision's nearest-neighbour and black fill reach every op.
    for sub in built.policies:
        for op in sub:
            if op['type'] in ('Shear', 'Translate', 'Rotate'):
                assert op['pad_val'] == 0 and op['interpolation'] == 'nearest'


def augmentation(name):
    """The recipe's own train steps, without the shared ones, composed."""
    steps = [
        t for t in recipe(name).train_dataloader.dataset.pipeline
        if t['type'] not in BASE_STEPS
    ]
    assert steps, name
    return pipeline(steps)


@pytest.mark.parametrize('name', [f'{m}_r18_cifar100' for m in AUGMENTS])
def test_augmentation_keeps_shape_and_dtype_and_changes_images(name):
    aug = augmentation(name)
    img = image()
    changed = False
    for seed in range(6):
        seed_all(seed)
        out = aug(dict(img=img.copy()))['img']
        assert isinstance(out, np.ndarray), type(out)
        assert out.shape == img.shape and out.dtype == np.uint8
        seed_all(seed)
        again = aug(dict(img=img.copy()))['img']
        np.testing.assert_array_equal(out, again)  # deterministic
        changed |= not np.array_equal(out, img)
    assert changed, name


@pytest.mark.parametrize('method', ['augmix', 'trivialaugment', 'randaugment'])
def test_torchvision_ops_see_rgb_in_both_recipes(method):
    """CIFAR100 loads RGB (no swap); ImageNet's BGR is swapped around the
    PIL ops and back, so the same RGB content gives the same result."""
    rgb = image(40, 40)
    outs = []
    for suffix, img in (('r18_cifar100', rgb), ('r50_imagenet',
                                                rgb[..., ::-1].copy())):
        seed_all(3)
        out = augmentation(f'{method}_{suffix}')(dict(img=img))['img']
        outs.append(out if suffix == 'r18_cifar100' else out[..., ::-1])
    np.testing.assert_array_equal(outs[0], outs[1])


@pytest.mark.parametrize('cfg', [
    dict(type='torchvision/AugMix', severity=11),
    dict(type='Cutout', shape=8, magnitude_range=(0, 8)),
    dict(type='RandomErasing', erase_prob=1.5),
    dict(type='AutoAugment', policies='cifar10'),
])
def test_bad_augmentation_settings_are_refused(cfg):
    with pytest.raises((ValueError, AssertionError)):
        TRANSFORMS.build(cfg)


# ----------------------------------------------------------------- recipes
@pytest.mark.parametrize('name', RECIPES)
def test_recipe_builds_model_and_runs_its_pipeline(name):
    cfg = recipe(name)
    cifar = name.endswith('cifar100')
    model = MODELS.build(cfg.model)
    assert type(model).__name__ == 'ImageClassifier'
    steps = [t for t in cfg.train_dataloader.dataset.pipeline
             if t['type'] != 'LoadImageFromFile']
    img = image(32, 32) if cifar else image(48, 64)
    seed_all(0)
    packed = pipeline(steps)(
        dict(img=img, img_shape=img.shape[:2], ori_shape=img.shape[:2],
             gt_label=1))
    side = 32 if cifar else 224
    assert packed['inputs'].shape == (3, side, side)
    assert packed['inputs'].dtype == torch.uint8
    if cifar and name.split('_')[0] not in AUGMENTS:  # a loss recipe
        cfg.model.backbone.base_channels = 8  # narrow: the loss is checked
        cfg.model.head.in_channels = 64
        model = MODELS.build(cfg.model)
        data = dict(inputs=[packed['inputs']] * 2,
                    data_samples=[packed['data_samples']] * 2)
        model.train()
        losses = model(**model.data_preprocessor(data, True), mode='loss')
        assert torch.isfinite(losses['loss'])
