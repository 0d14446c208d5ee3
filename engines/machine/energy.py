"""Energy used during one run: GPU board energy (NVML) and CPU package energy (Linux RAPL).

`RunEnergyMeter` is started before a run and stopped after it:

- GPU: for each GPU, the difference of NVML's energy counter
  (nvmlDeviceGetTotalEnergyConsumption, millijoules, Volta and newer) where the device
  has it; otherwise board power (nvmlDeviceGetPowerUsage) sampled at about 10 Hz on a
  small background thread and integrated over the run's wall time (trapezoid rule).
- CPU: the package domains of /sys/class/powercap/intel-rapl:N (AMD exposes them there
  too), read at start, at stop and about once a second in between, so counter
  wrap-around (at max_energy_range_uj) is handled even on long runs. Recent kernels make
  energy_uj readable by root only; then the CPU figure is None ("n/a").

Figures that cannot be measured are None, never 0. Times use time.perf_counter().
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from engines.machine.gpus import GpuReader, default_gpus

log = logging.getLogger("llmbench.energy")

DEFAULT_POWERCAP_ROOT = Path("/sys/class/powercap")
GPU_POWER_POLL_HZ = 10.0
RAPL_POLL_S = 1.0


@dataclass(frozen=True)
class EnergyReading:
    """Energy over one run. None means "n/a" (not measurable here), never zero."""

    gpu_j: float | None
    cpu_j: float | None
    seconds: float
    gpu_method: str | None = None
    """"counter" (NVML energy counter), "power integration", "counter+power integration", or None."""


def trapezoid_joules(samples: Sequence[tuple[float, float]]) -> float | None:
    """Energy in joules from (seconds, watts) samples by the trapezoid rule; None with < 2 samples."""
    if len(samples) < 2:
        return None
    ordered = sorted(samples)
    return sum(
        (t1 - t0) * (w0 + w1) / 2.0
        for (t0, w0), (t1, w1) in zip(ordered, ordered[1:], strict=False)
    )


def counter_delta(start: int, end: int, max_range: int | None) -> int:
    """The increase of a counter that wraps to 0 after `max_range` (RAPL's energy_uj)."""
    if end >= start:
        return end - start
    if not max_range:
        return 0
    return end + max_range - start


@dataclass(frozen=True)
class RaplDomain:
    """One CPU package's RAPL energy counter."""

    name: str
    energy_path: Path
    max_range_uj: int | None

    def read_uj(self) -> int | None:
        try:
            return int(self.energy_path.read_text().strip())
        except (OSError, ValueError):
            return None


def rapl_package_domains(root: str | os.PathLike[str] = DEFAULT_POWERCAP_ROOT) -> list[RaplDomain]:
    """The readable CPU package domains under `root` (intel-rapl:N, not subzones like intel-rapl:N:M)."""
    root = Path(root)
    try:
        zones = sorted(root.glob("intel-rapl:*"))
    except OSError:
        return []
    domains = []
    for zone in zones:
        if zone.name.count(":") != 1:
            continue
        name = _read_text(zone / "name") or zone.name
        if not name.startswith("package"):
            continue
        max_range = _read_text(zone / "max_energy_range_uj")
        domain = RaplDomain(
            name=name,
            energy_path=zone / "energy_uj",
            max_range_uj=int(max_range) if max_range and max_range.isdigit() else None,
        )
        if domain.read_uj() is not None:
            domains.append(domain)
    return domains


def rapl_status(root: str | os.PathLike[str] = DEFAULT_POWERCAP_ROOT) -> str:
    """One line on whether CPU package energy can be read here."""
    root = Path(root)
    if not root.is_dir():
        return f"not available ({root} does not exist)"
    if not any(root.glob("intel-rapl:*")):
        return f"not available (no RAPL zones under {root})"
    domains = rapl_package_domains(root)
    if not domains:
        return "not readable (energy_uj is root-only on this kernel)"
    return "readable (" + ", ".join(domain.name for domain in domains) + ")"


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


class RunEnergyMeter:
    """start() before a run, stop() after it → EnergyReading. One meter per run."""

    def __init__(
        self,
        *,
        nvml: GpuReader | None = None,
        gpu_indices: Sequence[int] | None = None,
        powercap_root: str | os.PathLike[str] = DEFAULT_POWERCAP_ROOT,
        poll_hz: float = GPU_POWER_POLL_HZ,
        rapl_poll_s: float = RAPL_POLL_S,
    ) -> None:
        """`gpu_indices`: the GPUs to count (None: all). `nvml`/`powercap_root` are injectable;
        `poll_hz` is the GPU power sampling rate, `rapl_poll_s` how often RAPL is read in between."""
        self._nvml = nvml
        self._gpu_indices = gpu_indices
        self._powercap_root = Path(powercap_root)
        self._poll_s = 1.0 / poll_hz
        self._rapl_poll_s = rapl_poll_s
        self._lock = threading.Lock()
        self._stop_event = threading.Event()
        self._thread: threading.Thread | None = None
        self._started_at: float | None = None
        self._counter_start: dict[int, int] = {}
        self._power_samples: dict[int, list[tuple[float, float]]] = {}
        self._rapl: list[RaplDomain] = []
        self._rapl_last: dict[str, int] = {}
        self._rapl_total_uj: dict[str, int] = {}

    def start(self) -> None:
        """Read the counters and start the background sampling thread (if anything needs it)."""
        if self._started_at is not None:
            raise RuntimeError("this RunEnergyMeter was already started; use one meter per run")
        nvml = self._nvml if self._nvml is not None else default_gpus()
        self._nvml = nvml
        indices = self._gpus(nvml)
        for index in indices:
            counter = nvml.total_energy_mj(index)
            if counter is not None:
                self._counter_start[index] = counter
            else:
                self._power_samples[index] = []
        self._rapl = rapl_package_domains(self._powercap_root)
        for domain in self._rapl:
            value = domain.read_uj()
            if value is not None:
                self._rapl_last[domain.name] = value
                self._rapl_total_uj[domain.name] = 0
        self._started_at = time.perf_counter()
        self._poll_power(self._started_at)
        if self._power_samples or self._rapl_last:
            self._thread = threading.Thread(
                target=self._run, name="llmbench-energy-meter", daemon=True
            )
            self._thread.start()

    def stop(self) -> EnergyReading:
        """Stop measuring and return the run's energy."""
        if self._started_at is None:
            raise RuntimeError("RunEnergyMeter.stop() called before start()")
        self._stop_event.set()
        if self._thread is not None:
            self._thread.join(2.0)
        stopped_at = time.perf_counter()
        self._poll_power(stopped_at)
        self._poll_rapl()
        gpu_j, method = self._gpu_energy()
        cpu_j = sum(self._rapl_total_uj.values()) / 1e6 if self._rapl_total_uj else None
        return EnergyReading(
            gpu_j=gpu_j, cpu_j=cpu_j, seconds=stopped_at - self._started_at, gpu_method=method
        )

    def _gpus(self, nvml: GpuReader) -> list[int]:
        if not nvml.available:
            return []
        all_indices = range(nvml.device_count)
        if self._gpu_indices is None:
            return list(all_indices)
        return [index for index in self._gpu_indices if index in all_indices]

    def _run(self) -> None:
        interval = (
            min(self._poll_s, self._rapl_poll_s) if self._power_samples else self._rapl_poll_s
        )
        last_rapl = time.perf_counter()
        while not self._stop_event.wait(interval):
            self._poll_power()
            now = time.perf_counter()
            if now - last_rapl >= self._rapl_poll_s:
                self._poll_rapl()
                last_rapl = now

    def _poll_power(self, at: float | None = None) -> None:
        """Read each GPU's power; stamped `at` (the run's ends) or when the reading came back."""
        if not self._power_samples or self._nvml is None:
            return
        for index, samples in self._power_samples.items():
            watts = self._nvml.power_w(index)
            if watts is not None:
                with self._lock:
                    samples.append((at if at is not None else time.perf_counter(), watts))

    def _poll_rapl(self) -> None:
        for domain in self._rapl:
            if domain.name not in self._rapl_last:
                continue
            value = domain.read_uj()
            if value is None:
                continue
            with self._lock:
                delta = counter_delta(self._rapl_last[domain.name], value, domain.max_range_uj)
                self._rapl_total_uj[domain.name] += delta
                self._rapl_last[domain.name] = value

    def _gpu_energy(self) -> tuple[float | None, str | None]:
        total = 0.0
        methods = []
        measured = False
        assert self._nvml is not None
        for index, start in self._counter_start.items():
            end = self._nvml.total_energy_mj(index)
            if end is not None and end >= start:
                total += (end - start) / 1000.0
                measured = True
                if "counter" not in methods:
                    methods.append("counter")
        with self._lock:
            series = {index: list(samples) for index, samples in self._power_samples.items()}
        for samples in series.values():
            joules = trapezoid_joules(samples)
            if joules is not None:
                total += joules
                measured = True
                if "power integration" not in methods:
                    methods.append("power integration")
        if not measured:
            return None, None
        return total, "+".join(methods)
