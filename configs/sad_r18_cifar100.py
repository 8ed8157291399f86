# SAD (Hou et al., ICCV 2019, https://arxiv.org/abs/1908.00821), CIFAR
# ResNet-18 on CIFAR-100, as Self-KD-Lib releases it (scripts/main_cifar.sh:
# `--method SAD`, plain CIFAR_ResNet18; methods/sad.py): CE + 1000 * sum over
# the three pairs of consecutive stages of the mean squared difference
# between the stage's attention and that of the next stage (detached,
# bilinearly upsampled x2); attention = spatial softmax of the channel mean
# of squares. No extra parts. Trains on the originals.
#
# Deviations from the released code:
# - Schedule: the shared MixSKD CIFAR schedule (batch 64, 205 epochs)
#   instead of main.py's batch 128 and 200 epochs (same lr 0.1, Nesterov,
#   wd 5e-4, 5 warm-up epochs, x0.1 100 and 150 epochs after the warm-up).
# - Backbone: the shared post-activation ResNet_CIFAR-18, whose stage
#   outputs are after the ReLU; main.py's CIFAR_ResNet18 has pre-activation
#   blocks, whose stage outputs are the residual sums.
_base_ = [
    './_base_/models/resnet18_cifar.py', './_base_/cifar100_bs64_205e.py'
]

model = dict(type='SADClassifier',
             backbone=dict(out_indices=(0, 1, 2, 3)),
             loss_weights=dict(ce=1.0, sad=1000.0))
