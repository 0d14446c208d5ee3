"""GGUF header reading: the real demo models, tiny written files, and broken files."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from gguf_samples import SAMPLE_N_PARAMS, write_sample_gguf

from engines.models.gguf_info import GGUFError, GGUFMetadata, read_gguf_metadata, shard_paths_of


def test_smollm2_header(smollm2_path: Path) -> None:
    meta = read_gguf_metadata(smollm2_path)
    assert meta.architecture == "llama"
    assert meta.quantization == "Q4_1"
    assert meta.has_chat_template is True
    assert meta.context_length == 8192
    assert (meta.n_layers, meta.n_heads, meta.n_kv_heads, meta.embedding_length) == (30, 9, 3, 576)
    assert 130e6 < meta.n_params < 140e6  # "135M"
    assert meta.file_size == smollm2_path.stat().st_size
    assert meta.license == "apache-2.0"
    assert meta.shard_paths == (str(smollm2_path),)
    assert meta.tensor_count == 272


def test_gemma_header_is_a_base_model_with_explicit_head_sizes(gemma_path: Path) -> None:
    meta = read_gguf_metadata(gemma_path)
    assert meta.architecture == "gemma3"
    assert meta.name == "Gemma 3 270m"
    assert meta.quantization == "Q4_K_M"
    assert meta.has_chat_template is False
    assert meta.context_length == 32768
    assert (meta.n_layers, meta.n_heads, meta.n_kv_heads) == (18, 4, 1)
    assert (meta.key_length, meta.value_length) == (256, 256)
    assert 260e6 < meta.n_params < 280e6  # "270M"
    assert meta.license == "gemma"


def test_reading_a_large_vocabulary_reads_little_of_the_file(
    gemma_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Gemma's 262k-token vocabulary is skipped, and the 250 MB of weights are never read.

    (Speed is measured in benchmarks/gguf_header.py, not asserted here: the CI box is shared.)
    """
    bytes_read = 0
    real_open = Path.open

    def counting_open(self: Path, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        stream = real_open(self, *args, **kwargs)
        real_read = stream.read

        def read(n: int = -1) -> bytes:
            nonlocal bytes_read
            data = real_read(n)
            bytes_read += len(data)
            return data

        stream.read = read  # type: ignore[method-assign]
        return stream

    monkeypatch.setattr(Path, "open", counting_open)
    read_gguf_metadata(gemma_path)
    assert 0 < bytes_read < gemma_path.stat().st_size / 20


def test_sample_file_fields(tmp_path: Path) -> None:
    path = write_sample_gguf(tmp_path / "tiny.gguf", file_type=3, license="mit")
    meta = read_gguf_metadata(path)
    assert meta == GGUFMetadata(
        path=str(path),
        shard_paths=(str(path),),
        file_size=path.stat().st_size,
        name="Tiny Test Model",
        architecture="llama",
        n_params=SAMPLE_N_PARAMS,
        quantization="Q4_1",
        context_length=2048,
        n_layers=1,
        n_heads=4,
        n_kv_heads=2,
        embedding_length=8,
        key_length=None,
        value_length=None,
        has_chat_template=True,
        license="mit",
        tensor_count=3,
    )
    assert json.loads(json.dumps(meta.to_dict()))["shard_paths"] == [str(path)]


def test_missing_optional_keys_fall_back(tmp_path: Path) -> None:
    """No name, file type, chat template or KV head count: sensible defaults, no crash."""
    path = write_sample_gguf(
        tmp_path / "bare.gguf",
        name=None,
        file_type=None,
        chat_template=None,
        head_count_kv=None,
        license=None,
    )
    meta = read_gguf_metadata(path)
    assert meta.name is None and meta.license is None
    assert meta.has_chat_template is False
    assert meta.n_kv_heads == meta.n_heads == 4
    assert meta.quantization == "F32"  # the dominant tensor type: every sample tensor is F32


def test_large_string_arrays_are_skipped_not_kept(tmp_path: Path) -> None:
    path = write_sample_gguf(tmp_path / "vocab.gguf", n_vocab=5000)
    assert read_gguf_metadata(path).n_params == SAMPLE_N_PARAMS


def test_sharded_model_reads_as_one(tmp_path: Path) -> None:
    write_sample_gguf(tmp_path / "big.gguf", split_max_tensors=1)
    shards = sorted(tmp_path.glob("big-*.gguf"))
    assert [s.name for s in shards] == [f"big-0000{i}-of-00003.gguf" for i in (1, 2, 3)]
    meta = read_gguf_metadata(shards[0])
    assert meta.shard_paths == tuple(str(s) for s in shards)
    assert meta.file_size == sum(s.stat().st_size for s in shards)
    assert meta.tensor_count == 3
    assert meta.n_params == SAMPLE_N_PARAMS
    assert shard_paths_of(shards[2]) == shards


def test_missing_shard_is_named(tmp_path: Path) -> None:
    write_sample_gguf(tmp_path / "big.gguf", split_max_tensors=1)
    (tmp_path / "big-00002-of-00003.gguf").unlink()
    with pytest.raises(GGUFError, match="shard big-00002-of-00003.gguf .* missing"):
        read_gguf_metadata(tmp_path / "big-00001-of-00003.gguf")


def _one_line(error: pytest.ExceptionInfo[GGUFError], path: Path) -> str:
    message = str(error.value)
    assert "\n" not in message and str(path) in message
    return message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "empty file"),
        (b"GG", "not a GGUF file"),
        (b"hello world, this is text\n", "looks like a text file"),
        (
            struct.pack("<Q", 40) + b'{"__metadata__":{},"a":{"dtype":"F16"}}' + b"\0" * 64,
            "safetensors",
        ),
        (b"PK\x03\x04" + b"\0" * 60, "zip archive"),
        (b"version https://git-lfs.github.com/spec/v1\noid sha256:abc\n", "Git LFS pointer"),
        (b"GGUF" + struct.pack("<I", 99) + b"\0" * 16, "unsupported GGUF version 99"),
        (b"GGUF" + struct.pack("<I", 3) + b"\0" * 3, "truncated"),
    ],
)
def test_broken_files_get_one_line_messages(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "model.gguf"
    path.write_bytes(content)
    with pytest.raises(GGUFError) as error:
        read_gguf_metadata(path)
    assert expected in _one_line(error, path)


def test_every_truncation_point_is_a_gguf_error(tmp_path: Path) -> None:
    """Cut a valid file at many points inside its header: always GGUFError, never struct.error."""
    whole = write_sample_gguf(tmp_path / "whole.gguf").read_bytes()
    header_end = whole.index(b"output_norm.weight") + len(b"output_norm.weight") + 4 + 8 + 4 + 8
    cut = tmp_path / "cut.gguf"
    for length in range(5, header_end, 7):
        cut.write_bytes(whole[:length])
        with pytest.raises(GGUFError) as error:
            read_gguf_metadata(cut)
        assert "truncated" in _one_line(error, cut)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(GGUFError, match="no such file"):
        read_gguf_metadata(tmp_path / "nope.gguf")
    with pytest.raises(GGUFError, match="is a directory"):
        read_gguf_metadata(tmp_path)


def test_tilde_is_expanded(isolated_dirs: Path) -> None:
    write_sample_gguf(isolated_dirs / "models" / "m.gguf")
    assert read_gguf_metadata("~/models/m.gguf").n_params == SAMPLE_N_PARAMS


def test_big_endian_file(tmp_path: Path) -> None:
    import gguf
    import numpy as np

    path = tmp_path / "be.gguf"
    writer = gguf.GGUFWriter(path, "llama", endianess=gguf.GGUFEndian.BIG)
    writer.add_name("Big Endian")
    writer.add_context_length(1024)
    writer.add_tensor("w", np.ones((4, 4), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    meta = read_gguf_metadata(path)
    assert (meta.name, meta.context_length, meta.n_params) == ("Big Endian", 1024, 16)
