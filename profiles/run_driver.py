"""One pane's model, driven the same way by the workbench and by headless runs.

`PaneDriver` is what `tui.pane_controller.PaneController` (the workbench) and
`profiles.runner` (`llmbench run`, the benchmarks) both use between a pane and its
`ModelHandle`, so a result from either carries the same fields, filled the same way:

- `open()` opens the handle and asks it to load. Anything that goes wrong there (an
  unwritable cache directory, a process that cannot start) becomes a `LoadFailed` with
  one line, never an exception that ends the app or the run;
- once the model is loaded its worker runs at a lower priority than the interface
  (`engines.machine.process_priority`);
- `generate(request)` sends a generation with a `engines.machine.run_meter.RunMeter`
  around it: the finished figures carry this machine's energy and the worker's GPU memory;
- `poll(timeout)` hands out the handle's events (the caller's thread waits in it) and
  enforces the clock: a generation past its deadline (`DriverOptions.generation_deadline_s`)
  is cancelled and fails; one that does not end within `stop_grace_s` of being stopped
  (a worker stopped with SIGSTOP, a server that keeps streaming) is ended by killing its
  worker (or closing its connection), so stopping always ends the generation;
- every finished generation is kept as a `FinishedGeneration` (request, figures, the
  whole text, the model), what `profiles.result_recorder.ResultRecorder` turns into a
  result.

Thread use: one thread calls `open()` and `poll()`; any thread may call `generate()`,
`stop()`, `update_sampling()` and `close()`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from engines.config import DEFAULT_GENERATION_DEADLINE_S, ConfigError, load_config
from engines.machine.process_priority import WORKER_NICENESS, lower_priority
from engines.machine.run_meter import RunMeter, fill
from engines.messages import one_line
from engines.protocol import (
    Event,
    GenerationFinished,
    GenerationStarted,
    LoadFailed,
    ModelHandle,
    ModelLoaded,
    TokensGenerated,
)
from engines.types import (
    GenerationRequest,
    GenerationStats,
    ModelInfo,
    PromptMode,
    SamplingParams,
    TokenProbabilities,
)
from profiles.plan import PanePlan

HandleFactory = Callable[[PanePlan], ModelHandle]
"""Opens the (not yet loaded) ModelHandle of a pane: `profiles.plan.open_handle` or a fake."""

STOP_GRACE_S = 5.0
"""How long a stopped generation may take to end before its worker is killed."""


@dataclass(frozen=True)
class DriverOptions:
    """How a pane's generations are driven (the same for the workbench and headless runs)."""

    generation_deadline_s: float | None = DEFAULT_GENERATION_DEADLINE_S
    """The longest one generation may take, from sending it to its end; None: no limit.
    Set by config.toml's `[run] generation_deadline_s` or `llmbench run --deadline`."""
    stop_grace_s: float = STOP_GRACE_S
    """How long a stopped (or overdue) generation may take to end before its worker is killed."""
    run_meter: Callable[[], RunMeter] = RunMeter
    """Makes the meter put around each generation (energy, GPU memory)."""
    niceness: int = WORKER_NICENESS
    """How much lower than this process a loaded model's worker runs."""

    @classmethod
    def from_config(cls) -> DriverOptions:
        """The options config.toml asks for (its defaults when it cannot be read)."""
        try:
            deadline = load_config().generation_deadline_s
        except ConfigError:
            deadline = DEFAULT_GENERATION_DEADLINE_S
        return cls(generation_deadline_s=deadline)


@dataclass(frozen=True)
class FinishedGeneration:
    """One generation as it ended: what was asked, its figures, its whole text, the model."""

    request: GenerationRequest
    stats: GenerationStats
    text: str
    info: ModelInfo | None
    token_probabilities: tuple[TokenProbabilities, ...] = ()
    """What the sampler saw for each generated token (empty when not asked for)."""


@dataclass
class _Generation:
    """The generation in flight."""

    request: GenerationRequest
    meter: RunMeter
    sent_at: float
    deadline_at: float | None
    text: list[str] = field(default_factory=list)
    token_probabilities: list[TokenProbabilities] = field(default_factory=list)
    tokens: int = 0
    prompt_mode: PromptMode = "completion"
    stop_at: float | None = None
    """When it was stopped (or ran out of time): the grace period counts from here."""
    overdue: bool = False
    """It ran past its deadline: it fails, whatever it ends with."""


class PaneDriver:
    """One pane's handle: open and load it, run generations, stop them for sure."""

    def __init__(
        self,
        plan: PanePlan,
        handle_factory: HandleFactory,
        options: DriverOptions | None = None,
        *,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.plan = plan
        self.options = options or DriverOptions()
        self._factory = handle_factory
        self._clock = clock
        self.handle: ModelHandle | None = None
        self.info: ModelInfo | None = None
        """The loaded model (None until loaded, and again after another open)."""
        self.finished: FinishedGeneration | None = None
        """The last generation that ended."""
        self._current: _Generation | None = None
        self._closed = False

    # --- loading ----------------------------------------------------------------------

    def open(self) -> list[Event]:
        """Open a new handle (ending any earlier one) and ask it to load.

        Returns [] when loading started (its events come from `poll`), else the one
        `LoadFailed` that says why not.
        """
        self._end_handle()
        self.info, self._current = None, None
        try:
            handle = self._factory(self.plan)
        except Exception as exc:  # noqa: BLE001 - a handle that cannot open fails its pane
            return [LoadFailed(_cannot_start(exc))]
        self.handle = handle
        if self._closed:  # closed while the handle was opening
            self._end_handle()
            return []
        try:
            handle.load(self.plan.settings)
        except Exception as exc:  # noqa: BLE001 - e.g. no cache dir, no process: this pane fails
            self._end_handle()
            return [LoadFailed(_cannot_start(exc))]
        return []

    @property
    def alive(self) -> bool:
        """Whether the handle can still take commands."""
        return self.handle is not None and self.handle.alive

    @property
    def pid(self) -> int | None:
        handle = self.handle
        return handle.pid if handle is not None else None

    # --- commands ---------------------------------------------------------------------

    def generate(self, request: GenerationRequest) -> None:
        """Send a generation, metered, with the deadline running from now."""
        handle = self.handle
        if handle is None:
            raise RuntimeError("the model is not open")
        now = self._clock()
        deadline = self.options.generation_deadline_s
        meter = self.options.run_meter()
        meter.start()
        self._current = _Generation(
            request, meter, sent_at=now, deadline_at=now + deadline if deadline else None
        )
        handle.generate(request)

    def stop(self) -> bool:
        """Cancel the running generation; kill its worker if it has not ended after the
        grace period. True if one was running."""
        generation, handle = self._current, self.handle
        if generation is None or handle is None:
            return False
        if generation.stop_at is None:
            generation.stop_at = self._clock()
        handle.cancel()
        return True

    def update_sampling(self, sampling: SamplingParams) -> None:
        if self.handle is not None:
            self.handle.update_sampling(sampling)

    def close(self) -> None:
        """End the model's worker (its memory comes back). Safe to call twice."""
        self._closed = True
        self._end_handle()

    # --- events -----------------------------------------------------------------------

    def poll(self, timeout: float) -> list[Event]:
        """The next events (waiting up to `timeout`), completed; the clock enforced."""
        handle = self.handle
        if handle is None:
            time.sleep(timeout)
            return []
        events: list[Event] = []
        for event in handle.next_events(timeout):
            events.extend(self._take(event))
        events.extend(self._enforce_clock())
        return events

    def _generation_of(self, event: Event) -> _Generation | None:
        """The generation in flight, when `event` is one of its own."""
        current = self._current
        if current is not None and getattr(event, "request_id", None) == (
            current.request.request_id
        ):
            return current
        return None

    def _take(self, event: Event) -> list[Event]:
        generation = self._generation_of(event)
        if isinstance(event, ModelLoaded):
            self.info = event.info
            if self.pid:
                lower_priority(self.pid, self.options.niceness)
        elif isinstance(event, GenerationStarted) and generation is not None:
            generation.prompt_mode = event.prompt_mode
        elif isinstance(event, TokensGenerated) and generation is not None:
            generation.text.append(event.text)
            generation.token_probabilities.extend(event.probabilities)
            generation.tokens += event.n_tokens
        elif isinstance(event, GenerationFinished):
            if generation is None:
                return []  # one already ended here (its worker was killed)
            return [self._finish(event.stats)]
        return [event]

    def _enforce_clock(self) -> list[Event]:
        generation, handle = self._current, self.handle
        if generation is None or handle is None:
            return []
        now = self._clock()
        if generation.deadline_at is not None and now >= generation.deadline_at:
            if not generation.overdue:
                generation.overdue = True
                generation.stop_at = generation.stop_at or now
                handle.cancel()
        if generation.stop_at is None or now - generation.stop_at < self.options.stop_grace_s:
            return []
        # It did not end when asked: end its worker, and the generation with it.
        try:
            handle.kill()
        except Exception:  # noqa: BLE001 - the generation ends here whatever the handle says
            pass
        stats = GenerationStats(
            stop_reason="cancelled",
            prompt_mode=generation.prompt_mode,
            prompt_tokens=None,
            generated_tokens=generation.tokens,
            ttft_s=None,
            prompt_tps=None,
            decode_tps=None,
            engine_decode_tps=None,
            elapsed_s=now - generation.sent_at,
        )
        return [self._finish(stats)]

    def _finish(self, stats: GenerationStats) -> GenerationFinished:
        generation = self._current
        assert generation is not None
        self._current = None
        reading = generation.meter.stop(self.pid, local=self.plan.kind == "local")
        stats = fill(stats, reading)
        if generation.overdue:
            stats = replace(stats, stop_reason="error", error=self._overdue_reason())
        self.finished = FinishedGeneration(
            generation.request,
            stats,
            "".join(generation.text),
            self.info,
            tuple(generation.token_probabilities),
        )
        return GenerationFinished(generation.request.request_id, stats)

    def _overdue_reason(self) -> str:
        deadline = self.options.generation_deadline_s or 0
        return (
            f"no end after {deadline:g} s: stopped at the generation deadline "
            "([run] generation_deadline_s in config.toml; llmbench run --deadline)"
        )

    def _end_handle(self) -> None:
        handle, self.handle = self.handle, None
        if handle is None:
            return
        try:
            handle.close()
        except Exception:  # noqa: BLE001 - closing never hides the pane's own outcome
            pass


def _cannot_start(exc: BaseException) -> str:
    return f"could not start the model: {one_line(exc)}"
