# MixSKD's settings in the authors' released recipes (winycg/Self-KD-Lib
# main_mixskd_cifar.py, scripts/main_mixskd_imagenet.sh; reference-methods.md
# sections 1.4-1.6): full-depth auxiliary branches, concatenation
# self-teacher, T = 3, every loss weight 1, mixup once per batch. Of these
# the two datasets differ only in mixup's alpha: 0.2 on ImageNet
# (`mixskd_mixing`), 0.4 on CIFAR (configs/mixskd_r18_cifar100.py sets it).
# The full objective on both: the released CIFAR script leaves rows 2 and 3
# out of its sum (configs/mixskd_r18_cifar100.py says how to reproduce that).
# A recipe makes its classifier a MixSKD one with
#   model = dict(_base_.mixskd_settings, backbone=dict(out_indices=...),
#                data_preprocessor=dict(_base_.data_preprocessor,
#                                       **_base_.mixskd_mixing))
mixskd_settings = dict(
    type='MixSKDClassifier',
    self_teacher=dict(type='SelfTeacherNeck', fusion='concat'),
    teacher_inputs='branch_outputs',
    branch_depth='full',
    temperature=3.0,
    loss_weights=dict(ce=1.0,
                      mix_ce=1.0,
                      teacher_mix_ce=1.0,
                      mutual_kd=1.0,
                      teacher_kd=1.0,
                      feat=1.0),
    # Row 7 of the objective; see MixSKDClassifier.
    adversarial=None)
mixskd_mixing = dict(type='MixSKDDataPreprocessor', mix_mode='mixup',
                     alpha=0.2)
