# Manifold mixup (Verma et al., ICML 2019, https://arxiv.org/abs/1806.05236),
# CIFAR ResNet-18 on CIFAR-100: for every batch one of the four stage inputs
# (the stem's output, the outputs of layer1-3) is drawn uniformly and the
# batch is mixed there with one lam ~ Beta(2, 2) and a random permutation;
# mixed-label CE through the head's loss, as released (Self-KD-Lib
# `manifold_mixup_CIFAR_ResNet18`, `main.py --method manifold_mixup`,
# alpha=2.0).
#
# Deviations from the released code:
# - Schedule: the shared MixSKD CIFAR schedule (batch 64, 205 epochs)
#   instead of main.py's 200 epochs, batch 128.
# - Draws from a generator seeded with the run's seed and the rank instead
#   of Python's/NumPy's/torch's global ones.
_base_ = [
    './_base_/models/resnet18_cifar.py', './_base_/cifar100_bs64_205e.py'
]

model = dict(type='ManifoldMixupClassifier',
             alpha=2.0,
             mix_points=['stem', 'layer1', 'layer2', 'layer3'],
             loss_weights=dict(mix_ce=1.0))
