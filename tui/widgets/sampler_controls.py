"""SamplerControls: a pane's sampling values, temperature first and editable in place.

One line: the temperature in an Input (type an exact value, enter applies it and puts the
cursor back where it was; the field is not a tab stop), then the other values in a compact summary (edited in the sampling modal). The widget only
reports what the user typed (`SamplerControls.TemperatureEntered`); the pane decides.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Label, Static

from engines.sampling_ranges import SAMPLING_RANGES
from engines.types import SamplingParams

TEMPERATURE = SAMPLING_RANGES["temperature"]
"""Temperatures a user can set (`engines.sampling_ranges`, as the schema and engine)."""


def parse_temperature(text: str) -> float:
    """A typed temperature, checked against TEMPERATURE; ValueError says what is allowed."""
    try:
        value = float(text.strip().replace(",", "."))
    except ValueError:
        raise ValueError(
            f"temperature must be a number, {TEMPERATURE.describe()}, not {text!r}"
        ) from None
    problem = TEMPERATURE.problem(value)
    if problem:
        raise ValueError(problem)
    return round(value, 2)


def clamp_temperature(value: float) -> float:
    """A temperature kept within its range, rounded to two decimals (no 0.30000000000000004)."""
    return round(min(max(value, TEMPERATURE.low), TEMPERATURE.high), 2)


def sampling_summary(sampling: SamplingParams) -> Text:
    """The values other than temperature, dimmed labels, short."""
    text = Text(no_wrap=True, overflow="ellipsis")
    items = [
        ("top-p", f"{sampling.top_p:g}"),
        ("top-k", str(sampling.top_k)),
        ("min-p", f"{sampling.min_p:g}"),
        ("rep", f"{sampling.repeat_penalty:g}"),
        ("max", str(sampling.max_tokens)),
        ("seed", str(sampling.seed)),
    ]
    for number, (label, value) in enumerate(items):
        if number:
            text.append("  ")
        text.append(f"{label} ", style="dim")
        text.append(value)
    return text


class TemperatureInput(Input):
    """The temperature field: not a tab stop (tab moves between prompt and panes), yet
    reachable by `t` (`SamplerControls.focus_temperature`) and by a click."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._reachable = False

    def allow_focus(self) -> bool:
        return self._reachable

    def reach(self) -> None:
        """Let the field take focus, and give it focus."""
        self._reachable = True
        self.focus()

    def on_mouse_down(self) -> None:
        if not self.has_focus:
            self.reach()

    def on_blur(self) -> None:
        self._reachable = False


class SamplerControls(Horizontal):
    """Temperature input plus a summary of the other sampling values."""

    @dataclass
    class TemperatureEntered(Message):
        """The user typed a temperature and pressed enter (already range-checked)."""

        controls: SamplerControls
        temperature: float

    @dataclass
    class Left(Message):
        """A temperature was entered and the field had no place to return the cursor to."""

        controls: SamplerControls

    @dataclass
    class InvalidEntry(Message):
        """The user typed something that is not a valid temperature."""

        controls: SamplerControls
        reason: str

    def __init__(self, sampling: SamplingParams, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.sampling = sampling
        """The values shown now."""
        self._return_to: Widget | None = None
        """Where the cursor goes back to after a temperature is entered."""

    def compose(self) -> ComposeResult:
        yield Label("temp", classes="sampler--label")
        yield TemperatureInput(
            f"{self.sampling.temperature:.2f}",
            id="temperature",
            tooltip="Temperature, 0 to 2: type a value and press enter ([ and ] nudge by 0.1)",
            compact=True,
            select_on_focus=True,
        )
        yield Static(sampling_summary(self.sampling), classes="sampler--summary")

    def show(self, sampling: SamplingParams) -> None:
        """Show these values (the input keeps what the user is typing while focused)."""
        self.sampling = sampling
        temperature = self.query_one("#temperature", Input)
        if not temperature.has_focus:
            temperature.value = f"{sampling.temperature:.2f}"
        self.query_one(".sampler--summary", Static).update(sampling_summary(sampling), layout=False)

    def focus_temperature(self, return_to: Widget | None = None) -> None:
        """Put the cursor in the temperature input (to type an exact value); enter puts it
        back in `return_to` (where it was), or leaves the field for the pane."""
        self._return_to = return_to
        self.query_one("#temperature", TemperatureInput).reach()

    def _give_focus_back(self) -> None:
        target, self._return_to = self._return_to, None
        if target is not None and target.is_attached and target.focusable:
            target.focus()
        else:
            self.post_message(self.Left(self))

    @on(Input.Submitted, "#temperature")
    def _temperature_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            value = parse_temperature(event.value)
        except ValueError as error:
            event.input.value = f"{self.sampling.temperature:.2f}"
            self.post_message(self.InvalidEntry(self, str(error)))
            return
        self.post_message(self.TemperatureEntered(self, value))
        self._give_focus_back()

    @on(Input.Blurred, "#temperature")
    def _temperature_left(self, event: Input.Blurred) -> None:
        event.input.value = f"{self.sampling.temperature:.2f}"
