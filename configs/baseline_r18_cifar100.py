# Plain CIFAR ResNet-18 on CIFAR-100 with the MixSKD CIFAR schedule.
_base_ = [
    './_base_/models/resnet18_cifar.py', './_base_/cifar100_bs64_205e.py'
]

model = dict(type='ImageClassifier')
