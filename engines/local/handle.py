"""The parent's side of one model worker: `WorkerModelHandle`, the ModelHandle the app uses.

Each handle owns at most one worker process (`engines.local.worker`), started with the "spawn"
context (never fork: the parent runs Textual's threads), from any thread and whatever
`sys.stderr` is at the time (`engines.local.spawn_prep`). Before starting one, `load()`
checks the file in the parent, where it is quick and the message is clear: missing, a
directory, empty, not GGUF, truncated header (`engines.models.gguf_info`), and whether the model
fits in memory (`engines.models.memory_fit`). Anything only llama.cpp can judge (an unknown
architecture, truncated weights) fails in the worker and comes back as `LoadFailed`
quoting llama.cpp's log.

The parent times what only it can see (docs/metrics.md): load time (asked → ready), TTFT
(request sent → first token received), elapsed time, and the delivery lag of every token
(ready in the worker → received here; `time.perf_counter()` is the same monotonic clock
in both processes). It fills them into the events as they pass through `next_events()`.

A worker that dies is noticed through its process sentinel within one `next_events()`
wait: a running generation finishes with stop_reason "error", then one `WorkerCrashed`
with the signal or exit code and the tail of the worker's log. Death while loading is a
`LoadFailed` instead (the model could not be loaded; another load may be tried).
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from multiprocessing.connection import Connection, wait
from pathlib import Path

from engines.fidelity.figures import FidelityFigures, FidelityRequest
from engines.local.spawn_prep import ensure_resource_tracker
from engines.local.timing import (
    RunTiming,
    ended_run_stats,
    error_stats,
    with_parent_figures,
)
from engines.local.worker import DEFAULT_ENGINE, WorkerConfig, worker_main
from engines.local.worker_log import (
    KEEP_LOGS,
    log_tail,
    prune_old_logs,
    worker_log_path,
    worker_log_stem,
)
from engines.machine.threads import default_threads
from engines.models.gguf_info import GGUFError, read_gguf_metadata
from engines.models.memory_fit import available_ram_bytes, check_memory_fit, free_gpu_bytes
from engines.paths import log_dir
from engines.protocol import (
    Cancel,
    Command,
    Evaluate,
    Event,
    FidelityFinished,
    Generate,
    GenerationFinished,
    GenerationStarted,
    LoadFailed,
    LoadModel,
    ModelHandle,
    ModelLoaded,
    Shutdown,
    TokensGenerated,
    UpdateSampling,
    WorkerCrashed,
)
from engines.types import GenerationRequest, ModelSettings, SamplingParams

SHUTDOWN_GRACE_S = 2.0
"""How long close() waits for a worker to end by itself before terminating it."""


class WorkerModelHandle(ModelHandle):
    """One model in its own worker process.

    `engine` names the engine class the worker runs ("module:attribute"; tests use a
    stand-in). `ram_available` and `gpu_free` feed the memory-fit check (injectable).
    """

    def __init__(
        self,
        engine: str = DEFAULT_ENGINE,
        *,
        ram_available: Callable[[], int] = available_ram_bytes,
        gpu_free: Callable[[], int | None] = free_gpu_bytes,
    ) -> None:
        self._engine = engine
        self._ram_available = ram_available
        self._gpu_free = gpu_free
        self._context = multiprocessing.get_context("spawn")
        self._local_in, self._local_out = self._context.Pipe(duplex=False)
        self._local_lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._consumer_lock = threading.RLock()
        self._process: multiprocessing.process.BaseProcess | None = None
        self._commands: Connection | None = None
        self._events: Connection | None = None
        self._log_path: Path | None = None
        self._settings: ModelSettings | None = None
        self._loading = False
        self._loaded = False
        self._load_sent_at = 0.0
        self._exit_expected = False
        self._crashed = False
        self._closed = False
        self._runs: dict[str, RunTiming] = {}
        self._evaluations: set[str] = set()
        """Fidelity passes in flight (a crash or close finishes them with an error)."""

    # --- state -------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None else None

    @property
    def alive(self) -> bool:
        return not (self._closed or self._crashed)

    @property
    def log_path(self) -> Path | None:
        """The current (or last) worker's llama.cpp log file."""
        return self._log_path

    # --- commands ----------------------------------------------------------------------

    def load(self, settings: ModelSettings) -> None:
        asked_at = time.perf_counter()
        if not self.alive:
            self._post(
                LoadFailed(f"{_name(settings)}: this model's worker is {self._state_word()}")
            )
            return
        if not settings.path.strip():
            self._post(LoadFailed("no model file given"))
            return
        settings = replace(
            settings,
            path=str(Path(settings.path).expanduser().absolute()),
            n_threads=settings.n_threads or default_threads(1),
        )
        problem = self._precheck(settings)
        if problem is not None:
            self._post(LoadFailed(problem))
            return
        self._stop_worker()
        self._start_worker(settings)
        self._settings = settings
        self._loading, self._loaded, self._exit_expected = True, False, False
        self._load_sent_at = asked_at
        self._send(LoadModel(settings))

    def generate(self, request: GenerationRequest) -> None:
        if not self._loaded or self._process is None:
            why = (
                "the model is not loaded"
                if self.alive
                else f"the model's worker is {self._state_word()}"
            )
            self._post(GenerationFinished(request.request_id, error_stats(why)))
            return
        self._runs[request.request_id] = RunTiming(sent_at=time.perf_counter())
        self._send(Generate(request))

    @property
    def can_evaluate(self) -> bool:
        return True

    @property
    def serves_token_probabilities(self) -> bool:
        return True

    def evaluate(self, request: FidelityRequest) -> None:
        if not self._loaded or self._process is None:
            why = (
                "the model is not loaded"
                if self.alive
                else f"the model's worker is {self._state_word()}"
            )
            self._post(FidelityFinished(request.request_id, FidelityFigures(error=why)))
            return
        self._evaluations.add(request.request_id)
        self._send(Evaluate(request))

    def update_sampling(self, sampling: SamplingParams) -> None:
        self._send(UpdateSampling(sampling))

    def cancel(self) -> None:
        self._send(Cancel())

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stop_worker()

    def kill(self) -> None:
        """Kill the worker at once (SIGKILL: it stopped answering, or it is stopped)."""
        if self._closed:
            return
        self._closed = True
        process = self._process
        if process is not None:
            self._exit_expected = True
            process.kill()
            process.join(1.0)
        self._stop_worker()

    # --- events ------------------------------------------------------------------------

    def next_events(self, timeout: float | None = None) -> list[Event]:
        with self._consumer_lock:
            events = self._drain()
            if events:
                return events
            waitables: list[Connection | int] = [self._local_in]
            process, pipe = self._process, self._events
            if process is not None and pipe is not None and not pipe.closed:
                waitables += [pipe, process.sentinel]
            try:
                ready = bool(wait(waitables, timeout))
            except OSError:  # a pipe closed under us by close(); report what is left
                ready = True
            return self._drain() if ready else []

    def _drain(self) -> list[Event]:
        """Every event ready now, with the parent's figures filled in; then a worker's death."""
        events: list[Event] = []
        while self._local_in.poll():
            events.append(self._local_in.recv())
        process, pipe = self._process, self._events
        if process is None or pipe is None:
            return events
        exited = not process.is_alive()  # checked before draining: nothing it sent is lost
        try:
            while not pipe.closed and pipe.poll():
                events.append(self._arrived(pipe.recv(), time.perf_counter()))
        except (EOFError, OSError):
            exited = True
        except Exception:  # noqa: BLE001 - half a message from a dying worker
            exited = True
        if exited and process is self._process:
            events.extend(self._worker_ended(process))
        return events

    def _arrived(self, event: Event, now: float) -> Event:
        """Stamp and complete one event from the worker (the per-batch path: keep it lean)."""
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
        if isinstance(event, ModelLoaded):
            self._loading, self._loaded = False, True
            return replace(event, info=replace(event.info, load_s=now - self._load_sent_at))
        if isinstance(event, LoadFailed):
            self._loading, self._exit_expected = False, True  # a worker ends after a failed load
            return event
        if isinstance(event, FidelityFinished):
            self._evaluations.discard(event.request_id)
            return event
        if isinstance(event, GenerationStarted):  # kept for the stats of a run that crashes
            run = self._runs.get(event.request_id)
            if run is not None:
                run.prompt_mode, run.prompt_tokens = event.prompt_mode, event.prompt_tokens
        return event

    def _worker_ended(self, process: multiprocessing.process.BaseProcess) -> list[Event]:
        process.join(timeout=1.0)
        exitcode = process.exitcode
        self._release_worker()
        if self._closed or self._exit_expected:
            return []
        reason = describe_exit(exitcode)
        tail = log_tail(self._log_path)
        if self._loading:
            self._loading = False
            name = _name(self._settings) if self._settings else "the model"
            return [LoadFailed(f"{name}: the worker died while loading the model ({reason})", tail)]
        self._crashed = True
        events: list[Event] = [
            GenerationFinished(
                request_id, ended_run_stats(run, "error", f"the model's worker crashed: {reason}")
            )
            for request_id, run in self._take_runs()
        ]
        events += self._end_evaluations(f"the model's worker crashed: {reason}")
        events.append(WorkerCrashed(reason, exitcode, tail))
        return events

    # --- the worker process ------------------------------------------------------------

    def _precheck(self, settings: ModelSettings) -> str | None:
        """Why this file cannot be loaded, found without starting a worker; None if it may."""
        path = Path(settings.path)
        if path.exists() and not path.is_file() and not path.is_dir():
            return f"{path}: not a regular file (a pipe or a device?), not a GGUF model"
        try:
            metadata = read_gguf_metadata(settings.path)
        except GGUFError as exc:
            return str(exc)
        return check_memory_fit(metadata, settings, self._ram_available, self._gpu_free)

    def _start_worker(self, settings: ModelSettings) -> None:
        folder = log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        prune_old_logs(folder, keep=KEEP_LOGS - 1)  # room for this worker's own log
        stem = worker_log_stem(settings.label or Path(settings.path).stem)
        commands_in, commands_out = self._context.Pipe(duplex=False)
        events_in, events_out = self._context.Pipe(duplex=False)
        process = self._context.Process(
            target=worker_main,
            args=(commands_in, events_out, WorkerConfig(str(folder), stem, self._engine)),
            name=f"llmbench-worker-{stem}",
            daemon=True,
        )
        ensure_resource_tracker()  # works whatever sys.stderr is (a Textual app replaces it)
        process.start()
        commands_in.close()  # the worker's ends: closing ours lets each side see the other go
        events_out.close()
        self._process, self._commands, self._events = process, commands_out, events_in
        if process.pid is not None:  # always, once started
            self._log_path = worker_log_path(stem, process.pid, folder)

    def _stop_worker(self) -> None:
        """Ask the worker to end, then make sure it does; its memory comes back."""
        process = self._process
        if process is None:
            return
        self._exit_expected = True
        self._send(Shutdown())
        process.join(SHUTDOWN_GRACE_S)
        for stop in (process.terminate, process.kill):
            if process.exitcode is not None:
                break
            stop()
            process.join(1.0)
        self._release_worker()
        for request_id, run in self._take_runs():  # runs in flight are not left hanging
            self._post(GenerationFinished(request_id, ended_run_stats(run, "cancelled", None)))
        for event in self._end_evaluations(None):
            self._post(event)

    def _end_evaluations(self, error: str | None) -> list[Event]:
        """Finish the fidelity passes in flight: with `error`, or cancelled when None."""
        ended, self._evaluations = self._evaluations, set()
        figures = FidelityFigures(error=error, cancelled=error is None)
        return [FidelityFinished(request_id, figures) for request_id in sorted(ended)]

    def _take_runs(self) -> list[tuple[str, RunTiming]]:
        """The runs in flight, forgotten here (another thread may add one meanwhile)."""
        runs = []
        for request_id in list(self._runs):
            run = self._runs.pop(request_id, None)
            if run is not None:
                runs.append((request_id, run))
        return runs

    def _release_worker(self) -> None:
        with self._send_lock:
            commands, self._commands = self._commands, None
            if commands is not None:
                commands.close()
        self._process = None
        self._loaded = False
        events, self._events = self._events, None
        if events is not None and self._consumer_lock.acquire(blocking=False):
            try:
                events.close()
            finally:
                self._consumer_lock.release()

    def _send(self, command: Command) -> None:
        with self._send_lock:
            if self._commands is None:
                return
            try:
                self._commands.send(command)
            except (BrokenPipeError, OSError):
                pass  # the worker is gone; next_events() reports how

    def _post(self, event: Event) -> None:
        """An event that arises in the parent, delivered in order with the worker's."""
        with self._local_lock:
            self._local_out.send(event)

    def _state_word(self) -> str:
        return "closed" if self._closed else "crashed"


def describe_exit(exitcode: int | None) -> str:
    """How a worker ended, in words: "killed by signal 9 (SIGKILL)", "exited with code 1"."""
    if exitcode is None:
        return "stopped responding"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            return f"killed by signal {-exitcode}"
        return f"killed by signal {-exitcode} ({name})"
    if exitcode == 0:
        return "exited unexpectedly (code 0)"
    return f"exited with code {exitcode}"


def _name(settings: ModelSettings | None) -> str:
    if settings is None:
        return "the model"
    return Path(settings.path).name or settings.label or "the model"
