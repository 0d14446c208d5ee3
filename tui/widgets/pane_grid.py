"""PaneGrid: the model panes side by side, which one is current, and their live sampling.

The grid owns the panes and every sampling change made to them: nudge, exact value (typed
in a pane or asked for), the sampling editor, linked temperatures and re-run on change. A
change during a generation applies from the next token (the pane marks where). What only
the screen knows it asks for with messages: `RerunWanted` (run this finished pane again
with the run's prompt), `SamplingApplied` (the profile changed), `ModesChanged` (the
subtitle).

Linked temperatures: a temperature set on one pane (nudged, typed, or changed in the
sampling editor) goes to every pane; every other value edited in the sampling editor
applies to the edited pane only, as typed.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.containers import Container
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from engines.types import SamplingParams
from tui.pane_controller import PaneState
from tui.widgets.model_pane import ModelPane
from tui.widgets.sampler_controls import TEMPERATURE, clamp_temperature, parse_temperature

MODE_NAMES = (("link_temperature", "T linked"), ("rerun_on_change", "re-run on change"))
"""The modes the screen's subtitle lists while they are on."""


class PaneGrid(Container):
    """The panes, the current one, and their live sampling."""

    link_temperature: reactive[bool] = reactive(False)
    """Temperature changes apply to every pane together."""
    rerun_on_change: reactive[bool] = reactive(False)
    """A finished pane generates again at once when its sampling values change."""

    @dataclass
    class RerunWanted(Message):
        """A finished pane's values changed with re-run on change on: run it again."""

        pane: ModelPane

    @dataclass
    class SamplingApplied(Message):
        """A pane's sampling values changed (the profile on screen changed)."""

        pane: ModelPane

    @dataclass
    class ModesChanged(Message):
        """The modes that are on, for the subtitle ("" when none)."""

        text: str

    def __init__(self, *panes: ModelPane, id: str | None = None) -> None:
        super().__init__(*panes, id=id)
        self._current_pane_id: int | None = None

    # --- panes ---------------------------------------------------------------------------

    @property
    def panes(self) -> list[ModelPane]:
        return list(self.query_children(ModelPane))

    @property
    def current_pane(self) -> ModelPane | None:
        """The pane that keys act on: the one last focused, else the first."""
        panes = self.panes
        for pane in panes:
            if pane.pane_id == self._current_pane_id:
                return pane
        return panes[0] if panes else None

    def select_pane(self, pane: ModelPane | None) -> None:
        """Make `pane` the current one (None: the first, until another is focused)."""
        self._current_pane_id = pane.pane_id if pane is not None else None
        for each in self.panes:
            each.set_class(each is pane, "-current")

    def _targets(self) -> list[ModelPane]:
        if self.link_temperature:
            return self.panes
        pane = self.current_pane
        return [pane] if pane is not None else []

    # --- sampling ------------------------------------------------------------------------

    def nudge_temperature(self, delta: float) -> None:
        """Move the temperature of the current pane (or all, when linked) by `delta`."""
        for pane in self._targets():
            temperature = clamp_temperature(pane.sampling.temperature + delta)
            self.apply_sampling(pane, pane.sampling.with_changes(temperature=temperature))

    def set_temperature(self, value: float) -> None:
        """Set an exact temperature on the current pane (or all, when linked)."""
        for pane in self._targets():
            self.apply_sampling(
                pane, pane.sampling.with_changes(temperature=clamp_temperature(value))
            )

    def apply_sampling(self, pane: ModelPane, sampling: SamplingParams) -> None:
        """Give a pane new sampling values: live while generating; re-run if asked to."""
        if sampling == pane.sampling:
            return
        pane.set_sampling(sampling)
        if self.rerun_on_change and pane.state in (PaneState.DONE, PaneState.STOPPED):
            self.post_message(self.RerunWanted(pane))
        self.post_message(self.SamplingApplied(pane))

    def apply_edited(self, pane: ModelPane, sampling: SamplingParams) -> None:
        """Values edited for `pane` (its field or the editor): all of them to `pane`; when
        linked and the temperature changed, that temperature to every other pane too."""
        self.select_pane(pane)
        temperature_changed = sampling.temperature != pane.sampling.temperature
        self.apply_sampling(pane, sampling)
        if self.link_temperature and temperature_changed:
            for other in self.panes:
                if other is not pane:
                    self.apply_sampling(
                        other, other.sampling.with_changes(temperature=sampling.temperature)
                    )

    @on(ModelPane.SamplingEdited)
    def _sampling_edited(self, message: ModelPane.SamplingEdited) -> None:
        message.stop()
        self.apply_edited(message.pane, message.sampling)

    def type_temperature(self, return_to: Widget | None) -> None:
        """Put the cursor in the current pane's temperature field; enter returns it to
        `return_to`."""
        pane = self.current_pane
        if pane is not None:
            pane.focus_temperature(return_to)

    def edit_sampling(self) -> None:
        """Edit all sampling values of the current pane in a form."""
        from tui.screens.sampling_editor import SamplingEditorScreen

        pane = self.current_pane
        if pane is None:
            return

        def done(sampling: SamplingParams | None) -> None:
            if sampling is not None and pane.is_attached:
                self.apply_edited(pane, sampling)

        self.app.push_screen(SamplingEditorScreen(pane.label, pane.sampling), done)

    def ask_temperature(self) -> None:
        """Ask for an exact temperature (a dialog) for the current pane, or all when linked."""
        from tui.screens.text_prompt import TextPromptScreen

        def problem(text: str) -> str | None:
            try:
                parse_temperature(text)
            except ValueError as error:
                return str(error)
            return None

        def chosen(text: str | None) -> None:
            if text:
                self.set_temperature(parse_temperature(text))

        pane = self.current_pane
        value = f"{pane.sampling.temperature:g}" if pane else ""
        self.app.push_screen(
            TextPromptScreen(f"Temperature ({TEMPERATURE.describe()})", value=value, check=problem),
            chosen,
        )

    # --- modes ---------------------------------------------------------------------------

    def toggle_link(self) -> None:
        """Link or unlink the panes' temperatures."""
        self.link_temperature = not self.link_temperature
        self.notify(
            "temperature linked: all panes move together"
            if self.link_temperature
            else "temperature unlinked"
        )

    def toggle_rerun(self) -> None:
        """Turn re-run on change on or off."""
        self.rerun_on_change = not self.rerun_on_change
        self.notify(f"re-run on change {'on' if self.rerun_on_change else 'off'}")

    def watch_link_temperature(self) -> None:
        self._modes_changed()

    def watch_rerun_on_change(self) -> None:
        self._modes_changed()

    def _modes_changed(self) -> None:
        text = " · ".join(name for mode, name in MODE_NAMES if getattr(self, mode))
        self.post_message(self.ModesChanged(text))
