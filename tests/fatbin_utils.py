"""Byte-level ELF64 shared objects with a .nv_fatbin section, laid out as
nvcc writes them (see tests/test_cuda_archs.py)."""
import struct


def fatbin(entries, magic=0xBA55ED50):
    """One fat binary container of ``(kind, sm, payload)`` entries."""
    body = b''
    for kind, sm, payload in entries:
        payload += b'\0' * (-len(payload) % 8)
        body += (struct.pack('<HHIQ', kind, 0x101, 64, len(payload)) +
                 bytes(12) + struct.pack('<I', sm) + bytes(32) + payload)
    return struct.pack('<IHHQ', magic, 1, 16, len(body)) + body


def elf(sections):
    """A little-endian ELF64 shared object with ``(name, data)`` sections."""
    names = [b''] + [n for n, _ in sections] + [b'.shstrtab']
    strtab, name_offs = b'', []
    for name in names:
        name_offs.append(len(strtab))
        strtab += name + b'\0'
    blobs = [b''] + [d for _, d in sections] + [strtab]
    out, offsets = bytearray(64), []
    for blob in blobs:
        out += b'\0' * (-len(out) % 8)
        offsets.append(len(out))
        out += blob
    out += b'\0' * (-len(out) % 8)
    shoff = len(out)
    for name_off, off, blob in zip(name_offs, offsets, blobs):
        out += struct.pack('<IIQQQQIIQQ', name_off, 1 if blob else 0, 0, 0,
                           off, len(blob), 0, 0, 8, 0)
    out[:64] = (b'\x7fELF' + bytes([2, 1, 1]) + bytes(9) +
                struct.pack('<HHIQQQIHHHHHH', 3, 62, 1, 0, 0, shoff, 0, 64,
                            0, 0, 64, len(blobs), len(blobs) - 1))
    return bytes(out)
