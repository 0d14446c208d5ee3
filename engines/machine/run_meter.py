"""What this machine can tell about one generation: its energy and the worker's GPU memory.

`RunMeter` is started when a generation is sent and stopped when it finishes; `stop()`
returns a `MeterReading` and `fill()` puts it into the generation's figures, so the
workbench and headless runs get these figures the same way (`profiles.run_driver`).

- Energy: `engines.machine.energy.RunEnergyMeter` (GPU board energy through NVML, CPU
  package energy through RAPL). It is the whole board's and package's, so panes that run
  in parallel each see the energy of all of them: only sequential runs give one model's
  energy. A model served elsewhere gets none of this machine's energy.
- GPU memory: the worker process's own, from NVML (`engines.machine.nvml`).

Both are bonus figures: where this machine cannot tell, they are None, never a failure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from engines.types import GenerationStats


@dataclass(frozen=True)
class MeterReading:
    """This machine's figures of one generation; None where it cannot tell."""

    energy_j: float | None = None
    """GPU board energy."""
    cpu_energy_j: float | None = None
    """CPU package energy."""
    gpu_mem_mib: float | None = None
    """The worker process's own GPU memory."""


def start_energy_meter() -> Any:
    """A started `RunEnergyMeter`, or None where this machine cannot measure energy."""
    try:
        from engines.machine.energy import RunEnergyMeter

        meter = RunEnergyMeter()
        meter.start()
    except Exception:  # noqa: BLE001 - energy is a bonus figure, never a failure
        return None
    return meter


def gpu_memory_of_pid(pid: int) -> float | None:
    """Process `pid`'s own GPU memory in MiB, or None where NVML cannot tell."""
    from engines.machine.gpus import default_gpus

    try:
        return default_gpus().gpu_memory_of_pid(pid)
    except Exception:  # noqa: BLE001 - GPU memory is shown as "—" when unknown
        return None


class RunMeter:
    """Energy and GPU memory around one generation: `start()`, then `stop(pid, local=...)`.

    `energy_meter` starts an energy meter (an object with `stop()` returning something
    with `gpu_j` and `cpu_j`, or None where energy cannot be measured); `gpu_memory`
    reads one process's GPU memory. Both are injectable.
    """

    def __init__(
        self,
        *,
        energy_meter: Callable[[], Any] = start_energy_meter,
        gpu_memory: Callable[[int], float | None] = gpu_memory_of_pid,
    ) -> None:
        self._start_energy_meter = energy_meter
        self._gpu_memory = gpu_memory
        self._energy: Any = None

    def start(self) -> None:
        """Start measuring (call as the generation is sent)."""
        try:
            self._energy = self._start_energy_meter()
        except Exception:  # noqa: BLE001 - energy is a bonus figure, never a failure
            self._energy = None

    def stop(self, pid: int | None, *, local: bool) -> MeterReading:
        """Stop measuring; `pid` is the worker's process, `local` whether it runs here."""
        energy, self._energy = self._energy, None
        reading = None
        if energy is not None:
            try:
                reading = energy.stop()
            except Exception:  # noqa: BLE001 - energy is a bonus figure, never a failure
                reading = None
        gpu_j = cpu_j = gpu_mem = None
        if reading is not None and local:  # this machine's energy says nothing of a server
            gpu_j = getattr(reading, "gpu_j", None)
            cpu_j = getattr(reading, "cpu_j", None)
        if pid:
            try:
                gpu_mem = self._gpu_memory(pid)
            except Exception:  # noqa: BLE001 - GPU memory is shown as "—" when unknown
                gpu_mem = None
        return MeterReading(energy_j=gpu_j, cpu_energy_j=cpu_j, gpu_mem_mib=gpu_mem)


def fill(stats: GenerationStats, reading: MeterReading) -> GenerationStats:
    """`stats` with the reading's figures where the model did not give its own."""
    changes = {
        name: value
        for name in ("energy_j", "cpu_energy_j", "gpu_mem_mib")
        if getattr(stats, name) is None and (value := getattr(reading, name)) is not None
    }
    return replace(stats, **changes) if changes else stats
