"""WorkbenchScreen: the prompt, the model panes side by side, the comparison, resources.

This screen runs and stops the panes and adds and removes them; the panes themselves, the
current one and their live sampling (nudge, exact value, link, re-run on change) belong to
its `tui.widgets.pane_grid.PaneGrid`, whose actions the screen's keys call. The app owns
the profile (open, save, the unsaved-changes mark), the history and the exports; it asks
this screen for the current state with `current_profile()`.

Model references are resolved (`plan_builder`, default `profiles.plan.build_plan`) in a
thread worker, so the screen is interactive at once while models load in the background.
Its parts: `PaneRoster` (the panes' specs and models), `RunQueue` (one run across the
panes), `ComparisonReveal` (when the comparison shows), `SuiteStepper` (the suite).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.events import DescendantFocus, Resize
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, TextArea

from profiles.plan import PanePlan
from profiles.run_driver import DriverOptions
from profiles.schema import PaneSpec, Profile
from profiles.suite_run import pane_key
from tui import answer_actions
from tui.keys import TEXT_FREE_ACTIONS, WORKBENCH_BINDINGS
from tui.pane_controller import EngineFactory
from tui.screens.comparison_reveal import ComparisonReveal
from tui.screens.pane_roster import PaneRoster, PlanBuilder
from tui.screens.run_queue import RunQueue
from tui.screens.suite_stepping import SuiteStepper
from tui.widgets.comparison_table import ComparisonTable
from tui.widgets.model_pane import ModelPane, ProcessFigures
from tui.widgets.pane_grid import PaneGrid
from tui.widgets.prompt_editor import PromptEditor
from tui.widgets.resource_panel import ResourcePanel

NARROW_WIDTH = 100
"""Below this many columns the panes stack instead of standing side by side."""

MAX_PANES = 8


class WorkbenchScreen(Screen):
    """The main screen of the workbench."""

    AUTO_FOCUS = "#prompt"

    BINDINGS = list(WORKBENCH_BINDINGS)  # a list of BindingType, as Textual declares it
    """Screen keys (see `tui.keys`)."""

    @dataclass
    class PlansReady(Message):
        """The model references were resolved (posted by the planning thread)."""

        plans: list[PanePlan]
        pane_ids: list[int]

    @dataclass
    class Edited(Message):
        """Something that a profile keeps changed (prompt, sampling, panes)."""

    @dataclass
    class PaneFinished(Message):
        """A pane's generation ended; the app records it in the history."""

        pane: ModelPane

    def __init__(
        self,
        profile: Profile,
        engine_factory: EngineFactory,
        plan_builder: PlanBuilder,
        *,
        process_figures: ProcessFigures | None = None,
        driver_options: DriverOptions | None = None,
        resume_suites: bool = True,
    ) -> None:
        """`resume_suites`: "Run suite" resumes the suite's unfinished run in the history."""
        super().__init__()
        self.profile = profile
        """The profile the screen was built from (defaults, mode, name)."""
        self._roster = PaneRoster(
            engine_factory,
            plan_builder,
            process_figures=process_figures,
            driver_options=driver_options,
        )
        self._runs = RunQueue()
        self._comparison = ComparisonReveal(ComparisonTable(id="comparison"))
        self.suite = SuiteStepper(self, resume=resume_suites)
        """The profile's prompt suite: n/N and "Run suite"."""

    # --- layout ------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header(icon="≡")
        yield PromptEditor(self.profile.prompt, self.profile.system_prompt, id="prompt-editor")
        panes = (self._roster.new_pane(spec, self.profile.sampling) for spec in self.profile.panes)
        yield PaneGrid(*panes, id="panes")
        yield self._comparison.table
        yield ResourcePanel(getattr(self.app, "resource_sampler", None), id="resources")
        yield Footer()

    def on_mount(self) -> None:
        self._comparison.hide()
        if self.panes:
            self.grid.select_pane(self.panes[0])
        self._apply_width(self.size.width)
        self.suite.load(self.query_one(PromptEditor))
        self._resolve()

    def on_resize(self, event: Resize) -> None:
        self._apply_width(event.size.width)

    def _apply_width(self, width: int) -> None:
        self.set_class(width < NARROW_WIDTH, "-narrow")

    # --- resolving models in the background -------------------------------------------

    def _resolve(self) -> None:
        """Resolve every pane's model off the UI thread; PlansReady starts the new ones."""
        planner = self._roster.planner(self.profile)

        def plan() -> None:
            self.post_message(self.PlansReady(*planner()))

        self.run_worker(plan, thread=True, group="plan", name="resolve models")

    @on(PlansReady)
    def _plans_ready(self, message: PlansReady) -> None:
        self._roster.start(self.panes, message.plans, message.pane_ids)
        self.refresh_bindings()

    # --- panes ---------------------------------------------------------------------------

    @property
    def grid(self) -> PaneGrid:
        """The panes and their live sampling."""
        return self.query_one(PaneGrid)

    @property
    def panes(self) -> list[ModelPane]:
        return self.grid.panes

    @property
    def current_pane(self) -> ModelPane | None:
        """The pane that keys act on: the one last focused, else the first."""
        return self.grid.current_pane

    @on(DescendantFocus)
    def _focus_moved(self, event: DescendantFocus) -> None:
        for ancestor in event.widget.ancestors_with_self:
            if isinstance(ancestor, ModelPane):
                self.grid.select_pane(ancestor)
                break
        self.refresh_bindings()

    def add_pane(self, model_ref: str) -> ModelPane | None:
        """Add a pane for `model_ref` (resolved and loaded in the background)."""
        if len(self.panes) >= MAX_PANES:
            self.notify(f"at most {MAX_PANES} panes", severity="warning")
            return None
        pane = self._roster.new_pane(PaneSpec(model=model_ref), self.profile.sampling)
        self.grid.mount(pane)
        self._resolve()
        self.grid.select_pane(pane)
        self._edited()
        return pane

    def remove_pane(self, pane: ModelPane) -> None:
        """Close the pane's model (off the UI thread) and remove it."""
        if len(self.panes) <= 1:
            self.notify(
                "the last pane stays; add another before removing this one", severity="warning"
            )
            return
        self._roster.forget(pane)
        self._runs.drop(pane)
        self.app.run_worker(pane.close, thread=True, group="close", name=f"close {pane.label}")
        pane.remove()
        self.grid.select_pane(None)
        self._edited()
        self.call_after_refresh(self._show_comparison_if_idle)

    def close_all(self) -> None:
        """Stop every pane's model worker, all at once, off the UI thread, in the app's
        workers (group "close"): they outlive this screen when another profile replaces
        it, and the app waits for them before it exits."""
        for pane in self.panes:
            self.app.run_worker(pane.close, thread=True, group="close", name=f"close {pane.label}")

    # --- profile state ---------------------------------------------------------------

    def current_profile(self) -> Profile:
        """The profile as it stands now: prompt, panes and their sampling values."""
        editor = self.query_one(PromptEditor)
        return self._roster.profile_of(
            self.profile, self.panes, editor.prompt, editor.system_prompt
        )

    def _edited(self) -> None:
        self.post_message(self.Edited())

    @on(PromptEditor.Edited)
    def _prompt_edited(self, message: PromptEditor.Edited) -> None:
        message.stop()
        self._edited()

    # --- bindings --------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action not in TEXT_FREE_ACTIONS and isinstance(self.focused, TextArea | Input):
            return False
        if action == "stop":
            return any(pane.busy for pane in self.panes)
        if action == "leave_field":
            return isinstance(self.focused, TextArea | Input)
        return True

    # --- run and stop ----------------------------------------------------------------

    def action_run(self, only: Collection[str] | None = None) -> None:
        """Run the prompt on every pane (one after another in sequential mode), or on those
        whose `pane_key` is in `only` (a resumed suite run)."""
        editor = self.query_one(PromptEditor)
        if not editor.prompt.strip():
            self.notify("type a prompt first", severity="warning")
            editor.focus_prompt()
            return
        panes = self.panes
        if only is not None:
            panes = [p for p in panes if p.controller and pane_key(p.controller.plan) in only]
        sequential = self.profile.mode == "sequential"
        self._runs.start(panes, editor.prompt, editor.system_prompt, sequential=sequential)
        self._comparison.hide()
        if not panes and self.suite.running:  # the panes that missed it are gone: go on
            self.call_after_refresh(self.suite.next_when_idle)

    # --- the suite (tui.screens.suite_stepping) ------------------------------------------

    def action_next_prompt(self) -> None:
        """Show the suite's next prompt in the prompt editor."""
        self.suite.next_prompt()

    def action_previous_prompt(self) -> None:
        """Show the suite's previous prompt in the prompt editor."""
        self.suite.previous_prompt()

    def action_run_suite(self, fresh: bool = False) -> None:
        """Run the suite on every pane (`tui.screens.suite_stepping`)."""
        self.suite.run_all(fresh=fresh)

    def run_prompt(self, only: Collection[str] | None = None) -> None:
        """Run the prompt in the editor (as ctrl+r), on the panes in `only` if given."""
        self.action_run(only)

    def plans(self) -> list[PanePlan]:
        """The plans of the panes whose models are resolved."""
        return [pane.controller.plan for pane in self.panes if pane.controller is not None]

    def in_thread(self, work: Callable[[], Any], then: Callable[[Any], None]) -> None:
        """Run `work` off the UI thread, then `then` with its result on the UI thread."""
        self.run_worker(lambda: self.app.call_from_thread(then, work()), thread=True, group="suite")

    def idle(self) -> bool:
        """Whether no pane is generating and none waits in the sequential queue."""
        return self._runs.idle(self.panes)

    def action_stop(self) -> None:
        """Stop every pane's generation (and the queued ones, and a suite run)."""
        self.suite.stop()
        self._runs.stop(self.panes)
        self.refresh_bindings()

    def action_leave_field(self) -> None:
        """Leave the text field for the current pane, where the letter keys act."""
        pane = self.current_pane
        if pane is not None:
            pane.focus_answer()
        else:
            self.set_focus(None)

    @on(ModelPane.RunFinished)
    def _pane_finished(self, message: ModelPane.RunFinished) -> None:
        self.post_message(self.PaneFinished(message.pane))
        self._runs.run_next()
        self._show_comparison_if_idle()
        if self.suite.running:
            self.call_after_refresh(self.suite.next_when_idle)

    @on(ModelPane.StateChanged)
    def _pane_state_changed(self, message: ModelPane.StateChanged) -> None:
        self.refresh_bindings()

    def _show_comparison_if_idle(self) -> None:
        if not self._runs.over(self.panes):
            return
        notice = self._comparison.show_results(
            self.panes,
            self.profile.mode,
            height=self.size.height,
            in_text_field=isinstance(self.focused, TextArea | Input),
        )
        if notice:
            self.notify(notice)

    def action_toggle_comparison(self) -> None:
        """Show or hide the comparison of the last run."""
        self._comparison.toggle()

    # --- other actions ------------------------------------------------------------------

    def action_add_pane(self) -> None:
        """Choose a model and add a pane for it."""
        from tui.screens.choose_model import choose_model_screen

        def done(model_ref: str | None) -> None:
            if model_ref:
                self.add_pane(model_ref.strip())

        self.app.push_screen(choose_model_screen(), done)

    def action_remove_pane(self) -> None:
        """Remove the current pane (its model is unloaded)."""
        pane = self.current_pane
        if pane is not None:
            self.remove_pane(pane)

    def action_copy_answer(self) -> None:
        """Copy the current pane's answer to the clipboard (OSC 52: works over SSH)."""
        answer_actions.copy_answer(self.grid)

    async def action_toggle_markdown(self) -> None:
        """Show the current pane's finished answer as Markdown, or back as raw text."""
        await answer_actions.toggle_markdown(self.grid)

    def action_toggle_resources(self) -> None:
        """Fold the machine panel to one line, or unfold it."""
        self.query_one(ResourcePanel).toggle_collapsed()

    # --- live sampling (the grid's) -------------------------------------------------------

    def action_nudge_temperature(self, delta: float) -> None:
        """Move the temperature of the current pane (or all, when linked) by `delta`."""
        self.grid.nudge_temperature(delta)

    def action_type_temperature(self) -> None:
        """Put the cursor in the current pane's temperature field (enter brings it back)."""
        self.grid.type_temperature(return_to=self.focused)

    def action_ask_temperature(self) -> None:
        """Ask for an exact temperature in a dialog."""
        self.grid.ask_temperature()

    def action_edit_sampling(self) -> None:
        """Edit all sampling values of the current pane in a form."""
        self.grid.edit_sampling()

    def action_toggle_link(self) -> None:
        """Link or unlink the panes' temperatures."""
        self.grid.toggle_link()

    def action_toggle_rerun(self) -> None:
        """Turn re-run on change on or off."""
        self.grid.toggle_rerun()

    @on(PaneGrid.RerunWanted)
    def _rerun_wanted(self, message: PaneGrid.RerunWanted) -> None:
        if message.pane.is_attached:
            self._runs.run(message.pane)

    @on(PaneGrid.SamplingApplied)
    def _sampling_applied(self) -> None:
        self._edited()

    @on(PaneGrid.ModesChanged)
    def _modes_changed(self, message: PaneGrid.ModesChanged) -> None:
        self.sub_title = message.text

    def action_focus_prompt(self) -> None:
        """Move the cursor to the prompt."""
        self.query_one(PromptEditor).focus_prompt()

    def action_toggle_token_view(self) -> None:
        """Show the answers as tokens coloured by probability, with a cursor (or as text)."""
        answer_actions.toggle_token_view(self.grid)

    def action_answer_parting(self) -> None:
        """Mark where the panes' answers part and show each one's candidates there."""
        answer_actions.show_answer_parting(self.grid)
