# Random Erasing (Zhong et al., AAAI 2020, https://arxiv.org/abs/1708.04896):
# plain CIFAR ResNet-18 on CIFAR-100, mmpretrain's RandomErasing after crop and
# flip with the released settings (Self-KD-Lib dataloader/random_erase.py):
# probability 0.5, area 2%-40% of the image, aspect ratio in [0.3, 1 / 0.3],
# a constant fill. Self-KD-Lib README: 76.75.
# Deviations: the released code writes the CIFAR mean (0.5071, 0.4867, 0.4408)
# into the already normalised tensor, which is the colour (164, 156, 143), not
# the mean; here the mean colour (129, 124, 112) (RGB) as intended (set
# fill_color=(164, 156, 143) for the released pixels). mmpretrain draws the
# aspect ratio log-uniformly and clips one draw to the image instead of
# retrying up to 100 times.
# Deviation shared by these baselines: the MixSKD CIFAR schedule (batch 64,
# 205 epochs) instead of Self-KD-Lib main.py's (batch 128, 200 epochs).
_base_ = [
    './_base_/models/resnet18_cifar.py', './_base_/cifar100_bs64_205e.py'
]

model = dict(type='ImageClassifier')
train_pipeline = [
    dict(type='RandomCrop', crop_size=32, padding=4),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(
        type='RandomErasing',
        erase_prob=0.5,
        min_area_ratio=0.02,
        max_area_ratio=0.4,
        aspect_range=(0.3, 1 / 0.3),
        mode='const',
        fill_color=(129, 124, 112)),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
