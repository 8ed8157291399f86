# SAD (Hou et al., ICCV 2019, https://arxiv.org/abs/1908.00821), ResNet-50
# on ImageNet: the CIFAR design of configs/sad_r18_cifar100.py (attention of
# each stage towards the next one's, upsampled to its size: 56 <- 28 <- 14
# <- 7 at 224 px); CE + 1000 * the attention terms.
#
# Deviations: the shared MixSKD ImageNet schedule; the weight 1000 is the
# released CIFAR-100 one (Self-KD-Lib gives no ImageNet SAD run). The
# attention maps are softmaxes over H * W positions, so each entry, and the
# mean squared difference, shrinks with the map size: 3136 positions at
# stage 1 instead of CIFAR's 1024; tune model.loss_weights.sad if needed.
_base_ = [
    './_base_/models/resnet50_imagenet.py', './_base_/imagenet_bs16x8_305e.py'
]

model = dict(type='SADClassifier',
             backbone=dict(out_indices=(0, 1, 2, 3)),
             loss_weights=dict(ce=1.0, sad=1000.0))
