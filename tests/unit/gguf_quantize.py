"""Quantized copies of a GGUF model, made by llama.cpp's own quantizer (llama_model_quantize)."""

from __future__ import annotations

import ctypes
from pathlib import Path


def quantize(source: Path, target: Path, ftype_name: str) -> Path:
    """A copy of `source` quantized to `ftype_name` ("Q8_0", "Q4_0", ...); requantizing an
    already quantized file is allowed (the demo SmolLM2 is Q4_1)."""
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{ftype_name}")
    params.allow_requantize = True
    params.nthread = 2
    result = llama_cpp.llama_model_quantize(
        str(source).encode(), str(target).encode(), ctypes.byref(params)
    )
    if result != 0:
        raise RuntimeError(f"llama_model_quantize returned {result} for {target.name}")
    return target
