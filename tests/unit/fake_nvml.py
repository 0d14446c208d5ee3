"""A stand-in for the `pynvml` module, so the NVML paths run on machines with no GPU.

It mimics what llmbench uses of pynvml: NVMLError with a `.value` code and the error
constants, nvmlInit/nvmlShutdown, device count and handles, name, memory, utilisation,
temperature, power, the energy counter, driver version and per-process lists. Each
device is scripted with a FakeGpu; `failing` makes chosen calls raise NVMLError (a call
failing mid-way), and `init_error` makes nvmlInit fail (a missing driver).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace

NVML_ERROR_NO_PERMISSION = 4
NVML_ERROR_NOT_SUPPORTED = 3
NVML_ERROR_DRIVER_NOT_LOADED = 9
NVML_ERROR_LIBRARY_NOT_FOUND = 12
NVML_TEMPERATURE_GPU = 0

MIB = 1024 * 1024


class NVMLError(Exception):
    """Like pynvml.NVMLError: carries the NVML return code in `.value`."""

    def __init__(self, value: int, message: str = "") -> None:
        super().__init__(message or f"NVML error {value}")
        self.value = value


@dataclass
class FakeGpu:
    """One scripted GPU."""

    name: str = "NVIDIA Fake 24GB"
    memory_total: int = 24 * 1024 * MIB
    memory_used: int = 2 * 1024 * MIB
    utilization: int = 37
    temperature: int = 55
    power_mw: int | Callable[[], int] = 150_000
    """Board power in milliwatts, or a function of nothing (e.g. of time) giving it."""
    energy_mj: int | Callable[[], int] | None = None
    """The energy counter in millijoules; None: the device does not support it."""
    compute_processes: dict[int, int | None] = field(default_factory=dict)
    """pid → used GPU memory in bytes (None: NVML cannot say)."""
    graphics_processes: dict[int, int | None] = field(default_factory=dict)


class FakeNvmlModule:
    """A pynvml-like object: pass it as `Nvml(module=FakeNvmlModule(...))`."""

    NVMLError = NVMLError
    NVML_ERROR_NO_PERMISSION = NVML_ERROR_NO_PERMISSION
    NVML_ERROR_NOT_SUPPORTED = NVML_ERROR_NOT_SUPPORTED
    NVML_ERROR_DRIVER_NOT_LOADED = NVML_ERROR_DRIVER_NOT_LOADED
    NVML_ERROR_LIBRARY_NOT_FOUND = NVML_ERROR_LIBRARY_NOT_FOUND
    NVML_TEMPERATURE_GPU = NVML_TEMPERATURE_GPU

    def __init__(
        self,
        gpus: list[FakeGpu] | None = None,
        *,
        driver_version: str = "550.54.15",
        init_error: int | None = None,
        failing: set[str] | None = None,
    ) -> None:
        self.gpus = list(gpus) if gpus is not None else [FakeGpu()]
        self.driver_version = driver_version
        self.init_error = init_error
        self.failing: set[str] = set(failing or ())
        """Names of nvml* functions that raise NVMLError(NOT_SUPPORTED) when called."""
        self.calls: dict[str, int] = {}
        self.initialised = False

    def _enter(self, function_name: str) -> None:
        self.calls[function_name] = self.calls.get(function_name, 0) + 1
        if function_name in self.failing:
            raise NVMLError(NVML_ERROR_NOT_SUPPORTED, "Not Supported")

    def nvmlInit(self) -> None:
        self._enter("nvmlInit")
        if self.init_error is not None:
            raise NVMLError(self.init_error, "NVML Shared Library Not Found")
        self.initialised = True

    def nvmlShutdown(self) -> None:
        self._enter("nvmlShutdown")
        self.initialised = False

    def nvmlSystemGetDriverVersion(self) -> str:
        self._enter("nvmlSystemGetDriverVersion")
        return self.driver_version

    def nvmlDeviceGetCount(self) -> int:
        self._enter("nvmlDeviceGetCount")
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> FakeGpu:
        self._enter("nvmlDeviceGetHandleByIndex")
        return self.gpus[index]

    def nvmlDeviceGetName(self, gpu: FakeGpu) -> bytes:
        self._enter("nvmlDeviceGetName")
        return gpu.name.encode()  # older pynvml returns bytes; llmbench must decode

    def nvmlDeviceGetMemoryInfo(self, gpu: FakeGpu) -> SimpleNamespace:
        self._enter("nvmlDeviceGetMemoryInfo")
        return SimpleNamespace(
            total=gpu.memory_total, used=gpu.memory_used, free=gpu.memory_total - gpu.memory_used
        )

    def nvmlDeviceGetUtilizationRates(self, gpu: FakeGpu) -> SimpleNamespace:
        self._enter("nvmlDeviceGetUtilizationRates")
        return SimpleNamespace(gpu=gpu.utilization, memory=10)

    def nvmlDeviceGetTemperature(self, gpu: FakeGpu, sensor: int) -> int:
        self._enter("nvmlDeviceGetTemperature")
        assert sensor == NVML_TEMPERATURE_GPU
        return gpu.temperature

    def nvmlDeviceGetPowerUsage(self, gpu: FakeGpu) -> int:
        self._enter("nvmlDeviceGetPowerUsage")
        return gpu.power_mw() if callable(gpu.power_mw) else gpu.power_mw

    def nvmlDeviceGetTotalEnergyConsumption(self, gpu: FakeGpu) -> int:
        self._enter("nvmlDeviceGetTotalEnergyConsumption")
        if gpu.energy_mj is None:
            raise NVMLError(NVML_ERROR_NOT_SUPPORTED, "Not Supported")
        return gpu.energy_mj() if callable(gpu.energy_mj) else gpu.energy_mj

    def nvmlDeviceGetComputeRunningProcesses(self, gpu: FakeGpu) -> list[SimpleNamespace]:
        self._enter("nvmlDeviceGetComputeRunningProcesses")
        return [
            SimpleNamespace(pid=pid, usedGpuMemory=used)
            for pid, used in gpu.compute_processes.items()
        ]

    def nvmlDeviceGetGraphicsRunningProcesses(self, gpu: FakeGpu) -> list[SimpleNamespace]:
        self._enter("nvmlDeviceGetGraphicsRunningProcesses")
        return [
            SimpleNamespace(pid=pid, usedGpuMemory=used)
            for pid, used in gpu.graphics_processes.items()
        ]
