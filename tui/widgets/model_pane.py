"""ModelPane: one model's column in the workbench — what it is, its sampling, its answer.

The pane owns a `PaneController` and runs its pump in a thread worker of its own group
(`pane-<id>`), so stopping or removing one pane never touches another. The worker only
posts `ModelPane.EventsArrived`; every widget update happens here, on the UI thread,
once per batch of events.

Border title: the label. The model line and the border subtitle (the state: loading
with progress, ready, generating, done, stopped, error or crashed with the reason) come
from `tui.widgets.pane_header`; the answer is an `AnswerArea` (text, tokens or Markdown).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widget import Widget
from textual.worker import get_current_worker

from engines.machine.resources import ProcessSample
from engines.protocol import (
    Event,
    GenerationFinished,
    SamplingChanged,
    TokensGenerated,
    WorkerCrashed,
)
from engines.types import GenerationStats, SamplingParams
from profiles.plan import PanePlan
from profiles.run_driver import DriverOptions
from tui.pane_controller import EngineFactory, PaneController, PaneState, RunOutcome
from tui.widgets.answer_area import AnswerArea
from tui.widgets.pane_header import ModelLine, header_key, state_text
from tui.widgets.pane_stats import PaneStats, StatsFigures
from tui.widgets.sampler_controls import SamplerControls

ProcessFigures = Callable[[int], ProcessSample | None]
"""The latest sample of a worker process (by pid) for the stats line; None when there is none."""

LIVE_REFRESH_S = 0.25
"""How often the elapsed time and process figures refresh while a pane is busy."""

FAILED_STATES = (PaneState.ERROR, PaneState.CRASHED)

PLACEHOLDERS = {
    PaneState.RESOLVING: "finding the model…",
    PaneState.LOADING: "loading the model… ctrl+r already works: the run starts when it is ready",
    PaneState.READY: "ready: ctrl+r (or F5) runs the prompt",
}
"""What an empty answer area says, by state."""


def temperature_marker(sampling: SamplingParams) -> str:
    """The marker shown in the text where a live temperature change took effect."""
    return f"⟨T={sampling.temperature:g}⟩"


class ModelPane(Vertical, can_focus=False):
    """One model: header, sampling controls, its answer (`AnswerArea`), stats line."""

    @dataclass
    class EventsArrived(Message):
        """A batch of events from the model (posted by the pump thread)."""

        pane: ModelPane
        events: list[Event]

    @dataclass
    class RunFinished(Message):
        """A generation ended (done, stopped or failed) with its figures."""

        pane: ModelPane
        stats: GenerationStats

    @dataclass
    class StateChanged(Message):
        """The pane's state changed (the app refreshes its bindings and title)."""

        pane: ModelPane

    @dataclass
    class SamplingEdited(Message):
        """The user changed this pane's sampling values in the pane itself."""

        pane: ModelPane
        sampling: SamplingParams

    def __init__(
        self,
        pane_id: int,
        label: str,
        sampling: SamplingParams,
        *,
        process_figures: ProcessFigures | None = None,
    ) -> None:
        super().__init__(id=f"pane-{pane_id}", classes="model-pane")
        self.pane_id = pane_id
        """Stable id of this pane for the whole session (also its worker group)."""
        self.label = label
        self.controller: PaneController | None = None
        self._run_before_start: tuple[str, str | None] | None = None
        """A run asked for while the model reference was still being resolved."""
        """Set by `start(plan, factory)` once the model reference is resolved."""
        self._sampling = sampling
        self._process_figures = process_figures
        """The worker's latest RSS, CPU and GPU memory for the stats line (None: not shown)."""
        self._shown_state: tuple | None = None
        self._shown_header: tuple | None = None
        self.answer_area = AnswerArea(sampling.temperature)
        """The answer as streamed text, as tokens (`v`) or as Markdown (`M`)."""
        self.border_title = label

    def compose(self) -> ComposeResult:
        yield ModelLine(classes="pane--model")
        yield SamplerControls(self._sampling)
        yield self.answer_area
        yield PaneStats()

    def on_mount(self) -> None:
        self.set_interval(LIVE_REFRESH_S, self._refresh_live)
        self._refresh_header()

    # --- lifecycle -----------------------------------------------------------------

    @property
    def state(self) -> PaneState:
        return self.controller.state if self.controller else PaneState.RESOLVING

    @property
    def sampling(self) -> SamplingParams:
        return self.controller.sampling if self.controller else self._sampling

    @property
    def answer(self) -> str:
        return self.answer_area.text

    def start(
        self, plan: PanePlan, factory: EngineFactory, options: DriverOptions | None = None
    ) -> None:
        """Take the resolved plan and start loading the model in the background; `options`
        say how it is driven (deadline, stop grace, run meter)."""
        self.controller = PaneController(plan, factory, options or DriverOptions())
        self.controller.set_sampling(self._sampling)
        self.answer_area.controller = self.controller
        self.label = plan.label
        self.border_title = plan.label
        if plan.error is None:
            self._pump()
        else:
            self.answer_area.text_view.add_error(plan.error)
        self._refresh_header()
        self._state_changed()
        waiting, self._run_before_start = self._run_before_start, None
        if waiting is not None and plan.error is None:
            self.run(*waiting)

    def relabel(self, label: str) -> None:
        """Show this pane under a new label (e.g. "SmolLM2 #1" once a second SmolLM2 pane
        is added); its next results carry the new label too."""
        if label == self.label:
            return
        self.label = label
        self.border_title = label
        if self.controller is not None:
            self.controller.plan = replace(self.controller.plan, label=label)

    def _pump(self) -> None:
        """Start the pane's model thread in its own worker group."""
        self.run_worker(
            self._pump_events,
            thread=True,
            exclusive=True,
            group=f"pane-{self.pane_id}",
            name="pump",
        )

    def _pump_events(self) -> None:
        """The pane's model thread: loads, then forwards events (never touches widgets)."""
        worker = get_current_worker()
        controller = self.controller
        assert controller is not None
        controller.pump(
            deliver=lambda events: self.post_message(self.EventsArrived(self, events)),
            cancelled=lambda: worker.is_cancelled,
        )

    def close(self) -> None:
        """Stop the model's worker process (safe to call twice)."""
        if self.controller is not None:
            self.controller.close()

    # --- commands ------------------------------------------------------------------

    def run(self, prompt: str, system_prompt: str | None) -> RunOutcome:
        """Run the prompt on this pane's model (queued while it resolves and loads)."""
        if self.controller is None:
            self._run_before_start = (prompt, system_prompt)
            self.answer_area.clear()
            return RunOutcome.QUEUED
        outcome = self.controller.request_run(prompt, system_prompt)
        if outcome is RunOutcome.NEEDS_RESTART:
            self._pump()
        if outcome in (RunOutcome.STARTED, RunOutcome.QUEUED, RunOutcome.NEEDS_RESTART):
            self.answer_area.clear()
            self.query_one(PaneStats).show(StatsFigures())
        self._refresh_header()
        self._state_changed()
        return outcome

    async def toggle_markdown(self) -> str | None:
        """Show the finished answer as Markdown, or back as text; a reason when it cannot
        be (no finished answer yet)."""
        if self.answer_area.showing_markdown:
            self.answer_area.show_text()
            return None
        if self.busy or not self.answer.strip():
            return "Markdown is for a finished answer: run the prompt and let it finish"
        await self.answer_area.show_markdown()
        return None

    def stop(self) -> bool:
        """Stop this pane's generation (or its queued run)."""
        stopped = self.controller.stop() if self.controller else False
        if self._run_before_start is not None:
            self._run_before_start, stopped = None, True
        self._refresh_header()
        return stopped

    def set_sampling(self, sampling: SamplingParams) -> None:
        """New sampling values: from the next token while generating, else for the next run."""
        self._sampling = sampling
        if self.controller is not None:
            self.controller.set_sampling(sampling)
        self.query_one(SamplerControls).show(sampling)
        self.answer_area.set_temperature(sampling.temperature)

    @property
    def busy(self) -> bool:
        """Generating, or holding a run queued until the model is loaded."""
        return self.controller is not None and self.controller.busy

    def focus_answer(self) -> None:
        self.answer_area.focus_answer()

    def focus_temperature(self, return_to: Widget | None = None) -> None:
        """The cursor to the temperature field; enter puts it back in `return_to`."""
        self.query_one(SamplerControls).focus_temperature(return_to)

    # --- events from the model -----------------------------------------------------

    @on(EventsArrived)
    def _events_arrived(self, message: EventsArrived) -> None:
        message.stop()
        controller = self.controller
        if controller is None or message.pane is not self:
            return
        answer = self.answer_area.text_view
        finished: GenerationStats | None = None
        for event in message.events:
            before = controller.state
            controller.apply(event)
            if isinstance(event, TokensGenerated) and controller.request:
                if event.request_id == controller.request.request_id:
                    answer.append(event.text)
            elif isinstance(event, SamplingChanged):
                answer.add_marker(temperature_marker(event.sampling))
            elif isinstance(event, GenerationFinished) and controller.stats is event.stats:
                finished = event.stats
            elif isinstance(event, WorkerCrashed) and before is PaneState.GENERATING:
                answer.add_marker(" ⟨crashed⟩")
            if controller.state in FAILED_STATES and before not in FAILED_STATES:
                answer.add_error(controller.reason, controller.detail)
            elif isinstance(event, WorkerCrashed):  # its run's error is shown: add the log
                answer.add_detail(event.log_tail)
        self.answer_area.sync_tokens()
        self._refresh_header()
        self._refresh_live()
        if finished is not None:
            self.query_one(PaneStats).show(self._final_figures(finished))
            self.post_message(self.RunFinished(self, finished))
        self._state_changed()

    @on(SamplerControls.TemperatureEntered)
    def _temperature_entered(self, message: SamplerControls.TemperatureEntered) -> None:
        message.stop()
        self.post_message(
            self.SamplingEdited(self, self.sampling.with_changes(temperature=message.temperature))
        )

    @on(SamplerControls.Left)
    def _temperature_left(self, message: SamplerControls.Left) -> None:
        message.stop()
        self.focus_answer()

    @on(SamplerControls.InvalidEntry)
    def _invalid_entry(self, message: SamplerControls.InvalidEntry) -> None:
        message.stop()
        self.notify(message.reason, severity="error")

    # --- display -------------------------------------------------------------------

    def _state_changed(self) -> None:
        key = (self.state, self.controller.reason if self.controller else "")
        if key != self._shown_state:
            self._shown_state = key
            self.set_class(self.state in FAILED_STATES, "-failed")
            self.set_class(self.state is PaneState.GENERATING, "-generating")
            self.post_message(self.StateChanged(self))

    def _refresh_header(self) -> None:
        """Redraw the model line and the state, only when something they show changed."""
        controller = self.controller
        key = header_key(controller)
        if key is not None and key == self._shown_header:
            return
        self._shown_header = key
        self.query_one(".pane--model", ModelLine).show(controller)
        self.border_subtitle = state_text(controller, self.state)
        self.answer_area.text_view.set_placeholder(PLACEHOLDERS.get(self.state, ""))

    def _process(self) -> ProcessSample | None:
        controller = self.controller
        if self._process_figures is None or controller is None or controller.handle is None:
            return None
        pid = controller.handle.pid
        return self._process_figures(pid) if pid else None

    def _final_figures(self, stats: GenerationStats) -> StatsFigures:
        return StatsFigures.from_stats(stats, self._process())

    def _refresh_live(self) -> None:
        controller = self.controller
        if controller is None or controller.state is not PaneState.GENERATING:
            return
        live = controller.live
        self.query_one(PaneStats).show(
            StatsFigures.live(
                self._process(),
                ttft_s=live.ttft_s,
                decode_tps=live.decode_tps,
                tokens=live.tokens,
                elapsed_s=live.elapsed_s(time.perf_counter()),
            )
        )
