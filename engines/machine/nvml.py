"""NVIDIA GPUs through NVML (the `nvidia-ml-py` package, imported as `pynvml`).

`Nvml` is importable and usable on a machine with no NVIDIA driver: `available` is then
False and `reason` says why in plain words, logged once. A call that fails mid-way (an
NVMLError from one query, e.g. power draw "Not Supported") degrades that one value to
None and is logged once per query and device; never an error per sample.

The pynvml module is injectable (`Nvml(module=...)`), so tests drive every path with a
stand-in module. One process-wide instance, `default_nvml()`, is shared by the host
report, the resource sampler and the energy meter, so NVML is initialised once.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from engines.machine.gpu_library import GpuLibrary
from engines.units import MIB

log = logging.getLogger("llmbench.nvml")


_ERROR_REASONS: dict[str, str] = {
    "NVML_ERROR_LIBRARY_NOT_FOUND": "no NVIDIA driver found (libnvidia-ml.so not loadable)",
    "NVML_ERROR_DRIVER_NOT_LOADED": "the NVIDIA driver is installed but not loaded",
    "NVML_ERROR_NO_PERMISSION": "no permission to query the NVIDIA driver",
    "NVML_ERROR_FUNCTION_NOT_FOUND": "the NVIDIA driver is too old for this NVML",
}
"""pynvml error constant name → what the user is told when NVML cannot start."""


@dataclass(frozen=True)
class GPUInfo:
    """One GPU as the host report shows it."""

    index: int
    name: str
    memory_total_bytes: int | None
    driver_version: str | None


@dataclass(frozen=True)
class GPUSample:
    """One GPU at one moment. Values NVML could not give are None (shown "n/a")."""

    index: int
    name: str
    utilization_percent: float | None
    memory_used_bytes: int | None
    memory_total_bytes: int | None
    temperature_c: float | None
    power_w: float | None


class Nvml(GpuLibrary):
    """A thin, failure-tolerant view of NVML. Initialises on first use; thread-safe."""

    library = "NVML"

    def __init__(self, module: ModuleType | object | None = None) -> None:
        """`module`: a pynvml-like module (tests pass a stand-in); None imports pynvml."""
        super().__init__(module, log, "GPU figures not available")

    def _start(self) -> None:
        module = self._module
        if module is None:
            try:
                import pynvml  # noqa: PLC0415 - optional at runtime
            except ImportError:
                self._reason = "nvidia-ml-py is not installed, so NVIDIA GPUs cannot be read"
                return
            self._module = module = pynvml
        try:
            module.nvmlInit()
        except module.NVMLError as error:
            self._reason = self._init_failure_reason(error)
            return
        try:
            count = int(module.nvmlDeviceGetCount())
            self._handles = [module.nvmlDeviceGetHandleByIndex(index) for index in range(count)]
        except module.NVMLError as error:
            self._reason = f"NVML started but could not list GPUs: {error}"
            self._handles = []
            return
        if not self._handles:
            self._reason = "no NVIDIA GPU found (the driver is loaded but reports no devices)"
            return
        self._available = True

    def _init_failure_reason(self, error: Exception) -> str:
        value = getattr(error, "value", None)
        for constant, reason in _ERROR_REASONS.items():
            if value is not None and value == getattr(self._module, constant, object()):
                return reason
        return f"NVML could not start: {error}"

    def _shut_down(self) -> None:
        self._module.nvmlShutdown()

    def _errors(self) -> tuple[type[BaseException], ...]:
        return (self._module.NVMLError,)

    # --- devices -------------------------------------------------------------------------

    def driver_version(self) -> str | None:
        if not self.available:
            return None
        value = self._query("driver version", None, self._module.nvmlSystemGetDriverVersion)
        return _text(value) if value is not None else None

    def device_infos(self) -> tuple[GPUInfo, ...]:
        """Each GPU's name, total memory and the driver version; () without NVML."""
        if not self.available:
            return ()
        driver = self.driver_version()
        infos = []
        for index, handle in enumerate(self._handles):
            memory = self._memory(index, handle)
            infos.append(
                GPUInfo(
                    index=index,
                    name=self._name(index, handle),
                    memory_total_bytes=int(memory.total) if memory is not None else None,
                    driver_version=driver,
                )
            )
        return tuple(infos)

    def sample_devices(self) -> tuple[GPUSample, ...]:
        """Each GPU's utilisation, memory, temperature and power now; () without NVML."""
        if not self.available:
            return ()
        module = self._module
        samples = []
        for index, handle in enumerate(self._handles):
            memory = self._memory(index, handle)
            rates = self._query(
                "utilisation",
                index,
                functools.partial(module.nvmlDeviceGetUtilizationRates, handle),
            )
            temperature = self._query(
                "temperature",
                index,
                functools.partial(
                    module.nvmlDeviceGetTemperature,
                    handle,
                    getattr(module, "NVML_TEMPERATURE_GPU", 0),
                ),
            )
            samples.append(
                GPUSample(
                    index=index,
                    name=self._name(index, handle),
                    utilization_percent=float(rates.gpu) if rates is not None else None,
                    memory_used_bytes=int(memory.used) if memory is not None else None,
                    memory_total_bytes=int(memory.total) if memory is not None else None,
                    temperature_c=float(temperature) if temperature is not None else None,
                    power_w=self.power_w(index),
                )
            )
        return tuple(samples)

    def free_memory_bytes(self) -> tuple[int | None, ...]:
        """Free memory of each GPU in bytes (None where NVML could not say); () without NVML."""
        if not self.available:
            return ()
        result = []
        for index, handle in enumerate(self._handles):
            memory = self._memory(index, handle)
            result.append(int(memory.free) if memory is not None else None)
        return tuple(result)

    def power_w(self, index: int) -> float | None:
        """Board power draw of GPU `index` in watts, or None."""
        if not self.available or not 0 <= index < len(self._handles):
            return None
        handle = self._handles[index]
        milliwatts = self._query(
            "power draw", index, lambda: self._module.nvmlDeviceGetPowerUsage(handle)
        )
        return milliwatts / 1000.0 if milliwatts is not None else None

    def total_energy_mj(self, index: int) -> int | None:
        """GPU `index`'s energy counter since driver load, in millijoules (Volta and newer), or None."""
        if not self.available or not 0 <= index < len(self._handles):
            return None
        handle = self._handles[index]
        value = self._query(
            "energy counter",
            index,
            lambda: self._module.nvmlDeviceGetTotalEnergyConsumption(handle),
        )
        return int(value) if value is not None else None

    # --- per process ---------------------------------------------------------------------

    def process_gpu_memory_mib(self) -> dict[int, float]:
        """pid → GPU memory in MiB, summed over all GPUs, compute and graphics processes.

        A process whose memory NVML cannot report (usedGpuMemory unavailable, e.g. under
        some virtualised GPUs) is left out, so it reads as "n/a" rather than as 0 MiB.
        """
        if not self.available:
            return {}
        module = self._module
        totals: dict[int, float] = {}
        for index, handle in enumerate(self._handles):
            seen_on_device: dict[int, float] = {}
            for query, getter_name in (
                ("compute processes", "nvmlDeviceGetComputeRunningProcesses"),
                ("graphics processes", "nvmlDeviceGetGraphicsRunningProcesses"),
            ):
                getter = getattr(module, getter_name, None)
                if getter is None:
                    continue
                processes = self._query(query, index, functools.partial(getter, handle)) or []
                for process in processes:
                    used = getattr(process, "usedGpuMemory", None)
                    if not isinstance(used, int | float):
                        continue
                    pid = int(process.pid)
                    # A process that is both compute and graphics is listed twice with the same memory.
                    seen_on_device[pid] = max(seen_on_device.get(pid, 0.0), used / MIB)
            for pid, mib in seen_on_device.items():
                totals[pid] = totals.get(pid, 0.0) + mib
        return totals

    def gpu_memory_of_pid(self, pid: int) -> float | None:
        """GPU memory of process `pid` in MiB; None without NVML or when the process uses no GPU."""
        return self.process_gpu_memory_mib().get(pid)

    # --- helpers -------------------------------------------------------------------------

    def _name(self, index: int, handle: Any) -> str:
        value = self._query("name", index, lambda: self._module.nvmlDeviceGetName(handle))
        return _text(value) if value is not None else f"GPU {index}"

    def _memory(self, index: int, handle: Any) -> Any | None:
        return self._query("memory", index, lambda: self._module.nvmlDeviceGetMemoryInfo(handle))


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)


@functools.cache
def default_nvml() -> Nvml:
    """The process-wide NVML view (created on first use, never at import)."""
    return Nvml()
