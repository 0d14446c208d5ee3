"""One pane's link to its model: drives it, sends commands, tracks the pane's state.

The model itself is driven by `profiles.run_driver.PaneDriver`, exactly as headless runs
drive it (contained start failures, lower worker priority, energy and GPU memory around
each generation, the generation deadline, a stop that always ends). The controller is
plain Python (no widgets), so its state machine is easy to test. Two threads touch it,
each with its own part:

- a Textual thread worker (one group per pane) runs `pump()`: it opens the model
  (which may start a process) through the driver, then waits on the driver's events and
  hands each batch to a callback that posts a message to the pane;
- the UI thread calls the commands (`request_run`, `stop`, `set_sampling`, `close`) and
  `apply(event)` for each event that arrived, which updates the state shown on screen.

Handle commands return at once (see `engines.protocol.ModelHandle`), so the UI thread
never waits on the model.
"""

from __future__ import annotations

import enum
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

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
    Warned,
    WorkerCrashed,
)
from engines.types import (
    DEFAULT_TOP_CANDIDATES,
    GenerationRequest,
    GenerationStats,
    ModelInfo,
    SamplingParams,
    TokenProbabilities,
    decode_speed,
)
from profiles.plan import PanePlan, sampling_for_run
from profiles.run_driver import DriverOptions, FinishedGeneration, PaneDriver

EngineFactory = Callable[[PanePlan], ModelHandle]
"""Opens the (not yet loaded) ModelHandle for a pane: `profiles.plan.open_handle` or a fake."""

BATCH_WINDOW_S = 0.05
"""Events that arrive within this window after the first are delivered together (one
screen update per window, however fast the tokens come)."""

POLL_TIMEOUT_S = 0.1
"""How long the pump waits for events before it checks whether it should stop."""


class PaneState(enum.StrEnum):
    """What a pane is doing, as the user sees it."""

    RESOLVING = "resolving"
    """Finding the model file (before a plan exists)."""
    LOADING = "loading"
    READY = "ready"
    GENERATING = "generating"
    DONE = "done"
    STOPPED = "stopped"
    ERROR = "error"
    """The last generation failed, or the model could not be found or loaded."""
    CRASHED = "crashed"
    """The worker process died; running again starts a new one."""


class RunOutcome(enum.StrEnum):
    """What `request_run` did."""

    STARTED = "started"
    QUEUED = "queued"
    """The model is still loading; the run starts when it is ready."""
    BUSY = "busy"
    """Already generating; nothing changed."""
    NEEDS_RESTART = "needs_restart"
    """No model is loaded (load failed or crashed): start the pump again, the run is queued."""
    UNRUNNABLE = "unrunnable"
    """The pane's model reference did not resolve."""


@dataclass
class LiveFigures:
    """The running figures of the current generation (parent clock, docs/metrics.md)."""

    sent_at: float = 0.0
    first_arrival: float | None = None
    tokens: int = 0
    first_ready: float | None = None
    last_ready: float | None = None
    prompt_tokens: int | None = None

    def elapsed_s(self, now: float | None = None) -> float:
        return (now if now is not None else time.perf_counter()) - self.sent_at

    @property
    def ttft_s(self) -> float | None:
        return None if self.first_arrival is None else self.first_arrival - self.sent_at

    @property
    def decode_tps(self) -> float | None:
        if self.first_ready is None or self.last_ready is None:
            return None
        return decode_speed(self.tokens, self.first_ready, self.last_ready)


@dataclass
class PaneController:
    """The state of one pane and the commands to its model."""

    plan: PanePlan
    factory: EngineFactory
    options: DriverOptions = field(default_factory=DriverOptions)
    """How the model is driven (deadline, stop grace, run meter)."""
    sampling: SamplingParams = field(init=False)
    """The sampling values the next (or running) generation uses."""
    state: PaneState = PaneState.LOADING
    reason: str = ""
    """Why the pane is in ERROR or CRASHED, one line."""
    detail: str = ""
    """What the worker's log said last when it failed to load or crashed (a few lines)."""
    load_fraction: float = 0.0
    info: ModelInfo | None = None
    warnings: list[str] = field(default_factory=list)
    """What the model or server warned about, each once however often it repeats it."""
    request: GenerationRequest | None = None
    """The running or last generation's request."""
    pending: GenerationRequest | None = None
    """A run asked for while the model was loading."""
    live: LiveFigures = field(default_factory=LiveFigures)
    stats: GenerationStats | None = None
    """The last finished generation's figures."""
    driver: PaneDriver = field(init=False)
    token_probabilities_on: bool = True
    """Record token probabilities (`engines.types.TokenProbabilities`) for local models:
    on by default (their cost is within the bound, `benchmarks/decode_overhead.py`)."""
    token_probabilities: list[TokenProbabilities] = field(default_factory=list)
    """The running or last generation's token records, one per generated token (local
    models with token probabilities on; empty otherwise)."""
    _closed: bool = False

    def __post_init__(self) -> None:
        self.sampling = self.plan.sampling
        self.driver = PaneDriver(self.plan, self.factory, self.options)
        if self.plan.error:
            self.state, self.reason = PaneState.ERROR, self.plan.error

    @property
    def handle(self) -> ModelHandle | None:
        """The model's handle while one is open."""
        return self.driver.handle

    @property
    def finished(self) -> FinishedGeneration | None:
        """The last generation that ended, as the driver kept it (what a result is made of)."""
        return self.driver.finished

    # --- the worker thread ---------------------------------------------------------

    def pump(self, deliver: Callable[[list[Event]], object], cancelled: Callable[[], bool]) -> None:
        """Open and load the model, then deliver its events until closed or crashed.

        Runs in a thread worker. `deliver` must be thread-safe (post a message). Never
        raises: a model that cannot even start fails its pane with one line.
        """
        driver = self.driver
        failed = driver.open()
        if failed:
            deliver(failed)
            return
        while not cancelled() and not self._closed:
            events = driver.poll(POLL_TIMEOUT_S)
            if not events:
                if not driver.alive:
                    return
                continue
            window_end = time.perf_counter() + BATCH_WINDOW_S
            while not _ends_stream(events) and (left := window_end - time.perf_counter()) > 0:
                events.extend(driver.poll(left))
            deliver(events)
            if any(isinstance(event, WorkerCrashed) for event in events):
                return

    # --- commands (UI thread) -----------------------------------------------------

    @property
    def loaded(self) -> bool:
        return self.info is not None and self.state not in (PaneState.CRASHED, PaneState.LOADING)

    @property
    def serves_token_probabilities(self) -> bool:
        """Whether this pane's model sends token records: a local model, or a handle that
        says it does (`ModelHandle.serves_token_probabilities`, e.g. a server with logprobs)."""
        handle = self.handle
        if handle is not None:
            return handle.serves_token_probabilities
        return self.plan.kind == "local"

    @property
    def asks_token_probabilities(self) -> bool:
        """The next request asks for token probabilities (on, and the model sends them)."""
        return self.token_probabilities_on and self.serves_token_probabilities

    @property
    def busy(self) -> bool:
        """Generating, or holding a run queued until the model is loaded."""
        return self.state is PaneState.GENERATING or self.pending is not None

    def request_run(self, prompt: str, system_prompt: str | None) -> RunOutcome:
        """Run `prompt` with the current sampling values, now or as soon as loaded."""
        if self.plan.error:
            return RunOutcome.UNRUNNABLE
        if self.state is PaneState.GENERATING:
            return RunOutcome.BUSY
        request = GenerationRequest(
            prompt=prompt,
            sampling=sampling_for_run(self.sampling, self.plan.seed_mode),
            system_prompt=system_prompt or None,
            request_id=uuid.uuid4().hex[:12],
            top_candidates=DEFAULT_TOP_CANDIDATES if self.asks_token_probabilities else 0,
        )
        if self.state is PaneState.LOADING:
            self.pending = request
            return RunOutcome.QUEUED
        if not self.loaded or not self.driver.alive:
            self.pending = request
            self.info = None
            self.state, self.reason, self.load_fraction = PaneState.LOADING, "", 0.0
            self.detail = ""
            return RunOutcome.NEEDS_RESTART
        self._start(request)
        return RunOutcome.STARTED

    def _start(self, request: GenerationRequest) -> None:
        self.request, self.pending, self.stats = request, None, None
        self.live = LiveFigures(sent_at=time.perf_counter())
        self.token_probabilities = []
        self.state, self.reason = PaneState.GENERATING, ""
        self.driver.generate(request)

    def stop(self) -> bool:
        """Cancel the running generation (or the queued one). True if there was one.

        A generation that does not end within the driver's grace period (a hung worker)
        is ended by killing its worker; the next run loads the model again.
        """
        if self.pending is not None:
            self.pending = None
            return True
        if self.state is PaneState.GENERATING:
            return self.driver.stop()
        return False

    def set_sampling(self, sampling: SamplingParams) -> None:
        """New sampling values: applied from the next token while generating, else next run."""
        self.sampling = sampling
        if self.state is PaneState.GENERATING:
            self.driver.update_sampling(sampling)

    def close(self) -> None:
        """End the model's worker (its memory comes back). Safe to call twice."""
        self._closed = True
        self.pending = None
        self.driver.close()

    # --- events (UI thread) -------------------------------------------------------

    def apply(self, event: Event) -> None:
        """Update the state for one event from the model."""
        match event:
            case LoadProgressed(fraction=fraction):
                self.load_fraction = fraction
            case ModelLoaded(info=info):
                self.info, self.load_fraction = info, 1.0
                for warning in info.warnings:
                    self.warn(warning)
                self.state = PaneState.READY
                if self.pending is not None:
                    self._start(self.pending)
            case LoadFailed(reason=reason, detail=detail):
                self.pending = None
                self.state, self.reason = PaneState.ERROR, f"load failed: {reason}"
                self.detail = detail
            case GenerationStarted(prompt_tokens=prompt_tokens):
                self.live.prompt_tokens = prompt_tokens
            case TokensGenerated() if self._current(event.request_id):
                self._count(event)
            case GenerationFinished(stats=stats) if self._current(event.request_id):
                self.stats = stats
                self.state, self.reason = _finished_state(stats)
            case WorkerCrashed(reason=reason, log_tail=log_tail):
                self.pending = None
                self.state, self.reason = PaneState.CRASHED, f"worker crashed: {reason}"
                self.detail = log_tail
            case Warned(message=message):
                self.warn(message)
            case SamplingChanged():
                pass

    def warn(self, message: str) -> None:
        """Keep a warning for the pane header, unless the same one is already there
        (a server repeats what it ignores on every request; a reload repeats load warnings)."""
        if message not in self.warnings:
            self.warnings.append(message)

    def _current(self, request_id: str) -> bool:
        return self.request is not None and self.request.request_id == request_id

    def _count(self, batch: TokensGenerated) -> None:
        live = self.live
        if live.first_arrival is None:
            live.first_arrival = batch.received_at or time.perf_counter()
        if batch.ready_times:
            live.first_ready = (
                live.first_ready if live.first_ready is not None else batch.ready_times[0]
            )
            live.last_ready = batch.ready_times[-1]
        live.tokens += batch.n_tokens
        self.token_probabilities.extend(batch.probabilities)


def _finished_state(stats: GenerationStats) -> tuple[PaneState, str]:
    if stats.stop_reason == "error":
        return PaneState.ERROR, stats.error or "generation failed"
    if stats.stop_reason == "cancelled":
        return PaneState.STOPPED, ""
    return PaneState.DONE, ""


def _ends_stream(events: list[Event]) -> bool:
    """Whether the batch holds an event the user should see without waiting for more."""
    return any(
        isinstance(event, GenerationFinished | WorkerCrashed | LoadFailed | ModelLoaded)
        for event in events
    )
