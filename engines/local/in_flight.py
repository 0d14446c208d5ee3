"""The work a worker has in hand, seen from the parent: generations and fidelity passes.

`InFlight` keeps one `RunTiming` per generation sent (`engines.local.timing`) and stamps
the worker's events for it as they arrive: each token batch gets its arrival time (for
TTFT and the delivery lag), the finished stats get the parent's figures. A worker that
crashes or is stopped leaves nothing hanging: `end_all` finishes every generation and
fidelity pass still in flight, with the reason or as cancelled.
"""

from __future__ import annotations

from dataclasses import replace

from engines.fidelity.figures import FidelityFigures
from engines.local.timing import RunTiming, ended_run_stats, with_parent_figures
from engines.protocol import (
    Event,
    FidelityFinished,
    GenerationFinished,
    GenerationStarted,
    TokensGenerated,
)
from engines.types import StopReason


class InFlight:
    """The generations and fidelity passes sent to the worker and not finished yet."""

    def __init__(self) -> None:
        self._runs: dict[str, RunTiming] = {}
        self._evaluations: set[str] = set()

    def run_sent(self, request_id: str, sent_at: float) -> None:
        """A generation was sent at `sent_at` (the parent's clock)."""
        self._runs[request_id] = RunTiming(sent_at=sent_at)

    def evaluation_sent(self, request_id: str) -> None:
        """A fidelity pass was sent."""
        self._evaluations.add(request_id)

    def arrived(self, event: Event, now: float) -> Event:
        """Stamp and complete one event of the work in flight (the per-batch path: lean)."""
        if isinstance(event, TokensGenerated):
            run = self._runs.get(event.request_id)
            if run is not None:
                if run.first_arrival is None:
                    run.first_arrival = now
                run.lags.extend([now - ready for ready in event.ready_times])
                run.generated_tokens += event.n_tokens
            return replace(event, received_at=now)
        if isinstance(event, GenerationFinished):
            run = self._runs.pop(event.request_id, None)
            if run is None:
                return event
            return replace(event, stats=with_parent_figures(event.stats, run, now))
        if isinstance(event, FidelityFinished):
            self._evaluations.discard(event.request_id)
            return event
        if isinstance(event, GenerationStarted):  # kept for the stats of a run that crashes
            run = self._runs.get(event.request_id)
            if run is not None:
                run.prompt_mode, run.prompt_tokens = event.prompt_mode, event.prompt_tokens
        return event

    def end_all(self, error: str | None) -> list[Event]:
        """Finish everything in flight: failed with `error`, or cancelled when None."""
        stop_reason: StopReason = "cancelled" if error is None else "error"
        events: list[Event] = [
            GenerationFinished(request_id, ended_run_stats(run, stop_reason, error))
            for request_id, run in self._take_runs()
        ]
        ended, self._evaluations = self._evaluations, set()
        figures = FidelityFigures(error=error, cancelled=error is None)
        events += [FidelityFinished(request_id, figures) for request_id in sorted(ended)]
        return events

    def _take_runs(self) -> list[tuple[str, RunTiming]]:
        """The runs in flight, forgotten here (another thread may add one meanwhile)."""
        runs = []
        for request_id in list(self._runs):
            run = self._runs.pop(request_id, None)
            if run is not None:
                runs.append((request_id, run))
        return runs
