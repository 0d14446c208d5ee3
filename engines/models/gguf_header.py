"""The raw GGUF header: key/value pairs and tensor infos, parsed with `struct` from a window.

Layout, as ggml's GGUF specification gives it: the magic `GGUF`, a
version, the tensor and key/value counts, the key/value section, then one info record per
tensor (name, shape, type, data offset). Large arrays (a tokenizer's vocabulary: 262k
strings for Gemma 3) are skipped without building a Python object per element, so a
header is read in milliseconds and the weights are never touched. Both byte orders.

`engines.models.gguf_info` turns this into what a model is; this module only reads bytes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any, BinaryIO

GGUF_MAGIC = b"GGUF"
SUPPORTED_VERSIONS = (2, 3)
"""Version 1 (32-bit counts and string lengths) is refused, as llama.cpp refuses it."""
_KNOWN_VERSIONS = (1, *SUPPORTED_VERSIONS)
"""Versions that tell the byte order (a refused version 1 is still named as such)."""
DEFAULT_ALIGNMENT = 32
"""Where the tensor data starts: the end of the header rounded up to `general.alignment`."""
SMALL_ARRAY_LIMIT = 64
"""Arrays with more elements than this are skipped, not kept (tokenizer vocabularies)."""

_WINDOW = 1 << 20

# GGUF value types (gguf.md): id → struct format of one scalar.
_SCALAR_FORMATS = {
    0: "B",
    1: "b",
    2: "H",
    3: "h",
    4: "I",
    5: "i",
    6: "f",
    7: "?",
    10: "Q",
    11: "q",
    12: "d",
}
_STRING, _ARRAY = 8, 9

# ggml_type id → (elements per block, bytes per block), as the gguf package's GGML_QUANT_SIZES.
_TYPE_SIZES = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34),
    9: (32, 40), 10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210),
    15: (256, 292), 16: (256, 66), 17: (256, 74), 18: (256, 98), 19: (256, 50), 20: (32, 18),
    21: (256, 110), 22: (256, 82), 23: (256, 136), 24: (1, 1), 25: (1, 2), 26: (1, 4),
    27: (1, 8), 28: (1, 8), 29: (256, 56), 30: (1, 2), 34: (256, 54), 35: (256, 66),
    39: (32, 17),
}  # fmt: skip


@dataclass(frozen=True)
class TensorInfo:
    """One tensor's name, element count (product of its dimensions) and ggml type id."""

    name: str
    n_elements: int
    type_id: int
    offset: int = 0
    """Where its data starts, in bytes from the start of the data section."""

    @property
    def n_bytes(self) -> int | None:
        """Bytes of data, None for a type this reader does not know."""
        sizes = _TYPE_SIZES.get(self.type_id)
        if sizes is None:
            return None
        block_elements, block_bytes = sizes
        return -(-self.n_elements // block_elements) * block_bytes


@dataclass(frozen=True)
class GGUFHeader:
    """The key/value pairs (large arrays as SkippedArray) and the tensor infos of one file."""

    version: int
    kv: dict[str, Any]
    tensors: tuple[TensorInfo, ...]
    data_offset: int = 0
    """Where the tensor data section starts (the header's end, aligned)."""

    @property
    def data_end(self) -> int | None:
        """The byte the last tensor's data ends at: the least size a whole file has.
        None when a tensor's type is unknown (its size cannot be told)."""
        end = self.data_offset
        for tensor in self.tensors:
            n_bytes = tensor.n_bytes
            if n_bytes is None:
                return None
            end = max(end, self.data_offset + tensor.offset + n_bytes)
        return end


@dataclass(frozen=True)
class SkippedArray:
    """A large array that was skipped; only its length is kept."""

    length: int


class HeaderTruncated(Exception):
    """The file ended before the header did."""


class HeaderCorrupt(Exception):
    """A header value that cannot be right (message says which)."""


class NotGGUF(Exception):
    """The file does not start with the GGUF magic; `head` holds its first bytes."""

    def __init__(self, head: bytes) -> None:
        super().__init__("not a GGUF file")
        self.head = head


class UnsupportedVersion(Exception):
    """A GGUF version this reader does not know."""

    def __init__(self, version: int) -> None:
        super().__init__(f"unsupported GGUF version {version}")
        self.version = version


class _Cursor:
    """Reads little- or big-endian values from a file through a sliding in-memory window."""

    def __init__(self, stream: BinaryIO, file_size: int) -> None:
        self._stream = stream
        self.file_size = file_size
        self._buf = b""
        self._pos = 0
        self._buf_start = 0
        self.endian = "<"

    @property
    def offset(self) -> int:
        return self._buf_start + self._pos

    def _ensure(self, n: int) -> None:
        if self._pos + n <= len(self._buf):
            return
        if self.offset + n > self.file_size:
            raise HeaderTruncated
        rest = self._buf[self._pos :]
        self._buf_start = self.offset
        self._stream.seek(self._buf_start + len(rest))
        self._buf = rest + self._stream.read(max(n - len(rest), _WINDOW))
        self._pos = 0
        if len(self._buf) < n:
            raise HeaderTruncated

    def read(self, n: int) -> bytes:
        self._ensure(n)
        data = self._buf[self._pos : self._pos + n]
        self._pos += n
        return data

    def unpack(self, fmt: str) -> Any:
        size = struct.calcsize(fmt)
        self._ensure(size)
        (value,) = struct.unpack_from(self.endian + fmt, self._buf, self._pos)
        self._pos += size
        return value

    def skip(self, n: int) -> None:
        if self.offset + n > self.file_size:
            raise HeaderTruncated
        if self._pos + n <= len(self._buf):
            self._pos += n
        else:
            self._buf_start = self.offset + n
            self._buf, self._pos = b"", 0

    def string(self) -> str:
        length = self.unpack("Q")
        if length > self.file_size:
            raise HeaderTruncated
        return self.read(length).decode("utf-8", errors="replace")

    def skip_strings(self, count: int) -> None:
        """Skip `count` length-prefixed strings without decoding them (vocabularies).

        The hot loop walks the in-memory window directly; it refills only at its edge.
        """
        unpack_length = struct.Struct(self.endian + "Q").unpack_from
        remaining = count
        while remaining:
            buf, pos, end = self._buf, self._pos, len(self._buf)
            while remaining and pos + 8 <= end:
                (length,) = unpack_length(buf, pos)
                if pos + 8 + length > end:
                    break
                pos += 8 + length
                remaining -= 1
            self._pos = pos
            if remaining:
                self._ensure(8)
                (length,) = unpack_length(self._buf, self._pos)
                self._pos += 8
                self.skip(length)
                remaining -= 1


def parse_header(stream: BinaryIO, file_size: int) -> GGUFHeader:
    """Parse the header of the GGUF file open in `stream` (binary, seekable) of `file_size` bytes.

    Raises NotGGUF, UnsupportedVersion, HeaderTruncated or HeaderCorrupt; OSError from reading.
    """
    if file_size < len(GGUF_MAGIC):
        raise NotGGUF(stream.read())
    cursor = _Cursor(stream, file_size)
    if cursor.read(len(GGUF_MAGIC)) != GGUF_MAGIC:
        stream.seek(0)
        raise NotGGUF(stream.read(64))
    version = cursor.unpack("I")
    swapped = struct.unpack(">I", struct.pack("<I", version))[0]
    if version not in _KNOWN_VERSIONS and swapped in _KNOWN_VERSIONS:
        cursor.endian = ">"
        version = swapped
    if version not in SUPPORTED_VERSIONS:
        raise UnsupportedVersion(version)
    n_tensors, n_kv = cursor.unpack("Q"), cursor.unpack("Q")
    if n_tensors > cursor.file_size or n_kv > cursor.file_size:
        raise HeaderCorrupt(f"{n_tensors} tensors, {n_kv} keys")
    kv: dict[str, Any] = {}
    for _ in range(n_kv):
        key = cursor.string()
        kv[key] = _read_value(cursor, cursor.unpack("I"))
    tensors = []
    for _ in range(n_tensors):
        name = cursor.string()
        n_dims = cursor.unpack("I")
        if n_dims > 8:
            raise HeaderCorrupt(f"tensor {name!r} has {n_dims} dimensions")
        n_elements = 1
        for _dim in range(n_dims):
            n_elements *= cursor.unpack("Q")
        type_id = cursor.unpack("I")
        offset = cursor.unpack("Q")
        tensors.append(TensorInfo(name, n_elements, type_id, offset))
    alignment = kv.get("general.alignment", DEFAULT_ALIGNMENT)
    if not isinstance(alignment, int) or isinstance(alignment, bool) or alignment < 1:
        raise HeaderCorrupt(f"general.alignment is {alignment!r}")
    data_offset = -(-cursor.offset // alignment) * alignment
    return GGUFHeader(version, kv, tuple(tensors), data_offset)


def _read_value(cursor: _Cursor, type_id: int) -> Any:
    if type_id in _SCALAR_FORMATS:
        return cursor.unpack(_SCALAR_FORMATS[type_id])
    if type_id == _STRING:
        return cursor.string()
    if type_id == _ARRAY:
        item_type = cursor.unpack("I")
        count = cursor.unpack("Q")
        if count > cursor.file_size:
            raise HeaderTruncated
        if count <= SMALL_ARRAY_LIMIT:
            return [_read_value(cursor, item_type) for _ in range(count)]
        if item_type in _SCALAR_FORMATS:
            cursor.skip(count * struct.calcsize(_SCALAR_FORMATS[item_type]))
        elif item_type == _STRING:
            cursor.skip_strings(count)
        else:
            for _ in range(count):
                _read_value(cursor, item_type)
        return SkippedArray(count)
    raise HeaderCorrupt(f"unknown value type {type_id}")
