"""The memory-fit estimate and check, on the demo models' metadata and on synthetic files."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from gguf_samples import write_sample_gguf

from engines.models.gguf_info import read_gguf_metadata
from engines.models.memory_fit import (
    BASE_OVERHEAD_BYTES,
    GIB,
    MIB,
    check_memory_fit,
    estimate_memory,
    format_bytes,
    kv_cache_bytes,
)
from engines.types import ModelSettings


def test_kv_cache_of_smollm2(smollm2_path: Path) -> None:
    meta = read_gguf_metadata(smollm2_path)
    # 30 layers, 3 KV heads, head size 576 / 9 = 64: keys and values, f16.
    assert kv_cache_bytes(meta, 2048) == 30 * 2048 * 3 * (64 + 64) * 2
    assert kv_cache_bytes(meta, 2048) == 45 * MIB


def test_kv_cache_of_gemma_uses_its_explicit_head_sizes(gemma_path: Path) -> None:
    meta = read_gguf_metadata(gemma_path)
    # 18 layers, 1 KV head, key and value length 256 (not 640 / 4 = 160).
    assert kv_cache_bytes(meta, 1024) == 18 * 1024 * 1 * (256 + 256) * 2


def test_context_zero_means_the_trained_context(smollm2_path: Path) -> None:
    meta = read_gguf_metadata(smollm2_path)
    assert kv_cache_bytes(meta, 0) == kv_cache_bytes(meta, meta.context_length)


def test_estimate_adds_weights_kv_and_overhead(smollm2_path: Path) -> None:
    meta = read_gguf_metadata(smollm2_path)
    estimate = estimate_memory(meta, 4096)
    assert estimate.weights_bytes == meta.file_size
    assert estimate.kv_cache_bytes == kv_cache_bytes(meta, 4096)
    assert estimate.overhead_bytes > BASE_OVERHEAD_BYTES
    assert (
        estimate.total_bytes
        == estimate.weights_bytes + estimate.kv_cache_bytes + estimate.overhead_bytes
    )
    assert estimate.gpu_bytes == 0 and estimate.ram_bytes == estimate.total_bytes


def test_gpu_layers_move_their_share_to_the_gpu(smollm2_path: Path) -> None:
    meta = read_gguf_metadata(smollm2_path)
    half = estimate_memory(meta, 1024, n_gpu_layers=15)
    every = estimate_memory(meta, 1024, n_gpu_layers=-1)
    assert every.gpu_bytes == every.weights_bytes + every.kv_cache_bytes
    assert half.gpu_bytes == pytest.approx(every.gpu_bytes / 2, rel=0.01)
    assert estimate_memory(meta, 1024, n_gpu_layers=99).gpu_bytes == every.gpu_bytes


def test_a_model_that_fits_passes(smollm2_path: Path) -> None:
    meta = read_gguf_metadata(smollm2_path)
    assert (
        check_memory_fit(
            meta, ModelSettings(path=str(smollm2_path)), ram_available=lambda: 64 * GIB
        )
        is None
    )


def test_too_little_ram_is_refused_with_both_numbers(smollm2_path: Path) -> None:
    meta = read_gguf_metadata(smollm2_path)
    needed = estimate_memory(meta, 4096).ram_bytes
    reason = check_memory_fit(
        meta, ModelSettings(path=str(smollm2_path)), ram_available=lambda: 100 * MIB
    )
    assert reason is not None
    assert reason.startswith("SmolLM2-135M-Instruct.Q4_1.gguf will not fit in RAM")
    assert f"needs about {format_bytes(needed)}, 100 MiB available" in reason
    assert reason.endswith("pass allow_oversize / --force to load anyway")


def test_allow_oversize_skips_the_refusal(smollm2_path: Path) -> None:
    meta = read_gguf_metadata(smollm2_path)
    settings = ModelSettings(path=str(smollm2_path), allow_oversize=True)
    assert check_memory_fit(meta, settings, ram_available=lambda: 1) is None


def test_huge_context_is_what_does_not_fit(tmp_path: Path) -> None:
    meta = read_gguf_metadata(write_sample_gguf(tmp_path / "tiny.gguf"))
    meta = replace(meta, n_layers=80, n_heads=64, n_kv_heads=64, embedding_length=8192)
    estimate = estimate_memory(meta, 131072)
    assert estimate.kv_cache_bytes == 80 * 131072 * 64 * 256 * 2 == 320 * GIB
    reason = check_memory_fit(
        meta, ModelSettings(path=meta.path, n_ctx=131072), ram_available=lambda: 32 * GIB
    )
    assert reason is not None and "KV cache 320.0 GiB for a 131072-token context" in reason


def test_gpu_memory_is_checked_only_with_gpu_layers(smollm2_path: Path) -> None:
    meta = read_gguf_metadata(smollm2_path)
    tiny_gpu = lambda: 10 * MIB  # noqa: E731
    plenty = lambda: 64 * GIB  # noqa: E731
    on_cpu = ModelSettings(path=str(smollm2_path), n_gpu_layers=0)
    on_gpu = ModelSettings(path=str(smollm2_path), n_gpu_layers=-1)
    assert check_memory_fit(meta, on_cpu, plenty, tiny_gpu) is None
    reason = check_memory_fit(meta, on_gpu, plenty, tiny_gpu)
    assert reason is not None and "will not fit in GPU memory" in reason and "10 MiB free" in reason
    assert check_memory_fit(meta, on_gpu, plenty, lambda: None) is None  # no NVML: not checked


def test_metadata_without_a_shape_estimates_no_kv_cache(tmp_path: Path) -> None:
    meta = read_gguf_metadata(write_sample_gguf(tmp_path / "tiny.gguf"))
    assert kv_cache_bytes(replace(meta, n_heads=None), 4096) == 0


def test_format_bytes() -> None:
    assert format_bytes(5 * GIB + GIB // 10) == "5.1 GiB"
    assert format_bytes(300 * MIB) == "300 MiB"
