"""engines.machine.energy: GPU energy (NVML counter or power integration) and CPU energy (RAPL)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fake_nvml import FakeGpu, FakeNvmlModule

from engines.machine.energy import (
    RunEnergyMeter,
    counter_delta,
    rapl_package_domains,
    rapl_status,
    trapezoid_joules,
)
from engines.machine.nvml import Nvml


def write_zone(root: Path, zone: str, name: str, energy_uj: int, max_range: int) -> Path:
    directory = root / zone
    directory.mkdir(parents=True)
    (directory / "name").write_text(f"{name}\n")
    (directory / "energy_uj").write_text(f"{energy_uj}\n")
    (directory / "max_energy_range_uj").write_text(f"{max_range}\n")
    return directory / "energy_uj"


@pytest.fixture
def powercap(tmp_path: Path) -> Path:
    """Two packages and a core subzone, as on a two-socket Intel machine."""
    root = tmp_path / "powercap"
    write_zone(root, "intel-rapl:0", "package-0", 5_000_000, 262_143_328_850)
    write_zone(root, "intel-rapl:0:0", "core", 1_000_000, 262_143_328_850)
    write_zone(root, "intel-rapl:1", "package-1", 7_000_000, 262_143_328_850)
    return root


def no_gpu() -> Nvml:
    return Nvml(module=FakeNvmlModule(init_error=12))


def test_trapezoid_rule() -> None:
    assert trapezoid_joules([(0.0, 100.0), (1.0, 100.0), (2.0, 200.0)]) == pytest.approx(250.0)
    assert trapezoid_joules([(2.0, 200.0), (0.0, 100.0), (1.0, 100.0)]) == pytest.approx(250.0)
    assert trapezoid_joules([(0.0, 100.0)]) is None
    assert trapezoid_joules([]) is None


def test_counter_delta_handles_wrap_around() -> None:
    assert counter_delta(100, 350, 1000) == 250
    assert counter_delta(900, 150, 1000) == 250
    assert counter_delta(900, 150, None) == 0  # cannot know: count nothing rather than nonsense


def test_rapl_reads_package_zones_only(powercap: Path) -> None:
    domains = rapl_package_domains(powercap)

    assert [domain.name for domain in domains] == ["package-0", "package-1"]
    assert rapl_status(powercap) == "readable (package-0, package-1)"


def test_rapl_status_when_missing_or_unreadable(tmp_path: Path) -> None:
    assert rapl_status(tmp_path / "nope").startswith("not available")
    assert rapl_status(tmp_path).startswith("not available (no RAPL zones")
    energy = write_zone(tmp_path, "intel-rapl:0", "package-0", 1, 10)
    energy.unlink()
    energy.mkdir()  # reading it fails like a root-only file does (tests may run as root)
    assert rapl_package_domains(tmp_path) == []
    assert rapl_status(tmp_path).startswith("not readable")


def test_cpu_energy_from_rapl_with_a_wrap(tmp_path: Path) -> None:
    root = tmp_path / "powercap"
    package0 = write_zone(root, "intel-rapl:0", "package-0", 999_000_000, 1_000_000_000)
    package1 = write_zone(root, "intel-rapl:1", "package-1", 10_000_000, 1_000_000_000)
    meter = RunEnergyMeter(nvml=no_gpu(), powercap_root=root)

    meter.start()
    package0.write_text("2500000")  # wrapped: +1.0 J to the top, +2.5 J after
    package1.write_text("14000000")  # +4.0 J
    reading = meter.stop()

    assert reading.cpu_j == pytest.approx(7.5)
    assert reading.gpu_j is None and reading.gpu_method is None
    assert reading.seconds > 0


def test_cpu_energy_survives_several_wraps_on_a_long_run(tmp_path: Path) -> None:
    root = tmp_path / "powercap"
    package = write_zone(root, "intel-rapl:0", "package-0", 900, 1000)
    meter = RunEnergyMeter(nvml=no_gpu(), powercap_root=root, rapl_poll_s=0.01)

    meter.start()
    package.write_text("100")  # +200 (one wrap)
    time.sleep(0.2)  # the meter reads the counter in between
    package.write_text("50")  # +950 (a second wrap)
    reading = meter.stop()

    assert reading.cpu_j == pytest.approx(1150 / 1e6)


def test_no_rapl_gives_none(tmp_path: Path) -> None:
    meter = RunEnergyMeter(nvml=no_gpu(), powercap_root=tmp_path / "absent")
    meter.start()
    reading = meter.stop()
    assert reading.cpu_j is None and reading.gpu_j is None


def test_gpu_energy_prefers_the_counter(tmp_path: Path) -> None:
    gpu = FakeGpu(energy_mj=1_000_000)
    fake = FakeNvmlModule([gpu])
    meter = RunEnergyMeter(nvml=Nvml(module=fake), powercap_root=tmp_path)

    meter.start()
    gpu.energy_mj = 1_045_500
    reading = meter.stop()

    assert reading.gpu_j == pytest.approx(45.5)
    assert reading.gpu_method == "counter"
    assert "nvmlDeviceGetPowerUsage" not in fake.calls  # no power thread needed


def test_gpu_power_is_integrated_when_there_is_no_counter(tmp_path: Path) -> None:
    """A linear power ramp: the trapezoid rule must give the exact integral."""
    t0 = time.perf_counter()
    gpu = FakeGpu(
        energy_mj=None, power_mw=lambda: int(1000 * (100.0 + 400.0 * (time.perf_counter() - t0)))
    )
    fake = FakeNvmlModule([gpu])
    meter = RunEnergyMeter(nvml=Nvml(module=fake), powercap_root=tmp_path, poll_hz=20)

    before = time.perf_counter() - t0
    meter.start()
    time.sleep(0.4)
    reading = meter.stop()
    after = time.perf_counter() - t0

    def ramp_integral(start: float) -> float:
        end = start + reading.seconds
        return 100.0 * (end - start) + 200.0 * (end**2 - start**2)

    assert reading.gpu_method == "power integration"
    # The window starts between `before` and `after - seconds`; the energy grows with its start.
    assert (
        ramp_integral(before) * 0.98
        <= reading.gpu_j
        <= ramp_integral(after - reading.seconds) * 1.02
    )
    assert (
        fake.calls["nvmlDeviceGetPowerUsage"] >= 4
    )  # sampled in between (about 8), not only at the ends


def test_gpu_counter_and_integration_are_summed_over_gpus(tmp_path: Path) -> None:
    with_counter = FakeGpu(energy_mj=0)
    without = FakeGpu(energy_mj=None, power_mw=50_000)
    meter = RunEnergyMeter(
        nvml=Nvml(module=FakeNvmlModule([with_counter, without])), powercap_root=tmp_path
    )

    meter.start()
    with_counter.energy_mj = 10_000
    time.sleep(0.15)
    reading = meter.stop()

    assert reading.gpu_method == "counter+power integration"
    assert reading.gpu_j == pytest.approx(10.0 + 50.0 * reading.seconds, rel=1e-3)


def test_only_the_chosen_gpus_are_counted(tmp_path: Path) -> None:
    gpus = [FakeGpu(energy_mj=0), FakeGpu(energy_mj=0)]
    meter = RunEnergyMeter(
        nvml=Nvml(module=FakeNvmlModule(gpus)), gpu_indices=[1], powercap_root=tmp_path
    )
    meter.start()
    gpus[0].energy_mj = 99_000
    gpus[1].energy_mj = 3_000
    assert meter.stop().gpu_j == pytest.approx(3.0)


def test_gpu_power_failing_gives_none_not_zero(tmp_path: Path) -> None:
    fake = FakeNvmlModule(
        [FakeGpu(energy_mj=None)],
        failing={"nvmlDeviceGetPowerUsage", "nvmlDeviceGetTotalEnergyConsumption"},
    )
    meter = RunEnergyMeter(nvml=Nvml(module=fake), powercap_root=tmp_path)
    meter.start()
    time.sleep(0.05)
    reading = meter.stop()
    assert reading.gpu_j is None and reading.gpu_method is None


def test_gpu_counter_failing_mid_way_degrades_to_none(tmp_path: Path) -> None:
    fake = FakeNvmlModule([FakeGpu(energy_mj=1000)])
    meter = RunEnergyMeter(nvml=Nvml(module=fake), powercap_root=tmp_path)
    meter.start()
    fake.failing.add("nvmlDeviceGetTotalEnergyConsumption")
    assert meter.stop().gpu_j is None


def test_a_meter_is_used_once() -> None:
    meter = RunEnergyMeter(nvml=no_gpu())
    with pytest.raises(RuntimeError):
        meter.stop()
    meter.start()
    with pytest.raises(RuntimeError):
        meter.start()
    meter.stop()
