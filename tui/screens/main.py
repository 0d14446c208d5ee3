"""WorkbenchScreen: the prompt, the model panes side by side, the comparison, resources.

This screen runs and stops the panes and adds and removes them; the panes themselves, the
current one and their live sampling (nudge, exact value, link, re-run on change) belong to
its `tui.widgets.pane_grid.PaneGrid`, whose actions the screen's keys call. The app owns the profile (open, save, the
unsaved-changes mark), the history and the exports; it asks this screen for the current
state with `current_profile()`.

Model references are resolved (`plan_builder`, default `profiles.plan.build_plan`) in a
thread worker, so the screen is interactive at once while models load in the background.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.events import DescendantFocus, Resize
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, TextArea

from profiles.plan import PanePlan, failed_plan
from profiles.run_driver import DriverOptions
from profiles.schema import PaneSpec, Profile, SamplingOverrides
from tui.keys import TEXT_FREE_ACTIONS, WORKBENCH_BINDINGS
from tui.pane_controller import EngineFactory, PaneState, RunOutcome
from tui.screens.suite_stepping import SuiteStepper
from tui.widgets.comparison_table import ComparisonTable
from tui.widgets.model_pane import ModelPane, ProcessFigures
from tui.widgets.pane_grid import PaneGrid
from tui.widgets.prompt_editor import PromptEditor
from tui.widgets.resource_panel import ResourcePanel

PlanBuilder = Callable[[Profile], list[PanePlan]]
"""Turns a profile into one PanePlan per pane (may block: it resolves model references)."""

NARROW_WIDTH = 100
"""Below this many columns the panes stack instead of standing side by side."""

COMPARISON_MIN_HEIGHT = 30
"""The comparison opens by itself after a run only on terminals at least this tall."""

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
    ) -> None:
        super().__init__()
        self.profile = profile
        """The profile the screen was built from (defaults, mode, name)."""
        self._engine_factory = engine_factory
        self._plan_builder = plan_builder
        self._process_figures = process_figures
        self._pane_specs: dict[int, PaneSpec] = {}
        self._next_pane_id = 0
        self._driver_options = driver_options
        self._sequential_queue: list[ModelPane] = []
        self.suite = SuiteStepper(self)
        """The profile's prompt suite: n/N and "Run suite"."""
        self._run_prompt: tuple[str, str | None] = ("", None)
        """The prompt and system prompt of the current run, as they were when it started."""
        self._comparison_announced = False

    # --- layout ------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header(icon="≡")
        yield PromptEditor(self.profile.prompt, self.profile.system_prompt, id="prompt-editor")
        yield PaneGrid(*(self._new_pane(spec) for spec in self.profile.panes), id="panes")
        yield ComparisonTable(id="comparison")
        yield ResourcePanel(getattr(self.app, "resource_sampler", None), id="resources")
        yield Footer()

    def _new_pane(self, spec: PaneSpec) -> ModelPane:
        pane_id = self._next_pane_id
        self._next_pane_id += 1
        self._pane_specs[pane_id] = spec
        sampling = spec.sampling_params(self.profile.sampling)
        return ModelPane(
            pane_id, spec.display_label, sampling, process_figures=self._process_figures
        )

    def on_mount(self) -> None:
        self.query_one("#comparison").display = False
        if self.panes:
            self._select_pane(self.panes[0])
        self._apply_width(self.size.width)
        self.suite.load()
        self._resolve()

    def on_resize(self, event: Resize) -> None:
        self._apply_width(event.size.width)

    def _apply_width(self, width: int) -> None:
        self.set_class(width < NARROW_WIDTH, "-narrow")

    # --- resolving models in the background -------------------------------------------

    def _resolve(self) -> None:
        """Resolve every pane's model off the UI thread; PlansReady starts the new ones.

        The whole profile is planned each time, so a pane added later shares the CPU
        threads with the panes already there (parallel mode).
        """
        pane_ids = list(self._pane_specs)
        specs = [self._pane_specs[pane_id] for pane_id in pane_ids]
        profile = self.profile.model_copy(update={"panes": specs})

        def plan() -> None:
            try:
                plans = self._plan_builder(profile)
            except Exception as exc:  # noqa: BLE001 - shown in the panes, never a traceback
                plans = [failed_plan(i, spec, profile, exc) for i, spec in enumerate(specs)]
            self.post_message(self.PlansReady(plans, pane_ids))

        self.run_worker(plan, thread=True, group="plan", name="resolve models")

    @on(PlansReady)
    def _plans_ready(self, message: PlansReady) -> None:
        panes = {pane.pane_id: pane for pane in self.panes}
        for plan, pane_id in zip(message.plans, message.pane_ids, strict=False):
            pane = panes.get(pane_id)
            if pane is not None and pane.controller is None:
                pane.start(plan, self._engine_factory, self._driver_options)
            elif pane is not None:
                pane.relabel(plan.label)  # a pane added or removed may renumber duplicates
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

    def _select_pane(self, pane: ModelPane | None) -> None:
        self.grid.select_pane(pane)

    @on(DescendantFocus)
    def _focus_moved(self, event: DescendantFocus) -> None:
        for ancestor in event.widget.ancestors_with_self:
            if isinstance(ancestor, ModelPane):
                self._select_pane(ancestor)
                break
        self.refresh_bindings()

    def add_pane(self, model_ref: str) -> ModelPane | None:
        """Add a pane for `model_ref` (resolved and loaded in the background)."""
        if len(self.panes) >= MAX_PANES:
            self.notify(f"at most {MAX_PANES} panes", severity="warning")
            return None
        pane = self._new_pane(PaneSpec(model=model_ref))
        self.grid.mount(pane)
        self._resolve()
        self._select_pane(pane)
        self._edited()
        return pane

    def remove_pane(self, pane: ModelPane) -> None:
        """Close the pane's model (off the UI thread) and remove it."""
        if len(self.panes) <= 1:
            self.notify(
                "the last pane stays; add another before removing this one", severity="warning"
            )
            return
        self._pane_specs.pop(pane.pane_id, None)
        if pane in self._sequential_queue:
            self._sequential_queue.remove(pane)
        self.app.run_worker(pane.close, thread=True, group="close", name=f"close {pane.label}")
        pane.remove()
        self._select_pane(None)
        self._edited()
        self.call_after_refresh(self._show_comparison_if_idle)

    def close_all(self) -> None:
        """Stop every pane's model worker, all at once, off the UI thread.

        The app's workers do it (group "close"), so they outlive this screen when another
        profile replaces it; the app waits for them before it exits.
        """
        for pane in self.panes:
            self.app.run_worker(pane.close, thread=True, group="close", name=f"close {pane.label}")

    # --- profile state ---------------------------------------------------------------

    def current_profile(self) -> Profile:
        """The profile as it stands now: prompt, panes and their sampling values."""
        editor = self.query_one(PromptEditor)
        panes = []
        for pane in self.panes:
            spec = self._pane_specs[pane.pane_id]
            overrides = SamplingOverrides.between(self.profile.sampling, pane.sampling)
            panes.append(spec.model_copy(update={"sampling": overrides}))
        return self.profile.model_copy(
            update={"prompt": editor.prompt, "system_prompt": editor.system_prompt, "panes": panes}
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

    def action_run(self) -> None:
        """Run the prompt on every pane (one after another in sequential mode)."""
        editor = self.query_one(PromptEditor)
        if not editor.prompt.strip():
            self.notify("type a prompt first", severity="warning")
            editor.focus_prompt()
            return
        panes = [pane for pane in self.panes if pane.state is not PaneState.GENERATING]
        # Every pane of this run gets this prompt, even one that starts after it is edited.
        self._run_prompt = (editor.prompt, editor.system_prompt)
        if self.profile.mode == "sequential":
            self._sequential_queue = panes[1:]
            panes = panes[:1]
        for pane in panes:
            self._run_pane(pane)
        self.query_one("#comparison").display = False
        self._comparison_announced = False

    def _run_pane(self, pane: ModelPane) -> None:
        outcome = pane.run(*self._run_prompt)
        if outcome is RunOutcome.UNRUNNABLE and self._sequential_queue:
            self._run_pane(self._sequential_queue.pop(0))

    # --- the suite (tui.screens.suite_stepping) ------------------------------------------

    def action_next_prompt(self) -> None:
        """Show the suite's next prompt in the prompt editor."""
        self.suite.next_prompt()

    def action_previous_prompt(self) -> None:
        """Show the suite's previous prompt in the prompt editor."""
        self.suite.previous_prompt()

    def action_run_suite(self) -> None:
        """Run every prompt of the suite, from the one shown, on every pane."""
        self.suite.run_all()

    def prompt_editor(self) -> PromptEditor:
        """The prompt editor."""
        return self.query_one(PromptEditor)

    def run_prompt(self) -> None:
        """Run the prompt in the editor on every pane (as ctrl+r)."""
        self.action_run()

    def idle(self) -> bool:
        """Whether no pane is generating and none waits in the sequential queue."""
        return not self._sequential_queue and not any(pane.busy for pane in self.panes)

    def action_stop(self) -> None:
        """Stop every pane's generation (and the queued ones, and a suite run)."""
        self.suite.stop()
        self._sequential_queue.clear()
        for pane in self.panes:
            pane.stop()
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
        if self._sequential_queue:
            self._run_pane(self._sequential_queue.pop(0))
        self._show_comparison_if_idle()
        if self.suite.running:
            self.call_after_refresh(self.suite.next_when_idle)

    @on(ModelPane.StateChanged)
    def _pane_state_changed(self, message: ModelPane.StateChanged) -> None:
        self.refresh_bindings()

    def _show_comparison_if_idle(self) -> None:
        panes = self.panes
        if any(pane.state is PaneState.GENERATING for pane in panes) or self._sequential_queue:
            return
        rows = [
            (pane.label, pane.controller.stats, pane.controller.info)
            for pane in panes
            if pane.controller is not None and pane.controller.stats is not None
        ]
        comparison = self.query_one(ComparisonTable)
        if rows:
            comparison.show_results(rows, mode=self.profile.mode)
            if self.size.height >= COMPARISON_MIN_HEIGHT:
                comparison.display = True
            elif not comparison.display and not self._comparison_announced:
                keys = "esc, then c," if isinstance(self.focused, TextArea | Input) else "c"
                self.notify(f"the comparison is ready: press {keys} to see it")
            self._comparison_announced = True

    def action_toggle_comparison(self) -> None:
        """Show or hide the comparison of the last run."""
        comparison = self.query_one("#comparison")
        comparison.display = not comparison.display

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
        pane = self.current_pane
        if pane is None or not pane.answer:
            self.notify("nothing to copy yet", severity="warning")
            return
        self.app.copy_to_clipboard(pane.answer)
        self.notify(f"copied {len(pane.answer)} characters of {pane.label}'s answer")

    async def action_toggle_markdown(self) -> None:
        """Show the current pane's finished answer as Markdown, or back as raw text."""
        pane = self.current_pane
        if pane is None:
            return
        reason = await pane.toggle_markdown()
        if reason:
            self.notify(reason, severity="warning")

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
            self._run_pane(message.pane)

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
        from tui.token_actions import toggle_token_view

        toggle_token_view(self)

    def action_answer_parting(self) -> None:
        """Mark where the panes' answers part and show each one's candidates there."""
        from tui.token_actions import show_answer_parting

        show_answer_parting(self)
