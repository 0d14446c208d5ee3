"""The workbench's "Measure fidelity" action: perplexity and KLD of every pane, as headless.

Started from the command palette ("Measure fidelity"; "Cancel fidelity" stops it within
one window). It runs `profiles.fidelity_run.run_fidelity` in a thread over the panes'
plans with the bundled reference text, one pane at a time, each in a worker of its own
(the panes' loaded models are left as they are). Each pane's border shows its progress
(tokens, tokens/s, ETA); at the end every pane's figures arrive in a notification, in the
comparison table (columns PPL, KLD, top-1 % and a KLD bar chart) and in its latest result,
so the exports carry them.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

from engines.fidelity.figures import FidelityFigures
from engines.messages import one_line
from profiles.fidelity_run import FidelityOutcome, FidelityProgress
from tui.widgets.comparison_table import ComparisonTable


class FidelityAction:
    """One fidelity run at a time for the app: start, progress per pane, cancel, results."""

    def __init__(self, app: Any) -> None:
        """`app`: the `tui.app.WorkbenchApp` (its workbench, engine_factory and results)."""
        self.app = app
        self._cancel: threading.Event | None = None

    @property
    def running(self) -> bool:
        return self._cancel is not None

    def start(self) -> None:
        app = self.app
        if self.running:
            app.notify("a fidelity run is already going: Cancel fidelity stops it")
            return
        panes = [pane for pane in app.workbench.panes if pane.controller is not None]
        if not panes:
            app.notify("no pane to measure: add a model first", severity="warning")
            return
        plans = [replace(pane.controller.plan, index=i) for i, pane in enumerate(panes)]
        pane_ids = [pane.pane_id for pane in panes]
        self._cancel = cancel = threading.Event()
        app.notify(f"measuring fidelity of {len(plans)} panes, one after another")

        def work() -> None:
            from engines.fidelity.reference_text import bundled_text
            from profiles.fidelity_run import run_fidelity

            try:
                outcome = run_fidelity(
                    plans,
                    bundled_text(),
                    handle_factory=app.engine_factory,
                    on_progress=lambda p: app.call_from_thread(self._progress, pane_ids, p),
                    cancel=cancel,
                )
            except Exception as exc:  # noqa: BLE001 - told in one line, never a traceback
                app.call_from_thread(
                    app.notify, f"fidelity run failed: {one_line(exc)}", severity="error"
                )
                outcome = None
            app.call_from_thread(self._finished, pane_ids, plans, outcome)

        app.run_worker(work, thread=True, group="fidelity", name="measure fidelity")

    def cancel(self) -> None:
        if self._cancel is None:
            self.app.notify("no fidelity run is going")
            return
        self._cancel.set()

    def _progress(self, pane_ids: list[int], progress: FidelityProgress) -> None:
        pane = self._pane(pane_ids[progress.pane])
        if pane is None:
            return
        if progress.phase == "evaluating" and progress.total_tokens:
            eta = progress.eta_s
            left = f", ETA {eta:.0f} s" if eta is not None else ""
            pane.border_subtitle = (
                f"fidelity {progress.evaluated_tokens}/{progress.total_tokens} tokens, "
                f"{progress.tokens_per_s:.0f} tok/s{left}"
            )
        elif progress.phase in ("loading", "evaluating", "cached"):
            pane.border_subtitle = f"fidelity: {progress.phase}"

    def _finished(self, pane_ids: list[int], plans: list, outcome: FidelityOutcome | None) -> None:
        self._cancel = None
        if outcome is None:
            return
        from engines.fidelity.reference_store import text_sha256
        from engines.fidelity.reference_text import bundled_text
        from profiles.result_parts import FidelityRecord

        digest = text_sha256(bundled_text())
        lines = []
        by_label: dict[str, FidelityFigures] = {}
        for plan, pane_id in zip(plans, pane_ids, strict=True):
            figures = outcome.figures.get(plan.index) or FidelityFigures(error="not run")
            lines.append(f"{plan.label}: {summary(figures)}")
            pane = self._pane(pane_id)
            by_label[pane.label if pane is not None else plan.label] = figures
            if pane is not None:
                pane.border_subtitle = f"fidelity: {summary(figures)}"
            result = self.app.results.get(pane_id)
            if result is not None:
                record = FidelityRecord.from_figures(figures, digest)
                self.app.results[pane_id] = result.model_copy(update={"fidelity": record})
        self._show_in_comparison(by_label)
        self.app.notify("\n".join(lines), title="Fidelity", timeout=30)

    def _show_in_comparison(self, by_label: dict[str, FidelityFigures]) -> None:
        """PPL, KLD and top-1 % as columns of the comparison, beside size and speed."""
        comparison = self.app.workbench.query_one(ComparisonTable)
        comparison.show_fidelity(by_label)
        comparison.display = True

    def _pane(self, pane_id: int):
        return next((p for p in self.app.workbench.panes if p.pane_id == pane_id), None)


def summary(figures: FidelityFigures) -> str:
    """One pane's figures in a line: PPL ±, KLD, top-1 %, or why not."""
    if figures.error:
        return f"failed: {figures.error}"
    if figures.cancelled:
        return "cancelled"
    parts = [f"PPL {figures.ppl:.2f} ± {figures.ppl_err or 0:.2f}"]
    if figures.is_reference:
        parts.append("reference")
    elif figures.kld is not None:
        parts.append(f"KLD {figures.kld:.4f}")
        parts.append(f"top-1 {figures.same_top_pct:.1f} %")
    elif figures.note:
        parts.append(figures.note)
    return " · ".join(parts)
