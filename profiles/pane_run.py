"""One pane's whole run in a comparison: load once, warm up, the measured repetitions, close.

`PaneRun` drives one pane through `profiles.run_driver.PaneDriver`, as in the workbench
(contained start failures, lower worker priority, energy and GPU memory around each
generation, the generation deadline, a stop that always ends), turns each measured
generation into a `RunResult` through the comparison's `ResultRecorder`, and reports its
progress and its failure without ever stopping the other panes. In parallel mode it meets
the other panes at a common start before each step (`gate`). `RunContext` is what every
pane of one comparison shares; `profiles.runner.run_comparison` schedules the panes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engines.messages import one_line
from engines.protocol import (
    Event,
    GenerationFinished,
    LoadFailed,
    LoadProgressed,
    ModelLoaded,
    TokensGenerated,
    Warned,
    WorkerCrashed,
)
from engines.types import GenerationRequest, ModelInfo
from profiles.plan import PanePlan, sampling_for_run
from profiles.result_recorder import ResultRecorder
from profiles.run_driver import DriverOptions, HandleFactory, PaneDriver
from profiles.run_report import (
    ComparisonOutcome,
    PaneFailed,
    PaneFailure,
    PaneProgress,
    Phase,
    RunItem,
    generation_summary,
)
from profiles.schema import RunMode

if TYPE_CHECKING:
    from profiles.results import RunResult


_POLL_S = 0.25
"""How long one wait for the driver's events lasts before the cancel and silence checks."""

CANCELLED = "cancelled before it finished"
"""The failure reason of a pane that a cancel (or Ctrl-C) stopped."""


ProgressCallback = Callable[[PaneProgress], None]
"""Called with each pane's progress (one call at a time, from any pane's thread)."""


@dataclass
class RunContext:
    """What every pane of one comparison shares."""

    prompt: str
    system_prompt: str | None
    mode: RunMode
    repeat: int
    warmup: int
    handle_factory: HandleFactory
    on_progress: ProgressCallback | None
    profile_name: str | None
    cancel: threading.Event
    idle_timeout_s: float
    driver_options: DriverOptions
    recorder: ResultRecorder
    outcome: ComparisonOutcome
    top_logprobs: int = 0
    """Candidates per token to record (0: token probabilities off)."""
    items_for: Callable[[PanePlan], Sequence[RunItem]] | None = None
    """A suite run's prompts per pane (None: `prompt` alone)."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    finished: list[tuple[int, tuple[int, int], RunResult]] = field(default_factory=list)
    """(pane index, (suite prompt index or 0, repetition), result) in the order they finished."""

    @property
    def steps(self) -> int:
        """Steps per prompt: the warm-ups, then the measured repetitions."""
        return self.warmup + self.repeat

    def report(self, progress: PaneProgress) -> None:
        """Hand `progress` to `on_progress`, one pane at a time."""
        if self.on_progress is None:
            return
        with self.lock:
            self.on_progress(progress)


class PaneRun:
    """One pane's whole run: load, every step, close. Never raises (but for Ctrl-C)."""

    def __init__(
        self,
        plan: PanePlan,
        context: RunContext,
        gate: threading.Barrier | None,
        items: Sequence[RunItem] | None = None,
    ) -> None:
        self.plan = plan
        self.items = (
            list(items) if items is not None else [RunItem(context.prompt, context.system_prompt)]
        )
        self.context = context
        self.gate = gate
        self.driver = PaneDriver(plan, context.handle_factory, context.driver_options)
        self.gate_crossings = 0
        self.sha256: str | None = None
        self._item = 0
        self.started = False
        """Whether a thread was started for this pane (parallel mode)."""
        self.done = threading.Event()
        """Set when the pane has finished or failed and closed its handle."""

    def run(self) -> None:
        try:
            info = self._load()
            # Hash before any timed step, so hashing never competes with a running pane.
            self.sha256 = self.context.recorder.model_sha256(info)
            self._wait_for_other_panes()
            for number, item in enumerate(self.items):
                for step in range(self.context.steps):
                    if number and step < self.context.warmup:
                        continue  # a suite warms each model up once, on its first prompt
                    if self.context.cancel.is_set():
                        raise PaneFailed(CANCELLED)
                    self._run_step(step, info, item, number)
                    if step + 1 < self.context.steps:
                        self._wait_for_other_panes()
        except _NothingToDo:
            pass
        except PaneFailed as failure:
            self._fail(failure.reason, failure.detail)
        except KeyboardInterrupt:  # Ctrl-C in sequential mode: this pane ends cancelled
            self.context.cancel.set()
            self._fail(CANCELLED)
            raise
        except Exception as exc:  # noqa: BLE001 - one pane's bug never stops the others
            self._fail(one_line(f"{type(exc).__name__}: {exc}"))
        finally:
            self.driver.close()
            self.done.set()
            self._keep_step_with_other_panes()

    # --- loading ----------------------------------------------------------------------

    def _load(self) -> ModelInfo:
        plan = self.plan
        if plan.error is not None:
            raise PaneFailed(plan.error)
        if not self.items:
            raise _NothingToDo
        self._progress("loading")
        for failed in self.driver.open():
            assert isinstance(failed, LoadFailed)
            raise PaneFailed(failed.reason, failed.detail)
        for event in self._events("loading"):
            if isinstance(event, LoadProgressed):
                self._progress("loading", load_fraction=event.fraction)
            elif isinstance(event, ModelLoaded):
                self._progress("loaded", load_fraction=1.0)
                for warning in event.info.warnings:
                    self._progress("warning", message=warning)
                return event.info
            elif isinstance(event, LoadFailed):
                raise PaneFailed(event.reason, event.detail)
        raise PaneFailed("the model never finished loading")  # pragma: no cover - _events raises

    # --- one generation ---------------------------------------------------------------

    def _run_step(self, step: int, info: ModelInfo, item: RunItem, number: int = 0) -> None:
        context = self.context
        is_warmup = step < context.warmup
        repetition = step - context.warmup
        request = GenerationRequest(
            prompt=item.prompt,
            sampling=sampling_for_run(self.plan.sampling, self.plan.seed_mode),
            system_prompt=item.system_prompt,
            request_id=f"pane{self.plan.index}-{item.key or 'prompt'}{number}-step{step}",
            top_candidates=(
                context.top_logprobs
                if self.driver.handle is not None and self.driver.handle.serves_token_probabilities
                else 0
            ),
            cache_prompt=context.warmup > 0,
        )
        self._item = number
        self._progress("generating", step=step, warmup=is_warmup)
        self.driver.generate(request)
        tokens = 0
        for event in self._events("generating", cancellable=True):
            if isinstance(event, TokensGenerated) and event.request_id == request.request_id:
                tokens += event.n_tokens
                self._progress("generating", step=step, warmup=is_warmup, tokens=tokens)
            elif isinstance(event, GenerationFinished) and event.request_id == request.request_id:
                break
        finished = self.driver.finished
        assert finished is not None and finished.request is request
        stats = finished.stats
        if stats.stop_reason == "error":
            raise PaneFailed(stats.error or "the generation failed")
        if stats.stop_reason == "cancelled" and context.cancel.is_set():
            raise PaneFailed(CANCELLED)
        summary = generation_summary(stats)
        if not is_warmup:
            recorded = context.recorder.record(
                self.plan,
                finished,
                mode=context.mode,
                profile_name=context.profile_name,
                repetition=repetition,
                sha256=self.sha256,
                suite=(
                    item.annotate(finished.text, finished.stats.generated_tokens)
                    if item.annotate is not None
                    else None
                ),
            )
            with context.lock:
                prompt_index = item.index if item.annotate else 0
                context.finished.append(
                    (self.plan.index, (prompt_index, repetition), recorded.result)
                )
            if recorded.warning:
                self._progress("warning", message=recorded.warning)
        self._progress("generated", step=step, warmup=is_warmup, tokens=tokens, message=summary)
        if step + 1 == context.steps and number + 1 == len(self.items):
            self._progress("finished", step=step, tokens=tokens, message=summary)

    # --- events -----------------------------------------------------------------------

    def _events(self, doing: str, cancellable: bool = False) -> Iterator[Event]:
        """Yield the driver's events until the caller stops; a crash (or, while loading,
        silence) fails the pane. A generation's own end comes from the driver's clock."""
        last_event_at = time.perf_counter()
        cancel_sent = False
        while True:
            if self.context.cancel.is_set() and not cancel_sent:
                if not cancellable:
                    raise PaneFailed(CANCELLED)
                self.driver.stop()
                cancel_sent = True
            events = self.driver.poll(_POLL_S)
            now = time.perf_counter()
            if not events:
                if not cancellable and now - last_event_at > self.context.idle_timeout_s:
                    raise PaneFailed(
                        f"no answer from the model for {self.context.idle_timeout_s:g} s while {doing}"
                    )
                continue
            last_event_at = now
            # A crashed worker's run ends as an error just before the crash itself: look
            # for the crash first, so the failure quotes the end of the worker's log.
            crash = next((e for e in events if isinstance(e, WorkerCrashed)), None)
            if crash is not None:
                if self.context.cancel.is_set():
                    raise PaneFailed(CANCELLED, crash.log_tail)
                raise PaneFailed(f"the model's worker crashed: {crash.reason}", crash.log_tail)
            for event in events:
                if isinstance(event, Warned):
                    self._progress("warning", message=event.message)
                    continue
                yield event

    # --- bookkeeping ------------------------------------------------------------------

    def _wait_for_other_panes(self) -> None:
        if self.gate is None:
            return
        self.gate_crossings += 1
        try:
            self.gate.wait()
        except threading.BrokenBarrierError:
            pass

    def _keep_step_with_other_panes(self) -> None:
        """A pane that stopped early still arrives at every later start, so others never wait."""
        if self.gate is None:
            return
        # Every pane passes the gate once after loading and once before each later step.
        while self.gate_crossings < self.context.steps:
            self._wait_for_other_panes()

    def _fail(self, reason: str, detail: str = "") -> None:
        plan = self.plan
        failure = PaneFailure(plan.index, plan.label, plan.model_ref, reason, detail)
        with self.context.lock:
            self.context.outcome.failures.append(failure)
        self._progress("failed", message=reason)

    def _progress(self, phase: Phase, **values: Any) -> None:
        self.context.report(
            PaneProgress(
                pane=self.plan.index,
                label=self.plan.label,
                phase=phase,
                steps=self.context.steps,
                repetitions=self.context.repeat,
                max_tokens=self.plan.sampling.max_tokens,
                item=self._item,
                items=len(self.items),
                **values,
            )
        )


class _NothingToDo(Exception):
    """A suite pane whose prompts are all done already (a resumed run): never loaded."""
