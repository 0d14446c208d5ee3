"""What a GGUF model is, read from its header without loading (or reading) the weights.

The bytes are parsed by `engines.models.gguf_header` (a few milliseconds even for Gemma 3's
262k-token vocabulary); this module turns the keys and tensor infos into a
`GGUFMetadata` and every problem into a one-line `GGUFError`.

Sharded models (`NAME-00001-of-00003.gguf`) are read as one: the metadata comes from the
first shard, sizes and tensors from all of them.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from engines.models.gguf_header import (
    SUPPORTED_VERSIONS,
    GGUFHeader,
    HeaderCorrupt,
    HeaderTruncated,
    NotGGUF,
    TensorInfo,
    UnsupportedVersion,
    parse_header,
)
from engines.paths import file_kind

SHARD_PATTERN = re.compile(r"^(?P<stem>.*)-(?P<index>\d{5})-of-(?P<count>\d{5})\.gguf$", re.I)
"""A shard's file name, as llama.cpp's gguf-split writes it."""

# llama.cpp's llama_ftype (general.file_type) → quantization name. Unknown ids fall back to the
# gguf package's table, then to the dominant tensor type.
_FILE_TYPES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
    11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S",
    17: "Q5_K_M", 18: "Q6_K", 19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS",
    23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL", 26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S",
    29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16", 36: "TQ1_0", 37: "TQ2_0",
    38: "MXFP4_MOE",
}  # fmt: skip

# ggml_type (a tensor's type) → name.
_TENSOR_TYPES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 9: "Q8_1",
    10: "Q2_K", 11: "Q3_K", 12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 15: "Q8_K", 16: "IQ2_XXS",
    17: "IQ2_XS", 18: "IQ3_XXS", 19: "IQ1_S", 20: "IQ4_NL", 21: "IQ3_S", 22: "IQ2_S",
    23: "IQ4_XS", 24: "I8", 25: "I16", 26: "I32", 27: "I64", 28: "F64", 29: "IQ1_M",
    30: "BF16", 34: "TQ1_0", 35: "TQ2_0", 39: "MXFP4",
}  # fmt: skip


class GGUFError(ValueError):
    """A file that cannot be read as GGUF.

    str(e) is one line naming the file and the problem: missing, a directory, empty,
    truncated, not a GGUF file (with what it looks like, where easy to tell), unsupported
    GGUF version.
    """


@dataclass(frozen=True)
class GGUFMetadata:
    """What a GGUF model is, from its header."""

    path: str
    """The file given (the first shard of a sharded model)."""
    shard_paths: tuple[str, ...]
    """Every shard, in order (one element when not sharded)."""
    file_size: int
    """Bytes, all shards together."""
    name: str | None
    """`general.name`."""
    architecture: str | None
    """`general.architecture` (llama, gemma3, qwen2, …)."""
    n_params: int | None
    """`general.parameter_count` when present, else the sum of the tensors' element counts."""
    quantization: str | None
    """E.g. "Q4_K_M": from `general.file_type`, else the type holding most weights."""
    context_length: int | None
    """Trained context length (`{arch}.context_length`)."""
    n_layers: int | None
    """`{arch}.block_count`."""
    n_heads: int | None
    """`{arch}.attention.head_count`."""
    n_kv_heads: int | None
    """`{arch}.attention.head_count_kv`, defaulting to n_heads (no grouped-query attention)."""
    embedding_length: int | None
    """`{arch}.embedding_length`."""
    key_length: int | None
    """`{arch}.attention.key_length`, None when absent (then embedding_length / n_heads)."""
    value_length: int | None
    """`{arch}.attention.value_length`, None when absent."""
    has_chat_template: bool
    """Whether `tokenizer.chat_template` is present (chat models) or not (base models)."""
    license: str | None
    """`general.license`, where the converter wrote it."""
    tensor_count: int
    """Tensors, all shards together."""
    missing_bytes: int = 0
    """Bytes the tensor data needs past the end of its file(s): 0 for a whole model, more for
    one cut short (an interrupted copy). The header reads fine then; llama.cpp refuses the
    file at load time, so listings say so up front (`truncation_problem`)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (shard_paths as a list)."""
        data = asdict(self)
        data["shard_paths"] = list(self.shard_paths)
        return data


def read_gguf_metadata(path: str | os.PathLike[str]) -> GGUFMetadata:
    """Read what a GGUF model is from its header (all shards of a sharded model).

    Raises GGUFError with a one-line message for anything that is not a readable GGUF file.
    """
    first = Path(path).expanduser()
    shards = _shard_paths(first)
    headers = [_read_header(shard) for shard in shards]
    kv = headers[0].kv
    tensors = [tensor for header in headers for tensor in header.tensors]
    arch = _as_str(kv.get("general.architecture"))

    def arch_int(key: str) -> int | None:
        return _as_int(kv.get(f"{arch}.{key}")) if arch else None

    n_heads = arch_int("attention.head_count")
    n_kv_heads = arch_int("attention.head_count_kv")
    counted_params = sum(tensor.n_elements for tensor in tensors)
    return GGUFMetadata(
        path=str(first),
        shard_paths=tuple(str(shard) for shard in shards),
        file_size=sum(shard.stat().st_size for shard in shards),
        name=_as_str(kv.get("general.name")),
        architecture=arch,
        n_params=_as_int(kv.get("general.parameter_count")) or (counted_params or None),
        quantization=_quantization(kv, tensors),
        context_length=arch_int("context_length"),
        n_layers=arch_int("block_count"),
        n_heads=n_heads,
        n_kv_heads=n_kv_heads if n_kv_heads is not None else n_heads,
        embedding_length=arch_int("embedding_length"),
        key_length=arch_int("attention.key_length"),
        value_length=arch_int("attention.value_length"),
        has_chat_template=bool(kv.get("tokenizer.chat_template")),
        license=_as_str(kv.get("general.license")),
        tensor_count=len(tensors),
        missing_bytes=sum(
            _missing_bytes(header, shard.stat().st_size)
            for header, shard in zip(headers, shards, strict=True)
        ),
    )


def _missing_bytes(header: GGUFHeader, size: int) -> int:
    needed = header.data_end
    return max(0, needed - size) if needed is not None else 0


def truncation_problem(metadata: GGUFMetadata) -> str | None:
    """One line when the model's tensor data runs past the end of its file(s), else None."""
    if not metadata.missing_bytes:
        return None
    size = metadata.file_size
    return (
        f"{metadata.path}: truncated GGUF file ({size:,} bytes; its tensors need "
        f"{size + metadata.missing_bytes:,}): an interrupted download or copy?"
    )


def shard_paths_of(path: str | os.PathLike[str]) -> list[Path]:
    """All shards of the model whose file (any shard) is `path`, in order; [path] if not sharded.

    Does not check that they exist.
    """
    path = Path(path)
    match = SHARD_PATTERN.match(path.name)
    if not match:
        return [path]
    stem, count = match["stem"], int(match["count"])
    return [
        path.with_name(f"{stem}-{index:05d}-of-{count:05d}.gguf") for index in range(1, count + 1)
    ]


def _shard_paths(first: Path) -> list[Path]:
    shards = shard_paths_of(first)
    for shard in shards:
        if not shard.exists():
            if shard == first:
                raise GGUFError(f"{first}: no such file")
            raise GGUFError(f"{first}: shard {shard.name} of this sharded model is missing")
    return shards


def _read_header(path: Path) -> GGUFHeader:
    """The header of one file, checked against the file's size. A directory, FIFO, device or
    socket is refused from its `stat`, never opened (a FIFO would block, a device never end)."""
    try:
        info = path.stat()
    except PermissionError:
        raise GGUFError(f"{path}: permission denied") from None
    except OSError as exc:
        raise GGUFError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if stat.S_ISDIR(info.st_mode):
        raise GGUFError(f"{path}: is a directory, not a GGUF file")
    if not stat.S_ISREG(info.st_mode):
        raise GGUFError(f"{path}: is {file_kind(info.st_mode)}, not a GGUF file")
    size = info.st_size
    if size == 0:
        raise GGUFError(f"{path}: empty file, not a GGUF model")
    try:
        with path.open("rb") as stream:
            header = parse_header(stream, size)
    except NotGGUF as exc:
        raise GGUFError(f"{path}: not a GGUF file ({_looks_like(exc.head)})") from None
    except UnsupportedVersion as exc:
        raise GGUFError(f"{path}: {_version_problem(exc.version)}") from None
    except HeaderTruncated:
        raise GGUFError(f"{path}: truncated GGUF file (it ends inside the header)") from None
    except HeaderCorrupt as exc:
        raise GGUFError(f"{path}: corrupt GGUF header ({exc})") from None
    except PermissionError:
        raise GGUFError(f"{path}: permission denied") from None
    except OSError as exc:
        raise GGUFError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return header


def _version_problem(version: int) -> str:
    if version == 1:
        return (
            "GGUF version 1 is no longer supported (llama.cpp refuses it too); "
            "convert the model again with a current llama.cpp"
        )
    supported = f"{SUPPORTED_VERSIONS[0]} to {SUPPORTED_VERSIONS[-1]}"
    return f"unsupported GGUF version {version} (llmbench reads versions {supported})"


def _quantization(kv: dict[str, Any], tensors: list[TensorInfo]) -> str | None:
    file_type = _as_int(kv.get("general.file_type"))
    if file_type is not None:
        name = _FILE_TYPES.get(file_type) or _gguf_enum_name("LlamaFileType", file_type)
        if name:
            return name.removeprefix("MOSTLY_").removeprefix("ALL_")
    return _dominant_tensor_type(tensors)


def _dominant_tensor_type(tensors: list[TensorInfo]) -> str | None:
    """The tensor type holding the most weights among the matrices (F32 norms ignored)."""
    weights: dict[int, int] = {}
    for tensor in tensors:
        weights[tensor.type_id] = weights.get(tensor.type_id, 0) + tensor.n_elements
    if not weights:
        return None
    matrices = {type_id: n for type_id, n in weights.items() if type_id != 0} or weights
    type_id = max(matrices, key=matrices.__getitem__)
    return (
        _TENSOR_TYPES.get(type_id)
        or _gguf_enum_name("GGMLQuantizationType", type_id)
        or f"type {type_id}"
    )


def _gguf_enum_name(enum_name: str, value: int) -> str | None:
    """A name from the gguf package's tables, for ids newer than ours (imports numpy; rare)."""
    try:
        import gguf.constants

        return getattr(gguf.constants, enum_name)(value).name
    except (ImportError, ValueError, AttributeError):
        return None


def _looks_like(head: bytes) -> str:
    """A few words on what a non-GGUF file seems to be."""
    if head.startswith(b"PK\x03\x04"):
        return "it looks like a zip archive (a PyTorch .bin/.pt checkpoint?)"
    if head.startswith(b"\x80") and len(head) > 1 and head[1] <= 5:
        return "it looks like a Python pickle (a PyTorch checkpoint?)"
    if head.startswith(b"\x89HDF"):
        return "it looks like an HDF5 file"
    if len(head) >= 9 and head[8:9] == b"{" and b'"' in head[8:]:
        return "it looks like a safetensors file; convert it with llama.cpp's convert_hf_to_gguf.py"
    if head.startswith(b"version https://git-lfs"):
        return "it is a Git LFS pointer, not the model itself; run `git lfs pull`"
    if head.startswith((b"<!DOCTYPE", b"<html", b"<HTML")):
        return "it looks like an HTML page (a failed download?)"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return f"it starts with bytes {head[:4]!r}"
    if text.lstrip().startswith(("{", "[")):
        return "it looks like a JSON text file"
    return "it looks like a text file"


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def _as_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
