# Cut^nMix online distillation (Shen et al. 2022,
# https://arxiv.org/abs/2206.12370), two ResNet-50 peers on ImageNet: same
# design as configs/cutnmix_r18_cifar100.py (3 boxes, lambda ~ Beta(1, 1),
# T = 3, attention feature mutual learning, self-ensemble teacher). Peer 0 is
# the deployable model.
#
# Deviations: the paper evaluates only CIFAR-10/100 and nothing of it is
# public beyond the abstract (reference-methods.md section 3); everything
# here is this project's design. Schedule: the shared MixSKD ImageNet
# schedule; two peers double the training compute and memory.
_base_ = [
    './_base_/models/resnet50_imagenet.py', './_base_/imagenet_bs16x8_305e.py'
]

model = dict(type='CutnMixOnlineDistiller',
             num_peers=2,
             temperature=3.0,
             feat_mode='attention',
             loss_weights=dict(mix_ce=1.0,
                               mutual_kd=1.0,
                               feat_mutual=100.0,
                               ensemble_kd=1.0),
             data_preprocessor=dict(type='MixSKDDataPreprocessor',
                                    mix_mode='cutnmix',
                                    alpha=1.0,
                                    num_patches=3))
