"""Live sampling for the workbench screen: nudge, type and link temperatures, re-run on change.

`LiveSampling` is mixed into `tui.screens.main.WorkbenchScreen`, which declares the two
reactives it reads (`link_temperature`, `rerun_on_change`) and the panes it acts on. A
change during a generation applies from the next token (the pane marks where); with
re-run on change on, a finished or stopped pane generates again at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engines.types import SamplingParams
from tui.pane_controller import PaneState
from tui.widgets.model_pane import ModelPane

if TYPE_CHECKING:
    from textual.screen import Screen

    class _WorkbenchScreenHost(Screen[None]):
        """What the mixin uses of `WorkbenchScreen`, for the type checker (at run time: object)."""

        link_temperature: bool
        rerun_on_change: bool

        @property
        def panes(self) -> list[ModelPane]: ...

        @property
        def current_pane(self) -> ModelPane | None: ...

        def _select_pane(self, pane: ModelPane) -> None: ...

        def _run_pane(self, pane: ModelPane) -> None: ...

        def _edited(self) -> None: ...

else:
    _WorkbenchScreenHost = object

MODE_NAMES = (("link_temperature", "T linked"), ("rerun_on_change", "re-run on change"))
"""The modes the screen's subtitle lists while they are on."""


def clamp_temperature(value: float) -> float:
    """A temperature kept within 0..2 and rounded to two decimals (no 0.30000000000000004)."""
    return round(min(max(value, 0.0), 2.0), 2)


class LiveSampling(_WorkbenchScreenHost):
    """Sampling actions of the workbench screen (a mixin for `WorkbenchScreen`)."""

    def _targets(self) -> list[ModelPane]:
        if self.link_temperature:
            return self.panes
        pane = self.current_pane
        return [pane] if pane is not None else []

    def action_nudge_temperature(self, delta: float) -> None:
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
            self._run_pane(pane)
        self._edited()

    def on_model_pane_sampling_edited(self, message: ModelPane.SamplingEdited) -> None:
        self._select_pane(message.pane)
        if self.link_temperature:
            self.set_temperature(message.sampling.temperature)
        else:
            self.apply_sampling(message.pane, message.sampling)

    def action_type_temperature(self) -> None:
        """Put the cursor in the current pane's temperature field."""
        pane = self.current_pane
        if pane is not None:
            pane.focus_temperature()

    def action_edit_sampling(self) -> None:
        """Edit all sampling values of the current pane in a form."""
        from tui.screens.sampling_editor import SamplingEditorScreen

        pane = self.current_pane
        if pane is None:
            return

        def done(sampling: SamplingParams | None) -> None:
            if sampling is not None and pane.is_attached:
                self.post_message(ModelPane.SamplingEdited(pane, sampling))

        self.app.push_screen(SamplingEditorScreen(pane.label, pane.sampling), done)

    # --- modes -------------------------------------------------------------------------

    def action_toggle_link(self) -> None:
        """Link or unlink the panes' temperatures."""
        self.link_temperature = not self.link_temperature
        self.notify(
            "temperature linked: all panes move together"
            if self.link_temperature
            else "temperature unlinked"
        )

    def action_toggle_rerun(self) -> None:
        """Turn re-run on change on or off."""
        self.rerun_on_change = not self.rerun_on_change
        self.notify(f"re-run on change {'on' if self.rerun_on_change else 'off'}")

    def watch_link_temperature(self) -> None:
        self._show_modes()

    def watch_rerun_on_change(self) -> None:
        self._show_modes()

    def _show_modes(self) -> None:
        self.sub_title = " · ".join(name for mode, name in MODE_NAMES if getattr(self, mode))
