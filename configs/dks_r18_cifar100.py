# DKS (Sun et al., CVPR 2019, https://arxiv.org/abs/1906.00675), CIFAR
# ResNet-18 on CIFAR-100, as Self-KD-Lib releases it (scripts/main_cifar.sh:
# `--arch CIFAR_ResNet18_dks --method DKS`; methods/dks.py): auxiliary
# branches after stage 2 (copies of stage 3 with one block and of stage 4
# with two) and after stage 3 (a copy of stage 4 with two blocks):
# branch_layers=[[1, 2], [2]], each with its own linear head; CE on all three
# heads + KD_T (T = 4) over every ordered pair of heads (six terms, each
# towards the other's detached soft targets). Trains on the originals.
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

model = dict(type='DKSClassifier',
             backbone=dict(out_indices=(0, 1, 2, 3)),
             branch_stages=(1, 2),
             branch_blocks=((1, 2), (2, )),
             temperature=4.0,
             loss_weights=dict(ce=1.0, synergy_kd=1.0))
