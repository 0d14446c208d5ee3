"""Fakes for the workbench tests: engines with fixed figures, plans that resolve nothing."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from dataclasses import replace

from engines.fake import FakeModelHandle, FakeScript
from engines.protocol import Event, GenerationFinished
from engines.types import ModelSettings
from profiles.plan import PanePlan, numbered_labels
from profiles.schema import PaneSpec, Profile, SamplingValues
from tui.app import WorkbenchApp, make_app

UNRESOLVED_PREFIX = "missing:"
"""Model references starting with this do not resolve (the pane shows the error)."""


class FixedFiguresHandle(FakeModelHandle):
    """A fake handle whose finished figures are fixed, so screenshots never change."""

    def __init__(self, script: FakeScript | None = None) -> None:
        super().__init__(script)
        self.generate_times: list[float] = []
        """perf_counter() of each generate() call."""
        self.finished_times: list[float] = []
        """perf_counter() when each GenerationFinished was handed to the app."""

    def generate(self, request) -> None:
        self.generate_times.append(time.perf_counter())
        super().generate(request)

    def next_events(self, timeout: float | None = None) -> list[Event]:
        events = super().next_events(timeout)
        self.finished_times.extend(
            time.perf_counter() for event in events if isinstance(event, GenerationFinished)
        )
        return [
            replace(
                event,
                stats=replace(
                    event.stats,
                    ttft_s=0.12,
                    decode_tps=100.0 if event.stats.generated_tokens > 1 else None,
                    engine_decode_tps=110.0,
                    elapsed_s=1.5,
                ),
            )
            if isinstance(event, GenerationFinished)
            else event
            for event in events
        ]


class GatedLoadHandle(FixedFiguresHandle):
    """A fake handle whose load waits until the test opens the gate."""

    def __init__(self, script: FakeScript, gate: threading.Event) -> None:
        super().__init__(script)
        self._gate = gate

    def _run_load(self, settings: ModelSettings) -> None:
        self._gate.wait(10)
        super()._run_load(settings)


class FakeEngines:
    """An engine factory: each model reference plays its FakeScript; handles are kept."""

    def __init__(
        self, scripts: dict[str, FakeScript] | None = None, default: FakeScript | None = None
    ):
        self.scripts = scripts or {}
        self.default = default or FakeScript(tokens=tuple(f"word{i} " for i in range(12)))
        self.handles: dict[str, list[FakeModelHandle]] = defaultdict(list)
        self.load_gate: threading.Event | None = None
        """When set, every load waits for this event."""

    def __call__(self, plan: PanePlan) -> FakeModelHandle:
        script = self.scripts.get(plan.model_ref, self.default)
        if self.load_gate is not None:
            handle: FakeModelHandle = GatedLoadHandle(script, self.load_gate)
        else:
            handle = FixedFiguresHandle(script)
        self.handles[plan.model_ref].append(handle)
        return handle

    def last(self, model_ref: str) -> FakeModelHandle:
        return self.handles[model_ref][-1]


def fake_plans(profile: Profile) -> list[PanePlan]:
    """Plans without resolving anything: `missing:` references fail like a bad path."""
    plans = []
    labels = numbered_labels([spec.display_label for spec in profile.panes])
    for index, (spec, label) in enumerate(zip(profile.panes, labels, strict=True)):
        error = (
            f"no model file at {spec.model}" if spec.model.startswith(UNRESOLVED_PREFIX) else None
        )
        plans.append(
            PanePlan(
                index=index,
                label=label,
                model_ref=spec.model,
                kind="local",
                settings=ModelSettings(
                    path=f"/models/{spec.model}.gguf",
                    n_ctx=spec.settings.n_ctx,
                    n_threads=1,
                    label=label,
                ),
                sampling=spec.sampling_params(profile.sampling),
                error=error,
            )
        )
    return plans


def make_profile(
    *models: str, prompt: str = "Why is the sky blue?", mode: str = "parallel", **sampling
) -> Profile:
    """A profile for these fake model references."""
    return Profile(
        name="test-bench",
        prompt=prompt,
        mode=mode,
        sampling=SamplingValues(**sampling),
        panes=[PaneSpec(model=model, label=model) for model in models],
    )


def fake_app(profile: Profile, engines: FakeEngines, *, history: bool = False) -> WorkbenchApp:
    """The workbench on fake engines, no resource sampler, no file hashing."""
    return make_app(
        profile,
        engines,
        plan_builder=fake_plans,
        history=history,
        hash_files=False,
        resource_sampler=None,
    )
