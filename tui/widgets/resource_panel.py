"""The machine at a glance: CPU, RAM and each GPU, with a few minutes of history.

For E1 (and anyone mounting it)::

    sampler = ResourceSampler(interval_s=1.0).start()     # engines/machine/resources.py
    yield ResourcePanel(sampler, id="resources")
    ...
    self.query_one(ResourcePanel).toggle_collapsed()       # e.g. from an app binding

The panel polls `sampler.latest()` / `sampler.history()` on a Textual timer (every
`poll_interval_s`, 1 s by default); both return at once (a lock and a list copy), so
the UI thread never waits on psutil or NVML. It draws, one row each:

- CPU: total %, a sparkline of the history, and one bar per core;
- RAM: used / total, available and swap used (when there is swap), a sparkline of
  used memory;
- each GPU: utilisation, memory used / total and board power, with sparklines of
  utilisation and memory; or, with no usable GPU, one plain line saying why (the
  NVML reason, e.g. "no NVIDIA driver found (libnvidia-ml.so not loadable)").

Sparklines use fixed scales (0–100 %, 0–total memory) and a fixed time axis (the
sampler's whole history across the width): see `tui/widgets/sparkline_row.py`.

`collapsed` (toggle with `toggle_collapsed()` or a click) shrinks the panel to one
summary line, for 80×24 terminals. Without a sampler (`None`) the panel shows only what
`show_sample()` is given, which is how tests drive it.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import Static

from engines.machine.gpus import default_gpus
from engines.machine.nvml import GPUSample, Nvml
from engines.machine.resources import ResourceSample, ResourceSampler
from tui.formatting import UNKNOWN, gib
from tui.widgets.sparkline_row import ScaledSparkline, per_core_strip


def percent(value: float | None) -> str:
    return UNKNOWN if value is None else f"{value:3.0f}%"


def short_gpu_name(name: str) -> str:
    """ "NVIDIA H100 80GB HBM3" → "H100 80GB": enough to tell GPUs apart in one row."""
    words = name.replace("NVIDIA", "").replace("GeForce", "").split()
    return " ".join(words[:2]) or name


def cpu_line(sample: ResourceSample) -> str:
    return f"CPU  {percent(sample.cpu_percent)} of {len(sample.cpu_percent_per_core)} cores"


def ram_line(sample: ResourceSample) -> str:
    used, total = gib(sample.ram_used_bytes), gib(sample.ram_total_bytes)
    text = f"RAM  {used}/{total} GiB, {gib(sample.ram_available_bytes)} free"
    if sample.swap_total_bytes:
        text += f", swap {gib(sample.swap_used_bytes)}"
    return text


def gpu_line(gpu: GPUSample) -> str:
    power = UNKNOWN if gpu.power_w is None else f"{gpu.power_w:.0f} W"
    memory = f"{gib(gpu.memory_used_bytes)}/{gib(gpu.memory_total_bytes)} GiB"
    return f"GPU{gpu.index} {short_gpu_name(gpu.name)} {percent(gpu.utilization_percent)} {memory} {power}"


def summary_line(sample: ResourceSample, gpu_note: str) -> str:
    """Everything in one line, for the collapsed panel."""
    parts = [
        f"CPU {percent(sample.cpu_percent).strip()}",
        f"RAM {gib(sample.ram_used_bytes)}/{gib(sample.ram_total_bytes)} GiB",
    ]
    for gpu in sample.gpus:
        parts.append(
            f"GPU{gpu.index} {percent(gpu.utilization_percent).strip()} "
            f"{gib(gpu.memory_used_bytes)}/{gib(gpu.memory_total_bytes)} GiB"
        )
    if not sample.gpus and gpu_note:
        parts.append("no GPU")
    return " · ".join(parts)


class GpuRow(Horizontal):
    """One GPU: its figures, and sparklines of utilisation and memory."""

    def __init__(self, index: int, memory_total: int | None, span: int) -> None:
        super().__init__(classes="resource-row", id=f"gpu-row-{index}")
        self.index = index
        self._memory_total = memory_total or 1
        self._span = span

    def compose(self) -> ComposeResult:
        yield Static(classes="resource-text")
        util = ScaledSparkline(ceiling=100.0, span=self._span, classes="gpu-util")
        util.tooltip = f"GPU{self.index} utilisation, 0-100 %"
        yield util
        memory = ScaledSparkline(
            ceiling=float(self._memory_total), span=self._span, classes="gpu-mem"
        )
        memory.tooltip = f"GPU{self.index} memory used, 0 to its total"
        yield memory

    def show(self, gpu: GPUSample, history: Sequence[GPUSample]) -> None:
        self.query_one(".resource-text", Static).update(gpu_line(gpu))
        self.query_one(".gpu-util", ScaledSparkline).data = [
            g.utilization_percent or 0.0 for g in history
        ]
        self.query_one(".gpu-mem", ScaledSparkline).data = [
            float(g.memory_used_bytes or 0) for g in history
        ]


class ResourcePanel(Vertical):
    """CPU, RAM and GPUs with sparklines, polled from a ResourceSampler without blocking."""

    DEFAULT_CSS = """
    ResourcePanel {
        height: auto;
        padding: 0 1;
    }
    ResourcePanel .resource-row {
        height: 1;
    }
    ResourcePanel .resource-text {
        width: 41;
        height: 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    ResourcePanel ScaledSparkline {
        width: 1fr;
        margin-right: 1;
    }
    ResourcePanel #cpu-cores {
        width: auto;
        max-width: 40;
        height: 1;
    }
    ResourcePanel #gpu-rows {
        height: auto;
    }
    ResourcePanel #gpu-note {
        display: none;
        color: $text-muted;
        height: 1;
    }
    ResourcePanel #gpu-note.-shown {
        display: block;
    }
    ResourcePanel #summary {
        display: none;
        height: 1;
    }
    ResourcePanel.-collapsed .resource-row,
    ResourcePanel.-collapsed #gpu-rows,
    ResourcePanel.-collapsed #gpu-note.-shown {
        display: none;
    }
    ResourcePanel.-collapsed #summary {
        display: block;
    }
    """

    collapsed: reactive[bool] = reactive(False)
    """One summary line instead of the rows with sparklines."""

    def __init__(
        self,
        sampler: ResourceSampler | None,
        *,
        nvml: Nvml | None = None,
        poll_interval_s: float = 1.0,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.sampler = sampler
        """Where the figures come from; None: only what `show_sample` is given."""
        self.poll_interval_s = poll_interval_s
        """Seconds between polls of the sampler."""
        self._nvml = nvml
        self._span = 300
        if sampler is not None:
            self._span = max(1, round(sampler.history_s / sampler.interval_s))
        self._shown_time: float | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(classes="resource-row", id="cpu-row"):
            yield Static("CPU  waiting for the first sample…", classes="resource-text")
            cpu = ScaledSparkline(ceiling=100.0, span=self._span, id="cpu-spark")
            cpu.tooltip = "CPU use of all cores, 0-100 %"
            yield cpu
            yield Static(id="cpu-cores")
        with Horizontal(classes="resource-row", id="ram-row"):
            yield Static("RAM", classes="resource-text")
            ram = ScaledSparkline(ceiling=1.0, span=self._span, id="ram-spark")
            ram.tooltip = "RAM used, 0 to the total"
            yield ram
        yield Vertical(id="gpu-rows")
        yield Static(id="gpu-note")
        yield Static(id="summary")

    def on_mount(self) -> None:
        if self.sampler is not None:
            self.set_interval(self.poll_interval_s, self.poll_sampler)
            self.poll_sampler()

    def watch_collapsed(self, collapsed: bool) -> None:
        self.set_class(collapsed, "-collapsed")

    def toggle_collapsed(self) -> None:
        """Switch between the full panel and its one-line summary."""
        self.collapsed = not self.collapsed

    def on_click(self) -> None:
        self.toggle_collapsed()

    def poll_sampler(self) -> None:
        """Show the sampler's newest sample if it is new (the timer calls this)."""
        if self.sampler is None:
            return
        latest = self.sampler.latest()
        if latest is None or latest.time == self._shown_time:
            return
        self.show_sample(latest, self.sampler.history())

    def gpu_note(self, sample: ResourceSample) -> str:
        """Why no GPU is shown, or "" when GPUs are."""
        if sample.gpus:
            return ""
        nvml = self._nvml if self._nvml is not None else default_gpus()
        return nvml.reason or "no NVIDIA GPU"

    def show_sample(self, latest: ResourceSample, history: Sequence[ResourceSample]) -> None:
        """Draw `latest` and the sparklines of `history` (oldest first, `latest` last)."""
        self._shown_time = latest.time
        cpu_row = self.query_one("#cpu-row")
        cpu_row.query_one(".resource-text", Static).update(cpu_line(latest))
        self.query_one("#cpu-spark", ScaledSparkline).data = [s.cpu_percent for s in history]
        self.query_one("#cpu-cores", Static).update(per_core_strip(latest.cpu_percent_per_core))
        ram_row = self.query_one("#ram-row")
        ram_row.query_one(".resource-text", Static).update(ram_line(latest))
        ram_spark = self.query_one("#ram-spark", ScaledSparkline)
        ram_spark.ceiling = float(latest.ram_total_bytes or 1)
        ram_spark.data = [float(s.ram_used_bytes) for s in history]
        self._show_gpus(latest, history)
        note = self.gpu_note(latest)
        gpu_note = self.query_one("#gpu-note", Static)
        gpu_note.set_class(bool(note), "-shown")
        gpu_note.update(f"GPU  {note}" if note else "")
        self.query_one("#summary", Static).update(summary_line(latest, note))

    def _show_gpus(self, latest: ResourceSample, history: Sequence[ResourceSample]) -> None:
        container = self.query_one("#gpu-rows", Vertical)
        rows = list(container.query(GpuRow))
        if [row.index for row in rows] != [gpu.index for gpu in latest.gpus]:
            container.remove_children()
            rows = [GpuRow(gpu.index, gpu.memory_total_bytes, self._span) for gpu in latest.gpus]
            container.mount_all(rows)
            self.call_after_refresh(self._show_gpus, latest, history)
            return
        for row, gpu in zip(rows, latest.gpus, strict=True):
            row.show(gpu, [g for s in history for g in s.gpus if g.index == gpu.index])
