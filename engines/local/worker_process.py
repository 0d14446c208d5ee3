"""The worker process behind a `WorkerModelHandle`: starting it, sending it commands, ending it.

A handle has at most one worker at a time (`engines.local.worker`), started with the
"spawn" context (never fork: the parent runs Textual's threads), from any thread and
whatever `sys.stderr` is at the time (`engines.local.spawn_prep`). Each worker writes
llama.cpp's log to its own file (`engines.local.worker_log`). Stopping asks the worker to
shut down, then terminates and at last kills it, so its memory always comes back.
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
from multiprocessing.connection import Connection
from pathlib import Path

from engines.local.spawn_prep import ensure_resource_tracker
from engines.local.worker import WorkerConfig, worker_main
from engines.local.worker_log import KEEP_LOGS, prune_old_logs, worker_log_path, worker_log_stem
from engines.paths import log_dir
from engines.protocol import Command, Shutdown
from engines.types import ModelSettings

SHUTDOWN_GRACE_S = 2.0
"""How long stop() waits for a worker to end by itself before terminating it."""


class WorkerProcess:
    """A handle's current worker process (at most one at a time) and its two pipes.

    `engine` names the engine class the worker runs ("module:attribute")."""

    def __init__(self, engine: str) -> None:
        self._engine = engine
        self._context = multiprocessing.get_context("spawn")
        self._send_lock = threading.Lock()
        self.reading = threading.RLock()
        """Held by whoever reads `events`: release() leaves the pipe open to a reader."""
        self.process: multiprocessing.process.BaseProcess | None = None
        self._commands: Connection | None = None
        self.events: Connection | None = None
        """The worker's events, read by `engines.local.event_pump.EventPump`."""
        self.log_path: Path | None = None
        """The current (or last) worker's llama.cpp log file."""
        self.exit_expected = False
        """The worker was told to end (or will end by itself): its exit is no crash."""

    @property
    def pid(self) -> int | None:
        process = self.process
        return process.pid if process is not None else None

    def start(self, settings: ModelSettings) -> None:
        """Start a worker for `settings` (its log named after the model); none may be running."""
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
        self.process, self._commands, self.events = process, commands_out, events_in
        self.exit_expected = False
        if process.pid is not None:  # always, once started
            self.log_path = worker_log_path(stem, process.pid, folder)

    def send(self, command: Command) -> None:
        """Send `command` to the worker; nothing when there is none (or it is gone)."""
        with self._send_lock:
            if self._commands is None:
                return
            try:
                self._commands.send(command)
            except (BrokenPipeError, OSError):
                pass  # the worker is gone; the event pump reports how

    def expect_exit(self) -> None:
        """Whatever the worker does from now on, its ending is no crash."""
        self.exit_expected = True

    def stop(self) -> bool:
        """Ask the worker to end, then make sure it does; False when there was none."""
        process = self.process
        if process is None:
            return False
        self.exit_expected = True
        self.send(Shutdown())
        process.join(SHUTDOWN_GRACE_S)
        for stop in (process.terminate, process.kill):
            if process.exitcode is not None:
                break
            stop()
            process.join(1.0)
        self.release()
        return True

    def kill(self) -> None:
        """Kill the worker at once (SIGKILL: it stopped answering, or it is stopped)."""
        process = self.process
        if process is not None:
            self.exit_expected = True
            process.kill()
            process.join(1.0)

    def release(self) -> None:
        """Forget the worker: close our ends of its pipes (the events pipe unless being read)."""
        with self._send_lock:
            commands, self._commands = self._commands, None
            if commands is not None:
                commands.close()
        self.process = None
        events, self.events = self.events, None
        if events is not None and self.reading.acquire(blocking=False):
            try:
                events.close()
            finally:
                self.reading.release()


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
