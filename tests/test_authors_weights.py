"""The authors' released weights and torchvision ResNets work here.

The authors' ImageNet script saves ``{'net': model.state_dict(), 'acc',
'epoch', 'optimizer'}`` from a DDP model: ``module.backbone.*`` (a
torchvision ResNet-50 with its own ``fc``), ``module.auxiliary_classifier.*``
and ``module.final_aux_classifier.*`` (reference-methods.md 1.4, 1.7.5).
Both that and a torchvision-keyed state dict export in one command to the
backbone format and load exactly into mmdet's ResNet through
``StrictPretrained``; truncated and foreign checkpoints are still refused.
The weights are torchvision's models at random initialisation, perturbed so
that no tensor equals a default initialisation (no download).
"""
import os
import os.path as osp
import subprocess
import sys
from collections import OrderedDict

import pytest
import torch
import torchvision

from mixskd_mm.checkpoint import export_backbone

import downstream_utils as du
from repo import ROOT

TOOL = osp.join(ROOT, 'tools', 'export_backbone.py')
# Stand-ins for the authors' training-only modules (their real shapes do
# not matter to the export, which drops them by name).
AUTHORS_EXTRA = OrderedDict([
    ('module.auxiliary_classifier.0.layer2.0.conv1.weight', (8, 4, 1, 1)),
    ('module.auxiliary_classifier.0.fc.weight', (10, 8)),
    ('module.auxiliary_classifier.2.layer4.0.bn1.running_var', (8, )),
    ('module.final_aux_classifier.conv.weight', (8, 32, 1, 1)),
    ('module.final_aux_classifier.fc.weight', (10, 8)),
    ('module.final_aux_classifier.fc.bias', (10, )),
])


def _torchvision_resnet(depth: int, seed: int) -> 'OrderedDict':
    """A torchvision ResNet state dict (fc included), every tensor
    perturbed away from its default initialisation."""
    torch.manual_seed(seed)
    model = getattr(torchvision.models, f'resnet{depth}')(weights=None)
    du.randomize_(model, seed)
    return OrderedDict((k, v.clone()) for k, v in model.state_dict().items())


def _without_fc(state_dict):
    return OrderedDict(
        (k, v) for k, v in state_dict.items() if not k.startswith('fc.'))


def _authors_release(path, resnet) -> str:
    """The authors' checkpoint layout around a torchvision ResNet."""
    net = OrderedDict(('module.backbone.' + k, v) for k, v in resnet.items())
    generator = torch.Generator().manual_seed(1)
    for key, shape in AUTHORS_EXTRA.items():
        net[key] = torch.rand(shape, generator=generator)
    torch.save(
        dict(net=net, acc=78.76, epoch=304,
             optimizer=dict(state={}, param_groups=[dict(lr=0.0, params=[])])),
        str(path))
    return str(path)


@pytest.fixture(scope='module')
def resnets():
    return {18: _torchvision_resnet(18, 18), 50: _torchvision_resnet(50, 50)}


def _load_into_mmdet_resnet(depth, checkpoint, **init_cfg):
    model = du.build(
        dict(type='ResNet', depth=depth,
             init_cfg=dict(type='StrictPretrained', checkpoint=checkpoint,
                           **init_cfg)), 'mmdet')
    model.init_weights()
    return model


def test_authors_release_exports_in_one_command(resnets, tmp_path):
    src = _authors_release(tmp_path / 'mixskd_imagenet_best.pth.tar',
                           resnets[50])
    out = tmp_path / 'backbone.pth'
    result = subprocess.run(
        [sys.executable, TOOL, src, str(out)], capture_output=True,
        text=True, cwd=ROOT,
        env=dict(os.environ, PYTHONWARNINGS='ignore'))
    assert result.returncode == 0, result.stderr
    assert "Read the authors' MixSKD release format" in result.stdout
    assert 'Kept 318 backbone tensors' in result.stdout
    assert ('Dropped 8 tensors: auxiliary_classifier (3), '
            'final_aux_classifier (3), backbone.fc (2).') in result.stdout
    exported = du.load_exported(out)
    assert exported['meta']['source_format'] == 'authors'
    assert exported['meta']['epoch'] == 304
    du.assert_same_tensors(exported['state_dict'], _without_fc(resnets[50]))
    model = _load_into_mmdet_resnet(50, str(out))
    du.assert_same_tensors(model.state_dict(), _without_fc(resnets[50]))


def test_torchvision_state_dict_exports(resnets, tmp_path):
    src = tmp_path / 'resnet18_torchvision.pth'
    torch.save(resnets[18], str(src))
    info = export_backbone(str(src), str(tmp_path / 'bb.pth'))
    assert info['format'] == 'torchvision'
    assert dict(info['dropped_groups']) == {'fc': 2}
    assert info['kept'] == 120
    assert info['check'].startswith('complete ResNet stages')
    model = _load_into_mmdet_resnet(18, str(tmp_path / 'bb.pth'))
    du.assert_same_tensors(model.state_dict(), _without_fc(resnets[18]))


def test_strict_pretrained_drops_the_torchvision_classifier(resnets, tmp_path):
    src = tmp_path / 'resnet18_torchvision.pth'
    torch.save(resnets[18], str(src))
    with du.captured_log() as records:
        model = _load_into_mmdet_resnet(18, str(src))
    du.assert_same_tensors(model.state_dict(), _without_fc(resnets[18]))
    messages = [r.getMessage() for r in records]
    assert any('dropped the classifier inside the backbone' in m
               and 'fc.weight, fc.bias' in m for m in messages), messages


def test_strict_pretrained_reads_the_authors_release(resnets, tmp_path):
    # No export: the raw release through prefix='backbone.' ('net', the
    # DDP 'module.' prefix and the backbone's fc handled).
    src = _authors_release(tmp_path / 'release.pth', resnets[18])
    model = _load_into_mmdet_resnet(18, src, prefix='backbone.')
    du.assert_same_tensors(model.state_dict(), _without_fc(resnets[18]))


def test_strict_pretrained_refuses_other_extra_keys(resnets, tmp_path):
    state_dict = OrderedDict(resnets[18])
    state_dict['head.fc.weight'] = torch.zeros(3, 3)
    src = tmp_path / 'extra.pth'
    torch.save(state_dict, str(src))
    with pytest.raises(RuntimeError) as info:
        _load_into_mmdet_resnet(18, str(src))
    info.match('0 missing, 3 unexpected, 0 shape mismatch')
    info.match(r'unexpected keys \(3\): fc.weight, fc.bias, head.fc.weight')


def _truncated_release(path, resnet):
    resnet = OrderedDict(resnet)
    del resnet['layer3.1.conv2.weight']
    return _authors_release(path, resnet)


def _foreign_release(path, resnet):
    torch.save(dict(net=OrderedDict(
        ('module.encoder.' + k, v) for k, v in resnet.items())), str(path))
    return str(path)


def _torchvision_with_extra(path, resnet):
    resnet = OrderedDict(resnet)
    resnet['classifier.1.weight'] = torch.zeros(10, 512)
    torch.save(resnet, str(path))
    return str(path)


def _truncated_torchvision(path, resnet):
    resnet = OrderedDict(
        (k, v) for k, v in resnet.items() if not k.startswith('layer4.'))
    torch.save(resnet, str(path))
    return str(path)


@pytest.mark.parametrize('write, patterns', [
    (_truncated_release, [r'missing \(1\): layer3.1.conv2.weight',
                          'truncated']),
    (_foreign_release, ["no key starts with 'backbone.'", 'encoder']),
    (_torchvision_with_extra, [
        r'not part of a ResNet \(1\): classifier.1.weight']),
    (_truncated_torchvision, [r'layer4.\* \(the whole stage\)']),
], ids=['truncated-release', 'foreign-release', 'torchvision-extra',
        'truncated-torchvision'])
def test_truncated_or_foreign_is_refused(resnets, tmp_path, write, patterns):
    src = write(tmp_path / 'bad.pth', resnets[18])
    du.assert_export_refused(src, tmp_path / 'bb.pth', patterns)
