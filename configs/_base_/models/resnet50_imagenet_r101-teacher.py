# The ResNet-50 student of resnet50_imagenet.py with a frozen ResNet-101
# teacher (KD and MIX-KD recipes). The teacher is read from
# `model.teacher.checkpoint`; configs/mixkd_r50_imagenet.py says how to
# train one or where to get one.
_base_ = ['./resnet50_imagenet.py']

model = dict(
    teacher=dict(
        config=dict(
            type='ImageClassifier',
            backbone=dict(
                type='ResNet',
                depth=101,
                num_stages=4,
                out_indices=(3, ),
                style='pytorch'),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(
                type='LinearClsHead', num_classes=1000, in_channels=2048)),
        checkpoint='work_dirs/baseline_r101_imagenet/teacher.pth'))
