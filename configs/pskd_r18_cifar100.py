# PS-KD (Kim et al., ICCV 2021, https://arxiv.org/abs/2006.12000), CIFAR
# ResNet-18 on CIFAR-100: soft-target CE towards (1 - alpha_t) * one-hot +
# alpha_t * the sample's softmax of the previous epoch, alpha_t = 0.8 *
# (epoch + 1) / max_epochs (Self-KD-Lib `main.py --method PSKD`, default
# --alpha-T 0.8). Trains on the originals; one-hot targets in epoch 0.
# The per-sample store (50000 x 100 float32, 20 MB) is a model buffer: the
# checkpoints carry it and --resume restores it.
#
# Deviations from the released code:
# - Schedule: the shared MixSKD CIFAR schedule (batch 64, 205 epochs)
#   instead of main.py's 200 epochs, batch 128 (same lr, warm-up, decay
#   epochs and wd); alpha_t counts the 205 epochs.
# - A sample never seen before gets its one-hot label in every epoch (the
#   released store would hold zeros and give (1 - alpha_t) * one-hot).
_base_ = [
    './_base_/models/resnet18_cifar.py', './_base_/cifar100_bs64_205e.py'
]

model = dict(type='PSKDClassifier',
             alpha_T=0.8,
             num_samples=50000,
             store_dtype='float32',
             loss_weights=dict(soft_ce=1.0))
