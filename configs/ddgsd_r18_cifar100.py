# DDGSD (Xu & Liu, AAAI 2019, https://doi.org/10.1609/aaai.v33i01.33015565),
# CIFAR ResNet-18 on CIFAR-100: two random distortions of every image (the
# train augmentation run twice, mmpretrain's MultiView), one forward pass
# over both; 0.5 * mean CE over the 2N views + KD_T between the views in
# both directions (T = 4) + 5e-4 * (mean(f_1) - mean(f_2))^2 on the pooled
# features, as released (Self-KD-Lib `methods/ddsgd.py`, `main.py --method
# DDGSD`).
#
# Deviations from the released code:
# - Schedule: the shared MixSKD CIFAR schedule (batch 64 images = 128 views
#   per step, 205 epochs) instead of main.py's 200 epochs, batch 128.
_base_ = [
    './_base_/models/resnet18_cifar.py', './_base_/cifar100_bs64_205e.py'
]

model = dict(type='DDGSDClassifier',
             data_preprocessor=dict(type='MultiViewClsDataPreprocessor'),
             temperature=4.0,
             mmd_per_channel=False,
             loss_weights=dict(ce=0.5, mutual_kd=1.0, mmd=5e-4))

# The released TwoCropsTransform: the CIFAR augmentation, drawn twice.
train_pipeline = [
    dict(type='MultiView',
         num_views=2,
         transforms=[[
             dict(type='RandomCrop', crop_size=32, padding=4),
             dict(type='RandomFlip', prob=0.5, direction='horizontal'),
         ]]),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
