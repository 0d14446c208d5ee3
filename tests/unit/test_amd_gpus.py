"""AMD GPUs through a stand-in AMD SMI module (this machine has none), and next to NVIDIA:
the machine panel's samples, per-process GPU memory, the host report and `llmbench doctor`."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from fake_amdsmi import MIB, FakeAmdGpu, FakeAmdSmiModule
from fake_nvml import FakeGpu, FakeNvmlModule

from engines.machine import amd_gpus
from engines.machine import nvml as nvml_api
from engines.machine.amd_gpus import AmdSmi
from engines.machine.gpus import Gpus
from engines.machine.host import host_info
from engines.machine.resources import ResourceSampler


def mi300_and_radeon() -> FakeAmdSmiModule:
    return FakeAmdSmiModule(
        [
            FakeAmdGpu(processes={4242: 2048 * MIB, 777: 512 * MIB}),
            FakeAmdGpu(
                name="AMD Radeon RX 7900 XTX",
                vram_total=24 * 1024 * MIB,
                vram_used=1024 * MIB,
                gfx_activity="N/A",
                temperature=39,
                power_w=41,
                energy_count=None,
                processes={4242: 256 * MIB},
            ),
        ]
    )


def test_devices_samples_and_free_memory():
    amd = AmdSmi(module=mi300_and_radeon())
    assert amd.available and amd.reason == "" and amd.device_count == 2
    infos = amd.device_infos()
    assert [(i.index, i.name, i.memory_total_bytes) for i in infos] == [
        (0, "AMD Instinct MI300X", 192 * 1024 * MIB),
        (1, "AMD Radeon RX 7900 XTX", 24 * 1024 * MIB),
    ]
    assert infos[0].driver_version == "6.8.5"
    first, second = amd.sample_devices()
    assert (first.utilization_percent, first.temperature_c, first.power_w) == (63.0, 48.0, 350.0)
    assert first.memory_used_bytes == 4 * 1024 * MIB
    assert second.utilization_percent is None  # "N/A" is unknown, not 0
    assert amd.free_memory_bytes() == (188 * 1024 * MIB, 23 * 1024 * MIB)


def test_per_process_gpu_memory_sums_over_gpus():
    amd = AmdSmi(module=mi300_and_radeon())
    assert amd.process_gpu_memory_mib() == {4242: 2048 + 256, 777: 512}
    assert amd.gpu_memory_of_pid(4242) == 2304
    assert amd.gpu_memory_of_pid(1) is None


def test_energy_counter_and_power():
    amd = AmdSmi(module=mi300_and_radeon())
    assert amd.total_energy_mj(0) == int(2_000_000 * 15.3 / 1000)
    assert amd.total_energy_mj(1) is None
    assert amd.power_w(1) == 41.0
    assert amd.power_w(5) is None


def test_a_failing_query_is_unknown_and_logged_once(caplog):
    amd = AmdSmi(module=FakeAmdSmiModule(failing={"amdsmi_get_power_info"}))
    assert amd.power_w(0) is None and amd.power_w(0) is None
    assert len([r for r in caplog.records if "power" in r.getMessage()]) == 1
    assert amd.sample_devices()[0].power_w is None


def test_no_driver_says_why():
    amd = AmdSmi(module=FakeAmdSmiModule(init_error=True))
    assert not amd.available
    assert "amdgpu driver" in amd.reason
    assert amd.device_infos() == () and amd.process_gpu_memory_mib() == {}


def test_without_the_package_it_says_how_to_get_it(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_amdsmi(name, *args, **kwargs):
        if name == "amdsmi":
            raise ImportError("No module named 'amdsmi'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_amdsmi)
    amd = AmdSmi()
    assert not amd.available and amd.missing
    assert "llmbench[amd]" in amd.reason


def test_nvidia_and_amd_together_number_gpus_one_after_another():
    nvidia = nvml_api.Nvml(
        module=FakeNvmlModule([FakeGpu(name="NVIDIA L4", compute_processes={4242: 100 * MIB})])
    )
    gpus = Gpus([nvidia, AmdSmi(module=mi300_and_radeon())])
    assert [(i.index, i.name) for i in gpus.device_infos()] == [
        (0, "NVIDIA L4"), (1, "AMD Instinct MI300X"), (2, "AMD Radeon RX 7900 XTX"),
    ]  # fmt: skip
    assert [s.index for s in gpus.sample_devices()] == [0, 1, 2]
    assert gpus.power_w(2) == 41.0 and gpus.power_w(3) is None
    assert gpus.process_gpu_memory_mib()[4242] == pytest.approx(100 + 2048 + 256)
    assert gpus.device_count == 3


def test_no_gpu_at_all_keeps_the_nvidia_reason_alone():
    nvidia = nvml_api.Nvml(module=FakeNvmlModule(init_error=12))
    amd = AmdSmi(module=FakeAmdSmiModule())
    amd.missing, amd._started, amd._reason = True, True, "amdsmi is not installed"
    gpus = Gpus([nvidia, amd])
    assert not gpus.available
    assert gpus.reason == nvidia.reason  # unchanged on a machine without AMD's package


def test_host_report_and_machine_panel_samples_show_amd_gpus():
    gpus = Gpus([nvml_api.Nvml(module=FakeNvmlModule([])), AmdSmi(module=mi300_and_radeon())])
    host = host_info(nvml=gpus)
    assert [gpu.name for gpu in host.gpus] == ["AMD Instinct MI300X", "AMD Radeon RX 7900 XTX"]
    sampler = ResourceSampler(nvml=gpus, include_self=False)
    import os

    sampler.watch(os.getpid(), "this test")
    gpus.readers[1]._module.gpus[0].processes[os.getpid()] = 300 * MIB
    sample = sampler.sample_now()
    assert [gpu.name for gpu in sample.gpus] == ["AMD Instinct MI300X", "AMD Radeon RX 7900 XTX"]
    assert sample.processes[os.getpid()].gpu_mem_mib == pytest.approx(300)


def test_doctor_reports_amd_gpus(monkeypatch):
    from tui.cli import cli

    monkeypatch.setattr(
        nvml_api, "default_nvml", lambda: nvml_api.Nvml(module=FakeNvmlModule(init_error=12))
    )
    monkeypatch.setattr(amd_gpus, "default_amdsmi", lambda: AmdSmi(module=mi300_and_radeon()))
    result = CliRunner().invoke(cli, ["doctor"])
    assert result.exit_code == 0, result.output
    assert "GPU 0:            AMD Instinct MI300X, 192 GiB, driver 6.8.5" in result.output
    assert (
        "AMD GPU found but this llama-cpp-python was built without a GPU backend" in result.output
    )
    assert (
        "GPU (AMD SMI):    readable (AMD SMI board power, integrated over each run)"
        in result.output
    )
    report = json.loads(CliRunner().invoke(cli, ["doctor", "--json"]).output)
    assert [gpu["name"] for gpu in report["machine"]["gpus"]][1] == "AMD Radeon RX 7900 XTX"
