"""SamplingEditorScreen: a form for all of one pane's sampling values.

Temperature lives in the pane itself; this modal is for the rest (top-p, top-k, min-p,
repeat penalty, max tokens, seed, stop strings). Values are checked with the profile
schema, so the messages state the allowed ranges. Dismisses with the new
`SamplingParams`, or None when cancelled.
"""

from __future__ import annotations

from pydantic import ValidationError
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from engines.sampling_ranges import SAMPLING_RANGES
from engines.types import SamplingParams
from profiles.errors import problems_from_validation
from profiles.schema import SamplingValues

FIELD_NAMES: tuple[tuple[str, str], ...] = (
    ("temperature", "temperature"),
    ("top_p", "top-p"),
    ("top_k", "top-k"),
    ("min_p", "min-p"),
    ("repeat_penalty", "repeat penalty"),
    ("max_tokens", "max tokens"),
    ("seed", "seed"),
    ("stop", "stop strings (comma separated)"),
)
FIELDS: tuple[tuple[str, str], ...] = tuple(
    (
        name,
        f"{label} ({SAMPLING_RANGES[name].describe(with_note=False)})"
        if name in SAMPLING_RANGES
        else label,
    )
    for name, label in FIELD_NAMES
)
"""(field, label with its allowed range) in the order shown."""


def _shown(sampling: SamplingParams, name: str) -> str:
    value = getattr(sampling, name)
    return (
        ", ".join(value)
        if name == "stop"
        else f"{value:g}"
        if isinstance(value, float)
        else str(value)
    )


def parse_sampling(texts: dict[str, str]) -> SamplingParams:
    """The typed values as SamplingParams; ValueError with one line per problem."""
    raw: dict[str, object] = {name: text.strip() for name, text in texts.items() if name != "stop"}
    raw["stop"] = [part.strip() for part in texts.get("stop", "").split(",") if part.strip()]
    try:
        return SamplingValues.model_validate(raw).to_params()
    except ValidationError as error:
        raise ValueError("\n".join(problems_from_validation(error, SamplingValues))) from None


class SamplingEditorScreen(ModalScreen[SamplingParams | None]):
    """Edit every sampling value of one pane."""

    DEFAULT_CSS = """
    SamplingEditorScreen {
        align: center middle;
    }
    SamplingEditorScreen > Vertical {
        width: 72;
        max-width: 95%;
        height: auto;
        max-height: 95%;
        border: round $accent;
        background: $panel;
        padding: 0 1;
    }
    SamplingEditorScreen Grid {
        grid-size: 2;
        grid-columns: 36 1fr;
        grid-rows: 1;
        height: auto;
    }
    SamplingEditorScreen Grid Input {
        border: none;
        height: 1;
        padding: 0 1;
        background: $boost;
    }
    SamplingEditorScreen .sampling--error {
        color: $error;
        height: auto;
    }
    SamplingEditorScreen .sampling--buttons {
        height: auto;
        align-horizontal: right;
        layout: horizontal;
    }
    SamplingEditorScreen Button {
        margin: 0 0 0 1;
        min-width: 10;
    }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, label: str, sampling: SamplingParams) -> None:
        super().__init__()
        self._label = label
        self._sampling = sampling

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = f"Sampling: {self._label}"
            with Grid():
                for name, label in FIELDS:
                    yield Label(label)
                    yield Input(_shown(self._sampling, name), id=f"field-{name}", compact=True)
            yield Static("", classes="sampling--error")
            with Vertical(classes="sampling--buttons"):
                yield Button("Apply", variant="primary", id="apply", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def _texts(self) -> dict[str, str]:
        return {name: self.query_one(f"#field-{name}", Input).value for name, _ in FIELDS}

    def _apply(self) -> None:
        try:
            sampling = parse_sampling(self._texts())
        except ValueError as error:
            self.query_one(".sampling--error", Static).update(str(error))
            return
        self.dismiss(sampling)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._apply()

    @on(Button.Pressed, "#apply")
    def _apply_pressed(self) -> None:
        self._apply()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
