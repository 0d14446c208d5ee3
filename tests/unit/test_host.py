"""engines.machine.host: the machine, as results and `llmbench doctor` record it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import psutil
from fake_nvml import MIB, FakeGpu, FakeNvmlModule

from engines.machine.host import cpu_model_name, host_info
from engines.machine.nvml import Nvml


def test_host_info_of_this_machine() -> None:
    info = host_info()

    assert info.logical_cores == psutil.cpu_count(logical=True) == os.cpu_count()
    assert info.ram_total_bytes == psutil.virtual_memory().total
    assert info.cpu_model and info.cpu_model != "unknown CPU"
    assert info.python_version.count(".") == 2
    if not info.gpus:
        assert info.gpu_note  # says why there is no GPU
    data = json.loads(json.dumps(info.to_dict()))
    assert data["ram_total_bytes"] == info.ram_total_bytes
    assert host_info() is info  # cached


def test_gpus_come_from_nvml() -> None:
    fake = FakeNvmlModule(
        [FakeGpu(name="NVIDIA RTX 4090", memory_total=24 * 1024 * MIB)], driver_version="555.1"
    )
    info = host_info(nvml=Nvml(module=fake))

    assert [(gpu.name, gpu.memory_total_bytes, gpu.driver_version) for gpu in info.gpus] == [
        ("NVIDIA RTX 4090", 24 * 1024 * MIB, "555.1")
    ]
    assert info.gpu_note == ""
    assert info.to_dict()["gpus"][0]["name"] == "NVIDIA RTX 4090"


def test_no_driver_gives_no_gpus_and_a_note() -> None:
    info = host_info(nvml=Nvml(module=FakeNvmlModule(init_error=12)))

    assert info.gpus == ()
    assert info.gpu_note == "no NVIDIA driver found (libnvidia-ml.so not loadable)"


def test_cpu_model_from_cpuinfo(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(
        "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Gold 6338\n"
    )
    assert cpu_model_name(cpuinfo) == "Intel(R) Xeon(R) Gold 6338"

    arm = tmp_path / "arm"
    arm.write_text(
        "processor\t: 0\nBogoMIPS\t: 108.00\n\nModel\t: Raspberry Pi 5 Model B Rev 1.0\n"
    )
    assert cpu_model_name(arm) == "Raspberry Pi 5 Model B Rev 1.0"

    assert cpu_model_name(tmp_path / "missing")  # falls back to platform, never empty
