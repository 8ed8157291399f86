# Plain ResNet-50 on ImageNet with the MixSKD recipe's schedule: the
# baseline the MixSKD backbone is compared with downstream.
_base_ = [
    './_base_/models/resnet50_imagenet.py', './_base_/imagenet_bs16x8_305e.py'
]

model = dict(type='ImageClassifier')
