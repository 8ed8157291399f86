# Cutout (DeVries & Taylor, arXiv 2017, https://arxiv.org/abs/1708.04552):
# plain CIFAR ResNet-18 on CIFAR-100, one 8x8 square cut out of every training
# image after crop and flip, mmpretrain's Cutout. Self-KD-Lib
# (dataloader/cutout.py, n_holes=1, length=8) zeroes the normalised image, i.e.
# fills the dataset mean: here the mean colour (RGB, the order CIFAR100 loads)
# before normalisation. Self-KD-Lib README: 76.66.
# Deviation: where the square crosses the top or left border, mmcv moves it
# inside the image (a full 8 px) where the released code clips it.
# Deviation shared by these baselines: the MixSKD CIFAR schedule (batch 64,
# 205 epochs) instead of Self-KD-Lib main.py's (batch 128, 200 epochs).
_base_ = [
    './_base_/models/resnet18_cifar.py', './_base_/cifar100_bs64_205e.py'
]

model = dict(type='ImageClassifier')
train_pipeline = [
    dict(type='RandomCrop', crop_size=32, padding=4),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='Cutout', shape=8, prob=1.0, pad_val=(129, 124, 112)),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
