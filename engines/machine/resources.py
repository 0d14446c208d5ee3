"""Live machine and per-process resource figures, sampled off the UI thread.

`ResourceSampler` takes one `ResourceSample` every `interval_s` on its own daemon
thread: the machine's CPU (total and per core), RAM and swap; for the llmbench process
itself and each watched model worker its RSS, CPU % and threads, plus its own GPU memory
through NVML; and each GPU. A ring buffer keeps a few minutes for sparklines.

Its own cost stays small: psutil.Process objects are reused (their CPU counters are
deltas since the previous call), one read of the per-core CPU times per sample (kept by
the sampler itself, so other callers of psutil.cpu_percent do not shorten its interval),
one NVML process list per sample, no subprocesses. The thread's own CPU time is exposed as
`own_cpu_seconds` (benchmarks/sampler_cost.py prints it).
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psutil

from engines.machine.gpus import default_gpus
from engines.machine.nvml import GPUSample, Nvml

log = logging.getLogger("llmbench.resources")

SELF_LABEL = "llmbench"
"""The label of the llmbench process itself in `ResourceSample.processes`."""
MIN_CPU_INTERVAL_S = 0.05
"""Readings of a process's CPU closer together than this repeat the previous figure."""


@dataclass(frozen=True)
class ProcessSample:
    """One process at one moment."""

    label: str
    rss_bytes: int
    cpu_percent: float
    """CPU % since the previous sample (or since `watch`); 100 = one core busy."""
    num_threads: int
    gpu_mem_mib: float | None
    """The process's own GPU memory (NVML); None without NVML or when it holds none."""


@dataclass(frozen=True)
class ResourceSample:
    """The machine and the watched processes at one moment."""

    time: float
    """time.monotonic() when the sample was taken."""
    cpu_percent: float
    """Average over all cores since the previous sample, 0-100."""
    cpu_percent_per_core: tuple[float, ...]
    ram_used_bytes: int
    ram_available_bytes: int
    ram_total_bytes: int
    swap_used_bytes: int
    swap_total_bytes: int
    processes: dict[int, ProcessSample] = field(default_factory=dict)
    """pid → the process's figures: llmbench itself and each watched worker still alive."""
    gpus: tuple[GPUSample, ...] = ()


Listener = Callable[[ResourceSample], None]


class CpuPercentMeter:
    """Per-core CPU % between successive calls, from psutil.cpu_times(percpu=True).

    The same arithmetic as psutil.cpu_percent (idle and iowait are not busy; guest time is
    already inside user time on Linux), but with its own previous reading.
    """

    def __init__(self) -> None:
        self._previous = psutil.cpu_times(percpu=True)

    def read(self) -> tuple[float, ...]:
        """Busy % of each core since the previous call (or since construction)."""
        current = psutil.cpu_times(percpu=True)
        percents = tuple(
            _busy_percent(before, after)
            for before, after in zip(self._previous, current, strict=False)
        )
        self._previous = current
        return percents


def _busy_percent(before: Any, after: Any) -> float:
    """Busy % of one core between two psutil cpu_times readings."""
    elapsed = _total_cpu_time(after) - _total_cpu_time(before)
    if elapsed <= 0:
        return 0.0
    busy = _busy_cpu_time(after) - _busy_cpu_time(before)
    return round(min(100.0, max(0.0, busy / elapsed * 100.0)), 1)


def _total_cpu_time(times: Any) -> float:
    return sum(times) - getattr(times, "guest", 0.0) - getattr(times, "guest_nice", 0.0)


def _busy_cpu_time(times: Any) -> float:
    return _total_cpu_time(times) - times.idle - getattr(times, "iowait", 0.0)


class ProcessCpuMeter:
    """One process's CPU %, 100 = one core busy, over the time since the previous reading.

    A reading taken too soon after the previous one (under MIN_CPU_INTERVAL_S) repeats the
    last figure instead of dividing a clock tick of CPU time by a few microseconds, which
    is how psutil's own cpu_percent can report 1,500 % for an idle process.
    """

    def __init__(self, process: psutil.Process) -> None:
        self._process = process
        self._cpu_s = self._cpu_seconds()
        self._at = time.monotonic()
        self._last_percent = 0.0

    def _cpu_seconds(self) -> float:
        times = self._process.cpu_times()
        return times.user + times.system

    def percent(self) -> float:
        """CPU % since the previous reading (or since the meter was made)."""
        now = time.monotonic()
        if now - self._at < MIN_CPU_INTERVAL_S:
            return self._last_percent
        cpu_s = self._cpu_seconds()
        self._last_percent = max(0.0, (cpu_s - self._cpu_s) / (now - self._at) * 100.0)
        self._cpu_s, self._at = cpu_s, now
        return self._last_percent


class ResourceSampler:
    """Samples resources every `interval_s` on a daemon thread; keeps `history_s` of history.

    `start()` begins sampling; `stop()` ends it (both safe to call twice). `sample_now()`
    takes one sample on the calling thread (also appended to the history). The listener,
    if given, is called on the sampler thread with each sample: a Textual app should
    forward it with `call_from_thread` or post a message, never touch widgets there.
    """

    def __init__(
        self,
        interval_s: float = 1.0,
        history_s: float = 300.0,
        *,
        nvml: Nvml | None = None,
        listener: Listener | None = None,
        include_self: bool = True,
    ) -> None:
        if interval_s <= 0:
            raise ValueError(f"interval_s must be positive, not {interval_s}")
        self.interval_s = interval_s
        self.history_s = history_s
        self._nvml = nvml
        self._listener = listener
        self._lock = threading.Lock()
        self._history: deque[ResourceSample] = deque(
            maxlen=max(1, math.ceil(history_s / interval_s))
        )
        self._watched: dict[int, tuple[str, psutil.Process]] = {}
        self._stop_event = threading.Event()
        self._thread: threading.Thread | None = None
        self._own_cpu_seconds = 0.0
        self._listener_failed = False
        self._cpu_meter = CpuPercentMeter()
        self._process_cpu: dict[int, ProcessCpuMeter] = {}
        if include_self:
            self.watch(os.getpid(), SELF_LABEL)

    # --- what to watch -------------------------------------------------------------------

    def watch(self, pid: int, label: str) -> bool:
        """Watch process `pid` under `label`. False (quietly) when it does not exist."""
        try:
            process = psutil.Process(pid)
            meter = ProcessCpuMeter(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return False
        with self._lock:
            self._watched[pid] = (label, process)
            self._process_cpu[pid] = meter
        return True

    def unwatch(self, pid: int) -> None:
        """Stop watching `pid` (no error if it is not watched)."""
        with self._lock:
            self._watched.pop(pid, None)
            self._process_cpu.pop(pid, None)

    @property
    def watched(self) -> dict[int, str]:
        """pid → label of the processes being watched."""
        with self._lock:
            return {pid: label for pid, (label, _) in self._watched.items()}

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> ResourceSampler:
        """Start the sampler thread (no-op if it is running). Returns self."""
        if self._thread is not None and self._thread.is_alive():
            return self
        self._stop_event.clear()
        self._thread = threading.Thread(
            target=self._run, name="llmbench-resource-sampler", daemon=True
        )
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the sampler thread and wait for it (at most `timeout` s)."""
        self._stop_event.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> ResourceSampler:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def own_cpu_seconds(self) -> float:
        """CPU time the sampler thread itself has used so far (time.thread_time inside it)."""
        return self._own_cpu_seconds

    def _run(self) -> None:
        start_cpu = time.thread_time()
        next_due = time.monotonic()
        while not self._stop_event.is_set():
            self.sample_now()
            self._own_cpu_seconds = time.thread_time() - start_cpu
            next_due += self.interval_s
            now = time.monotonic()
            if next_due < now:  # fell behind (suspended machine): do not burst to catch up
                next_due = now + self.interval_s
            self._stop_event.wait(next_due - now)

    # --- samples -------------------------------------------------------------------------

    def latest(self) -> ResourceSample | None:
        """The newest sample, or None before the first."""
        with self._lock:
            return self._history[-1] if self._history else None

    def history(self) -> list[ResourceSample]:
        """Samples of the last `history_s` seconds, oldest first."""
        with self._lock:
            return list(self._history)

    def peak_rss_bytes(self, pid: int, since: float) -> int | None:
        """The largest RSS of `pid` in samples taken at or after monotonic time `since`."""
        values = [
            sample.processes[pid].rss_bytes
            for sample in self.history()
            if sample.time >= since and pid in sample.processes
        ]
        return max(values) if values else None

    def sample_now(self) -> ResourceSample:
        """Take one sample now, on this thread; it is appended to the history and sent to the listener."""
        per_core = self._cpu_meter.read()
        memory = psutil.virtual_memory()
        swap = psutil.swap_memory()
        nvml = self._nvml if self._nvml is not None else default_gpus()
        gpu_memory = nvml.process_gpu_memory_mib() if nvml.available else {}
        sample = ResourceSample(
            time=time.monotonic(),
            cpu_percent=sum(per_core) / len(per_core) if per_core else 0.0,
            cpu_percent_per_core=per_core,
            ram_used_bytes=int(memory.total - memory.available),
            ram_available_bytes=int(memory.available),
            ram_total_bytes=int(memory.total),
            swap_used_bytes=int(swap.used),
            swap_total_bytes=int(swap.total),
            processes=self._sample_processes(gpu_memory),
            gpus=nvml.sample_devices() if nvml.available else (),
        )
        with self._lock:
            self._history.append(sample)
        self._notify(sample)
        return sample

    def _sample_processes(self, gpu_memory: dict[int, float]) -> dict[int, ProcessSample]:
        with self._lock:
            watched = list(self._watched.items())
        result: dict[int, ProcessSample] = {}
        for pid, (label, process) in watched:
            cpu_meter = self._process_cpu.get(pid)
            try:
                with process.oneshot():
                    rss = process.memory_info().rss
                    cpu = cpu_meter.percent() if cpu_meter is not None else 0.0
                    threads = process.num_threads()
                    if process.status() == psutil.STATUS_ZOMBIE:
                        raise psutil.ZombieProcess(pid)
            except (psutil.NoSuchProcess, psutil.ZombieProcess):
                self.unwatch(pid)  # the process ended: drop it quietly
                continue
            except psutil.AccessDenied:
                continue
            result[pid] = ProcessSample(
                label=label,
                rss_bytes=int(rss),
                cpu_percent=float(cpu),
                num_threads=int(threads),
                gpu_mem_mib=gpu_memory.get(pid),
            )
        return result

    def _notify(self, sample: ResourceSample) -> None:
        if self._listener is None:
            return
        try:
            self._listener(sample)
        except Exception:  # a broken listener must not stop the sampler
            if not self._listener_failed:
                self._listener_failed = True
                log.exception("resource sampler listener failed; later failures are not logged")
