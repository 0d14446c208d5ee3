"""The parent's clocks for one generation, and the figures only the parent can give.

docs/metrics.md: TTFT is request sent → first token received by the parent; elapsed time is
request sent → finished; delivery lag is a token ready in the worker → received by the
parent (`time.perf_counter()` is one monotonic clock shared by the processes). The worker
handle keeps one `RunTiming` per generation in flight and fills these into the stats.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace

from engines.types import GenerationStats, PromptMode, StopReason


@dataclass
class RunTiming:
    """Parent-side clocks of one generation in flight."""

    sent_at: float
    first_arrival: float | None = None
    lags: list[float] = field(default_factory=list)
    generated_tokens: int = 0
    prompt_mode: PromptMode = "completion"
    prompt_tokens: int | None = None
    """From GenerationStarted; None until then (or when the engine cannot tell)."""


def delivery_lag_p95_ms(lags_s: list[float]) -> float | None:
    """The 95th percentile (nearest rank) of the delivery lags, in milliseconds."""
    if not lags_s:
        return None
    ordered = sorted(lags_s)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)] * 1000.0


def with_parent_figures(stats: GenerationStats, run: RunTiming, now: float) -> GenerationStats:
    """`stats` with TTFT, elapsed time and delivery lag p95 from the parent's clocks."""
    return replace(
        stats,
        ttft_s=(run.first_arrival - run.sent_at) if run.first_arrival is not None else None,
        elapsed_s=now - run.sent_at,
        delivery_lag_p95_ms=delivery_lag_p95_ms(run.lags),
    )


def ended_run_stats(run: RunTiming, stop_reason: StopReason, error: str | None) -> GenerationStats:
    """The stats of a run that ended without the worker's figures (crash, close)."""
    stats = error_stats(error or "", run.prompt_mode, run.prompt_tokens, run.generated_tokens)
    return with_parent_figures(
        replace(stats, stop_reason=stop_reason, error=error), run, time.perf_counter()
    )


def error_stats(
    reason: str,
    prompt_mode: PromptMode = "completion",
    prompt_tokens: int | None = None,
    generated: int = 0,
) -> GenerationStats:
    """The stats of a failed run: what it had reported (None: unknown), the reason, no speeds."""
    return GenerationStats(
        stop_reason="error",
        prompt_mode=prompt_mode,
        prompt_tokens=prompt_tokens,
        generated_tokens=generated,
        ttft_s=None,
        prompt_tps=None,
        decode_tps=None,
        engine_decode_tps=None,
        error=reason,
    )
