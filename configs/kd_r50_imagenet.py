# Classic KD (Hinton et al. 2015, https://arxiv.org/abs/1503.02531):
# ResNet-50 student, frozen ResNet-101 teacher, ImageNet, original images.
# Loss 0.1 * CE + 0.9 * T^2 KL(T = 4) (RepDistiller's KD defaults, as in
# configs/kd_r18_cifar100.py). The baseline of configs/mixkd_r50_imagenet.py,
# with the same teacher (see there).
#
# Deviations: RepDistiller's weights are CIFAR ones; mmrazor's ImageNet KD
# recipe (kd_logits_resnet34_resnet18_8xb32_in1k) uses CE 1, KD 5, T 1:
#   --cfg-options model.loss_weights.ce=1 model.loss_weights.kd=5
#     model.temperature=1
# Schedule: the shared MixSKD ImageNet schedule.
_base_ = [
    './_base_/models/resnet50_imagenet_r101-teacher.py',
    './_base_/imagenet_bs16x8_305e.py'
]

model = dict(type='KDClassifier',
             temperature=4.0,
             loss_weights=dict(ce=0.1, kd=0.9))
