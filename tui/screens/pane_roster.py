"""Which model each workbench pane runs: the panes' specs, their plans, the profile they make.

`PaneRoster` is composed into `tui.screens.main.WorkbenchScreen`. It builds each
`ModelPane` from its `PaneSpec` (the profile's panes, and those added since) and keeps the
spec under the pane's id; it plans every pane's model in one go (`plan_builder`, default
`profiles.plan.build_plan`, which may block: the screen calls the planner in a thread
worker), starts the model of each new pane once its plan is ready, and says what profile
the panes make now. The profile itself is the screen's (a save-as renames it), so it is
passed in, never kept here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from profiles.plan import PanePlan, failed_plan
from profiles.run_driver import DriverOptions
from profiles.schema import PaneSpec, Profile, SamplingOverrides, SamplingValues
from tui.pane_controller import EngineFactory
from tui.widgets.model_pane import ModelPane, ProcessFigures

PlanBuilder = Callable[[Profile], list[PanePlan]]
"""Turns a profile into one PanePlan per pane (may block: it resolves model references)."""

Planner = Callable[[], tuple[list[PanePlan], list[int]]]
"""Plans the panes taken when it was made: their plans, and the pane ids they belong to."""


class PaneRoster:
    """The workbench panes' specs by pane id, and how their models are planned and started."""

    def __init__(
        self,
        engine_factory: EngineFactory,
        plan_builder: PlanBuilder,
        *,
        process_figures: ProcessFigures | None = None,
        driver_options: DriverOptions | None = None,
    ) -> None:
        self._engine_factory = engine_factory
        self._plan_builder = plan_builder
        self._process_figures = process_figures
        self._driver_options = driver_options
        self._specs: dict[int, PaneSpec] = {}
        self._next_pane_id = 0

    def new_pane(self, spec: PaneSpec, defaults: SamplingValues) -> ModelPane:
        """A pane for `spec` under a new id (its sampling: `defaults` with the spec's own)."""
        pane_id = self._next_pane_id
        self._next_pane_id += 1
        self._specs[pane_id] = spec
        sampling = spec.sampling_params(defaults)
        return ModelPane(
            pane_id, spec.display_label, sampling, process_figures=self._process_figures
        )

    def forget(self, pane: ModelPane) -> None:
        """Drop a removed pane's spec: it is planned and saved no more."""
        self._specs.pop(pane.pane_id, None)

    def planner(self, profile: Profile) -> Planner:
        """Plan every pane as they are now, when called (off the UI thread).

        The whole profile is planned each time, so a pane added later shares the CPU
        threads with the panes already there (parallel mode). A planner that raises
        becomes one failed plan per pane, shown in the panes, never a traceback.
        """
        pane_ids = list(self._specs)
        specs = [self._specs[pane_id] for pane_id in pane_ids]
        planned = profile.model_copy(update={"panes": specs})
        plan_builder = self._plan_builder

        def plan() -> tuple[list[PanePlan], list[int]]:
            try:
                plans = plan_builder(planned)
            except Exception as exc:  # noqa: BLE001 - shown in the panes, never a traceback
                plans = [failed_plan(i, spec, planned, exc) for i, spec in enumerate(specs)]
            return plans, pane_ids

        return plan

    def start(self, panes: Sequence[ModelPane], plans: list[PanePlan], pane_ids: list[int]) -> None:
        """Start the model of each pane not started yet; relabel the others."""
        by_id = {pane.pane_id: pane for pane in panes}
        for plan, pane_id in zip(plans, pane_ids, strict=False):
            pane = by_id.get(pane_id)
            if pane is not None and pane.controller is None:
                pane.start(plan, self._engine_factory, self._driver_options)
            elif pane is not None:
                pane.relabel(plan.label)  # a pane added or removed may renumber duplicates

    def profile_of(
        self, profile: Profile, panes: Sequence[ModelPane], prompt: str, system_prompt: str | None
    ) -> Profile:
        """`profile` with this prompt and the panes as they stand (their sampling values)."""
        specs = []
        for pane in panes:
            spec = self._specs[pane.pane_id]
            overrides = SamplingOverrides.between(profile.sampling, pane.sampling)
            specs.append(spec.model_copy(update={"sampling": overrides}))
        return profile.model_copy(
            update={"prompt": prompt, "system_prompt": system_prompt, "panes": specs}
        )
