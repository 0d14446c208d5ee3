"""The model worker: the child process that holds one loaded model.

The parent (`engines.local.handle.WorkerModelHandle`) starts it with multiprocessing's
"spawn" context and talks to it over two one-way pipes: commands in (`LoadModel`,
`Generate`, `UpdateSampling`, `Cancel`, `Shutdown`), events out (see
`engines.protocol`). Inside, two threads:

- the main thread runs the engine: it loads the model, then runs one generation at a
  time, sending events as the engine emits them;
- a reader thread receives commands at any time, so `Cancel` and `UpdateSampling` reach
  a generation while it runs (through `WorkerControl`, which the engine polls between
  tokens); everything else is queued for the main thread, in order.

First thing, the worker points its stdout and stderr at its own log file
(`engines.local.worker_log`), before llama_cpp is even imported, so llama.cpp never writes to
the terminal. A failed load sends `LoadFailed` (quoting the log) and ends the worker;
the parent starts a fresh one for the next load. When the parent goes away, the command
pipe closes and the worker ends too.
"""

from __future__ import annotations

import faulthandler
import importlib
import os
import queue
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from engines.fidelity.figures import FidelityFigures, FidelityRequest
from engines.local.process_memory import peak_resident_mib
from engines.local.timing import error_stats
from engines.local.worker_log import llama_load_error, log_tail, redirect_output_to, worker_log_path
from engines.messages import first_line
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
    LoadProgressed,
    ModelLoaded,
    Shutdown,
    TokensGenerated,
    UpdateSampling,
)
from engines.types import GenerationRequest, ModelSettings, PromptMode, SamplingParams

DEFAULT_ENGINE = "engines.local.engine:LlamaEngine"
"""The engine a worker runs, as "module:attribute" (tests name a stand-in)."""


@dataclass(frozen=True)
class WorkerConfig:
    """What a worker needs besides its pipes (small and picklable: it crosses the spawn)."""

    log_dir: str
    log_stem: str
    """The worker's log file is `{log_dir}/{log_stem}-{pid}.log` (see `engines.local.worker_log`)."""
    engine: str = DEFAULT_ENGINE


class WorkerControl:
    """The engine's view of the commands that arrive while it generates (a GenerationControl).

    The reader thread cancels and offers sampling changes; the engine asks between tokens.
    """

    def __init__(self) -> None:
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self._pending: SamplingParams | None = None

    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def take_sampling_change(self) -> SamplingParams | None:
        """The latest sampling values asked for since the last call, or None."""
        if self._pending is None:  # the per-token path: no lock when nothing is pending
            return None
        with self._lock:
            change, self._pending = self._pending, None
        return change

    def cancel(self) -> None:
        self._cancel.set()

    def offer_sampling(self, sampling: SamplingParams) -> None:
        with self._lock:
            self._pending = sampling

    def reset(self) -> None:
        """A new generation starts: no cancel, no pending change (its request has the values)."""
        with self._lock:
            self._pending = None
            self._cancel.clear()


def worker_main(commands: Connection, events: Connection, config: WorkerConfig) -> None:
    """The worker process's entry point (the target of the spawned Process).

    The worker ignores SIGINT: Ctrl-C in a terminal goes to the whole foreground process
    group, and it is the parent's to act on (it cancels the generation, then ends the worker).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    log_path = worker_log_path(config.log_stem, os.getpid(), Path(config.log_dir))
    redirect_output_to(log_path)
    faulthandler.enable()  # a segfault leaves a Python traceback in the log
    Worker(commands, events, _import_engine(config.engine), log_path).run()


def _import_engine(target: str) -> Callable[[ModelSettings], Any]:
    """The engine class named "module:attribute"; if it cannot be imported, a factory that
    raises why, so the load fails with a reason instead of the worker dying."""
    module_name, _, attribute = target.partition(":")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except Exception as exc:  # noqa: BLE001 - reported as the load's failure
        why = f"the engine {target} cannot start: {type(exc).__name__}: {first_line(str(exc))}"

        def unavailable(_settings: ModelSettings) -> Any:
            raise RuntimeError(why)

        return unavailable


class Worker:
    """The worker's two loops: commands in (reader thread), engine work (main thread)."""

    def __init__(
        self,
        commands: Connection,
        events: Connection,
        engine_factory: Callable[[ModelSettings], Any],
        log_path: Path | None = None,
    ) -> None:
        self._commands = commands
        self._events = events
        self._engine_factory = engine_factory
        self._log_path = log_path
        self._work: queue.SimpleQueue[Command] = queue.SimpleQueue()
        self._control = WorkerControl()
        self._send_lock = threading.Lock()
        self._engine: Any = None

    def run(self) -> None:
        """Serve commands until Shutdown, a failed load, or the parent going away."""
        threading.Thread(target=self._read_commands, name="llmbench-commands", daemon=True).start()
        try:
            while True:
                command = self._work.get()
                if isinstance(command, Shutdown):
                    break
                if isinstance(command, LoadModel):
                    if not self._load(command.settings):
                        break
                elif isinstance(command, Generate):
                    self._generate(command.request)
                elif isinstance(command, Evaluate):
                    self._evaluate(command.request)
        finally:
            self._close_engine()

    # --- commands (reader thread) -------------------------------------------------------

    def _read_commands(self) -> None:
        while True:
            try:
                command = self._commands.recv()
            except (EOFError, OSError):
                command = Shutdown()  # the parent is gone
            if isinstance(command, Cancel):
                self._control.cancel()
            elif isinstance(command, UpdateSampling):
                self._control.offer_sampling(command.sampling)
            else:
                if isinstance(command, Generate | Evaluate):
                    self._control.reset()
                elif isinstance(command, Shutdown):
                    self._control.cancel()
                self._work.put(command)
                if isinstance(command, Shutdown):
                    return

    # --- events ----------------------------------------------------------------------

    def emit(self, event: Event) -> None:
        """Send one event to the parent; if the parent is gone, end the worker at once."""
        try:
            with self._send_lock:
                self._events.send(event)
        except (BrokenPipeError, EOFError, OSError):
            os._exit(0)

    # --- work (main thread) ----------------------------------------------------------

    def _load(self, settings: ModelSettings) -> bool:
        try:
            engine = self._engine_factory(settings)
            info = engine.load(lambda fraction: self.emit(LoadProgressed(float(fraction))))
        except Exception as exc:  # noqa: BLE001 - any failure to load becomes LoadFailed
            _flush_std_streams()
            tail = log_tail(self._log_path)
            reason = _naming_the_file(first_line(exc), settings.path)
            llama_says = llama_load_error(tail)
            if llama_says:  # llama.cpp's own reason says more than "could not load"
                reason = f"{Path(settings.path).name}: {llama_says}"
            self.emit(LoadFailed(reason, tail))
            return False
        self._engine = engine
        self.emit(ModelLoaded(info))
        return True

    def _generate(self, request: GenerationRequest) -> None:
        if self._engine is None:
            stats = error_stats("no model is loaded in this worker", "completion", 0, 0)
            self.emit(GenerationFinished(request.request_id, stats))
            return
        seen = _SeenSoFar()

        def emit(event: Event) -> None:
            seen.note(event)
            self.emit(event)

        try:
            stats = self._engine.generate(request, emit, self._control)
        except Exception as exc:  # noqa: BLE001 - an engine error ends this run, not the worker
            reason = first_line(exc)
            stats = error_stats(reason, seen.prompt_mode, seen.prompt_tokens, seen.generated_tokens)
        if stats.peak_rss_mib is None:
            stats = replace(stats, peak_rss_mib=peak_resident_mib())
        self.emit(GenerationFinished(request.request_id, stats))

    def _evaluate(self, request: FidelityRequest) -> None:
        if self._engine is None or not hasattr(self._engine, "evaluate"):
            figures = FidelityFigures(error="no model that can run a fidelity pass is loaded")
        else:
            try:
                figures = self._engine.evaluate(request, self.emit, self._control)
            except Exception as exc:  # noqa: BLE001 - a failed pass ends this pass, not the worker
                reason = first_line(exc)
                figures = FidelityFigures(error=reason, n_ctx=request.n_ctx)
        self.emit(FidelityFinished(request.request_id, figures))

    def _close_engine(self) -> None:
        engine, self._engine = self._engine, None
        if engine is not None:
            try:
                engine.close()
            except Exception:  # noqa: BLE001 - the process ends right after anyway
                pass


class _SeenSoFar:
    """What a generation had reported before it failed (for the stats of a failed run)."""

    def __init__(self) -> None:
        self.prompt_mode: PromptMode = "completion"
        self.prompt_tokens: int | None = None
        self.generated_tokens = 0

    def note(self, event: Event) -> None:
        if isinstance(event, TokensGenerated):
            self.generated_tokens += event.n_tokens
        elif isinstance(event, GenerationStarted):
            self.prompt_mode = event.prompt_mode
            self.prompt_tokens = event.prompt_tokens


def _naming_the_file(message: str, path: str) -> str:
    """`message`, led by the file's name unless it names the file already."""
    name = Path(path).name
    return message if name and name in message else f"{name}: {message}"


def _flush_std_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
