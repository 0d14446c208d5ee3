"""What a model pane's header says: the model line (with its warnings) and the state.

The model line (`ModelLine`, under the pane's border title) tells what the model is:
parameters, quantization, size, context, backend, GPU layers, and any warning from
loading it. The border subtitle tells the pane's state (`state_text`): loading with
progress, ready, generating, done, stopped, error or crashed with the reason.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from engines.types import ModelInfo
from tui.formatting import format_bytes, short_count
from tui.pane_controller import PaneController, PaneState

STATE_STYLES = {
    PaneState.RESOLVING: "dim",
    PaneState.LOADING: "yellow",
    PaneState.READY: "green",
    PaneState.GENERATING: "bold cyan",
    PaneState.DONE: "bold green",
    PaneState.STOPPED: "yellow",
    PaneState.ERROR: "bold red",
    PaneState.CRASHED: "bold red",
}


def describe_model(info: ModelInfo) -> str:
    """What the model is, in one line: parameters, quant, size, context, backend, GPU layers."""
    parts = []
    if info.n_params:
        parts.append(short_count(info.n_params))
    if info.quantization:
        parts.append(info.quantization)
    if info.file_size:
        parts.append(format_bytes(info.file_size))
    if info.n_ctx:  # 0: a server that does not say
        parts.append(f"ctx {info.n_ctx}")
    parts.append(info.backend)
    if not info.backend.startswith("remote"):  # a server's GPU layers are not known here
        layers = f"/{info.n_layers}" if info.n_layers else ""
        parts.append(f"{info.n_gpu_layers_offloaded}{layers} layers on GPU")
    if not info.has_chat_template:
        parts.append("no chat template")
    return " · ".join(parts)


def header_key(controller: PaneController | None) -> tuple | None:
    """Everything the header shows, to redraw it only when one of them changed."""
    if controller is None:
        return None
    return (
        controller.state,
        controller.reason,
        controller.load_fraction,
        controller.pending is not None,
        controller.info,
        len(controller.warnings),
        controller.stats is not None and controller.stats.stop_reason,
    )


def state_text(controller: PaneController | None, state: PaneState) -> Text:
    """The pane's state for its border subtitle ("● loading 40% · run queued", …)."""
    text = Text(f"● {state.value}", style=STATE_STYLES[state])
    if controller is None:
        return text
    if state is PaneState.LOADING:
        text.append(f" {controller.load_fraction:.0%}")
        if controller.pending is not None:
            text.append(" · run queued")
    elif state in (PaneState.ERROR, PaneState.CRASHED) and controller.reason:
        text.append(f": {controller.reason}")
    elif state is PaneState.DONE and controller.stats is not None:
        text.append(f" ({controller.stats.stop_reason})")
    return text


class ModelLine(Static):
    """What the pane's model is (one line), then one line per warning."""

    def show(self, controller: PaneController | None) -> None:
        if controller is None:
            self.update(Text("finding the model…", style="dim"), layout=False)
        elif controller.info is not None:
            line = Text(describe_model(controller.info), style="dim")
            for warning in controller.warnings:
                line.append(f"\n⚠ {warning}", style="yellow")
            warned = bool(controller.warnings)
            self.set_class(warned, "-warned")
            self.tooltip = "\n".join(controller.warnings) or None
            self.update(line, layout=warned)  # warnings take more lines; else one fixed line
        else:
            self.update(
                Text(controller.plan.model_ref, style="dim", no_wrap=True, overflow="ellipsis"),
                layout=False,
            )
