"""A stand-in engine for the worker-process tests: no llama.cpp, scripted by the prompt.

The worker imports it by name ("worker_stub_engine:StubEngine") in the spawned child, so
it stays light (no numpy, no gguf). It follows `engines.local.engine.LlamaEngine`'s
interface: load(on_progress) -> ModelInfo, generate(request, emit, control) -> stats,
close().

Load by label: "fail-load" logs llama.cpp's error line and raises, "quiet-fail-load"
raises without one, "abort-load" aborts the process.
Fidelity texts (`evaluate`): "hang" (progress until cancelled); anything else gives
perplexity 2.0 after one progress event.
Prompts: "count" (max_tokens tokens, `token_delay_s` apart via "count:DELAY"), "abort",
"segfault", "exit:CODE", "raise" (an engine error), "hang" (tokens until cancelled).
"""

from __future__ import annotations

import ctypes
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from engines.fidelity.figures import FidelityFigures, FidelityRequest
from engines.protocol import FidelityProgressed, GenerationStarted, SamplingChanged, TokensGenerated
from engines.types import (
    GenerationRequest,
    GenerationStats,
    ModelInfo,
    ModelSettings,
    SamplingChange,
    decode_speed,
)

BATCH_S = 0.03
"""Batch tokens for this long, as the real engine does."""


class StubEngineError(Exception):
    """Like EngineError: a one-line reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class StubEngine:
    def __init__(self, settings: ModelSettings) -> None:
        self.settings = settings

    def evaluate(self, request: FidelityRequest, emit, control) -> FidelityFigures:
        done = 0
        while True:
            done += request.n_ctx
            emit(FidelityProgressed(request.request_id, done, 10 * request.n_ctx, 100.0))
            if request.text != "hang":
                return FidelityFigures(ppl=2.0, ppl_err=0.1, n_ctx=request.n_ctx, windows=1)
            if control.cancelled():
                return FidelityFigures(cancelled=True, n_ctx=request.n_ctx)
            time.sleep(0.02)

    def load(self, on_progress: Callable[[float], None] = lambda _f: None) -> ModelInfo:
        print("stub stdout: loading", flush=True)
        os.write(2, b"llama_model_load: stub engine loading\n")
        on_progress(0.5)
        if self.settings.label == "fail-load":
            os.write(2, b"llama_model_load: error loading model: stub says no\n")
            raise StubEngineError("stub engine refused to load")
        if self.settings.label == "quiet-fail-load":
            raise StubEngineError("stub engine refused to load")
        if self.settings.label == "abort-load":
            os.write(2, b"GGML_ASSERT(stub) failed\n")
            os.abort()
        on_progress(1.0)
        path = Path(self.settings.path)
        return ModelInfo(
            path=str(path),
            file_name=path.name,
            file_size=path.stat().st_size,
            name="stub",
            architecture="llama",
            n_params=None,
            quantization=None,
            n_ctx_train=None,
            n_ctx=self.settings.n_ctx,
            n_layers=1,
            has_chat_template=False,
            backend="CPU",
            n_gpu_layers_requested=0,
            n_gpu_layers_offloaded=0,
            n_threads=self.settings.n_threads or 0,
            llama_cpp_python_version="stub",
        )

    def generate(self, request: GenerationRequest, emit, control) -> GenerationStats:
        command, _, argument = request.prompt.partition(":")
        emit(GenerationStarted(request.request_id, "completion", 3))
        if command == "abort":
            os.write(2, b"GGML_ASSERT(n_tokens > 0) failed\n")
            os.abort()
        if command == "segfault":
            ctypes.string_at(0)
        if command == "exit":
            sys.stderr.write("stub exiting on request\n")
            sys.stderr.flush()
            os._exit(int(argument or 1))
        if command == "raise":
            raise StubEngineError("the prompt is longer than the context (9000 > 512 tokens)")
        delay = float(argument) if argument else 0.002
        limit = 10**9 if command == "hang" else request.sampling.max_tokens
        return self._tokens(request, emit, control, limit, delay)

    def _tokens(self, request, emit, control, limit, delay) -> GenerationStats:
        ready: list[float] = []
        texts: list[str] = []
        times: list[float] = []
        changes: list[SamplingChange] = []
        batch_started = time.perf_counter()
        stop_reason = "length"

        def flush() -> None:
            nonlocal batch_started
            if texts:
                first = len(ready) - len(times)
                emit(
                    TokensGenerated(
                        request.request_id, "".join(texts), len(times), tuple(times), first
                    )
                )
                texts.clear()
                times.clear()
            batch_started = time.perf_counter()

        while len(ready) < limit:
            if control.cancelled():
                stop_reason = "cancelled"
                break
            change = control.take_sampling_change()
            if change is not None:
                flush()
                changes.append(SamplingChange(len(ready), change))
                emit(SamplingChanged(request.request_id, len(ready), change))
            time.sleep(delay)
            now = time.perf_counter()
            texts.append(f"t{len(ready)} ")
            times.append(now)
            ready.append(now)
            if now - batch_started >= BATCH_S:
                flush()
        flush()
        speed = decode_speed(len(ready), ready[0], ready[-1]) if ready else None
        return GenerationStats(
            stop_reason=stop_reason,
            prompt_mode="completion",
            prompt_tokens=3,
            generated_tokens=len(ready),
            ttft_s=None,
            prompt_tps=None,
            decode_tps=speed,
            engine_decode_tps=speed,
            sampling_changes=tuple(changes),
        )

    def close(self) -> None:
        pass
