"""`llmbench doctor`: this machine, and the llama.cpp backend this install really has.

The most common way a GPU box silently runs models on its CPU is a llama-cpp-python
built without the GPU backend; doctor says so in words. `--json` prints the same report
as JSON for scripts and bug reports.
"""

from __future__ import annotations

import json
from typing import Any

import click
import psutil

from engines.local import backend as backend_api
from engines.machine import amd_gpus
from engines.machine import nvml as nvml_api
from engines.machine.energy import DEFAULT_POWERCAP_ROOT, rapl_package_domains, rapl_status
from engines.machine.gpus import Gpus
from engines.machine.host import host_info
from tui.formatting import format_bytes


def doctor_report() -> dict[str, Any]:
    """The whole report as plain data (what --json prints)."""
    nvidia, amd = nvml_api.default_nvml(), amd_gpus.default_amdsmi()
    nvml = Gpus([nvidia, amd])
    source = _gpu_source(nvidia, amd)
    host = host_info(nvml=nvml)
    machine = host.to_dict()
    machine["ram_available_bytes"] = int(psutil.virtual_memory().available)
    try:
        backend = backend_api.backend_info()
    except (ImportError, OSError) as error:
        llama: dict[str, Any] = {"error": f"llama-cpp-python could not be loaded: {error}"}
        warnings = [llama["error"] + ". Reinstall it: make setup"]
    else:
        llama = backend.to_dict()
        warnings = backend_api.gpu_backend_warnings(
            [gpu.name for gpu in nvidia.device_infos()], backend
        ) + backend_api.amd_backend_warnings([gpu.name for gpu in amd.device_infos()], backend)
    gpu_power = [nvml.power_w(gpu.index) is not None for gpu in host.gpus]
    gpu_counter = [nvml.total_energy_mj(gpu.index) is not None for gpu in host.gpus]
    return {
        "machine": machine,
        "llama_cpp": llama,
        "energy": {
            "cpu_rapl": rapl_status(DEFAULT_POWERCAP_ROOT),
            "cpu_rapl_readable": bool(rapl_package_domains(DEFAULT_POWERCAP_ROOT)),
            "gpu": _gpu_energy_status(bool(host.gpus), gpu_power, gpu_counter, source),
            "gpu_source": source,
        },
        "warnings": warnings,
    }


def _gpu_energy_status(
    has_gpu: bool, power: list[bool], counter: list[bool], source: str = "NVML"
) -> str:
    if not has_gpu:
        return "n/a (no NVIDIA GPU)"
    if all(counter):
        return f"readable ({source} energy counter)"
    if all(power):
        return f"readable ({source} board power, integrated over each run)"
    if any(power) or any(counter):
        return "readable on some GPUs only"
    return f"not readable ({source} gives neither power nor energy here)"


def _gpu_source(nvidia, amd) -> str:
    """Which library reads the GPUs: NVML, AMD SMI or both."""
    sources = [name for name, reader in (("NVML", nvidia), ("AMD SMI", amd)) if reader.available]
    return ", ".join(sources) or "NVML"


def _gib(value: int | None) -> str:
    return format_bytes(value, unknown="unknown")


def format_report(report: dict[str, Any]) -> str:
    """The report as aligned plain text."""
    machine = report["machine"]
    llama = report["llama_cpp"]
    energy = report["energy"]
    rows: list[tuple[str, str]] = [("Machine", "")]
    rows += [
        ("host", machine["hostname"]),
        ("OS", machine["os"]),
        ("Python", machine["python_version"]),
        (
            "CPU",
            f"{machine['cpu_model']} ({machine['physical_cores'] or '?'} physical cores, "
            f"{machine['logical_cores'] or '?'} logical)",
        ),
        (
            "RAM",
            f"{_gib(machine['ram_total_bytes'])} total, {_gib(machine['ram_available_bytes'])} available",
        ),
    ]
    if machine["gpus"]:
        for gpu in machine["gpus"]:
            rows.append(
                (
                    f"GPU {gpu['index']}",
                    f"{gpu['name']}, {_gib(gpu['memory_total_bytes'])}, driver {gpu['driver_version'] or 'unknown'}",
                )
            )
    else:
        rows.append(("GPUs", f"none ({machine['gpu_note']})" if machine["gpu_note"] else "none"))
    rows.append(("llama.cpp (this install of llama-cpp-python)", ""))
    if "error" in llama:
        rows.append(("error", llama["error"]))
    else:
        rows += [
            ("backend", llama["name"]),
            ("GPU offload", "supported" if llama["gpu_offload"] else "not supported by this build"),
            (
                "models run on",
                f"the GPU ({llama['name']}) for the layers a model offloads"
                if llama["gpu_offload"]
                else "the CPU only",
            ),
            ("devices", ", ".join(llama["devices"]) or "not reported by this build"),
            ("system info", llama["system_info"]),
            ("llama-cpp-python", llama["llama_cpp_python_version"]),
            ("llama.cpp", llama["llama_cpp_version"] or "not reported by this build"),
        ]
    rows += [
        ("Energy", ""),
        ("CPU (RAPL)", energy["cpu_rapl"]),
        (f"GPU ({energy.get('gpu_source', 'NVML')})", energy["gpu"]),
    ]
    width = max(len(label) for label, value in rows if value) + 2
    lines: list[str] = []
    for label, value in rows:
        if not value:
            lines.append(("" if not lines else "\n") + label)
        else:
            lines.append(f"  {label + ':':<{width}}{value}")
    for warning in report["warnings"]:
        lines.append(f"\nWARNING: {warning}")
    return "\n".join(lines)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def doctor(as_json: bool) -> None:
    """Show this machine and the llama.cpp backend this install really has."""
    report = doctor_report()
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(format_report(report))
