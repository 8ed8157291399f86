# The CIFAR ResNet-18 student of resnet18_cifar.py with a frozen CIFAR
# ResNet-50 teacher (KD and MIX-KD recipes). The teacher is read from
# `model.teacher.checkpoint`; configs/mixkd_r18_cifar100.py says how to
# train one.
_base_ = ['./resnet18_cifar.py']

model = dict(
    teacher=dict(
        config=dict(
            type='ImageClassifier',
            backbone=dict(
                type='ResNet_CIFAR',
                depth=50,
                num_stages=4,
                out_indices=(3, ),
                style='pytorch'),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(
                type='LinearClsHead', num_classes=100, in_channels=2048)),
        checkpoint='work_dirs/baseline_r50_cifar100/teacher.pth'))
