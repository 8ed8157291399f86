# MixSKD's ImageNet settings (the authors' released recipe,
# winycg/Self-KD-Lib scripts/main_mixskd_imagenet.sh; reference-methods.md
# sections 1.4, 1.5): full-depth auxiliary branches, concatenation
# self-teacher, T = 3, every loss weight 1, mixup alpha 0.2 once per batch.
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
