"""A comparison profile turned into what each pane will run: the resolved model, the
threads chosen, the sampling values in force.

`build_plan(profile)` never raises for a bad model reference: the pane gets an `error`
and stays in the plan, so the workbench and headless runs show it in its own pane while
the others run. `open_handle(plan)` gives the ModelHandle that runs one pane: a worker
process for a local model, a client for an OpenAI-compatible server.
"""

from __future__ import annotations

import itertools
import os
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from engines.messages import one_line
from engines.types import ModelSettings, SamplingParams

if TYPE_CHECKING:
    from engines.protocol import ModelHandle
    from profiles.schema import PaneSpec, Profile, SeedMode

PaneKind = Literal["local", "openai"]


@dataclass(frozen=True)
class PanePlan:
    """Everything one pane needs to run, resolved from its profile entry."""

    index: int
    """The pane's position in the profile (0-based)."""
    label: str
    """The pane's label, or a short description of its model."""
    model_ref: str
    """The model reference as written in the profile."""
    kind: PaneKind
    """"local": a GGUF file run in a worker process; "openai": an OpenAI-compatible server."""
    settings: ModelSettings
    """How to load the model: resolved path (the reference itself for a server), threads chosen."""
    sampling: SamplingParams
    """The pane's sampling overrides over the profile's defaults."""
    api_key_env: str | None = None
    """For a server pane: the name of the environment variable that holds the API key."""
    error: str | None = None
    """Why the reference could not be resolved; such a pane stays in its place and never runs."""
    reference: bool = False
    """Marked in the profile as the reference of a fidelity run (`profiles.fidelity_run`)."""
    seed_mode: SeedMode = "fixed"
    """"fixed": every run uses `sampling.seed`; "new": each run draws one (`sampling_for_run`)."""
    concurrency: int = 1
    """Suite requests sent at once (openai: panes; 1 for local ones)."""

    @property
    def runnable(self) -> bool:
        """Whether the pane can be loaded (its reference resolved)."""
        return self.error is None


Resolver = Callable[[str], Path]
"""Turns a model reference into a local GGUF path; raises with a one-line message."""


def build_plan(
    profile: Profile,
    parallel: bool | None = None,
    *,
    resolve: Resolver | None = None,
) -> list[PanePlan]:
    """One PanePlan per pane of `profile`, in order.

    `parallel` None follows `profile.mode`. Threads: a pane's explicit `n_threads` is
    kept; otherwise local panes that run at the same time share the physical cores, and
    panes run one after another each get all of them (see `engines.machine.threads`).
    `resolve` (default `engines.models.resolve.resolve_model_ref`) is injectable for tests.
    """
    from engines.models.references import describe_ref, parse_model_ref

    if parallel is None:
        parallel = profile.mode == "parallel"
    resolver = resolve or _default_resolver()
    drafts = [
        _draft_pane(i, pane, profile, resolver, parse_model_ref, describe_ref)
        for i, pane in enumerate(profile.panes)
    ]
    labels = numbered_labels([draft.label for draft in drafts])
    drafts = [
        replace(draft, label=label, settings=replace(draft.settings, label=label))
        if label != draft.label
        else draft
        for draft, label in zip(drafts, labels, strict=True)
    ]
    return _with_threads(drafts, parallel)


def numbered_labels(labels: list[str]) -> list[str]:
    """The labels with duplicates told apart: "SmolLM2 #1", "SmolLM2 #2" (unique ones as they are).

    Panes, table rows and exports show these, so two panes of the same model can be told
    apart everywhere.
    """
    counts = Counter(labels)
    seen: Counter[str] = Counter()
    numbered = []
    for label in labels:
        if counts[label] > 1:
            seen[label] += 1
            numbered.append(f"{label} #{seen[label]}")
        else:
            numbered.append(label)
    return numbered


def _default_resolver() -> Resolver:
    from engines.models.resolve import resolve_model_ref

    return resolve_model_ref


def _draft_pane(
    index: int,
    pane: PaneSpec,
    profile: Profile,
    resolve: Resolver,
    parse_ref: Callable,
    describe_ref: Callable[[str], str],
) -> PanePlan:
    """The pane with its reference resolved (or its error), before threads are chosen."""
    label = pane.label or _describe(pane.model, describe_ref)
    sampling = pane.sampling_params(profile.sampling)
    settings = pane.settings.to_settings(path="", label=label)
    plan = PanePlan(
        index,
        label,
        pane.model,
        "local",
        settings,
        sampling,
        pane.api_key_env,
        seed_mode=pane.seed_mode or profile.seed_mode,
        reference=bool(pane.reference),
        concurrency=pane.concurrency or 1,
    )
    try:
        ref = parse_ref(pane.model)
        if ref.kind == "openai":
            return replace(plan, kind="openai", settings=replace(settings, path=pane.model))
        path = resolve(pane.model)
    except Exception as exc:  # noqa: BLE001 - any failure to resolve stays in its pane
        return replace(plan, error=one_line(exc))
    return replace(plan, settings=replace(settings, path=str(path)))


def _with_threads(drafts: list[PanePlan], parallel: bool) -> list[PanePlan]:
    """Fill in the threads of local panes that did not ask for a number."""
    from engines.machine.threads import allocate_threads

    local = [p for p in drafts if p.kind == "local" and p.runnable]
    if not local:
        return drafts
    requested = [p.settings.n_threads for p in local]
    chosen = allocate_threads(len(local), requested, parallel)
    threads_by_index = {p.index: n for p, n in zip(local, chosen, strict=True)}
    return [
        replace(p, settings=replace(p.settings, n_threads=threads_by_index[p.index]))
        if p.index in threads_by_index
        else p
        for p in drafts
    ]


def open_handle(plan: PanePlan) -> ModelHandle:
    """The ModelHandle that runs `plan`: a worker process, or a client for a server.

    The handle is not loaded yet: call `handle.load(plan.settings)`. Raises ValueError
    for a pane whose reference did not resolve.
    """
    if plan.error is not None:
        raise ValueError(f"pane {plan.label!r} cannot run: {plan.error}")
    if plan.kind == "openai":
        from engines.models.references import parse_model_ref
        from engines.remote.handle import RemoteModelHandle

        ref = parse_model_ref(plan.model_ref)
        if ref.base_url is None:
            raise ValueError(f"pane {plan.label!r} cannot run: {plan.model_ref!r} is no server")
        api_key = os.environ.get(plan.api_key_env) if plan.api_key_env else None
        # Timeouts come from config.toml's [remote] table (engines.remote.server_listing).
        return RemoteModelHandle(ref.base_url, ref.model, api_key, api_key_env=plan.api_key_env)
    from engines.local.handle import WorkerModelHandle

    return WorkerModelHandle()


def _describe(model_ref: str, describe_ref: Callable[[str], str]) -> str:
    try:
        return describe_ref(model_ref) or model_ref
    except Exception:  # noqa: BLE001 - a label is never worth failing over
        return model_ref


SWEEP_LABELS: dict[str, str] = {
    "temperature": "temp",
    "top_p": "top_p",
    "top_k": "top_k",
    "min_p": "min_p",
    "repeat_penalty": "repeat_penalty",
    "max_tokens": "max_tokens",
    "seed": "seed",
}
"""Sampling values that a sweep can vary, and how a pane label names them."""


def expand_grid(panes: list[PaneSpec], sweeps: dict[str, list]) -> list[PaneSpec]:
    """Every pane × every combination of the swept sampling values, in that order.

    `sweeps` maps a sampling value's name to the values to try. A value with one entry
    is set on every pane; values with several multiply the panes, and each new pane's
    label names the values it runs with (e.g. "SmolLM2-135M-Instruct Q4_1 · temp=0.2").
    Raises pydantic's ValidationError for a value out of range.
    """
    unknown = sorted(set(sweeps) - set(SWEEP_LABELS))
    if unknown:
        raise ValueError(f"cannot sweep {', '.join(unknown)}: only {', '.join(SWEEP_LABELS)}")
    names = [name for name in SWEEP_LABELS if sweeps.get(name)]
    combinations = list(itertools.product(*(sweeps[name] for name in names)))
    varied = [name for name in names if len(sweeps[name]) > 1]
    expanded: list[PaneSpec] = []
    for pane in panes:
        for combination in combinations:
            values = dict(zip(names, combination, strict=True))
            overrides = pane.sampling.model_copy(update={})
            for name, value in values.items():
                setattr(overrides, name, value)  # validate_assignment checks the range
            label = pane.label
            if varied:
                base = pane.label or _describe_or_ref(pane.model)
                suffix = " ".join(f"{SWEEP_LABELS[n]}={_format_value(values[n])}" for n in varied)
                label = f"{base} · {suffix}"
            expanded.append(pane.model_copy(update={"sampling": overrides, "label": label}))
    return expanded


def _describe_or_ref(model_ref: str) -> str:
    from engines.models.references import describe_ref

    return _describe(model_ref, describe_ref)


def _format_value(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def sampling_for_run(
    sampling: SamplingParams, seed_mode: SeedMode, draw: Callable[[], int] | None = None
) -> SamplingParams:
    """The sampling values for one run: as they are ("fixed"), or with a new seed ("new").

    `draw` gives the new seed (default: a random one in the engine's range, 0 to 2**32 − 1).
    The result carries the seed used, so every record of the run names it.
    """
    if seed_mode != "new":
        return sampling
    seed = draw() if draw is not None else secrets.randbelow(2**32)
    return sampling.with_changes(seed=seed)


def failed_plan(index: int, spec: PaneSpec, profile: Profile, error: Exception) -> PanePlan:
    """A plan that shows, in its pane, why planning the profile failed."""
    reason = one_line(error)
    return PanePlan(
        index=index,
        label=spec.display_label,
        model_ref=spec.model,
        kind="local",
        settings=ModelSettings(path="", label=spec.display_label),
        sampling=spec.sampling_params(profile.sampling),
        error=reason,
    )
