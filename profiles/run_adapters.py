"""The figures and records a comparison run takes from other modules, each in one place.

Provenance, history, energy and GPU memory come from `profiles.results`,
`profiles.history`, `engines.machine.host`, `engines.machine.energy` and `engines.machine.nvml`, imported only
when used. Bonus figures (energy, GPU memory, the host) never fail a run: where this
machine cannot tell, they are None.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engines.types import ModelInfo
    from profiles.results import RunResult


def build_result(**values: Any) -> RunResult:
    from profiles.results import RunResult

    return RunResult.from_run(**values)


def model_sha256(info: ModelInfo) -> str | None:
    """The model file's SHA-256 (cached by path, size and mtime), or None."""
    from profiles import results

    return results.model_sha256(info)


def append_history(result: RunResult) -> None:
    from profiles.history import append_result

    append_result(result)


def host_info() -> Any:
    """This machine, or None if it cannot be read (results then carry no host)."""
    from engines.machine import host

    try:
        return host.host_info()
    except Exception:  # noqa: BLE001 - provenance is never worth failing a run over
        return None


def start_energy_meter() -> Any:
    """A started energy meter, or None where this machine cannot measure energy."""
    try:
        from engines.machine.energy import RunEnergyMeter

        meter = RunEnergyMeter()
        meter.start()
    except Exception:  # noqa: BLE001 - energy is a bonus figure, never a failure
        return None
    return meter


def stop_energy_meter(meter: Any) -> Any:
    if meter is None:
        return None
    try:
        return meter.stop()
    except Exception:  # noqa: BLE001 - energy is a bonus figure, never a failure
        return None


def gpu_memory_of_pid(pid: int) -> float | None:
    from engines.machine.nvml import default_nvml

    try:
        return default_nvml().gpu_memory_of_pid(pid)
    except Exception:  # noqa: BLE001 - GPU memory is shown as "—" when unknown
        return None
