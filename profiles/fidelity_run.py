"""A fidelity run over a comparison's panes: perplexity for each, KLD against the reference.

`run_fidelity(plans, text)` runs the panes one after another (each model alone on the
machine, as llama-perplexity would be): first the reference, whose top candidates are
written to llmbench's cache (`engines.fidelity.reference_store`), or read from it when
the same file, text and context were evaluated before; then every other local pane,
compared against them in its worker. A pane that fails, or a served model (no logits),
gets figures with an `error`; the others carry on.

The reference is the pane marked `reference = true` in the profile or, without one, the
highest-precision file (most bits per weight) among the panes of the most common
architecture (`choose_reference`).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from engines.fidelity import stats
from engines.fidelity.figures import DEFAULT_FIDELITY_CTX, FidelityFigures, FidelityRequest
from engines.fidelity.reference_store import (
    ReferenceFileError,
    load_reference,
    reference_path,
)
from engines.messages import one_line
from engines.protocol import (
    FidelityFinished,
    FidelityProgressed,
    LoadFailed,
    LoadProgressed,
    ModelHandle,
    ModelLoaded,
    WorkerCrashed,
)
from profiles.plan import PanePlan, open_handle

FidelityPhase = Literal["loading", "evaluating", "done", "failed", "cached"]

IDLE_TIMEOUT_S = 600.0
"""A worker that sends nothing for this long fails its pane."""


@dataclass(frozen=True)
class FidelityProgress:
    """Where one pane's fidelity pass stands (for a progress line or a pane's status)."""

    pane: int
    label: str
    phase: FidelityPhase
    evaluated_tokens: int = 0
    total_tokens: int = 0
    tokens_per_s: float = 0.0
    message: str = ""

    @property
    def eta_s(self) -> float | None:
        """Seconds left at the speed so far; None before the first window."""
        if self.tokens_per_s <= 0 or self.total_tokens <= 0:
            return None
        return max(0.0, (self.total_tokens - self.evaluated_tokens) / self.tokens_per_s)


@dataclass
class FidelityOutcome:
    """Every pane's figures by pane index, and which pane was the reference."""

    figures: dict[int, FidelityFigures] = field(default_factory=dict)
    reference: int | None = None


def choose_reference(plans: list[PanePlan], metadata_of: Callable[[str], Any]) -> int | None:
    """The reference pane's index: the one marked, else the highest-precision same-architecture file."""
    local = [plan for plan in plans if plan.kind == "local" and plan.runnable]
    for plan in local:
        if plan.reference:
            return plan.index
    described = []
    for plan in local:
        try:
            metadata = metadata_of(plan.settings.path)
        except Exception:  # noqa: BLE001 - an unreadable file fails in its own pane
            continue
        described.append((plan, metadata))
    if not described:
        return None
    architectures = [getattr(m, "architecture", None) for _, m in described]
    common = max(architectures, key=architectures.count)
    candidates = [(p, m) for p, m in described if getattr(m, "architecture", None) == common]
    best = max(candidates, key=lambda pm: (_bits_per_weight(pm[1]), -pm[0].index))
    return best[0].index


def _bits_per_weight(metadata: Any) -> float:
    size = getattr(metadata, "file_size", 0) or 0
    params = getattr(metadata, "n_params", None)
    return size * 8 / params if params else float(size)


def run_fidelity(
    plans: list[PanePlan],
    text: str,
    n_ctx: int = DEFAULT_FIDELITY_CTX,
    n_batch: int | None = None,
    *,
    top_k: int = stats.DEFAULT_TOP_K,
    handle_factory: Callable[[PanePlan], ModelHandle] = open_handle,
    on_progress: Callable[[FidelityProgress], None] | None = None,
    cancel: threading.Event | None = None,
    metadata_of: Callable[[str], Any] | None = None,
    sha256_of: Callable[[str], str] | None = None,
    idle_timeout_s: float = IDLE_TIMEOUT_S,
) -> FidelityOutcome:
    """Evaluate `text` on every pane (windows of `n_ctx`, batches of `n_batch`, default n_ctx)."""
    if metadata_of is None:
        from engines.models.gguf_info import read_gguf_metadata

        metadata_of = read_gguf_metadata
    if sha256_of is None:
        from engines.models.file_hash import file_sha256

        sha256_of = file_sha256
    run = _FidelityRun(
        text,
        n_ctx,
        min(n_batch or n_ctx, n_ctx),
        top_k,
        handle_factory,
        on_progress or (lambda progress: None),
        cancel or threading.Event(),
        idle_timeout_s,
    )
    outcome = FidelityOutcome(reference=choose_reference(plans, metadata_of))
    reference_file = None
    reference_label = ""
    order = sorted(plans, key=lambda plan: plan.index != outcome.reference)
    for plan in order:
        if run.cancel.is_set():
            outcome.figures[plan.index] = FidelityFigures(cancelled=True, n_ctx=n_ctx)
            continue
        if plan.index == outcome.reference:
            figures, reference_file = run.reference_pane(plan, sha256_of)
            reference_label = plan.label
        else:
            figures = run.pane(plan, reference_file, reference_label)
        outcome.figures[plan.index] = figures
    return outcome


@dataclass
class _FidelityRun:
    text: str
    n_ctx: int
    n_batch: int
    top_k: int
    handle_factory: Callable[[PanePlan], ModelHandle]
    report: Callable[[FidelityProgress], None]
    cancel: threading.Event
    idle_timeout_s: float

    def reference_pane(
        self, plan: PanePlan, sha256_of: Callable[[str], str]
    ) -> tuple[FidelityFigures, str | None]:
        """The reference's own figures and the file of its candidates (None if it failed)."""
        try:
            path = reference_path(sha256_of(plan.settings.path), self.text, self.n_ctx, self.top_k)
        except OSError as error:
            return self._failed(plan, f"{plan.settings.path}: {one_line(error)}"), None
        try:
            cached = load_reference(path)
        except ReferenceFileError:
            cached = None
        if cached is not None and cached.n_ctx == self.n_ctx:
            ppl, ppl_err = stats.perplexity(cached.nll)
            windows = len(cached.tokens) // self.n_ctx
            self.report(FidelityProgress(plan.index, plan.label, "cached"))
            figures = FidelityFigures(
                ppl=ppl,
                ppl_err=ppl_err,
                scored_tokens=len(cached.nll),
                windows=windows,
                n_ctx=self.n_ctx,
                tokens_per_s=cached.tokens_per_s or None,
                is_reference=True,
                reference_label=plan.label,
                note="reference candidates from the cache (same file, text and n_ctx)",
            )
            return figures, str(path)
        figures = self.pane(plan, None, plan.label, save_to=str(path))
        ok = figures.error is None and not figures.cancelled
        return replace(figures, reference_label=plan.label), (str(path) if ok else None)

    def pane(
        self,
        plan: PanePlan,
        reference_file: str | None,
        reference_label: str,
        save_to: str | None = None,
    ) -> FidelityFigures:
        if not plan.runnable:
            return self._failed(plan, plan.error or "the model could not be found")
        if plan.kind != "local":
            return self._failed(
                plan, "fidelity needs a local GGUF model: a served model gives no logits"
            )
        note = None
        if reference_file is None and save_to is None:
            note = f"no KLD: the reference {reference_label or ''} has no figures".replace(
                "  ", " "
            )
        request = FidelityRequest(
            text=self.text,
            n_ctx=self.n_ctx,
            n_batch=self.n_batch,
            save_reference=save_to,
            reference=reference_file,
            reference_label=reference_label,
            top_k=self.top_k,
            request_id=uuid.uuid4().hex[:12],
        )
        handle = self.handle_factory(plan)
        try:
            figures = self._drive(plan, handle, request)
        finally:
            handle.close()
        if note and figures.note is None and figures.error is None:
            figures = replace(figures, note=note)
        phase: FidelityPhase = "failed" if figures.error else "done"
        self.report(FidelityProgress(plan.index, plan.label, phase, message=figures.error or ""))
        return figures

    def _drive(
        self, plan: PanePlan, handle: ModelHandle, request: FidelityRequest
    ) -> FidelityFigures:
        """Load the model, run the pass, follow its events to the end."""
        self.report(FidelityProgress(plan.index, plan.label, "loading"))
        handle.load(plan.settings)
        sent = False
        last_event = time.monotonic()
        cancelled = False
        while True:
            if self.cancel.is_set() and not cancelled:
                cancelled = True
                if not sent:
                    return FidelityFigures(cancelled=True, n_ctx=self.n_ctx)
                handle.cancel()
            events = handle.next_events(timeout=0.25)
            if events:
                last_event = time.monotonic()
            elif time.monotonic() - last_event > self.idle_timeout_s:
                return FidelityFigures(error=f"{plan.label}: no word from the model's worker")
            for event in events:
                if isinstance(event, LoadFailed):
                    return FidelityFigures(error=event.reason, n_ctx=self.n_ctx)
                if isinstance(event, WorkerCrashed):
                    return FidelityFigures(error=f"the model's worker crashed: {event.reason}")
                if isinstance(event, ModelLoaded) and not sent:
                    sent = True
                    if not handle.can_evaluate:
                        return FidelityFigures(
                            error="this kind of model cannot run a fidelity pass"
                        )
                    handle.evaluate(request)
                    self.report(FidelityProgress(plan.index, plan.label, "evaluating"))
                elif isinstance(event, FidelityProgressed):
                    self.report(
                        FidelityProgress(
                            plan.index,
                            plan.label,
                            "evaluating",
                            event.evaluated_tokens,
                            event.total_tokens,
                            event.tokens_per_s,
                        )
                    )
                elif isinstance(event, FidelityFinished) and event.request_id == request.request_id:
                    return event.figures
                elif isinstance(event, LoadProgressed):
                    pass

    def _failed(self, plan: PanePlan, reason: str) -> FidelityFigures:
        self.report(FidelityProgress(plan.index, plan.label, "failed", message=reason))
        return FidelityFigures(error=reason, n_ctx=self.n_ctx)
