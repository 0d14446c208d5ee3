"""What a model loaded by llama.cpp is: its `ModelInfo`, from the file and from llama.cpp.

File facts (name, architecture, parameters, quantization, trained context, layers, chat
template) come from `engines.models.gguf_info` when it can read the file, else from the metadata
that llama.cpp itself read (`llama_model_meta_*`). The backend comes from
`engines.local.backend`, and the GPU layers really offloaded are 0 on a build without GPU
offload, whatever was asked for (with a warning the user sees).
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path
from typing import Any

from engines.types import ModelInfo, ModelSettings

NO_GPU_BACKEND_WARNING = (
    "asked for {n} GPU layers but this llama-cpp-python build has no GPU backend; "
    "running on CPU. Rebuild with LLAMA_BACKEND=cuda (see README)"
)


def llama_metadata(llama_cpp: Any, model: Any) -> dict[str, str]:
    """Every scalar GGUF key llama.cpp read, as strings (arrays are not exposed by llama.cpp)."""
    metadata: dict[str, str] = {}
    buffer_size = 1024
    buffer = ctypes.create_string_buffer(buffer_size)
    for index in range(llama_cpp.llama_model_meta_count(model)):
        length = llama_cpp.llama_model_meta_key_by_index(model, index, buffer, buffer_size)
        if length < 0:
            continue
        key = buffer.value.decode("utf-8", errors="replace")
        length = llama_cpp.llama_model_meta_val_str_by_index(model, index, buffer, buffer_size)
        if length < 0:
            continue
        if length >= buffer_size:
            buffer_size = length + 1
            buffer = ctypes.create_string_buffer(buffer_size)
            llama_cpp.llama_model_meta_val_str_by_index(model, index, buffer, buffer_size)
        metadata[key] = buffer.value.decode("utf-8", errors="replace")
    return metadata


def backend_facts(llama_cpp: Any) -> tuple[str, bool, str, str]:
    """(backend name, GPU offload possible, llama-cpp-python version, llama.cpp version)."""
    try:
        from engines.local.backend import backend_info

        info = backend_info()
        return info.name, info.gpu_offload, info.llama_cpp_python_version, info.llama_cpp_version
    except ImportError:
        gpu = bool(llama_cpp.llama_supports_gpu_offload())
        return ("GPU" if gpu else "CPU"), gpu, str(getattr(llama_cpp, "__version__", "")), ""


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _offloaded_layers(requested: int, n_layers: int | None) -> int:
    """Layers on the GPU for `n_gpu_layers=requested` (-1: all); an unknown count caps nothing."""
    if n_layers is None:
        return max(requested, 0)
    return n_layers if requested < 0 else min(requested, n_layers)


def _quantization_from_file_type(value: str | None) -> str | None:
    file_type = _int_or_none(value)
    if file_type is None:
        return None
    try:
        import gguf

        return gguf.LlamaFileType(file_type).name.removeprefix("MOSTLY_")
    except (ImportError, ValueError):
        return None


def build_model_info(
    settings: ModelSettings,
    llama_cpp: Any,
    model: Any,
    n_ctx: int,
    n_threads: int,
    file_metadata: Any | None,
    warnings: list[str],
) -> ModelInfo:
    """The ModelInfo of a loaded model; `file_metadata` is a GGUFMetadata or None."""
    backend, gpu_offload, python_version, llama_version = backend_facts(llama_cpp)
    meta = llama_metadata(llama_cpp, model)
    arch = meta.get("general.architecture", "")
    n_layers = llama_cpp.llama_model_n_layer(model) or _int_or_none(meta.get(f"{arch}.block_count"))
    requested = settings.n_gpu_layers
    if requested != 0 and not gpu_offload:
        warnings.append(NO_GPU_BACKEND_WARNING.format(n="all" if requested < 0 else requested))
    offloaded = _offloaded_layers(requested, n_layers) if gpu_offload else 0
    path = settings.path
    if file_metadata is not None:
        fm = file_metadata
        name = fm.name or Path(path).stem
        facts = dict(
            file_size=fm.file_size,
            architecture=fm.architecture or arch,
            n_params=fm.n_params,
            quantization=fm.quantization,
            n_ctx_train=fm.context_length,
            has_chat_template=fm.has_chat_template,
        )
    else:
        name = meta.get("general.name") or Path(path).stem
        facts = dict(
            file_size=os.path.getsize(path) if os.path.isfile(path) else None,
            architecture=arch,
            n_params=int(llama_cpp.llama_model_n_params(model)),
            quantization=_quantization_from_file_type(meta.get("general.file_type")),
            n_ctx_train=int(llama_cpp.llama_model_n_ctx_train(model)),
            has_chat_template="tokenizer.chat_template" in meta,
        )
    return ModelInfo(
        path=path,
        file_name=Path(path).name,
        name=name,
        n_ctx=n_ctx,
        n_layers=n_layers,
        backend=backend,
        n_gpu_layers_requested=requested,
        n_gpu_layers_offloaded=offloaded,
        n_threads=n_threads,
        llama_cpp_python_version=python_version,
        llama_cpp_version=llama_version,
        warnings=tuple(warnings),
        **facts,
    )
