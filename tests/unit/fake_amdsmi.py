"""A stand-in for the `amdsmi` module (AMD SMI's Python API), as fake_nvml is for pynvml.

It mimics what llmbench uses: AmdSmiException, the init flag, memory, temperature enums,
amdsmi_init / amdsmi_shut_down, processor handles, ASIC info (market name), VRAM total and
use, activity, temperature, power, the energy counter, driver info and the process list
(dicts, as ROCm 6.2+ returns them). `failing` makes chosen calls raise; `init_error`
makes amdsmi_init fail (no amdgpu driver).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

MIB = 1024 * 1024


class AmdSmiException(Exception):
    """Like amdsmi.AmdSmiException (AmdSmiLibraryException derives from it)."""


AmdSmiInitFlags = SimpleNamespace(INIT_AMD_GPUS=2)
AmdSmiMemoryType = SimpleNamespace(VRAM=0, VIS_VRAM=1, GTT=2)
AmdSmiTemperatureType = SimpleNamespace(EDGE=0, HOTSPOT=1)
AmdSmiTemperatureMetric = SimpleNamespace(CURRENT=0)


@dataclass
class FakeAmdGpu:
    """One scripted AMD GPU."""

    name: str = "AMD Instinct MI300X"
    vram_total: int = 192 * 1024 * MIB
    vram_used: int = 4 * 1024 * MIB
    gfx_activity: int | str = 63
    temperature: int | str = 48
    power_w: int | str = 350
    energy_count: int | None = 2_000_000
    """Counter ticks (resolution 15.3 µJ); None: not supported."""
    processes: dict[int, int] = field(default_factory=dict)
    """pid → VRAM bytes."""


class FakeAmdSmiModule:
    """An amdsmi-like object: pass it as `AmdSmi(module=FakeAmdSmiModule(...))`."""

    AmdSmiException = AmdSmiException
    AmdSmiInitFlags = AmdSmiInitFlags
    AmdSmiMemoryType = AmdSmiMemoryType
    AmdSmiTemperatureType = AmdSmiTemperatureType
    AmdSmiTemperatureMetric = AmdSmiTemperatureMetric

    def __init__(
        self,
        gpus: list[FakeAmdGpu] | None = None,
        *,
        driver_version: str = "6.8.5",
        init_error: bool = False,
        failing: set[str] | None = None,
    ) -> None:
        self.gpus = list(gpus) if gpus is not None else [FakeAmdGpu()]
        self.driver_version = driver_version
        self.init_error = init_error
        self.failing = set(failing or ())
        self.init_flags: object = None
        self.shut_down = False

    def _gpu(self, function_name: str, handle: int) -> FakeAmdGpu:
        if function_name in self.failing:
            raise AmdSmiException(f"{function_name}: AMDSMI_STATUS_NOT_SUPPORTED")
        return self.gpus[handle]

    def amdsmi_init(self, flags: object = None) -> None:
        if self.init_error:
            raise AmdSmiException("AMDSMI_STATUS_INIT_ERROR - amdgpu driver not loaded")
        self.init_flags = flags

    def amdsmi_shut_down(self) -> None:
        self.shut_down = True

    def amdsmi_get_processor_handles(self) -> list[int]:
        return list(range(len(self.gpus)))

    def amdsmi_get_gpu_asic_info(self, handle: int) -> dict:
        return {"market_name": self._gpu("amdsmi_get_gpu_asic_info", handle).name}

    def amdsmi_get_gpu_memory_total(self, handle: int, kind: int) -> int:
        assert kind == AmdSmiMemoryType.VRAM
        return self._gpu("amdsmi_get_gpu_memory_total", handle).vram_total

    def amdsmi_get_gpu_memory_usage(self, handle: int, kind: int) -> int:
        assert kind == AmdSmiMemoryType.VRAM
        return self._gpu("amdsmi_get_gpu_memory_usage", handle).vram_used

    def amdsmi_get_gpu_activity(self, handle: int) -> dict:
        gpu = self._gpu("amdsmi_get_gpu_activity", handle)
        return {"gfx_activity": gpu.gfx_activity, "umc_activity": 5, "mm_activity": "N/A"}

    def amdsmi_get_temp_metric(self, handle: int, sensor: int, metric: int) -> int | str:
        return self._gpu("amdsmi_get_temp_metric", handle).temperature

    def amdsmi_get_power_info(self, handle: int) -> dict:
        gpu = self._gpu("amdsmi_get_power_info", handle)
        return {"average_socket_power": gpu.power_w, "current_socket_power": "N/A"}

    def amdsmi_get_energy_count(self, handle: int) -> dict:
        gpu = self._gpu("amdsmi_get_energy_count", handle)
        if gpu.energy_count is None:
            raise AmdSmiException("AMDSMI_STATUS_NOT_SUPPORTED")
        return {"energy_accumulator": gpu.energy_count, "counter_resolution": 15.3}

    def amdsmi_get_gpu_driver_info(self, handle: int) -> dict:
        self._gpu("amdsmi_get_gpu_driver_info", handle)
        return {"driver_name": "amdgpu", "driver_version": self.driver_version}

    def amdsmi_get_gpu_process_list(self, handle: int) -> list[dict]:
        gpu = self._gpu("amdsmi_get_gpu_process_list", handle)
        return [
            {
                "name": f"python{pid}",
                "pid": pid,
                "mem": vram,
                "memory_usage": {"gtt_mem": 0, "cpu_mem": 0, "vram_mem": vram},
            }
            for pid, vram in gpu.processes.items()
        ]
