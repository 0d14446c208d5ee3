"""Events for a `WorkerModelHandle`'s consumer: the worker's, the parent's own, and a death.

`EventPump.next_events` hands out, in order, the events that arise in the parent
(`post`: a load refused before any worker starts, generations ended by a stop) and those
the worker sends, stamped with the parent's clocks as they pass (`engines.local.in_flight`;
load time is asked → ready). It keeps what those events say about the model: loading,
loaded.

A worker that dies is noticed through its process sentinel within one `next_events()`
wait: a running generation finishes with stop_reason "error", then one `WorkerCrashed`
with the signal or exit code and the tail of the worker's log. Death while loading is a
`LoadFailed` instead (the model could not be loaded; another load may be tried).
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from dataclasses import replace
from multiprocessing.connection import Connection, wait

from engines.local.in_flight import InFlight
from engines.local.worker_log import log_tail
from engines.local.worker_process import WorkerProcess, describe_exit
from engines.protocol import Event, LoadFailed, ModelLoaded, WorkerCrashed


class EventPump:
    """The one queue of events a worker handle's consumer reads, and the model's state."""

    def __init__(self, worker: WorkerProcess, in_flight: InFlight) -> None:
        self._worker = worker
        self._in_flight = in_flight
        self._local_in, self._local_out = multiprocessing.get_context("spawn").Pipe(duplex=False)
        self._local_lock = threading.Lock()
        self.loading = False
        self.loaded = False
        self.crashed = False
        """The worker died unasked; the handle takes no more work."""
        self._load_sent_at = 0.0
        self._model_name = "the model"

    def post(self, event: Event) -> None:
        """An event that arises in the parent, delivered in order with the worker's."""
        with self._local_lock:
            self._local_out.send(event)

    def load_sent(self, model_name: str, asked_at: float) -> None:
        """A load of `model_name`, asked for at `asked_at`, is about to go to a new worker."""
        self._model_name = model_name
        self.loading, self.loaded = True, False
        self._load_sent_at = asked_at

    def worker_stopped(self) -> None:
        """The worker was stopped: the model is gone and its work in flight is cancelled."""
        self.loaded = False
        for event in self._in_flight.end_all(None):
            self.post(event)

    def next_events(self, timeout: float | None = None) -> list[Event]:
        """Every event ready now; else wait up to `timeout` for some (then [] if none)."""
        with self._worker.reading:
            events = self._drain()
            if events:
                return events
            waitables: list[Connection | int] = [self._local_in]
            process, pipe = self._worker.process, self._worker.events
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
        process, pipe = self._worker.process, self._worker.events
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
        if exited and process is self._worker.process:
            events.extend(self._worker_ended(process))
        return events

    def _arrived(self, event: Event, now: float) -> Event:
        """Stamp and complete one event from the worker."""
        if isinstance(event, ModelLoaded):
            self.loading, self.loaded = False, True
            return replace(event, info=replace(event.info, load_s=now - self._load_sent_at))
        if isinstance(event, LoadFailed):
            self.loading = False
            self._worker.expect_exit()  # a worker ends after a failed load
            return event
        return self._in_flight.arrived(event, now)

    def _worker_ended(self, process: multiprocessing.process.BaseProcess) -> list[Event]:
        process.join(timeout=1.0)
        exitcode = process.exitcode
        self._worker.release()
        self.loaded = False
        if self._worker.exit_expected:
            return []
        reason = describe_exit(exitcode)
        tail = log_tail(self._worker.log_path)
        if self.loading:
            self.loading = False
            return [
                LoadFailed(
                    f"{self._model_name}: the worker died while loading the model ({reason})", tail
                )
            ]
        self.crashed = True
        events = self._in_flight.end_all(f"the model's worker crashed: {reason}")
        events.append(WorkerCrashed(reason, exitcode, tail))
        return events
