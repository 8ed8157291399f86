# Tf-KD-reg (Yuan et al., CVPR 2020, https://arxiv.org/abs/1909.11723), CIFAR
# ResNet-18 on CIFAR-100: CE + a virtual teacher's soft targets, probability
# 0.9 on the correct class and 0.1 / 99 on each other, at T = 20, the term
# divided by T and added with weight 1, as released (Self-KD-Lib
# methods/tf_kd_reg.py, main.py --method TF_KD_self_reg).
#
# Deviation from the released code: the shared MixSKD CIFAR schedule (batch
# 64, 205 epochs) instead of main.py's batch 128, 200 epochs: every CIFAR
# recipe here shares one schedule.
_base_ = [
    './_base_/models/resnet18_cifar.py', './_base_/cifar100_bs64_205e.py'
]

model = dict(type='TfKDRegClassifier',
             correct_prob=0.9,
             temperature=20.0,
             loss_weights=dict(ce=1.0, tfkd=1.0))
