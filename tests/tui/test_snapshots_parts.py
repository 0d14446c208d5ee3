"""Snapshot tests of E2's parts at fixed sizes, with fixed data (nothing time-dependent)."""

from __future__ import annotations

from test_comparison_table import FAILED, FAST_SMALL, SLOW_LARGE
from test_model_picker import GIB, MODELS, PickerApp
from test_resource_panel import ListSampler, NoGpu, PanelApp, make_gpu, make_sample
from textual.app import App, ComposeResult

from tui.screens.model_picker import ModelPickerScreen
from tui.widgets.comparison_table import ComparisonTable
from tui.widgets.resource_panel import ResourcePanel


class ComparisonApp(App):
    def compose(self) -> ComposeResult:
        yield ComparisonTable([FAST_SMALL, SLOW_LARGE, FAILED])


def test_comparison_table_wide(snap_compare):
    assert snap_compare(ComparisonApp(), terminal_size=(120, 24))


def test_comparison_table_80x24(snap_compare):
    assert snap_compare(ComparisonApp(), terminal_size=(80, 24))


def resource_history(with_gpus: bool) -> ListSampler:
    """A fixed minute of history: a CPU wave, and GPUs whose load climbs."""
    samples = []
    for t in range(60):
        gpus = (make_gpu(0, util=t * 100 / 59), make_gpu(1, util=10.0)) if with_gpus else ()
        samples.append(make_sample(float(t), cpu=50 + 40 * ((t % 20) - 10) / 10, gpus=gpus))
    return ListSampler(samples)


def test_resource_panel_without_gpu_80x24(snap_compare):
    panel = ResourcePanel(resource_history(with_gpus=False), nvml=NoGpu())
    assert snap_compare(PanelApp(panel), terminal_size=(80, 6))


def test_resource_panel_with_two_gpus(snap_compare):
    panel = ResourcePanel(resource_history(with_gpus=True), nvml=NoGpu())

    async def settle(pilot):
        await pilot.pause()

    assert snap_compare(PanelApp(panel), terminal_size=(120, 6), run_before=settle)


def fixed_picker() -> PickerApp:
    """The picker over a fixed discovery list, fixed free memory and no GPU."""
    return PickerApp(
        ModelPickerScreen(
            discover=lambda: MODELS,
            ram_available=lambda: 8 * GIB,
            gpu_free=lambda: None,
            is_cached=lambda ref: False,
        )
    )


async def wait_for_discovery(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def test_model_picker(snap_compare):
    assert snap_compare(fixed_picker(), terminal_size=(110, 30), run_before=wait_for_discovery)


def test_model_picker_filtered_80x24(snap_compare):
    async def filter_gguf(pilot) -> None:
        await wait_for_discovery(pilot)
        await pilot.press(*"smol")
        await pilot.pause()

    assert snap_compare(fixed_picker(), terminal_size=(80, 24), run_before=filter_gguf)
