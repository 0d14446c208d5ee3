"""AMD GPUs through AMD SMI (the `amdsmi` package, optional: `pip install 'llmbench[amd]'`).

`AmdSmi` offers what `engines.machine.nvml.Nvml` offers (devices, samples, free memory,
power, energy, per-process GPU memory), so the machine panel, the run meter and
`llmbench doctor` read AMD GPUs as they read NVIDIA ones (`engines.machine.gpus` puts both
together). Without the package, the ROCm library or a GPU, `available` is False and
`reason` says why; a query that fails mid-way degrades that one value to None, logged once.

The module is injectable (`AmdSmi(module=...)`), so tests drive every path with a stand-in
(tests/unit/fake_amdsmi.py). Calls and shapes follow the AMD SMI Python API of ROCm 6.2 and
later: `amdsmi_get_gpu_process_list` returns one dict per process with `pid` and
`memory_usage.vram_mem` (bytes); memory totals and use are bytes; power is watts;
the energy counter is a count times `counter_resolution` microjoules.
"""

from __future__ import annotations

import functools
import importlib
import logging
from types import ModuleType
from typing import Any

from engines.machine.gpu_library import GpuLibrary
from engines.machine.nvml import MIB, GPUInfo, GPUSample

log = logging.getLogger("llmbench.amdsmi")


class AmdSmi(GpuLibrary):
    """A thin, failure-tolerant view of AMD SMI, shaped like `Nvml`. Thread-safe."""

    vendor = "AMD"
    library = "AMD SMI"

    def __init__(self, module: ModuleType | Any | None = None) -> None:
        """`module`: an amdsmi-like module (tests pass a stand-in); None imports amdsmi."""
        super().__init__(module, log, "AMD GPU figures not available")
        self.missing = False
        """True when the amdsmi package is not installed (an optional extra: not news on a
        machine without AMD GPUs)."""

    def _start(self) -> None:
        module: Any = self._module
        if module is None:
            try:
                module = importlib.import_module("amdsmi")  # optional at runtime
            except ImportError:
                self.missing = True
                self._reason = "amdsmi is not installed (pip install 'llmbench[amd]')"
                return
            except OSError as error:  # the package is there, ROCm's libamd_smi.so is not
                self._reason = f"amdsmi cannot load the ROCm library: {error}"
                return
            self._module = module
        try:
            flags = getattr(getattr(module, "AmdSmiInitFlags", None), "INIT_AMD_GPUS", None)
            module.amdsmi_init(flags) if flags is not None else module.amdsmi_init()
        except module.AmdSmiException as error:
            self._reason = f"AMD SMI could not start (is the amdgpu driver loaded?): {error}"
            return
        try:
            self._handles = list(module.amdsmi_get_processor_handles())
        except module.AmdSmiException as error:
            self._reason = f"AMD SMI started but could not list GPUs: {error}"
            return
        if not self._handles:
            self._reason = "no AMD GPU found"
            return
        self._available = True

    def _shut_down(self) -> None:
        self._module.amdsmi_shut_down()

    def _errors(self) -> tuple[type[BaseException], ...]:
        return (self._module.AmdSmiException, KeyError, TypeError, ValueError)

    # --- devices -------------------------------------------------------------------------

    def driver_version(self) -> str | None:
        if not self.available:
            return None
        info = self._query(
            "driver version", 0, lambda: self._module.amdsmi_get_gpu_driver_info(self._handles[0])
        )
        version = info.get("driver_version") if isinstance(info, dict) else None
        return str(version) if version else None

    def device_infos(self) -> tuple[GPUInfo, ...]:
        if not self.available:
            return ()
        driver = self.driver_version()
        return tuple(
            GPUInfo(
                index=index,
                name=self._name(index, handle),
                memory_total_bytes=self._vram(index, handle, "total"),
                driver_version=driver,
            )
            for index, handle in enumerate(self._handles)
        )

    def sample_devices(self) -> tuple[GPUSample, ...]:
        if not self.available:
            return ()
        module = self._module
        samples = []
        for index, handle in enumerate(self._handles):
            activity = self._query(
                "activity", index, functools.partial(module.amdsmi_get_gpu_activity, handle)
            )
            busy = activity.get("gfx_activity") if isinstance(activity, dict) else None
            temperature = self._query(
                "temperature",
                index,
                functools.partial(
                    module.amdsmi_get_temp_metric,
                    handle,
                    module.AmdSmiTemperatureType.EDGE,
                    module.AmdSmiTemperatureMetric.CURRENT,
                ),
            )
            samples.append(
                GPUSample(
                    index=index,
                    name=self._name(index, handle),
                    utilization_percent=_number(busy),
                    memory_used_bytes=self._vram(index, handle, "used"),
                    memory_total_bytes=self._vram(index, handle, "total"),
                    temperature_c=_number(temperature),
                    power_w=self.power_w(index),
                )
            )
        return tuple(samples)

    def free_memory_bytes(self) -> tuple[int | None, ...]:
        if not self.available:
            return ()
        result = []
        for index, handle in enumerate(self._handles):
            total, used = self._vram(index, handle, "total"), self._vram(index, handle, "used")
            result.append(total - used if total is not None and used is not None else None)
        return tuple(result)

    def power_w(self, index: int) -> float | None:
        """Socket power of GPU `index` in watts (the average the driver reports), or None."""
        if not self.available or not 0 <= index < len(self._handles):
            return None
        handle = self._handles[index]
        info = self._query("power", index, lambda: self._module.amdsmi_get_power_info(handle))
        if not isinstance(info, dict):
            return None
        for key in ("average_socket_power", "current_socket_power"):
            value = _number(info.get(key))
            if value is not None and value > 0:
                return value
        return None

    def total_energy_mj(self, index: int) -> int | None:
        """GPU `index`'s energy counter in millijoules, or None."""
        if not self.available or not 0 <= index < len(self._handles):
            return None
        handle = self._handles[index]
        info = self._query("energy", index, lambda: self._module.amdsmi_get_energy_count(handle))
        if not isinstance(info, dict):
            return None
        count = _number(info.get("energy_accumulator", info.get("power")))
        resolution = _number(info.get("counter_resolution"))
        if count is None or resolution is None:
            return None
        return int(count * resolution / 1000.0)  # microjoules → millijoules

    # --- per process ---------------------------------------------------------------------

    def process_gpu_memory_mib(self) -> dict[int, float]:
        """pid → VRAM in MiB, summed over all AMD GPUs."""
        if not self.available:
            return {}
        totals: dict[int, float] = {}
        for index, handle in enumerate(self._handles):
            processes = self._query(
                "processes",
                index,
                functools.partial(self._module.amdsmi_get_gpu_process_list, handle),
            )
            for process in processes or []:
                if not isinstance(process, dict):
                    continue
                pid = process.get("pid")
                memory = process.get("memory_usage")
                used = memory.get("vram_mem") if isinstance(memory, dict) else process.get("mem")
                used_bytes = _number(used)
                if not isinstance(pid, int) or used_bytes is None:
                    continue
                totals[pid] = totals.get(pid, 0.0) + used_bytes / MIB
        return totals

    def gpu_memory_of_pid(self, pid: int) -> float | None:
        return self.process_gpu_memory_mib().get(pid)

    # --- helpers -------------------------------------------------------------------------

    def _name(self, index: int, handle: Any) -> str:
        info = self._query("name", index, lambda: self._module.amdsmi_get_gpu_asic_info(handle))
        name = info.get("market_name") if isinstance(info, dict) else None
        return str(name) if name and name != "N/A" else f"AMD GPU {index}"

    def _vram(self, index: int, handle: Any, which: str) -> int | None:
        module = self._module
        getter = (
            module.amdsmi_get_gpu_memory_total
            if which == "total"
            else module.amdsmi_get_gpu_memory_usage
        )
        value = self._query(
            f"VRAM {which}", index, lambda: getter(handle, module.AmdSmiMemoryType.VRAM)
        )
        number = _number(value)
        return int(number) if number is not None else None


def _number(value: Any) -> float | None:
    """A numeric reading; None for "N/A" and the like."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


@functools.cache
def default_amdsmi() -> AmdSmi:
    """The process-wide AMD SMI view (created on first use, never at import)."""
    return AmdSmi()
