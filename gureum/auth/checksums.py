"""The checksums S3 accepts for uploads (x-amz-checksum-*), computed incrementally.

Values travel as base64 of the big-endian digest. CRC32 comes from zlib and the SHA family
from hashlib. CRC32C and CRC64NVME use awscrt's native code when it is installed and a
table-driven (slicing-by-8) implementation otherwise.
"""

from __future__ import annotations

import base64
import hashlib
import struct
import zlib
from typing import Callable

try:  # optional native implementations (the package botocore[crt] uses)
    from awscrt import checksums as _crt
except ImportError:  # pragma: no cover - depends on the environment
    _crt = None

# x-amz-checksum-<name>: the AWS algorithm name (ChecksumAlgorithm) of each.
ALGORITHMS = {
    "crc32": "CRC32",
    "crc32c": "CRC32C",
    "crc64nvme": "CRC64NVME",
    "sha1": "SHA1",
    "sha256": "SHA256",
    "sha512": "SHA512",
    "md5": "MD5",
}
_DIGEST_SIZES = {"crc32": 4, "crc32c": 4, "crc64nvme": 8, "sha1": 20, "sha256": 32, "sha512": 64, "md5": 16}


def _tables(poly: int, width: int) -> list[list[int]]:
    """Slicing-by-8 tables of a reflected CRC: table[k][b] is b's CRC after k more zero bytes."""
    mask = (1 << width) - 1
    first = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        first.append(crc & mask)
    tables = [first]
    for _ in range(7):
        prev = tables[-1]
        tables.append([(prev[b] >> 8) ^ first[prev[b] & 0xFF] for b in range(256)])
    return tables


_CRC32C_TABLES = _tables(0x82F63B78, 32)
_CRC64NVME_TABLES = _tables(0x9A6C9329AC4BC9B5, 64)


def _crc_update(tables: list[list[int]], crc: int, data: bytes, width: int) -> int:
    """Advance a reflected CRC register (already inverted) over `data`."""
    t0, t1, t2, t3, t4, t5, t6, t7 = tables
    n = len(data)
    end8 = n - n % 8
    view = memoryview(data)
    if width == 32:
        for (word,) in _iter_words(view[:end8]):
            x = crc ^ (word & 0xFFFFFFFF)
            hi = word >> 32
            crc = (
                t7[x & 0xFF] ^ t6[(x >> 8) & 0xFF] ^ t5[(x >> 16) & 0xFF] ^ t4[x >> 24]
                ^ t3[hi & 0xFF] ^ t2[(hi >> 8) & 0xFF] ^ t1[(hi >> 16) & 0xFF] ^ t0[hi >> 24]
            )
    else:
        for (word,) in _iter_words(view[:end8]):
            x = crc ^ word
            crc = (
                t7[x & 0xFF] ^ t6[(x >> 8) & 0xFF] ^ t5[(x >> 16) & 0xFF] ^ t4[(x >> 24) & 0xFF]
                ^ t3[(x >> 32) & 0xFF] ^ t2[(x >> 40) & 0xFF] ^ t1[(x >> 48) & 0xFF] ^ t0[x >> 56]
            )
    for byte in view[end8:]:
        crc = (crc >> 8) ^ t0[(crc ^ byte) & 0xFF]
    return crc


_iter_words = struct.Struct("<Q").iter_unpack


def crc32c(data: bytes, crc: int = 0) -> int:
    """CRC-32C (Castagnoli) of `data`, continuing from a previous result `crc`."""
    if _crt is not None:
        return _crt.crc32c(data, crc)
    return _crc_update(_CRC32C_TABLES, crc ^ 0xFFFFFFFF, data, 32) ^ 0xFFFFFFFF


def crc64nvme(data: bytes, crc: int = 0) -> int:
    """CRC-64/NVME of `data`, continuing from a previous result `crc`."""
    if _crt is not None and hasattr(_crt, "crc64nvme"):
        return _crt.crc64nvme(data, crc)
    mask = 0xFFFFFFFFFFFFFFFF
    return _crc_update(_CRC64NVME_TABLES, crc ^ mask, data, 64) ^ mask


class Checksum:
    """An incremental checksum of one algorithm (the x-amz-checksum-<name> suffix)."""

    __slots__ = ("name", "_update", "_state", "_hash")

    def __init__(self, name: str):
        name = name.lower()
        if name not in ALGORITHMS:
            raise ValueError(f"unsupported checksum algorithm {name!r}")
        self.name = name
        self._hash = None
        self._state = 0
        self._update: Callable[[bytes, int], int] | None = {
            "crc32": zlib.crc32,
            "crc32c": crc32c,
            "crc64nvme": crc64nvme,
        }.get(name)
        if self._update is None:
            self._hash = hashlib.new(name)

    @property
    def algorithm(self) -> str:
        """The AWS name: CRC32, CRC32C, CRC64NVME, SHA1, SHA256, ..."""
        return ALGORITHMS[self.name]

    @property
    def header(self) -> str:
        return f"x-amz-checksum-{self.name}"

    def update(self, data: bytes) -> None:
        if self._update is not None:
            self._state = self._update(data, self._state)
        else:
            self._hash.update(data)

    def digest(self) -> bytes:
        if self._hash is not None:
            return self._hash.digest()
        return self._state.to_bytes(_DIGEST_SIZES[self.name], "big")

    def b64digest(self) -> str:
        return base64.b64encode(self.digest()).decode("ascii")


def is_valid_value(name: str, value: str) -> bool:
    """Whether `value` is base64 of a digest of the right size for algorithm `name`."""
    size = _DIGEST_SIZES.get(name.lower())
    if size is None:
        return False
    try:
        return len(base64.b64decode(value, validate=True)) == size
    except (ValueError, TypeError):
        return False


def checksum_of(name: str, data: bytes) -> str:
    """The base64 checksum of `data` with algorithm `name` (crc32, crc32c, ..., sha256)."""
    checksum = Checksum(name)
    checksum.update(data)
    return checksum.b64digest()
