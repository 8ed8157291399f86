# Virtual Softmax (Chen et al., NeurIPS 2018,
# https://arxiv.org/abs/1811.12611): plain ResNet-50 on ImageNet whose head
# adds, in training, the virtual logit ||W_y|| ||x|| (CE over C + 1 logits);
# a bias-free classifier as in the paper (model.head.bias=True adds one).
# Deviation: Self-KD-Lib has no ImageNet virtual-softmax run; the shared MixSKD
# ImageNet schedule.
_base_ = [
    './_base_/models/resnet50_imagenet.py', './_base_/imagenet_bs16x8_305e.py'
]

model = dict(
    type='ImageClassifier', head=dict(type='VirtualSoftmaxHead', bias=False))
