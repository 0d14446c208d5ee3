"""The resource panel and its fixed-scale sparklines, each mounted alone in a harness app."""

from __future__ import annotations

import importlib.util
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
from textual.app import App, ComposeResult
from textual.widgets import Static

from engines.machine.nvml import GPUSample, Nvml, default_nvml
from engines.machine.resources import ResourceSample, ResourceSampler
from tui.widgets.resource_panel import GpuRow, ResourcePanel, short_gpu_name
from tui.widgets.sparkline_row import ScaledSparkline, bucket_maxima, per_core_strip

GIB = 1024**3


@dataclass
class NoGpu:
    """Stands in for engines.machine.nvml.Nvml on a machine without a driver."""

    reason: str = "no NVIDIA driver found (libnvidia-ml.so not loadable)"
    available: bool = False


def make_sample(t: float, cpu: float = 37.0, gpus: tuple[GPUSample, ...] = ()) -> ResourceSample:
    return ResourceSample(
        time=t,
        cpu_percent=cpu,
        cpu_percent_per_core=(cpu - 10, cpu + 10),
        ram_used_bytes=5 * GIB,
        ram_available_bytes=18 * GIB,
        ram_total_bytes=23 * GIB,
        swap_used_bytes=0,
        swap_total_bytes=0,
        gpus=gpus,
    )


def make_gpu(index: int, util: float = 45.0) -> GPUSample:
    return GPUSample(
        index=index,
        name="NVIDIA H100 80GB HBM3",
        utilization_percent=util,
        memory_used_bytes=12 * GIB,
        memory_total_bytes=80 * GIB,
        temperature_c=50.0,
        power_w=250.0,
    )


class ListSampler:
    """Stands in for ResourceSampler: returns whatever samples the test put in."""

    interval_s = 1.0
    history_s = 60.0

    def __init__(self, samples: list[ResourceSample]) -> None:
        self.samples = samples
        self.latest_calls = 0

    def latest(self) -> ResourceSample | None:
        self.latest_calls += 1
        return self.samples[-1] if self.samples else None

    def history(self) -> list[ResourceSample]:
        return list(self.samples)


class PanelApp(App):
    def __init__(self, panel: ResourcePanel) -> None:
        super().__init__()
        self.panel = panel

    def compose(self) -> ComposeResult:
        yield self.panel


def row_text(panel: ResourcePanel, selector: str) -> str:
    return str(panel.query_one(selector).query_one(".resource-text", Static).render())


async def test_cpu_and_ram_rows_and_the_no_gpu_line():
    samples = [make_sample(t, cpu=10.0 * t) for t in range(1, 6)]
    panel = ResourcePanel(ListSampler(samples), nvml=NoGpu())
    async with PanelApp(panel).run_test(size=(100, 10)) as pilot:
        await pilot.pause()
        assert row_text(panel, "#cpu-row") == "CPU   50% of 2 cores"
        assert row_text(panel, "#ram-row") == "RAM  5.0/23.0 GiB, 18.0 free"
        assert panel.query_one("#cpu-spark", ScaledSparkline).data == [10.0, 20.0, 30.0, 40.0, 50.0]
        note = panel.query_one("#gpu-note", Static)
        assert note.display
        assert str(note.render()) == "GPU  no NVIDIA driver found (libnvidia-ml.so not loadable)"
        assert panel.outer_size.height == 3  # compact: CPU, RAM, the GPU line
        assert not panel.query(GpuRow)


async def test_one_row_per_gpu_with_sparklines():
    samples = [make_sample(t, gpus=(make_gpu(0, 10.0 * t), make_gpu(1))) for t in range(1, 4)]
    panel = ResourcePanel(ListSampler(samples), nvml=NoGpu(reason="unused"))
    async with PanelApp(panel).run_test(size=(100, 10)) as pilot:
        await pilot.pause()
        await pilot.pause()
        rows = list(panel.query(GpuRow))
        assert [row.index for row in rows] == [0, 1]
        assert row_text(panel, "#gpu-row-0") == "GPU0 H100 80GB  30% 12.0/80.0 GiB 250 W"
        util = rows[0].query_one(".gpu-util", ScaledSparkline)
        assert util.data == [10.0, 20.0, 30.0]
        assert not panel.query_one("#gpu-note").display  # GPUs shown: no "no GPU" line
        assert panel.outer_size.height == 4


async def test_polls_the_sampler_and_shows_new_samples():
    sampler = ListSampler([make_sample(1.0, cpu=20.0)])
    panel = ResourcePanel(sampler, nvml=NoGpu(), poll_interval_s=0.02)
    async with PanelApp(panel).run_test(size=(100, 10)) as pilot:
        await pilot.pause()
        assert "20%" in row_text(panel, "#cpu-row")
        sampler.samples.append(make_sample(2.0, cpu=80.0))
        calls = sampler.latest_calls
        await pilot.pause(0.2)
        assert sampler.latest_calls > calls
        assert "80%" in row_text(panel, "#cpu-row")


async def test_collapses_to_one_summary_line():
    samples = [make_sample(1.0, gpus=(make_gpu(0),))]
    panel = ResourcePanel(ListSampler(samples), nvml=NoGpu())
    async with PanelApp(panel).run_test(size=(100, 10)) as pilot:
        await pilot.pause()
        await pilot.click(ResourcePanel)
        await pilot.pause()
        assert panel.collapsed
        assert panel.outer_size.height == 1
        summary = str(panel.query_one("#summary", Static).render())
        assert summary == "CPU 37% · RAM 5.0/23.0 GiB · GPU0 45% 12.0/80.0 GiB"
        panel.toggle_collapsed()
        await pilot.pause()
        assert panel.outer_size.height == 3


async def test_with_the_real_sampler_on_this_machine():
    sampler = ResourceSampler(interval_s=0.05, history_s=5).start()
    try:
        panel = ResourcePanel(sampler, poll_interval_s=0.05)
        async with PanelApp(panel).run_test(size=(100, 10)) as pilot:
            deadline = time.monotonic() + 5
            while "cores" not in row_text(panel, "#cpu-row") and time.monotonic() < deadline:
                await pilot.pause(0.05)
            assert row_text(panel, "#cpu-row").endswith(f"of {psutil.cpu_count()} cores")
            total = psutil.virtual_memory().total / GIB
            assert f"/{total:.1f} GiB" in row_text(panel, "#ram-row")
            if not default_nvml().available:
                note = str(panel.query_one("#gpu-note", Static).render())
                assert note == f"GPU  {default_nvml().reason}"
    finally:
        sampler.stop()


def load_fake_nvml():
    """helper C's stand-in pynvml module (tests/unit/fake_nvml.py), loaded by path."""
    name = "e2_fake_nvml"
    if name not in sys.modules:
        path = Path(__file__).parents[1] / "unit" / "fake_nvml.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while it loads
        spec.loader.exec_module(module)
    return sys.modules[name]


async def wait_for(pilot, ready) -> None:
    deadline = time.monotonic() + 5
    while not ready() and time.monotonic() < deadline:
        await pilot.pause(0.05)
    assert ready()


async def test_gpu_rows_from_the_real_sampler_over_a_stand_in_nvml():
    fake = load_fake_nvml()
    gpus = [fake.FakeGpu(), fake.FakeGpu(name="NVIDIA RTX 4090", utilization=90)]
    nvml = Nvml(module=fake.FakeNvmlModule(gpus=gpus))
    sampler = ResourceSampler(interval_s=0.05, history_s=5, nvml=nvml).start()
    panel = ResourcePanel(sampler, nvml=nvml, poll_interval_s=0.05)
    try:
        async with PanelApp(panel).run_test(size=(100, 10)) as pilot:
            await wait_for(
                pilot,
                lambda: len(panel.query(GpuRow)) == 2 and "%" in row_text(panel, "#gpu-row-1"),
            )
            assert row_text(panel, "#gpu-row-0") == "GPU0 Fake 24GB  37% 2.0/24.0 GiB 150 W"
            assert row_text(panel, "#gpu-row-1") == "GPU1 RTX 4090  90% 2.0/24.0 GiB 150 W"
            assert not panel.query_one("#gpu-note").display
    finally:
        sampler.stop()


async def test_a_missing_driver_is_one_plain_line():
    nvml = Nvml(module=load_fake_nvml().FakeNvmlModule(init_error=12))
    sampler = ResourceSampler(interval_s=0.05, history_s=5, nvml=nvml).start()
    panel = ResourcePanel(sampler, nvml=nvml, poll_interval_s=0.05)
    try:
        async with PanelApp(panel).run_test(size=(100, 10)) as pilot:
            note = panel.query_one("#gpu-note", Static)
            await wait_for(pilot, lambda: str(note.render()) != "")
            assert nvml.reason and str(note.render()) == f"GPU  {nvml.reason}"
            assert note.display and not panel.query(GpuRow)
    finally:
        sampler.stop()


def test_bucket_maxima_keeps_a_fixed_time_axis():
    assert bucket_maxima([1.0, 5.0, 2.0], width=5, span=5) == [None, None, 1.0, 5.0, 2.0]
    # 10 samples over 5 cells: two samples a cell, the larger one shown, newest on the right
    assert bucket_maxima(list(range(10)), width=5, span=10) == [1, 3, 5, 7, 9]
    # half of the history so far: the left half stays blank
    assert bucket_maxima([4.0, 2.0], width=4, span=8) == [None, None, None, 4.0]


async def test_scaled_sparkline_draws_against_its_ceiling_not_the_data_range():
    class SparkApp(App):
        def compose(self) -> ComposeResult:
            yield ScaledSparkline([2.0, 3.0, 2.0, 100.0], ceiling=100.0, span=4)

    async with SparkApp().run_test(size=(4, 1)) as pilot:
        line = pilot.app.query_one(ScaledSparkline).render().plain
        assert line == "▁▁▁█"  # 2 % and 3 % stay low; Textual's own Sparkline would draw 3 % full


def test_per_core_strip_groups_many_cores():
    assert per_core_strip([0.0, 100.0]).plain == "▁█"
    assert len(per_core_strip([50.0] * 128, max_cells=32).plain) == 32


def test_short_gpu_name():
    assert short_gpu_name("NVIDIA H100 80GB HBM3") == "H100 80GB"
    assert short_gpu_name("NVIDIA GeForce RTX 4090") == "RTX 4090"
