"""Small GGUF files for tests, written with the `gguf` package (no real weights)."""

from __future__ import annotations

from pathlib import Path

import gguf
import numpy as np

SAMPLE_TENSOR_SHAPES = {
    "token_embd.weight": (32, 8),
    "blk.0.attn_q.weight": (8, 8),
    "output_norm.weight": (8,),
}
"""Tensors of every sample: 256 + 64 + 8 = 328 parameters."""
SAMPLE_N_PARAMS = 328


def write_sample_gguf(
    path: Path,
    *,
    arch: str = "llama",
    name: str | None = "Tiny Test Model",
    chat_template: str | None = "{{ messages }}",
    file_type: int | None = 15,
    n_vocab: int = 100,
    context_length: int = 2048,
    head_count_kv: int | None = 2,
    license: str | None = "mit",
    split_max_tensors: int = 0,
) -> Path:
    """Write a tiny valid GGUF at `path` (or its shards, with split_max_tensors) and return `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(path, arch, split_max_tensors=split_max_tensors)
    if name is not None:
        writer.add_name(name)
    if license is not None:
        writer.add_license(license)
    writer.add_context_length(context_length)
    writer.add_block_count(1)
    writer.add_embedding_length(8)
    writer.add_head_count(4)
    if head_count_kv is not None:
        writer.add_head_count_kv(head_count_kv)
    if file_type is not None:
        writer.add_file_type(file_type)
    if chat_template is not None:
        writer.add_chat_template(chat_template)
    writer.add_token_list([f"tok{i}" for i in range(n_vocab)])
    writer.add_token_scores([0.0] * n_vocab)
    for tensor_name, shape in SAMPLE_TENSOR_SHAPES.items():
        writer.add_tensor(tensor_name, np.ones(shape, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def copy_gguf_with_chat_template(source: Path, dest: Path, chat_template: str) -> Path:
    """Copy the real GGUF `source` to `dest` with its `tokenizer.chat_template` replaced.

    The new template is padded (inside a Jinja comment) to the old one's byte length, so
    every offset in the file stays the same and llama.cpp loads the copy as it loads the
    original. `chat_template` must be shorter than the original by at least 6 bytes.
    """
    reader = gguf.GGUFReader(source)
    field = reader.fields["tokenizer.chat_template"]
    old = bytes(field.parts[field.data[0]])
    new = chat_template.encode()
    if len(new) + 6 > len(old):
        raise ValueError(f"the template must be shorter than {len(old) - 6} bytes")
    new += b"{#" + b" " * (len(old) - len(new) - 4) + b"#}"
    data = source.read_bytes()
    assert data.count(old) == 1, "the old template must occur once in the file"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(data.replace(old, new))
    return dest
