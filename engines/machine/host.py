"""The machine llmbench runs on: what results record as provenance and `llmbench doctor` prints."""

from __future__ import annotations

import functools
import os
import platform
import socket
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psutil

from engines.machine.gpus import GpuReader, default_gpus
from engines.machine.nvml import GPUInfo

__all__ = ["GPUInfo", "HostInfo", "cpu_model_name", "host_info"]


@dataclass(frozen=True)
class HostInfo:
    """The machine: CPU, memory, GPUs and software."""

    hostname: str
    os: str
    """E.g. "Linux 6.8.0 (Ubuntu 24.04.1 LTS)"."""
    python_version: str
    cpu_model: str
    physical_cores: int | None
    logical_cores: int | None
    ram_total_bytes: int
    gpus: tuple[GPUInfo, ...] = ()
    """NVIDIA GPUs found through NVML; () with no driver or no GPU."""
    gpu_note: str = ""
    """Why `gpus` is empty, in plain words ("" when NVML found GPUs)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        data = asdict(self)
        data["gpus"] = [asdict(gpu) for gpu in self.gpus]
        return data


def cpu_model_name(cpuinfo_path: str | os.PathLike[str] = "/proc/cpuinfo") -> str:
    """The CPU's model name from /proc/cpuinfo ("model name"), else what platform knows."""
    try:
        text = Path(cpuinfo_path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    for key in ("model name", "Model", "Hardware", "cpu model"):
        for line in text.splitlines():
            name, sep, value = line.partition(":")
            if sep and name.strip() == key and value.strip():
                return value.strip()
    return platform.processor() or platform.machine() or "unknown CPU"


def _os_description() -> str:
    description = f"{platform.system()} {platform.release()}".strip()
    try:
        pretty = platform.freedesktop_os_release().get("PRETTY_NAME", "")
    except OSError:
        pretty = ""
    return f"{description} ({pretty})" if pretty else description


def host_info(
    nvml: GpuReader | None = None, cpuinfo_path: str | os.PathLike[str] | None = None
) -> HostInfo:
    """This machine. With no arguments the answer is cached for the process."""
    if nvml is None and cpuinfo_path is None:
        return _default_host_info()
    return _read_host_info(nvml or default_gpus(), cpuinfo_path or "/proc/cpuinfo")


@functools.cache
def _default_host_info() -> HostInfo:
    return _read_host_info(default_gpus(), "/proc/cpuinfo")


def _read_host_info(nvml: GpuReader, cpuinfo_path: str | os.PathLike[str]) -> HostInfo:
    gpus = nvml.device_infos()
    return HostInfo(
        hostname=socket.gethostname(),
        os=_os_description(),
        python_version=platform.python_version(),
        cpu_model=cpu_model_name(cpuinfo_path),
        physical_cores=psutil.cpu_count(logical=False),
        logical_cores=psutil.cpu_count(logical=True),
        ram_total_bytes=int(psutil.virtual_memory().total),
        gpus=gpus,
        gpu_note="" if gpus else nvml.reason,
    )
