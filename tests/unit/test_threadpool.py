"""The persistent CPU thread pool attached to each context (engines/local/threadpool.py)."""

from __future__ import annotations

import pytest

from engines.local.engine import LlamaEngine
from engines.local.threadpool import CpuThreadPool, _ThreadPoolParams
from engines.types import GenerationRequest, ModelSettings, SamplingParams

pytestmark = pytest.mark.real_model


def test_params_layout_matches_ggml():
    """ggml_threadpool_params_init fills n_threads and its defaults where ggml.h has them."""
    import ctypes

    import llama_cpp

    native = llama_cpp.llama_cpp._lib
    native.ggml_threadpool_params_init.argtypes = [ctypes.POINTER(_ThreadPoolParams), ctypes.c_int]
    params = _ThreadPoolParams()
    params.strict_cpu = params.paused = True
    native.ggml_threadpool_params_init(ctypes.byref(params), 3)
    assert params.n_threads == 3
    assert params.poll == 50  # ggml's default, before llmbench sets its own
    assert not params.strict_cpu and not params.paused
    assert not any(params.cpumask)


def test_a_loaded_model_generates_on_its_pool_and_frees_it(smollm2_path):
    engine = LlamaEngine(ModelSettings(path=str(smollm2_path), n_ctx=256, n_threads=2))
    engine.load()
    pool = engine.context.threadpool
    assert isinstance(pool, CpuThreadPool) and pool.ready
    stats = engine.generate(
        GenerationRequest("Count to five.", SamplingParams(max_tokens=8, seed=1)), lambda e: None
    )
    assert stats.generated_tokens > 0 and stats.engine_decode_tps
    engine.close()
    assert not pool.ready
    pool.free()  # twice is harmless


def test_a_library_without_pools_keeps_working():
    class Bare:
        pass

    pool = CpuThreadPool(Bare(), 2)
    assert not pool.ready and not pool.attach(object())
    pool.free()
