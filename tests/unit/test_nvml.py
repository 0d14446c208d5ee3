"""engines.machine.nvml through a stand-in NVML module (this machine has no GPU), plus the real import."""

from __future__ import annotations

import logging

import pytest
from fake_nvml import (
    MIB,
    NVML_ERROR_DRIVER_NOT_LOADED,
    NVML_ERROR_LIBRARY_NOT_FOUND,
    FakeGpu,
    FakeNvmlModule,
)

from engines.machine.nvml import Nvml


def two_gpus() -> FakeNvmlModule:
    return FakeNvmlModule(
        [
            FakeGpu(
                name="NVIDIA H100 80GB HBM3",
                memory_total=80 * 1024 * MIB,
                memory_used=10 * 1024 * MIB,
                utilization=91,
                temperature=63,
                power_mw=312_500,
                compute_processes={4242: 1024 * MIB, 777: 300 * MIB},
                graphics_processes={4242: 1024 * MIB},
            ),
            FakeGpu(
                name="NVIDIA L4",
                memory_total=24 * 1024 * MIB,
                memory_used=1024 * MIB,
                utilization=4,
                temperature=41,
                power_mw=72_000,
                compute_processes={4242: 512 * MIB, 888: None},
            ),
        ]
    )


def test_devices_are_read_with_units_converted() -> None:
    nvml = Nvml(module=two_gpus())

    assert nvml.available and nvml.reason == ""
    first, second = nvml.sample_devices()
    assert first.name == "NVIDIA H100 80GB HBM3"  # decoded from bytes
    assert first.utilization_percent == 91.0
    assert first.memory_used_bytes == 10 * 1024 * MIB
    assert first.memory_total_bytes == 80 * 1024 * MIB
    assert first.temperature_c == 63.0
    assert first.power_w == pytest.approx(312.5)
    assert second.index == 1 and second.power_w == pytest.approx(72.0)
    assert nvml.free_memory_bytes() == (70 * 1024 * MIB, 23 * 1024 * MIB)


def test_device_infos_carry_the_driver_version() -> None:
    infos = Nvml(module=two_gpus()).device_infos()

    assert [(info.index, info.name) for info in infos] == [
        (0, "NVIDIA H100 80GB HBM3"),
        (1, "NVIDIA L4"),
    ]
    assert {info.driver_version for info in infos} == {"550.54.15"}
    assert infos[1].memory_total_bytes == 24 * 1024 * MIB


def test_per_process_gpu_memory_sums_devices_and_does_not_double_count() -> None:
    nvml = Nvml(module=two_gpus())

    memory = nvml.process_gpu_memory_mib()

    # 1024 MiB on GPU 0 (listed as compute and graphics: counted once) + 512 MiB on GPU 1.
    assert memory[4242] == pytest.approx(1536.0)
    assert nvml.gpu_memory_of_pid(777) == pytest.approx(300.0)
    assert nvml.gpu_memory_of_pid(888) is None  # NVML could not say: n/a, not 0
    assert nvml.gpu_memory_of_pid(12345) is None


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (NVML_ERROR_LIBRARY_NOT_FOUND, "no NVIDIA driver found (libnvidia-ml.so not loadable)"),
        (NVML_ERROR_DRIVER_NOT_LOADED, "the NVIDIA driver is installed but not loaded"),
        (999, "NVML could not start: NVML Shared Library Not Found"),
    ],
)
def test_missing_driver_is_said_once_and_everything_degrades(
    code: int, expected: str, caplog: pytest.LogCaptureFixture
) -> None:
    module = FakeNvmlModule(init_error=code)
    nvml = Nvml(module=module)

    with caplog.at_level(logging.DEBUG, logger="llmbench.nvml"):
        for _ in range(5):
            assert nvml.available is False
            assert nvml.sample_devices() == ()
            assert nvml.device_infos() == ()
            assert nvml.process_gpu_memory_mib() == {}
            assert nvml.gpu_memory_of_pid(1) is None
            assert nvml.power_w(0) is None
            assert nvml.total_energy_mj(0) is None
            assert nvml.driver_version() is None

    assert nvml.reason == expected
    assert module.calls["nvmlInit"] == 1
    assert [record.getMessage() for record in caplog.records] == [
        f"GPU figures not available: {expected}"
    ]


def test_a_driver_with_no_devices_is_not_available() -> None:
    nvml = Nvml(module=FakeNvmlModule([]))

    assert not nvml.available
    assert nvml.reason.startswith("no NVIDIA GPU found")


def test_listing_devices_failing_is_a_reason_not_an_exception() -> None:
    nvml = Nvml(module=FakeNvmlModule(failing={"nvmlDeviceGetCount"}))

    assert not nvml.available
    assert "could not list GPUs" in nvml.reason


def test_a_call_failing_mid_way_degrades_that_value_and_is_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    module = two_gpus()
    nvml = Nvml(module=module)
    assert nvml.sample_devices()[0].power_w is not None

    module.failing |= {"nvmlDeviceGetPowerUsage", "nvmlDeviceGetComputeRunningProcesses"}
    with caplog.at_level(logging.WARNING, logger="llmbench.nvml"):
        samples = [nvml.sample_devices() for _ in range(4)]
        memory = [nvml.process_gpu_memory_mib() for _ in range(4)]

    for sample in samples:
        assert [gpu.power_w for gpu in sample] == [None, None]
        assert [gpu.temperature_c for gpu in sample] == [63.0, 41.0]  # other values intact
    assert memory[-1] == {4242: pytest.approx(1024.0)}  # graphics list still read
    messages = [record.getMessage() for record in caplog.records]
    # once per (query, GPU): power on GPU 0 and 1, compute processes on GPU 0 and 1
    assert len(messages) == 4
    assert any("power draw failed on GPU 1" in message for message in messages)


def test_shutdown_then_use_starts_again() -> None:
    module = two_gpus()
    nvml = Nvml(module=module)
    assert nvml.available
    nvml.shutdown()
    assert module.initialised is False
    assert nvml.available
    assert module.calls["nvmlInit"] == 2


def test_the_real_pynvml_path_says_why_when_there_is_no_gpu() -> None:
    """On any machine: either GPUs are found, or there is a plain reason and empty results."""
    nvml = Nvml()

    if nvml.available:
        assert nvml.device_infos()
    else:
        assert nvml.reason
        assert nvml.sample_devices() == ()
        assert nvml.gpu_memory_of_pid(1) is None
