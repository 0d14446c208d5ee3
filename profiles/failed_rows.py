"""Rows for panes that failed, so an export holds every row of the run's table.

A headless run's table shows a failed pane as FAILED; its exports (JSON, CSV, Markdown)
carry the same pane as a result with stop reason "error", the reason in `error`, no
figures (None: unknown, never 0) and what the plan knew of the model. Such rows are
never added to the history, which keeps finished results only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from profiles.plan import PanePlan
from profiles.result_parts import Figures, ModelRecord, SamplingRecord
from profiles.results import RunResult, new_result_id
from profiles.run_report import ComparisonOutcome, PaneFailure
from profiles.schema import RunMode


def failure_result(
    plan: PanePlan,
    failure: PaneFailure,
    *,
    mode: RunMode,
    prompt: str,
    system_prompt: str | None = None,
    profile_name: str | None = None,
    repetition: int = 0,
    host: dict[str, Any] | None = None,
) -> RunResult:
    """The export row of a pane that failed: stop reason "error" and why."""
    when = datetime.now(UTC).astimezone()
    settings = plan.settings
    path = settings.path or plan.model_ref
    return RunResult(
        id=new_result_id(when),
        created_at=when.isoformat(timespec="seconds"),
        profile=profile_name,
        pane_label=plan.label,
        pane_index=plan.index,
        repetition=repetition,
        mode=mode,
        model_ref=plan.model_ref,
        prompt=prompt,
        system_prompt=system_prompt,
        text="",
        figures=Figures(
            stop_reason="error",
            prompt_mode="chat",
            prompt_tokens=None,
            generated_tokens=0,
            error=failure.reason,
        ),
        sampling=SamplingRecord.from_params(plan.sampling),
        model=ModelRecord(
            path=path,
            file_name=Path(path).name if settings.path else plan.model_ref,
            n_ctx=settings.n_ctx,
            n_threads=settings.n_threads,
            n_gpu_layers_requested=settings.n_gpu_layers,
            n_gpu_layers_offloaded=0,
        ),
        host=dict(host or {}),
    )


def export_rows(
    plans: Sequence[PanePlan],
    outcome: ComparisonOutcome,
    *,
    prompt: str,
    system_prompt: str | None = None,
    profile_name: str | None = None,
) -> list[RunResult]:
    """Every row of the run: its results, and a failure row for each failed pane, in pane
    order (a pane that failed after some repetitions has those, then its failure)."""
    by_index = {plan.index: plan for plan in plans}
    host = dict(outcome.results[0].host) if outcome.results else None
    rows = list(outcome.results)
    for failure in outcome.failures:
        plan = by_index.get(failure.pane)
        if plan is None:
            continue
        done = sum(1 for r in outcome.results if r.pane_index == failure.pane)
        rows.append(
            failure_result(
                plan, failure, mode=outcome.mode, prompt=prompt, system_prompt=system_prompt,
                profile_name=profile_name, repetition=done, host=host,
            )
        )  # fmt: skip
    return sorted(rows, key=lambda r: (r.pane_index or 0, r.repetition))
