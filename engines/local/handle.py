"""The parent's side of one model worker: `WorkerModelHandle`, the ModelHandle the app uses.

Each handle owns at most one worker process (`engines.local.worker_process`). Before
starting one, `load()` checks the file in the parent, where it is quick and the message is
clear: missing, a directory, empty, not GGUF, truncated header (`engines.models.gguf_info`),
and whether the model fits in memory (`engines.models.memory_fit`). Anything only llama.cpp
can judge (an unknown architecture, truncated weights) fails in the worker and comes back as
`LoadFailed` quoting llama.cpp's log.

The parent times what only it can see (docs/metrics.md): load time (asked → ready), TTFT
(request sent → first token received), elapsed time, and the delivery lag of every token
(ready in the worker → received here; `time.perf_counter()` is the same monotonic clock
in both processes). `engines.local.event_pump` fills them into the events as they pass
through `next_events()`, and notices a worker that dies.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from engines.fidelity.figures import FidelityFigures, FidelityRequest
from engines.local.event_pump import EventPump
from engines.local.in_flight import InFlight
from engines.local.timing import error_stats
from engines.local.worker import DEFAULT_ENGINE
from engines.local.worker_process import WorkerProcess
from engines.machine.threads import default_threads
from engines.models.gguf_info import GGUFError, read_gguf_metadata
from engines.models.memory_fit import available_ram_bytes, check_memory_fit, free_gpu_bytes
from engines.protocol import (
    Cancel,
    Evaluate,
    Event,
    FidelityFinished,
    Generate,
    GenerationFinished,
    LoadFailed,
    LoadModel,
    ModelHandle,
    UpdateSampling,
)
from engines.types import GenerationRequest, ModelSettings, SamplingParams


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
        self._ram_available = ram_available
        self._gpu_free = gpu_free
        self._worker = WorkerProcess(engine)
        self._in_flight = InFlight()
        self._pump = EventPump(self._worker, self._in_flight)
        self._closed = False

    # --- state -------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        return self._worker.pid

    @property
    def alive(self) -> bool:
        return not (self._closed or self._pump.crashed)

    @property
    def log_path(self) -> Path | None:
        """The current (or last) worker's llama.cpp log file."""
        return self._worker.log_path

    # --- commands ----------------------------------------------------------------------

    def load(self, settings: ModelSettings) -> None:
        asked_at = time.perf_counter()
        if not self.alive:
            self._pump.post(
                LoadFailed(f"{_name(settings)}: this model's worker is {self._state_word()}")
            )
            return
        if not settings.path.strip():
            self._pump.post(LoadFailed("no model file given"))
            return
        settings = replace(
            settings,
            path=str(Path(settings.path).expanduser().absolute()),
            n_threads=settings.n_threads or default_threads(1),
        )
        problem = self._precheck(settings)
        if problem is not None:
            self._pump.post(LoadFailed(problem))
            return
        self._stop_worker()
        self._pump.load_sent(_name(settings), asked_at)
        self._worker.start(settings)
        self._worker.send(LoadModel(settings))

    def generate(self, request: GenerationRequest) -> None:
        if not self._pump.loaded or self._worker.process is None:
            self._pump.post(GenerationFinished(request.request_id, error_stats(self._idle())))
            return
        self._in_flight.run_sent(request.request_id, time.perf_counter())
        self._worker.send(Generate(request))

    @property
    def can_evaluate(self) -> bool:
        return True

    @property
    def serves_token_probabilities(self) -> bool:
        return True

    def evaluate(self, request: FidelityRequest) -> None:
        if not self._pump.loaded or self._worker.process is None:
            figures = FidelityFigures(error=self._idle())
            self._pump.post(FidelityFinished(request.request_id, figures))
            return
        self._in_flight.evaluation_sent(request.request_id)
        self._worker.send(Evaluate(request))

    def update_sampling(self, sampling: SamplingParams) -> None:
        self._worker.send(UpdateSampling(sampling))

    def cancel(self) -> None:
        self._worker.send(Cancel())

    def close(self) -> None:
        if self._closed:
            return
        self._worker.expect_exit()  # before closed: the pump never sees a closed handle's crash
        self._closed = True
        self._stop_worker()

    def kill(self) -> None:
        """Kill the worker at once (SIGKILL: it stopped answering, or it is stopped)."""
        if self._closed:
            return
        self._worker.expect_exit()
        self._closed = True
        self._worker.kill()
        self._stop_worker()

    def next_events(self, timeout: float | None = None) -> list[Event]:
        return self._pump.next_events(timeout)

    # --- helpers -----------------------------------------------------------------------

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

    def _stop_worker(self) -> None:
        """Stop the worker, if any; the runs in flight are not left hanging."""
        if self._worker.stop():
            self._pump.worker_stopped()

    def _idle(self) -> str:
        """Why no work can be sent now."""
        if self.alive:
            return "the model is not loaded"
        return f"the model's worker is {self._state_word()}"

    def _state_word(self) -> str:
        return "closed" if self._closed else "crashed"


def _name(settings: ModelSettings) -> str:
    return Path(settings.path).name or settings.label or "the model"
