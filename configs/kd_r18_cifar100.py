# Classic KD (Hinton et al. 2015, https://arxiv.org/abs/1503.02531): CIFAR
# ResNet-18 student, frozen CIFAR ResNet-50 teacher, CIFAR-100, on the
# original images. Loss 0.1 * CE + 0.9 * T^2 KL(T = 4): RepDistiller's KD
# defaults, the code base MIX-KD builds on (reference-methods.md section 4).
# The baseline of configs/mixkd_r18_cifar100.py, with the same teacher
# (see there for how to train it or where to get one).
#
# Deviations: schedule is the shared MixSKD CIFAR schedule instead of
# RepDistiller's (240 epochs, lr 0.05, x0.1 at 150/180/210).
_base_ = [
    './_base_/models/resnet18_cifar_r50-teacher.py',
    './_base_/cifar100_bs64_205e.py'
]

model = dict(type='KDClassifier',
             temperature=4.0,
             loss_weights=dict(ce=0.1, kd=0.9))
