# Virtual Softmax (Chen et al., NeurIPS 2018,
# https://arxiv.org/abs/1811.12611): plain CIFAR ResNet-18 on CIFAR-100 whose
# head adds, in training, the virtual logit ||W_y|| ||x|| and takes the CE over
# the C + 1 logits (Self-KD-Lib models/resnet.py, loss_type='virtual_softmax').
# Prediction is the plain linear classifier. Self-KD-Lib README: 78.54.
# Deviation: a bias-free classifier, as the paper and the released
# is_bias=False intend (that flag does not reach the released fc, which keeps
# its bias); model.head.bias=True gives the released layer.
# Deviation shared by these baselines: the MixSKD CIFAR schedule (batch 64,
# 205 epochs) instead of Self-KD-Lib main.py's (batch 128, 200 epochs).
_base_ = [
    './_base_/models/resnet18_cifar.py', './_base_/cifar100_bs64_205e.py'
]

model = dict(
    type='ImageClassifier', head=dict(type='VirtualSoftmaxHead', bias=False))
