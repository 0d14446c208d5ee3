"""A scripted stand-in for a model worker, for fast UI and headless tests.

`FakeModelHandle` takes the same commands and sends the same events as the real worker
handle, from a background thread, following a `FakeScript`: which tokens to produce, how
fast, and where to fail. Nothing here is timing-dependent unless a script asks for delays.
A request that asks for token probabilities (`GenerationRequest.top_candidates`) gets a
scripted record per token (`fake_token_record`), as a local model's worker sends them.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from engines.event_queue import EventQueue
from engines.protocol import (
    Event,
    GenerationFinished,
    GenerationStarted,
    LoadFailed,
    LoadProgressed,
    ModelHandle,
    ModelLoaded,
    SamplingChanged,
    TokensGenerated,
    WorkerCrashed,
)
from engines.types import (
    GenerationRequest,
    GenerationStats,
    ModelInfo,
    ModelSettings,
    PromptMode,
    SamplingChange,
    SamplingParams,
    StopReason,
    TokenCandidate,
    TokenProbabilities,
    answer_summary,
    decode_speed,
)

_T = TypeVar("_T")

FAKE_MARGINS = (3.0, 1.2, 0.4, 0.0, -0.6, 2.0, 0.8)
"""How far each fake token's logit stands above its best rival, by token index (cycled):
sure, likely, even and unlikely choices alike, so every colour band of the token view
shows up."""


@dataclass(frozen=True)
class FakeScript:
    """What a fake model does."""

    tokens: tuple[str, ...] = ("Hello", ",", " world", "!")
    """The generated tokens, in order (the answer is their concatenation)."""
    token_delay_s: float = 0.0
    """Seconds between tokens (0: as fast as possible)."""
    load_delay_s: float = 0.0
    batch_size: int = 8
    """Tokens per TokensGenerated batch."""
    fail_load: str | None = None
    """Fail the load with this reason."""
    fail_generation: str | None = None
    """Finish every generation with stop_reason "error" and this reason."""
    crash_after_tokens: int | None = None
    """Simulate a worker crash (signal 9) after this many tokens."""
    prompt_tokens: int | None = 12
    """None: the model does not say (as a server that sends no usage)."""
    prompt_mode: PromptMode = "chat"
    info: dict = field(default_factory=dict)
    """Overrides for the ModelInfo fields."""
    token_probabilities: bool = True
    """Send a record per token when the request asks for token probabilities."""


def fake_token_record(index: int, text: str, temperature: float, top: int) -> TokenProbabilities:
    """A deterministic token record: the chosen token `text` and `top` − 1 rivals
    ("alt1"…), their probabilities the softmax of their logits at `temperature` (a point
    mass on the highest logit at 0), the chosen one's margin from `FAKE_MARGINS`."""
    margin = FAKE_MARGINS[index % len(FAKE_MARGINS)]
    chosen_logit = 10.0
    rivals = [(f"alt{k + 1}", chosen_logit - margin - 0.7 * k) for k in range(max(top - 1, 0))]
    entries = sorted(
        [(text, chosen_logit, True), *((name, logit, False) for name, logit in rivals)],
        key=lambda entry: -entry[1],
    )
    scale = temperature if temperature > 0 else 1e-6
    top_logit = entries[0][1]
    weights = [math.exp((logit - top_logit) / scale) for _, logit, _ in entries]
    total = sum(weights)
    candidates = tuple(
        TokenCandidate(1000 + index if chosen else 1 + k, name, weight / total, logit)
        for k, ((name, logit, chosen), weight) in enumerate(zip(entries, weights, strict=True))
    )
    probability = next(
        c.probability for c, (_, _, chosen) in zip(candidates, entries, strict=True) if chosen
    )
    rank = 1 + next(k for k, (_, _, chosen) in enumerate(entries) if chosen)
    entropy = -sum(c.probability * math.log(c.probability) for c in candidates if c.probability)
    return TokenProbabilities(
        index,
        1000 + index,
        text,
        probability,
        rank,
        chosen_logit,
        candidates,
        candidates,
        entropy,
        len(candidates),
        temperature,
    )


def fake_model_info(settings: ModelSettings, **overrides: object) -> ModelInfo:
    """A plausible ModelInfo for a fake model."""
    values: dict = dict(
        path=settings.path,
        file_name=settings.path.rsplit("/", 1)[-1],
        file_size=100 * 1024 * 1024,
        name=settings.label or "fake-model",
        architecture="llama",
        n_params=135_000_000,
        quantization="Q4_1",
        n_ctx_train=8192,
        n_ctx=settings.n_ctx,
        n_layers=30,
        has_chat_template=True,
        backend="CPU",
        n_gpu_layers_requested=settings.n_gpu_layers,
        n_gpu_layers_offloaded=0,
        n_threads=settings.n_threads or 1,
        llama_cpp_python_version="fake",
        load_s=0.5,
    )
    values.update(overrides)
    return ModelInfo(**values)


class FakeModelHandle(ModelHandle):
    """A ModelHandle that plays a FakeScript on a background thread."""

    def __init__(self, script: FakeScript | None = None) -> None:
        self.script = script or FakeScript()
        self._events = EventQueue()
        self._sampling_lock = threading.Lock()
        self._pending_sampling: SamplingParams | None = None
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self._alive = True
        self._loaded = False
        self.requests: list[GenerationRequest] = []
        """Every request this handle was asked to run (for assertions in tests)."""

    # --- commands -------------------------------------------------------------------

    def load(self, settings: ModelSettings) -> None:
        self._start(self._run_load, settings)

    def generate(self, request: GenerationRequest) -> None:
        self.requests.append(request)
        self._cancel.clear()
        self._start(self._run_generation, request)

    def update_sampling(self, sampling: SamplingParams) -> None:
        with self._sampling_lock:
            self._pending_sampling = sampling

    def cancel(self) -> None:
        self._cancel.set()

    def next_events(self, timeout: float | None = None) -> list[Event]:
        return self._events.next_events(timeout)

    def close(self) -> None:
        self._cancel.set()
        self._alive = False

    @property
    def serves_token_probabilities(self) -> bool:
        return self.script.token_probabilities

    @property
    def pid(self) -> int | None:
        return None

    @property
    def alive(self) -> bool:
        return self._alive

    # --- the script -----------------------------------------------------------------

    def _start(self, target: Callable[[_T], None], argument: _T) -> None:
        if self._thread is not None:
            self._thread.join()
        self._thread = threading.Thread(target=target, args=(argument,), daemon=True)
        self._thread.start()

    def _run_load(self, settings: ModelSettings) -> None:
        for fraction in (0.25, 0.5, 1.0):
            if self.script.load_delay_s:
                time.sleep(self.script.load_delay_s / 3)
            self._events.put(LoadProgressed(fraction))
        if self.script.fail_load:
            self._events.put(LoadFailed(self.script.fail_load))
            return
        self._loaded = True
        self._events.put(ModelLoaded(fake_model_info(settings, **self.script.info)))

    def _take_sampling_change(self) -> SamplingParams | None:
        with self._sampling_lock:
            change, self._pending_sampling = self._pending_sampling, None
        return change

    def _run_generation(self, request: GenerationRequest) -> None:
        script = self.script
        sent_at = time.perf_counter()
        self._take_sampling_change()  # a change made before the run is already in the request
        self._events.put(
            GenerationStarted(request.request_id, script.prompt_mode, script.prompt_tokens)
        )
        changes: list[SamplingChange] = []
        ready_times: list[float] = []
        batch_text: list[str] = []
        batch_times: list[float] = []
        batch_records: list[TokenProbabilities] = []
        records: list[TokenProbabilities] = []
        sampling = request.sampling
        top = request.top_candidates if script.token_probabilities else 0
        first_arrival: float | None = None
        max_tokens = request.sampling.max_tokens
        stop_reason: StopReason = "stop"

        def flush() -> None:
            nonlocal first_arrival
            if not batch_text:
                return
            now = time.perf_counter()
            first_arrival = first_arrival or now
            index = len(ready_times) - len(batch_times)
            self._events.put(
                TokensGenerated(
                    request.request_id,
                    "".join(batch_text),
                    len(batch_times),
                    tuple(batch_times),
                    index,
                    received_at=now,
                    probabilities=tuple(batch_records),
                )
            )
            batch_text.clear()
            batch_times.clear()
            batch_records.clear()

        for index, token in enumerate(script.tokens):
            if self._cancel.is_set():
                stop_reason = "cancelled"
                break
            if index >= max_tokens:
                stop_reason = "length"
                break
            if script.crash_after_tokens is not None and index >= script.crash_after_tokens:
                flush()
                self._alive = False
                self._events.put(WorkerCrashed("killed by signal 9 (SIGKILL)", -9, "fake log tail"))
                return
            change = self._take_sampling_change()
            if change is not None:
                flush()
                changes.append(SamplingChange(index, change))
                sampling = change
                self._events.put(SamplingChanged(request.request_id, index, change))
            if script.token_delay_s:
                time.sleep(script.token_delay_s)
            batch_text.append(token)
            if top:
                record = fake_token_record(index, token, sampling.temperature, top)
                batch_records.append(record)
                records.append(record)
            now = time.perf_counter()
            batch_times.append(now)
            ready_times.append(now)
            if len(batch_times) >= script.batch_size:
                flush()
        flush()
        finished_at = time.perf_counter()
        if script.fail_generation:
            stop_reason = "error"
        generated = len(ready_times)
        speed = decode_speed(generated, ready_times[0], ready_times[-1]) if ready_times else None
        summary = answer_summary(records)
        stats = GenerationStats(
            stop_reason=stop_reason,
            prompt_mode=script.prompt_mode,
            prompt_tokens=script.prompt_tokens,
            generated_tokens=generated,
            ttft_s=(first_arrival - sent_at) if first_arrival else None,
            prompt_tps=1000.0,
            decode_tps=speed,
            engine_decode_tps=speed,
            elapsed_s=finished_at - sent_at,
            peak_rss_mib=120.0,
            sampling_changes=tuple(changes),
            error=script.fail_generation,
            mean_logprob=summary[0],
            perplexity=summary[1],
            mean_entropy=summary[2],
        )
        self._events.put(GenerationFinished(request.request_id, stats))
