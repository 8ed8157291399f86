# Cut^nMix online distillation (Shen et al. 2022,
# https://arxiv.org/abs/2206.12370), two CIFAR ResNet-18 peers on CIFAR-100.
# Every peer sees the same Cut^nMix batch (3 boxes of one partner, pasted
# area 1 - lambda, lambda ~ Beta(1, 1)); losses: mixed-label CE per peer,
# mutual logit KD (T = 3), attention-map feature mutual learning on the last
# stage (weight 100), KD from the detached mean of the peers' logits.
# Peer 0 (backbone/neck/head) is the deployable model.
#
# Deviations: no code or paper text is public (reference-methods.md
# section 3); the Cut^nMix construction, the loss forms and all weights are
# this project's design, documented in CutnMixOnlineDistiller. Schedule: the
# shared MixSKD CIFAR schedule.
_base_ = [
    './_base_/models/resnet18_cifar.py', './_base_/cifar100_bs64_205e.py'
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
