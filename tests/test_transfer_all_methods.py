"""Every method's pretrained backbone exports and loads into the detector."""
import os.path as osp

import pytest
from mmengine.config import Config

from mixskd_mm.demo.pipeline import METHODS
from mixskd_mm.checkpoint import export_backbone

import downstream_utils as du
from repo import ROOT

DET_CONFIG = osp.join(ROOT, 'configs/demo/faster-rcnn_r18_fpn_demo.py')


@pytest.mark.parametrize('method', sorted(METHODS))
def test_method_backbone_initialises_the_detector(method, tmp_path):
    # The method's real ImageNet recipe at the demo's depth (ResNet-18).
    model_cfg = Config.fromfile(osp.join(ROOT,
                                         METHODS[method])).model.to_dict()
    teacher = model_cfg.get('teacher')
    if teacher:
        teacher['checkpoint'] = du.save_training_checkpoint(
            tmp_path / 'teacher.pth', teacher['config'], seed=1)['path']
    ckpt = du.save_training_checkpoint(tmp_path / 'train.pth', model_cfg)
    info = export_backbone(ckpt['path'], str(tmp_path / 'backbone.pth'))
    assert info['kept'] == len(ckpt['backbone'])

    det = Config.fromfile(DET_CONFIG)
    det.model.backbone.init_cfg.checkpoint = str(tmp_path / 'backbone.pth')
    detector = du.build(det.model, scope='mmdet')
    detector.init_weights()
    du.assert_same_tensors(detector.backbone.state_dict(), ckpt['backbone'])
