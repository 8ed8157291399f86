# BYOT (Zhang et al., ICCV 2019, https://arxiv.org/abs/1905.08094), CIFAR
# ResNet-18 on CIFAR-100, as Self-KD-Lib releases it (scripts/main_cifar.sh:
# `--arch CIFAR_ResNet18_byot --method BYOT`; methods/byot.py):
# auxiliary branches after stages 2 and 3 copying the later stages with one
# block each (branch_layers=[[1, 1], [1]]), each with its own linear head;
# CE on all three heads + KD_T (T = 4) from the backbone's head to each
# branch head + 0.05 (= 0.5 * 0.1) * mean squared feature hint between each
# branch's final map and the backbone's last stage. Trains on the originals.
#
# Deviations from the released code:
# - Schedule: the shared MixSKD CIFAR schedule (batch 64, 205 epochs)
#   instead of main.py's batch 128 and 200 epochs (same lr 0.1, Nesterov,
#   wd 5e-4, 5 warm-up epochs, x0.1 100 and 150 epochs after the warm-up).
# - Backbone: the shared post-activation ResNet_CIFAR-18 (and its copies in
#   the branches); main.py's CIFAR_ResNet18 uses pre-activation blocks.
_base_ = [
    './_base_/models/resnet18_cifar.py', './_base_/cifar100_bs64_205e.py'
]

model = dict(type='BYOTClassifier',
             backbone=dict(out_indices=(0, 1, 2, 3)),
             branch_stages=(1, 2),
             branch_blocks=((1, 1), (1, )),
             temperature=4.0,
             loss_weights=dict(ce=1.0, kd=1.0, hint=0.05))
