"""Which GPU architectures a shared object carries CUDA kernels for.

nvcc puts the device code of a host library into its ``.nv_fatbin`` ELF
section: one or more fat binary containers (magic ``0xBA55ED50``), each a
run of entries with a 64-byte-or-longer header that names the entry's kind
(1: PTX, 2: cubin, i.e. SASS for one architecture) and its SM number, then
the (possibly compressed) payload. Reading those headers answers "does this
mmcv/_ext*.so have kernels for sm_90" with no GPU, no driver and no CUDA
toolkit, the way ``cuobjdump --list-elf`` would.

Only little-endian ELF64 (the x86_64 and aarch64 Linux wheels) is read.
"""
import importlib.util
import mmap
import struct
from typing import Iterator, List, Optional, Tuple

FATBIN_MAGICS = (0xBA55ED50, 0x466243B1)
KIND_PTX, KIND_CUBIN = 1, 2
_ELF_MAGIC = b'\x7fELF'


def _section(data, name: bytes) -> Optional[Tuple[int, int]]:
    """``(offset, size)`` of the section called ``name``, or None."""
    if data[:4] != _ELF_MAGIC or data[4] != 2 or data[5] != 1:
        raise ValueError('not a little-endian ELF64 file (what Linux '
                         'x86_64/aarch64 wheels hold): cannot read its CUDA '
                         'architectures; run cuobjdump --list-elf on it '
                         'instead')
    shoff, = struct.unpack_from('<Q', data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from('<HHH', data, 0x3A)

    def header(i):  # sh_name, sh_link, sh_offset, sh_size
        base = shoff + i * shentsize
        name_off, = struct.unpack_from('<I', data, base)
        offset, size = struct.unpack_from('<QQ', data, base + 0x18)
        link, = struct.unpack_from('<I', data, base + 0x28)
        return name_off, link, offset, size

    if shoff == 0:
        return None
    # Over 0xff00 sections: the counts live in section 0 (ELF spec).
    if shnum == 0:
        shnum = header(0)[3]
    if shstrndx == 0xFFFF:
        shstrndx = header(0)[1]
    _, _, str_off, _ = header(shstrndx)
    for i in range(shnum):
        name_off, _, offset, size = header(i)
        start = str_off + name_off
        if data[start:start + len(name) + 1] == name + b'\0':
            return offset, size
    return None


def fatbin_entries(path: str) -> Iterator[Tuple[int, int]]:
    """``(kind, sm)`` of every fat binary entry in ``path``'s .nv_fatbin.

    Yields nothing for a library without device code (a CPU-only mmcv).

    Raises:
        ValueError: ``path`` is not a little-endian ELF64 file.
    """
    with open(path, 'rb') as f, \
            mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        found = _section(data, b'.nv_fatbin')
        if found is None:
            return
        pos, end = found[0], found[0] + found[1]
        while pos + 16 <= end:
            magic, _, head, size = struct.unpack_from('<IHHQ', data, pos)
            if magic not in FATBIN_MAGICS:
                pos += 8  # containers are 8-byte aligned, zero-padded
                continue
            entry, stop = pos + head, min(pos + head + size, end)
            while entry + 32 <= stop:
                kind, _, entry_head, payload = struct.unpack_from(
                    '<HHIQ', data, entry)
                sm, = struct.unpack_from('<I', data, entry + 28)
                yield kind, sm
                if entry_head == 0:
                    break
                entry += entry_head + payload
            pos = stop


def kernel_archs(path: str) -> List[str]:
    """Distinct ``sm_XX`` that ``path`` has compiled kernels (cubins) for."""
    sms = {sm for kind, sm in fatbin_entries(path) if kind == KIND_CUBIN}
    return [f'sm_{sm}' for sm in sorted(sms)]


def ptx_archs(path: str) -> List[str]:
    """Distinct ``compute_XX`` that ``path`` carries PTX for (JIT-compiled
    by the driver for that and newer GPUs)."""
    sms = {sm for kind, sm in fatbin_entries(path) if kind == KIND_PTX}
    return [f'compute_{sm}' for sm in sorted(sms)]


def mmcv_ext_path() -> Optional[str]:
    """Path of the installed ``mmcv/_ext*.so``, or None without one (an
    mmcv-lite, or no mmcv). Finding it imports only the ``mmcv`` package."""
    try:
        spec = importlib.util.find_spec('mmcv._ext')
    except ImportError:
        return None
    return spec.origin if spec is not None else None
