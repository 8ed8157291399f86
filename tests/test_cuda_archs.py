"""mixskd_mm.ops.cuda_archs reads sm_ archs from an ELF's .nv_fatbin.

The shared objects are built here, byte by byte, with the layout nvcc
writes (checked against an ``nvcc -gencode`` build for sm_80/sm_90 with
PTX 90 and against torch's libtorch_cuda.so, whose list held all of
``torch.cuda.get_arch_list()``), so no toolkit or GPU is needed.
"""
import pytest

from mixskd_mm.ops import mmcv_has_cuda_kernels
from mixskd_mm.ops.cuda_archs import (fatbin_entries, kernel_archs,
                                      mmcv_ext_path, ptx_archs)

from fatbin_utils import elf, fatbin


def test_cubins_and_ptx_of_several_containers(tmp_path):
    cubin = b'\x7fELF' + bytes(20)
    so = tmp_path / '_ext.so'
    so.write_bytes(elf([
        (b'.text', b'\x90' * 24),
        (b'.nv_fatbin',
         fatbin([(2, 80, cubin), (2, 90, cubin)]) + bytes(16) +
         fatbin([(1, 90, b'.version 9.0'), (2, 90, cubin)])),
        (b'.data', b'x')]))
    assert list(fatbin_entries(str(so))) == [(2, 80), (2, 90), (1, 90),
                                             (2, 90)]
    assert kernel_archs(str(so)) == ['sm_80', 'sm_90']
    assert ptx_archs(str(so)) == ['compute_90']


def test_relocatable_magic_and_newest_archs(tmp_path):
    so = tmp_path / 'k.o'
    so.write_bytes(elf([(b'.nv_fatbin', fatbin(
        [(2, 120, b'c'), (2, 100, b'c')], magic=0x466243B1))]))
    assert kernel_archs(str(so)) == ['sm_100', 'sm_120']


def test_library_without_device_code_has_none(tmp_path):
    so = tmp_path / 'cpu.so'
    so.write_bytes(elf([(b'.text', b'\x90' * 8), (b'.nv_fatbinx', b'y')]))
    assert kernel_archs(str(so)) == [] and ptx_archs(str(so)) == []


def test_not_an_elf64_is_refused_with_the_fix(tmp_path):
    bad = tmp_path / 'x.so'
    bad.write_bytes(b'MZ' + bytes(100))
    with pytest.raises(ValueError, match='not a little-endian ELF64.*'
                       'cuobjdump --list-elf'):
        kernel_archs(str(bad))


def test_installed_mmcv_agrees_with_its_compiled_cuda_version():
    # Whichever mmcv this machine has: kernels iff it says it was built
    # with CUDA (a CPU set-up's mmcv has no .nv_fatbin at all).
    path = mmcv_ext_path()
    assert path is not None and '_ext' in path
    archs = kernel_archs(path)
    if mmcv_has_cuda_kernels():
        assert archs and all(a.startswith('sm_') for a in archs)
    else:
        assert archs == []
