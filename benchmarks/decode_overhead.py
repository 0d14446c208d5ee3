"""How much of llama.cpp's decode speed reaches the user through the worker path.

For each demo model: a worker process (spawn), the model loaded, one short warm-up run,
then 128 generated tokens through the same path the app uses (worker process, pipe,
token batching). Prints, per model, as `name: value` lines:

- decode speed: (tokens − 1) / (last − first token time), each token timed in the worker
  when its text is ready (docs/metrics.md);
- engine decode speed: llama.cpp's own eval counters (`llama_perf_context`);
- their ratio, and the per-token overhead in µs (1/decode − 1/engine);
- the same overhead over the first and the second half of the answer (it must not grow
  with the answer's length);
- llama.cpp's sampling time per token, the delivery lag p95 (ready in the worker →
  received by the parent), load time and the worker's peak RSS.

Then the same answer again with token probabilities on (`--top-candidates`, default 5:
the top candidates per token read from the sampler chain, `engines.local.token_probe`),
printed as `MODEL probabilities NAME: value` lines: its overhead ratio, the ratio of that
to the run without (1.00: no cost) and the sampling time per token.

Last lines: `overhead ratio with token probabilities (min over models): X.XX`, then
`overhead ratio (min over models): X.XX`. Targets: ratio ≥ 0.97 off and ≥ 0.93 on, lag p95
≤ 50 ms.
Run: `.venv/bin/python benchmarks/decode_overhead.py [--tokens N] [--models a,b]
[--top-candidates N]`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass

from engines.local.handle import WorkerModelHandle
from engines.machine.threads import default_threads
from engines.models.demo import DEMO_MODELS, demo_model_path
from engines.protocol import (
    Event,
    GenerationFinished,
    LoadFailed,
    ModelLoaded,
    TokensGenerated,
    WorkerCrashed,
)
from engines.types import (
    DEFAULT_TOP_CANDIDATES,
    GenerationRequest,
    GenerationStats,
    ModelInfo,
    ModelSettings,
    SamplingParams,
)

PROMPT = (
    "Write a long story about a dragon who learns to bake bread. Describe every step in detail."
)
WARMUP_PROMPT = "Say hello."
N_CTX = 1024
TIMEOUT_S = 600.0


@dataclass(frozen=True)
class Measured:
    info: ModelInfo
    stats: GenerationStats
    ready_times: tuple[float, ...]
    with_probabilities: GenerationStats | None = None
    """The same answer with token probabilities on."""


def wait_for(handle: WorkerModelHandle, done, what: str) -> list[Event]:
    events: list[Event] = []
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        batch = handle.next_events(1.0)
        events.extend(batch)
        for event in batch:
            if isinstance(event, WorkerCrashed):
                raise SystemExit(
                    f"the worker crashed while {what}: {event.reason}\n{event.log_tail}"
                )
            if isinstance(event, LoadFailed):
                raise SystemExit(f"could not load the model: {event.reason}\n{event.detail}")
            if done(event):
                return events
    raise SystemExit(f"timed out after {TIMEOUT_S:.0f} s while {what}")


def generate(
    handle: WorkerModelHandle,
    prompt: str,
    max_tokens: int,
    request_id: str,
    top_candidates: int = 0,
) -> tuple[GenerationStats, list[float]]:
    sampling = SamplingParams(temperature=0.0, max_tokens=max_tokens, stop=(), seed=1)
    handle.generate(
        GenerationRequest(prompt, sampling, request_id=request_id, top_candidates=top_candidates)
    )
    events = wait_for(
        handle,
        lambda e: isinstance(e, GenerationFinished) and e.request_id == request_id,
        "generating",
    )
    ready = [
        t
        for e in events
        if isinstance(e, TokensGenerated) and e.request_id == request_id
        for t in e.ready_times
    ]
    (finished,) = [
        e for e in events if isinstance(e, GenerationFinished) and e.request_id == request_id
    ]
    if finished.stats.stop_reason == "error":
        raise SystemExit(f"the generation failed: {finished.stats.error}")
    return finished.stats, ready


def measure(model: str, n_tokens: int, top_candidates: int) -> Measured:
    handle = WorkerModelHandle()
    try:
        settings = ModelSettings(
            path=str(demo_model_path(model)), n_ctx=N_CTX, n_threads=default_threads(1), label=model
        )
        handle.load(settings)
        loaded = wait_for(handle, lambda e: isinstance(e, ModelLoaded), "loading")
        info = next(e.info for e in loaded if isinstance(e, ModelLoaded))
        generate(handle, WARMUP_PROMPT, 8, "warm-up")
        stats, ready = generate(handle, PROMPT, n_tokens, "measured")
        with_probabilities = None
        if top_candidates:
            generate(handle, WARMUP_PROMPT, 8, "warm-up-probabilities", top_candidates)
            with_probabilities, _ = generate(
                handle, PROMPT, n_tokens, "measured-probabilities", top_candidates
            )
        return Measured(info, stats, tuple(ready), with_probabilities)
    finally:
        handle.close()


def half_overheads_us(
    ready: tuple[float, ...], engine_tps: float | None
) -> tuple[float | None, float | None]:
    """Mean time between tokens minus llama.cpp's own time per token, over each half of the answer."""
    if not engine_tps or len(ready) < 5:
        return None, None
    gaps = [later - earlier for earlier, later in zip(ready, ready[1:], strict=False)]
    middle = len(gaps) // 2
    engine_s = 1.0 / engine_tps
    return tuple(
        (statistics.fmean(part) - engine_s) * 1e6 for part in (gaps[:middle], gaps[middle:])
    )


def fmt(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def report(model: str, measured: Measured) -> float | None:
    stats = measured.stats
    ratio = stats.overhead_ratio
    overhead_us = None
    if stats.decode_tps and stats.engine_decode_tps:
        overhead_us = (1.0 / stats.decode_tps - 1.0 / stats.engine_decode_tps) * 1e6
    first_half, second_half = half_overheads_us(measured.ready_times, stats.engine_decode_tps)
    lines = [
        ("generated tokens", str(stats.generated_tokens)),
        ("threads", str(measured.info.n_threads)),
        ("decode speed tok/s", fmt(stats.decode_tps, 1)),
        ("engine decode speed tok/s", fmt(stats.engine_decode_tps, 1)),
        ("overhead ratio", fmt(ratio, 3)),
        ("per-token overhead us", fmt(overhead_us, 1)),
        ("per-token overhead first half us", fmt(first_half, 1)),
        ("per-token overhead second half us", fmt(second_half, 1)),
        ("sampling ms/token", fmt(stats.sampling_ms_per_token, 3)),
        ("delivery lag p95 ms", fmt(stats.delivery_lag_p95_ms, 1)),
        ("ttft s", fmt(stats.ttft_s, 3)),
        ("load s", fmt(measured.info.load_s, 2)),
        ("peak RSS MiB", fmt(stats.peak_rss_mib, 0)),
    ]
    for name, value in lines:
        print(f"{model} {name}: {value}", flush=True)
    return ratio


def report_probabilities(model: str, measured: Measured) -> float | None:
    """The run with token probabilities on, next to the one without."""
    on = measured.with_probabilities
    if on is None:
        return None
    ratio = on.overhead_ratio
    off_ratio = measured.stats.overhead_ratio
    relative = ratio / off_ratio if ratio and off_ratio else None
    lines = [
        ("generated tokens", str(on.generated_tokens)),
        ("decode speed tok/s", fmt(on.decode_tps, 1)),
        ("engine decode speed tok/s", fmt(on.engine_decode_tps, 1)),
        ("overhead ratio", fmt(ratio, 3)),
        ("overhead ratio on / off", fmt(relative, 3)),
        ("sampling ms/token", fmt(on.sampling_ms_per_token, 3)),
    ]
    for name, value in lines:
        print(f"{model} probabilities {name}: {value}", flush=True)
    return ratio


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--tokens", type=int, default=128, help="tokens to generate per model (default 128)"
    )
    parser.add_argument(
        "--models", default=",".join(DEMO_MODELS), help="demo models, comma-separated"
    )
    parser.add_argument(
        "--top-candidates",
        type=int,
        default=DEFAULT_TOP_CANDIDATES,
        help="candidates per token in the run with token probabilities (0: skip that run)",
    )
    args = parser.parse_args(argv)
    ratios: list[float] = []
    probability_ratios: list[float] = []
    for model in [m.strip() for m in args.models.split(",") if m.strip()]:
        if model not in DEMO_MODELS:
            parser.error(f"unknown demo model {model!r}; known: {', '.join(DEMO_MODELS)}")
        measured = measure(model, args.tokens, args.top_candidates)
        ratio = report(model, measured)
        if ratio is not None:
            ratios.append(ratio)
        probability_ratio = report_probabilities(model, measured)
        if probability_ratio is not None:
            probability_ratios.append(probability_ratio)
    if args.top_candidates:
        worst = min(probability_ratios) if probability_ratios else None
        print(f"overhead ratio with token probabilities (min over models): {fmt(worst)}")
    print(f"overhead ratio (min over models): {fmt(min(ratios) if ratios else None)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
