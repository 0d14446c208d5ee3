"""Every GPU this machine has, NVIDIA (NVML) and AMD (AMD SMI), behind one view.

`Gpus` offers what `Nvml` offers and numbers the devices of its readers one after another
(NVIDIA first), so the host report, the machine panel, the run meter, the energy meter
and `llmbench doctor` read both kinds without knowing which is which. `default_gpus()`
is the process-wide one (created on first use, never at import).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Protocol

from engines.machine.nvml import GPUInfo, GPUSample


class GpuReader(Protocol):
    """What every GPU reader offers (`Nvml`, `AmdSmi`, `Gpus` itself, the tests' stand-ins)."""

    @property
    def available(self) -> bool: ...
    @property
    def reason(self) -> str: ...
    @property
    def device_count(self) -> int: ...
    def driver_version(self) -> str | None: ...
    def device_infos(self) -> tuple[GPUInfo, ...]: ...
    def sample_devices(self) -> tuple[GPUSample, ...]: ...
    def free_memory_bytes(self) -> tuple[int | None, ...]: ...
    def power_w(self, index: int) -> float | None: ...
    def total_energy_mj(self, index: int) -> int | None: ...
    def process_gpu_memory_mib(self) -> dict[int, float]: ...
    def gpu_memory_of_pid(self, pid: int) -> float | None: ...
    def shutdown(self) -> None: ...


class Gpus:
    """Several GPU readers (`Nvml`, `AmdSmi`, or stand-ins) as one."""

    def __init__(self, readers: Sequence[Any]) -> None:
        self.readers = list(readers)

    @property
    def available(self) -> bool:
        return any(reader.available for reader in self.readers)

    @property
    def reason(self) -> str:
        """Why no GPU can be read ("" when one can): each reader's reason, leaving out an
        optional reader that is simply not installed (amdsmi) unless nothing else says why."""
        if self.available:
            return ""
        reasons = [r.reason for r in self.readers if r.reason and not getattr(r, "missing", False)]
        return "; ".join(reasons or [r.reason for r in self.readers if r.reason])

    @property
    def device_count(self) -> int:
        return sum(reader.device_count for reader in self._live())

    def _live(self) -> list[Any]:
        return [reader for reader in self.readers if reader.available]

    def _locate(self, index: int) -> tuple[Any, int] | None:
        """The reader of global GPU `index` and its own index there."""
        if index < 0:
            return None
        for reader in self._live():
            if index < reader.device_count:
                return reader, index
            index -= reader.device_count
        return None

    def driver_version(self) -> str | None:
        versions = [v for reader in self._live() if (v := reader.driver_version())]
        return ", ".join(versions) if versions else None

    def device_infos(self) -> tuple[GPUInfo, ...]:
        infos: list[GPUInfo] = []
        for reader in self._live():
            infos += [
                replace(info, index=len(infos) + n) for n, info in enumerate(reader.device_infos())
            ]
        return tuple(infos)

    def sample_devices(self) -> tuple[GPUSample, ...]:
        samples: list[GPUSample] = []
        for reader in self._live():
            samples += [
                replace(sample, index=len(samples) + n)
                for n, sample in enumerate(reader.sample_devices())
            ]
        return tuple(samples)

    def free_memory_bytes(self) -> tuple[int | None, ...]:
        return tuple(value for reader in self._live() for value in reader.free_memory_bytes())

    def power_w(self, index: int) -> float | None:
        located = self._locate(index)
        return located[0].power_w(located[1]) if located else None

    def total_energy_mj(self, index: int) -> int | None:
        located = self._locate(index)
        return located[0].total_energy_mj(located[1]) if located else None

    def process_gpu_memory_mib(self) -> dict[int, float]:
        totals: dict[int, float] = {}
        for reader in self._live():
            for pid, mib in reader.process_gpu_memory_mib().items():
                totals[pid] = totals.get(pid, 0.0) + mib
        return totals

    def gpu_memory_of_pid(self, pid: int) -> float | None:
        return self.process_gpu_memory_mib().get(pid)

    def shutdown(self) -> None:
        for reader in self.readers:
            reader.shutdown()


def default_gpus() -> Gpus:
    """The process-wide NVML and AMD SMI readers together (each started once, on first use)."""
    # Looked up on the modules at each call, so tests can stand in for either reader.
    import engines.machine.amd_gpus
    import engines.machine.nvml

    return Gpus([engines.machine.nvml.default_nvml(), engines.machine.amd_gpus.default_amdsmi()])
