"""Will this model fit? An estimate of what loading it needs, checked before loading.

A model that does not fit does not fail politely: the machine swaps until it is
unusable, or the kernel kills the worker. So before a worker loads a model, the parent
estimates what it needs and compares it with what is free:

- weights: the file's size (all shards). llama.cpp maps the file; every byte of it ends
  up resident while generating;
- KV cache: 2 (keys and values) × layers × context × KV heads × head size × 2 bytes (f16);
- a modest overhead for llama.cpp's compute buffers and the worker process itself.

With GPU layers, the offloaded share of the weights and KV cache is checked against free
GPU memory (NVML) instead of RAM, where NVML can see the GPUs. The estimate is
deliberately simple: it is a guard against the obviously impossible, not a planner.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil

from engines.models.gguf_info import GGUFMetadata
from engines.types import ModelSettings
from engines.units import GIB, MIB

KV_BYTES_PER_VALUE = 2
"""llama.cpp's default KV cache type is f16."""
BASE_OVERHEAD_BYTES = 160 * MIB
"""The worker process (Python, llama-cpp-python) and llama.cpp's compute buffers."""
OVERHEAD_FRACTION = 0.10
"""Compute buffers and allocator slack grow with the model; this share of the weights."""
FORCE_HINT = "pass allow_oversize / --force to load anyway"


@dataclass(frozen=True)
class MemoryEstimate:
    """What loading a model with given settings needs, in bytes."""

    weights_bytes: int
    kv_cache_bytes: int
    overhead_bytes: int
    gpu_bytes: int = 0
    """The part that goes to GPU memory (offloaded layers' weights and KV cache)."""
    n_ctx: int = 0
    """The context size the KV cache was sized for."""

    @property
    def total_bytes(self) -> int:
        return self.weights_bytes + self.kv_cache_bytes + self.overhead_bytes

    @property
    def ram_bytes(self) -> int:
        """The part that stays in RAM."""
        return self.total_bytes - self.gpu_bytes


def available_ram_bytes() -> int:
    """RAM the system can give a new process without swapping (psutil's `available`)."""
    return int(psutil.virtual_memory().available)


def free_gpu_bytes() -> int | None:
    """Free memory over all NVIDIA GPUs (NVML), or None where none can be read."""
    from engines.machine.gpus import default_gpus

    free = [value for value in default_gpus().free_memory_bytes() if value is not None]
    return sum(free) if free else None


def effective_n_ctx(metadata: GGUFMetadata, n_ctx: int) -> int:
    """The context llama.cpp will really allocate: n_ctx 0 means the model's trained context."""
    if n_ctx > 0:
        return n_ctx
    return metadata.context_length or 4096


def kv_cache_bytes(metadata: GGUFMetadata, n_ctx: int) -> int:
    """The f16 KV cache for `n_ctx` tokens; 0 when the metadata lacks the shape.

    Per layer and token: keys (KV heads × key size) and values (KV heads × value size).
    Head sizes default to embedding length / heads where the file does not give them.
    """
    n_layers, n_heads = metadata.n_layers, metadata.n_heads
    if not n_layers or not n_heads or not metadata.embedding_length:
        return 0
    n_kv_heads = metadata.n_kv_heads or n_heads
    default_head = metadata.embedding_length // n_heads
    key_length = metadata.key_length or default_head
    value_length = metadata.value_length or key_length
    per_token_per_layer = n_kv_heads * (key_length + value_length) * KV_BYTES_PER_VALUE
    return n_layers * effective_n_ctx(metadata, n_ctx) * per_token_per_layer


def estimate_memory(metadata: GGUFMetadata, n_ctx: int, n_gpu_layers: int = 0) -> MemoryEstimate:
    """What loading the model with this context and these GPU layers needs."""
    weights = metadata.file_size
    kv = kv_cache_bytes(metadata, n_ctx)
    overhead = BASE_OVERHEAD_BYTES + int(weights * OVERHEAD_FRACTION)
    gpu_share = _gpu_share(metadata.n_layers, n_gpu_layers)
    return MemoryEstimate(
        weights_bytes=weights,
        kv_cache_bytes=kv,
        overhead_bytes=overhead,
        gpu_bytes=int((weights + kv) * gpu_share),
        n_ctx=effective_n_ctx(metadata, n_ctx),
    )


def _gpu_share(n_layers: int | None, n_gpu_layers: int) -> float:
    """The fraction of the model that offloading `n_gpu_layers` layers puts on the GPU."""
    if n_gpu_layers == 0:
        return 0.0
    if n_gpu_layers < 0 or not n_layers or n_gpu_layers >= n_layers:
        return 1.0
    return n_gpu_layers / n_layers


def check_memory_fit(
    metadata: GGUFMetadata,
    settings: ModelSettings,
    ram_available: Callable[[], int] = available_ram_bytes,
    gpu_free: Callable[[], int | None] = free_gpu_bytes,
) -> str | None:
    """Why the model will not fit, as one line; None when it fits (or when allowed anyway).

    `ram_available` and `gpu_free` are injectable for tests. The GPU part is checked only
    with GPU layers and where `gpu_free` can say (None: no NVIDIA GPU visible).
    """
    if settings.allow_oversize:
        return None
    estimate = estimate_memory(metadata, settings.n_ctx, settings.n_gpu_layers)
    name = Path(metadata.path).name
    shape = f"weights {format_bytes(estimate.weights_bytes)} + KV cache {format_bytes(estimate.kv_cache_bytes)} for a {estimate.n_ctx}-token context"
    if estimate.gpu_bytes:
        free = gpu_free()
        if free is not None and estimate.gpu_bytes > free:
            return (
                f"{name} will not fit in GPU memory: needs about {format_bytes(estimate.gpu_bytes)}, "
                f"{format_bytes(free)} free ({shape}); use fewer GPU layers or a smaller context, or {FORCE_HINT}"
            )
    available = ram_available()
    if estimate.ram_bytes > available:
        return (
            f"{name} will not fit in RAM: needs about {format_bytes(estimate.ram_bytes)}, "
            f"{format_bytes(available)} available ({shape}); {FORCE_HINT}"
        )
    return None


def format_bytes(n_bytes: int) -> str:
    """A size in GiB with one decimal from 1 GiB up, else in whole MiB."""
    if n_bytes >= GIB:
        return f"{n_bytes / GIB:.1f} GiB"
    return f"{n_bytes / MIB:.0f} MiB"
