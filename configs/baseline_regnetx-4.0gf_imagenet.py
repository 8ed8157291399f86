# Plain RegNetX-4.0GF on ImageNet: mmpretrain's own recipe, unchanged
# (regnet/regnetx-4.0gf_8xb64_in1k.py: SGD lr 0.4 with Nesterov for 512
# images per step, wd 5e-5, 100 epochs: 5 linear warm-up then cosine,
# random resized crop + flip + PCA lighting, BGR input, precise BN), the
# baseline of configs/mixskd_regnetx-4.0gf_imagenet.py, which inherits it.
# Its out_indices=(3, ) holds the same tensors as MixSKD's (0, 1, 2, 3).
# Upstream batch: 8 GPUs x 64 = 512 per step.
# 8 GPUs:  tools/dist_train.sh configs/baseline_regnetx-4.0gf_imagenet.py 8
# Then:    tools/export_backbone.py \
#              work_dirs/baseline_regnetx-4.0gf_imagenet/epoch_100.pth \
#              work_dirs/baseline_regnetx-4.0gf_imagenet/backbone.pth
_base_ = 'mmpretrain::regnet/regnetx-4.0gf_8xb64_in1k.py'
custom_imports = dict(imports=['mixskd_mm'], allow_failed_imports=False)
